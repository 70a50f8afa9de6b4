// The hard failure paths of issue 18, each the way a user meets it, mostly through the real
// executable: output folders that cannot be made (/proc, a file, /sys) fail at once with exit 2;
// compare exits 1 when a variant fails and 2 on bad parameters, naming the file and the field;
// interrupted and killed runs leave the complete old outputs and, after the next run, no
// temporary files; duplicate variant names and CPUs the machine lacks are refused; huge text
// inputs are refused by size; results.json/.csv carry no wall-clock time; an LLC too large for the
// host names the field and what fits; and the messages: a bad trace row by file and byte offset,
// huge tokens clipped, empty variant lists at once, machine JSON at line:column with unknown keys
// refused. Also the exit statuses against the README's table.

import { afterAll, describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { threadId } from "node:worker_threads";
import { join } from "node:path";
import { ensureOutputDir, HOST_TAG, removeStaleTemps, tempCreator, tempHost, tempPath } from "../../cli/atomic-write.ts";
import { csv, resultsJson, rowsOf, timingJson } from "../../cli/experiment/output.ts";
import { heatmapFileNames } from "../../cli/experiment/html-report.ts";
import { defaultExperiment, variant } from "../../cli/experiment/spec.ts";
import type { VariantResult } from "../../cli/experiment/variant.ts";
import { EXIT } from "../../cli/main.ts";
import { checkHostCapacity, modelFootprint, type MachineConfig } from "../../hw/config.ts";
import { preset } from "../../hw/presets.ts";
import { AccessBatch } from "../../hw/batch.ts";
import { clip, clipQuoted, InputError } from "../../sim/errors.ts";
import { TraceWriter } from "../../workloads/trace/writer.ts";
import { BIN, damagedTrace, ROOT, runCli, type CliResult } from "./helpers.ts";

const tmp = mkdtempSync(join(tmpdir(), "damon-sim-fail-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
/** A new path in the temp folder ending in `name` (so extensions still tell the kind of file). */
const fresh = (name: string): string => join(tmp, `${n++}-${name}`);
const SHORT = ["--machine", "tiny", "--duration", "20ms", "--sample", "1ms", "--aggr", "10ms", "-q"];
const temps = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".tmp") || f.includes(".tmp-")) : []);
const json = (o: unknown): string => JSON.stringify(o, null, 2);

/** Writes a file in the temp folder and returns its path. */
function file(name: string, text: string | Buffer): string {
  const p = fresh(name);
  writeFileSync(p, text);
  return p;
}

/** A process id that is certainly not running (a child that has exited). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

/** Starts the CLI, resolves once `ready()` holds (polled), then sends `signal`; resolves to the exit. */
function startThenSignal(args: string[], ready: () => boolean, signal: NodeJS.Signals, timeoutMs = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; sawReady: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let sawReady = false;
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.stdout.resume();
    const started = Date.now();
    const poll = setInterval(() => {
      if (!sawReady && ready()) {
        sawReady = true;
        child.kill(signal);
      } else if (Date.now() - started > timeoutMs) {
        child.kill("SIGKILL");
      }
    }, 20);
    child.on("error", reject);
    child.on("exit", (code, sig) => {
      clearInterval(poll);
      resolve({ code, signal: sig, stderr, sawReady });
    });
  });
}

/** The status a shell would report: the exit code, or 128 + the signal number. */
const shellStatus = (r: { code: number | null; signal: NodeJS.Signals | null }): number => r.code ?? 128 + ({ SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[r.signal ?? ""]!;

function expectCleanError(r: CliResult, status: number): void {
  expect(r.status, r.stderr).toBe(status);
  expect(r.stderr).not.toMatch(/internal error/);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe("1. output folders that cannot be made fail at once (exit 2), naming the path and the errno", () => {
  it.runIf(existsSync("/proc/self"))("run -o /proc/nope (Node's recursive mkdir loops there forever)", () => {
    const t0 = Date.now();
    const r = runCli(["run", "stairs", ...SHORT, "-o", "/proc/damon-sim-nope"], { timeout: 30_000 });
    expectCleanError(r, 2);
    expect(r.stderr).toMatch(/\/proc\/damon-sim-nope: cannot create output folder: ENOENT/);
    expect(Date.now() - t0).toBeLessThan(25_000);
  });

  it("EEXIST (-o names a file) and ENOTDIR (a path through a file), for run and compare", () => {
    const f = file("not-a-folder", "x");
    for (const cmd of [["run", "stairs", ...SHORT], ["compare", "stairs", "--primitives", "pte", ...SHORT]]) {
      let r = runCli([...cmd, "-o", f]);
      expectCleanError(r, 2);
      expect(r.stderr).toContain(`${f}: cannot create output folder: EEXIST: it exists and is not a folder`);
      r = runCli([...cmd, "-o", join(f, "sub")]);
      expectCleanError(r, 2);
      expect(r.stderr).toMatch(/cannot create output folder: ENOTDIR/);
    }
    expect(readFileSync(f, "utf8")).toBe("x");
  });

  it.runIf(existsSync("/sys/kernel"))("EPERM (/sys): a clear error, not an internal one", () => {
    const r = runCli(["run", "stairs", ...SHORT, "-o", "/sys/damon-sim-nope"]);
    expectCleanError(r, 2);
    expect(r.stderr).toMatch(/\/sys\/damon-sim-nope: cannot create output folder: (EPERM|EACCES|EROFS|ENOENT)/);
  });

  it("an output file in a folder that does not exist (report heatmap --output): exit 2, what to do", () => {
    const run = fresh("for-report");
    expect(runCli(["run", "stairs", ...SHORT, "-o", run]).status).toBe(0);
    const png = join(fresh("no-such-folder"), "heat.png");
    const r = runCli(["report", "heatmap", run, "--output", png]);
    expectCleanError(r, 2);
    expect(r.stderr).toContain(`${png}: cannot write output file: ENOENT: its folder does not exist`);
    expect(temps(run)).toEqual([]);
  });

  it("ensureOutputDir makes every missing level and accepts an existing folder", () => {
    const d = join(fresh("nest"), "a", "b", "c");
    ensureOutputDir(d);
    ensureOutputDir(d);
    expect(readdirSync(join(d, ".."))).toEqual(["c"]);
    expect(() => ensureOutputDir(join(file("plain", ""), "x"))).toThrow(InputError);
  });
});

describe("2. compare's exit status tells a script what happened", () => {
  it("a parameter that only the primitive can judge (ibs.period -5) fails before anything runs: exit 2, file and field", () => {
    const exp = file("bad-param.json", json({ workload: "stairs", machine: "tiny", duration: "20ms", attrs: { sample: "1ms", aggr: "10ms" }, variants: [{ name: "pte", primitives: ["pte"] }, { name: "ibs", primitives: ["ibs"], params: { "ibs.period": -5 } }] }));
    const out = fresh("never");
    const t0 = Date.now();
    const r = runCli(["compare", exp, "-q", "-o", out]);
    expectCleanError(r, 2);
    expect(r.stderr).toContain(`${exp}, field 'variants[1].params.ibs.period': must be a multiple of 16`);
    expect(r.stderr).toMatch(/nearest: 144/);
    expect(existsSync(out)).toBe(false);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it("bad experiment parameters name the file and the field (unknown key, non-numeric value, a typo in --param)", () => {
    const typo = file("typo.json", json({ workload: "stairs", variants: [{ name: "i", primitives: ["ibs"], params: { "ibs.perod": 4096 } }] }));
    let r = runCli(["compare", typo, "-o", fresh("never")]);
    expectCleanError(r, 2);
    expect(r.stderr).toContain(`${typo}, field 'variants[0].params.ibs.perod': ibs has no parameter 'perod' (did you mean 'period'?)`);
    const str = file("str.json", json({ workload: "stairs", variants: [{ name: "i", primitives: ["ibs"], params: { "ibs.period": "4096" } }] }));
    r = runCli(["compare", str, "-o", fresh("never")]);
    expectCleanError(r, 2);
    expect(r.stderr).toContain(`${str}, field 'variants[0].params.ibs.period': must be a number or true/false`);
    r = runCli(["compare", "stairs", "--primitives", "ibs", "--param", "ibs.period=-5", ...SHORT, "-o", fresh("never")]);
    expectCleanError(r, 2);
    expect(r.stderr).toMatch(/--param ibs\.period=-5: must be a multiple of 16/);
  });

  it("a variant that fails while it runs: exit 1, its error on stderr even with -q, the others' results written", () => {
    // a trace with a damaged chunk that the unmonitored baseline reaches and the slowed-down IBS variant does not
    const dst = damagedTrace(fresh("trace.dst"), 120);
    const out = fresh("partial");
    const r = runCli(["compare", dst, "--machine", "tiny", "--primitives", "ibs", "--param", "ibs.period=144", "--param", "ibs.nmiCostNs=200000", "--duration", "100ms", "--sample", "2ms", "--aggr", "20ms", "-q", "-o", out], { timeout: 120_000 });
    expectCleanError(r, 1);
    expect(r.stderr).toContain(`variant 'baseline' failed: ${dst}, byte offset `);
    expect(r.stderr).toMatch(/field 'chunk 120 /);
    expect(r.stderr).toMatch(/1 of 2 variants failed/);
    const res = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as { errors: Array<{ variant: string }>; variants: Array<{ name: string }> };
    expect(res.errors.map((e) => e.variant)).toEqual(["baseline"]);
    expect(res.variants.map((v) => v.name)).toEqual(["ibs"]);
  }, 150_000);
});

describe("4. interrupted and killed runs: the complete old output, and no temporary files after the next run", () => {
  it("SIGKILL leaves damon.data.*.tmp behind; the next run in the folder removes them and says so", async () => {
    const out = fresh("killed");
    const r = await startThenSignal(["run", "stairs", "--machine", "tiny", "--duration", "60s", "-q", "-o", out], () => temps(out).length > 0, "SIGKILL");
    expect(r.sawReady).toBe(true);
    expect(r.signal).toBe("SIGKILL");
    const left = temps(out);
    expect(left.length).toBeGreaterThan(0); // nothing can clean up after SIGKILL...
    expect(left.every((f) => tempCreator(f) !== null)).toBe(true);
    const again = runCli(["run", "stairs", ...SHORT, "-o", out]);
    expect(again.status, again.stderr).toBe(0);
    for (const f of left) expect(again.stderr).toContain(`removed stale temporary file ${join(out, f)} (left by process`);
    expect(temps(out)).toEqual([]); // ...but the next run does
    expect(existsSync(join(out, "damon.data"))).toBe(true);
  }, 120_000);

  it("SIGINT: exit 130, no temporary files, the previous run's outputs untouched", async () => {
    const out = fresh("interrupted");
    expect(runCli(["run", "stairs", ...SHORT, "-o", out]).status).toBe(0);
    const before = Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(join(out, f))]));
    const r = await startThenSignal(["run", "stairs", "--machine", "tiny", "--duration", "60s", "-q", "-o", out], () => temps(out).length > 0, "SIGINT");
    expect(r.sawReady).toBe(true);
    expect(shellStatus(r)).toBe(EXIT.INTERRUPTED);
    expect(temps(out)).toEqual([]);
    expect(readdirSync(out).sort()).toEqual(Object.keys(before).sort());
    for (const [f, b] of Object.entries(before)) expect(readFileSync(join(out, f)).equals(b), f).toBe(true);
  }, 120_000);

  it("SIGINT during record: no trace, no temporary file; a stale trace temporary is removed by the next record", async () => {
    const out = fresh("rec");
    mkdirSync(out);
    const stale = join(out, `.z.dst.tmp-${deadPid()}-1`);
    writeFileSync(stale, "half a trace");
    const target = join(out, "z.dst");
    const r = await startThenSignal(["record", "zipf", "-o", target, "--duration", "100s"], () => readdirSync(out).some((f) => f.startsWith(".z.dst.tmp-") && join(out, f) !== stale), "SIGINT");
    expect(r.sawReady).toBe(true);
    expect(shellStatus(r)).toBe(EXIT.INTERRUPTED);
    expect(r.stderr).toContain(`removed stale temporary file ${stale}`);
    expect(readdirSync(out)).toEqual([]);
  }, 120_000);

  it("removeStaleTemps: dead creators and reused PIDs go; live creators and other people's files stay", () => {
    const dir = fresh("stale");
    mkdirSync(dir);
    const dead = deadPid();
    const names = {
      dead: `results.json.damon-sim-${dead}-3.tmp`,
      deadRecord: `damon.data.damon-sim-${dead}-r0.tmp`,
      oldNaming: `damon.data.${dead}.r0.tmp`,
      trace: `.t.dst.tmp-${dead}-1`,
      mine: `summary.json.damon-sim-${process.pid}-1.tmp`,
      reused: `stats.txt.damon-sim-1-1.tmp`, // PID 1 runs, but started after this file's (1970) mtime
      notOurs: `notes.${dead}.draft.tmp`,
    };
    for (const f of Object.values(names)) writeFileSync(join(dir, f), "x");
    utimesSync(join(dir, names.reused), 1, 1);
    const removed = removeStaleTemps(dir).map((r) => r.path.slice(dir.length + 1)).sort();
    const gone = [names.dead, names.deadRecord, names.oldNaming, names.trace, ...(existsSync("/proc/1/stat") ? [names.reused] : [])];
    expect(removed).toEqual(gone.sort());
    expect(readdirSync(dir).sort()).toEqual(Object.values(names).filter((f) => !gone.includes(f)).sort());
    expect(tempCreator(tempPath("x/y.json", "7").slice(2))).toBe(process.pid);
  });

  it("temporary names carry the thread and host; another host's temporary files are left alone", () => {
    expect(tempPath("y.json", "7")).toBe(`y.json.damon-sim-${process.pid}-${threadId}-7-h${HOST_TAG}.tmp`);
    expect(tempPath("y.json")).not.toBe(tempPath("y.json"));
    const dir = fresh("stale-hosts");
    mkdirSync(dir);
    const dead = deadPid();
    const other = HOST_TAG === "00000000" ? "11111111" : "00000000";
    const names = { here: `a.json.damon-sim-${dead}-3-1-h${HOST_TAG}.tmp`, elsewhere: `b.json.damon-sim-${dead}-3-1-h${other}.tmp` };
    for (const f of Object.values(names)) writeFileSync(join(dir, f), "x");
    expect(tempCreator(names.elsewhere)).toBe(dead);
    expect(tempHost(names.elsewhere)).toBe(other);
    expect(removeStaleTemps(dir).map((r) => r.path)).toEqual([join(dir, names.here)]);
    expect(readdirSync(dir)).toEqual([names.elsewhere]);
  });
});

describe("7. variants: unique names, CPUs the machine has", () => {
  it("two variants of one name (or a sweep repeating a value) are refused, naming the field", () => {
    const dup = file("dup.json", json({ workload: "stairs", variants: [{ name: "a", primitives: ["pte"] }, { name: "a", primitives: ["fault"] }] }));
    let r = runCli(["compare", dup, "-o", fresh("never")]);
    expectCleanError(r, 2);
    expect(r.stderr).toContain(`${dup}, field 'variants[1].name': duplicate variant name 'a' (also variants[0].name)`);
    const sweep = file("sweep.json", json({ workload: "stairs", sweep: { param: "ibs.period", values: [4096, 4096] } }));
    r = runCli(["compare", sweep, "-o", fresh("never")]);
    expectCleanError(r, 2);
    expect(r.stderr).toContain(`${sweep}, field 'sweep.values[1]': duplicate variant name`);
  });

  it("names that look alike as file names still get one heatmap file each", () => {
    const names = ["a b", "a/b", "a_b", "A_B", "x"];
    const files = heatmapFileNames(names);
    expect(new Set(files.map((f) => f.toLowerCase())).size).toBe(names.length);
    expect(files[0]).toBe("heatmap-a_b.png");
    expect(files[4]).toBe("heatmap-x.png");
    for (const f of files) expect(f).toMatch(/^heatmap-[A-Za-z0-9_.-]+\.png$/);
  });

  it("a cpumask naming CPU 999 on a 2-CPU machine is refused: file and field, the machine and its CPUs", () => {
    const exp = file("cpus.json", json({ workload: "stairs", machine: "tiny", variants: [{ name: "f", primitives: ["fault"], filters: [{ type: "cpumask", cpus: "0,999" }] }] }));
    let r = runCli(["compare", exp, "-o", fresh("never")]);
    expectCleanError(r, 2);
    expect(r.stderr).toContain(`${exp}, field 'variants[0].filters[0].cpus': CPU 999 does not exist on machine 'tiny', which has CPUs 0-1`);
    const truth = file("truth.json", json({ workload: "stairs", variants: [{ name: "f", primitives: ["fault"], truthFilter: { cpus: [3] } }] }));
    r = runCli(["compare", truth, "--machine", "tiny", "-o", fresh("never")]);
    expectCleanError(r, 2);
    expect(r.stderr).toContain(`field 'variants[0].truthFilter.cpus': CPU 3 does not exist on machine 'tiny'`);
    r = runCli(["compare", "--scenario", "numa-hit-miss", "--machine", "tiny", "-o", fresh("never")]);
    expectCleanError(r, 2);
    expect(r.stderr).toMatch(/names CPU 2 .*machine 'tiny' has CPUs 0-1 \(scenario 'numa-hit-miss' is made for machine '2s-ddr5'\)/);
    r = runCli(["run", "stairs", ...SHORT, "--primitives", "fault", "--exp_ops_cpus", "999", "-o", fresh("never")]);
    expectCleanError(r, 2);
    expect(r.stderr).toMatch(/--exp_ops_cpus.*CPU 999/);
  });
});

describe("8. huge text inputs are refused by their size, not read whole", () => {
  it("a 20 MiB masim config, an experiment and a machine config over the cap: exit 2 with the size and the limit, quickly", () => {
    const pattern = "a, 0, 64, 1\n";
    const cfg = file("big.cfg", "# big\na, 4096\n\np\n10\n" + pattern.repeat(Math.ceil((20 << 20) / pattern.length)));
    const t0 = Date.now();
    let r = runCli(["run", cfg, ...SHORT, "-o", fresh("never")]);
    expectCleanError(r, 2);
    expect(r.stderr).toContain(`${cfg}: masim config is 20.000 MiB, larger than the 8.000 MiB limit`);
    expect(Date.now() - t0).toBeLessThan(15_000);
    const pad = " ".repeat(9 << 20);
    const exp = file("big.json", `{ "workload": "stairs", "variants": [{ "primitives": ["pte"] }] ${pad}}`);
    r = runCli(["compare", exp, "-o", fresh("never")]);
    expectCleanError(r, 2);
    expect(r.stderr).toMatch(/experiment is 9\.000 MiB, larger than the 8\.000 MiB limit/);
    const machine = file("big-machine.json", `{ "name": "x" ${pad}}`);
    r = runCli(["run", "stairs", ...SHORT.slice(2), "--machine", machine, "-o", fresh("never")]);
    expectCleanError(r, 2);
    expect(r.stderr).toMatch(/machine config is 9\.000 MiB/);
  });
});

describe("9. results.json and results.csv hold no wall-clock time", () => {
  const result = (wallSeconds: number): VariantResult => ({
    name: "pte", primitives: ["pte"], monitor: true, finished: false, simulatedNs: 1e6, finishNs: null, accesses: 10, accuracy: null, windows: [],
    cpuTimeNs: { user: 1 }, totalCpuNs: 1, overheadPercent: 0, reports: null, heatmap: null, wallSeconds, remote: null,
  });

  it("two runs that differ only in host time write identical results; timing.json has the time", () => {
    const x = { ...defaultExperiment(), variants: [variant("pte", ["pte"])], sourceFile: "where/it/was.json" };
    const a = result(1.25), b = result(7.5);
    expect(resultsJson(x, [a], [null], false, "t")).toBe(resultsJson(x, [b], [null], false, "t"));
    expect(csv(rowsOf([a]))).toBe(csv(rowsOf([b])));
    expect(resultsJson(x, [a], [null], false, "t")).not.toMatch(/wallSeconds|where\/it\/was/);
    expect(JSON.parse(timingJson([a], 2)).variants).toEqual([{ variant: "pte", wallSeconds: 1.25 }]);
  });
});

describe("10. a machine too large for the host names the field and what fits", () => {
  it("an LLC of 2^40 bytes: exit 2, caches.llc.size, and a size that fits", () => {
    const m = preset("tiny")! as unknown as Record<string, Record<string, Record<string, unknown>>>;
    m.caches!.llc!.size = 2 ** 40;
    const p = file("huge-llc.json", json(m));
    const r = runCli(["run", "stairs", ...SHORT.slice(2), "--machine", p, "-o", fresh("never")]);
    expectCleanError(r, 2);
    expect(r.stderr).toContain(`${p}, field 'caches.llc.size': 1.000 TiB is too large for this host`);
    expect(r.stderr).toMatch(/at most about \d+\.\d{3} [KMG]iB fits/);
  });

  it("checkHostCapacity: the value it says fits does fit, for any budget", () => {
    const base = preset("2s-ddr5")!;
    for (const budget of [1 << 20, 16 << 20, 1 << 30]) {
      const c = structuredClone(base) as MachineConfig;
      c.caches.llc.size = 2 ** 36;
      let err: unknown = null;
      try {
        checkHostCapacity(c, "m.json", budget);
      } catch (e) {
        err = e;
      }
      expect(err, String(budget)).toBeInstanceOf(InputError);
      const e = err as InputError;
      expect(e.location.field).toBe(modelFootprint(c).reduce((a, p) => (p.bytes > a.bytes ? p : a)).field);
      const fits = /at most about ([\d.]+) (B|KiB|MiB|GiB|TiB) fits/.exec(e.message);
      expect(fits, e.message).not.toBeNull();
      const bytes = Number(fits![1]) * { B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 }[fits![2] as "B"];
      if (bytes >= c.caches.llc.assoc * c.caches.llc.line) {
        c.caches.llc.size = bytes;
        expect(() => checkHostCapacity(c, "m.json", budget)).not.toThrow();
      }
    }
    expect(() => checkHostCapacity(structuredClone(base), "m.json", 1 << 30)).not.toThrow();
  });
});

describe("messages that name the file, the place and the field", () => {
  it("a bad row in run: the file, the chunk's byte offset, the chunk and the row", () => {
    const dst = fresh("bad-row.dst");
    const header = { source: "test", tool: { name: "t", version: "0" }, layout: { processes: [{ pid: 1, name: "p", vmas: [{ start: 0x10000, end: 0x20000, name: "heap", kind: "heap" as const, backing: "anon" as const }], threads: [{ tid: 1 }] }] }, seed: 1, meta: {} };
    const w = TraceWriter.create(dst, header, { chunkSize: 1000 });
    const b = new AccessBatch(3000);
    for (let i = 0; i < 3000; i++) b.push(i === 2500 ? 0x900000 : 0x10000 + ((i * 64) % 0x10000), 8, 0, 1, 0);
    w.write(b);
    w.close();
    const info = JSON.parse(runCli(["trace", "info", dst, "--json"]).stdout) as { chunkList: Array<{ seq: number; offset: number }> };
    const r = runCli(["run", dst, ...SHORT.slice(0, 2), "-q", "-o", fresh("never")]);
    expectCleanError(r, 2);
    expect(r.stderr).toContain(`${dst}, byte offset ${info.chunkList[2]!.offset}, field 'chunk 2 row 500': row 500 of chunk 2 (access 2500 of the trace): thread 1 (pid 1) accesses 0x900000, outside every VMA`);
  });

  it("a 10 MB token is not echoed back whole", () => {
    const token = "9".repeat(10 << 20);
    const cfg = file("token.cfg", `a, ${token.slice(0, 7 << 20)}\n\np\n10\na, 0, 64, 1\n`);
    const exp = file("token.json", json({ workload: "stairs", variants: [{ name: "v", primitives: [token.slice(0, 7 << 20)] }] }));
    for (const [args, what] of [[["run", cfg, ...SHORT], "token.cfg"], [["compare", exp, "-o", fresh("never")], "token.json"]] as const) {
      const r = runCli([...args]);
      expectCleanError(r, 2);
      expect(r.stderr).toContain(what);
      expect(r.stderr.length).toBeLessThan(2000);
      expect(r.stderr).toMatch(/9{60}\.\.\. \(7,340,032 characters\)/);
    }
    expect(clip("x".repeat(200))).toBe(`${"x".repeat(60)}... (200 characters)`);
    expect(clipQuoted(`bad '${"y".repeat(100)}' here`)).toBe(`bad '${"y".repeat(100)}' here`);
    expect(clipQuoted(`bad '${"y".repeat(300)}' here`)).toBe(`bad '${"y".repeat(60)}... (300 characters)' here`);
  });

  it("an empty variant list fails at once (exit 2), not after running the baseline", () => {
    const t0 = Date.now();
    let r = runCli(["compare", "stairs", "--machine", "tiny", "--primitives", "", "-o", fresh("never")]);
    expectCleanError(r, 2);
    expect(r.stderr).toMatch(/--primitives is empty: nothing to compare/);
    r = runCli(["compare", "stairs", "--machine", "tiny", "--primitives", ",", "--no-baseline", "-o", fresh("never")]);
    expectCleanError(r, 2);
    const empty = file("empty.json", json({ workload: "stairs", variants: [] }));
    r = runCli(["compare", empty, "-o", fresh("never")]);
    expectCleanError(r, 2);
    expect(r.stderr).toContain(`${empty}, field 'variants': is empty`);
    const noValues = file("no-values.json", json({ workload: "stairs", sweep: { param: "ibs.period", values: [] } }));
    r = runCli(["compare", noValues, "-o", fresh("never")]);
    expectCleanError(r, 2);
    expect(r.stderr).toContain(`${noValues}, field 'sweep.values': is empty`);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it("machine JSON: syntax errors at line:column with the cause; unknown keys refused with the nearest name", () => {
    const syntax = file("m-syntax.json", '{\n  "name": "x",\n  "nodes": [1, 2,]\n}\n');
    let r = runCli(["run", "stairs", ...SHORT.slice(2), "--machine", syntax, "-o", fresh("never")]);
    expectCleanError(r, 2);
    expect(r.stderr).toContain(`${syntax}:3:18: invalid JSON: unexpected ']': JSON allows no comma before a closing ]`);
    expect(r.stderr).not.toMatch(/position/);
    const m = preset("tiny")! as unknown as Record<string, unknown>;
    const root = file("m-root.json", json({ ...m, colour: "red" }));
    r = runCli(["run", "stairs", ...SHORT.slice(2), "--machine", root, "-o", fresh("never")]);
    expectCleanError(r, 2);
    expect(r.stderr).toContain(`${root}, field 'colour': unknown field 'colour'`);
    const nested = preset("tiny")! as unknown as { caches: { llc: Record<string, unknown> } };
    nested.caches.llc.sise = 1;
    const deep = file("m-deep.json", json(nested));
    r = runCli(["machines", deep]);
    expectCleanError(r, 2);
    expect(r.stderr).toContain(`${deep}, field 'caches.llc.sise': unknown field 'sise' (did you mean 'size'?)`);
  });
});

describe("exit statuses: code and README agree", () => {
  it("the README's table lists exactly the statuses the CLI uses", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## What we guarantee"));
    expect(section.length).toBeLessThan(readme.length);
    const rows = [...section.matchAll(/^\| `(\d+)` \| ([^|]+) \|$/gm)].map((m) => Number(m[1]));
    expect(rows).toEqual(Object.values(EXIT));
  });

  it("usage 2, input 2, a failed check 1 (a case that cannot load), interrupted 130 (above)", () => {
    expect(runCli(["run", "--frobnicate"]).status).toBe(EXIT.USAGE);
    expect(runCli(["run", file("x.cfg", "not masim\n"), ...SHORT, "-o", fresh("never")]).status).toBe(EXIT.USAGE);
    const caseDir = fresh("case");
    mkdirSync(caseDir);
    writeFileSync(join(caseDir, "case.json"), json({ workload: "stairs", run: { duration: "10ms", machine: "tiny", nope: 1 } }));
    const r = runCli(["check", caseDir]);
    expect(r.status, r.stdout + r.stderr).toBe(EXIT.FAILED);
  });
});
