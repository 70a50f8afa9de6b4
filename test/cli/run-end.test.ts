// How `damon-sim run` ends: the shipped full-length masim configs, a finite workload running to
// its end without --duration, --duration cutting it short (and the summary saying which), the
// default bound of endless workloads, the wall-clock figures kept out of every output file, and
// the progress bar (drawn only on a terminal).

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseCommandArgs } from "../../cli/args.ts";
import { command as runCommand } from "../../cli/commands/run.ts";
import { Progress } from "../../cli/progress.ts";
import { buildRun, DEFAULT_ENDLESS_DURATION } from "../../cli/run-setup.ts";
import { masimSeconds } from "../../bench/run-masim.ts";
import { loadMasimConfig, parseMasimConfig, type MasimConfig } from "../../workloads/masim.ts";
import { CONFIGS_DIR, listWorkloads, resolveWorkloadEnd } from "../../workloads/registry.ts";
import { parseDuration } from "../../sim/time.ts";
import { runCli } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "damon-sim-run-end-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A config's regions and phases without line numbers or file name, for comparing two parses. */
function shape(c: MasimConfig): unknown {
  return {
    regions: c.regions.map((r) => [r.name, r.size, r.initDataFile]),
    phases: c.phases.map((p) => [p.name, p.durationMs, p.patterns.map((q) => [q.region, q.random, q.stride, q.probability, q.mode])]),
  };
}

const totalMs = (c: MasimConfig): number => c.phases.reduce((a, p) => a + p.durationMs, 0);

describe("masim's full-length public configs", () => {
  const full: Array<[string, number, number, number]> = [
    // name, regions, region size, phases
    ["stairs-60s", 10, 10_000_000, 11],
    ["zigzag-70s", 2, 100_000_000, 13],
  ];

  it("parse unchanged below their header, with masim's regions and phase lengths", () => {
    for (const [name, nRegions, size, nPhases] of full) {
      const path = join(CONFIGS_DIR, `${name}.cfg`);
      const text = readFileSync(path, "utf8");
      const lines = text.split("\n");
      // the header is our comment lines before masim's own "#regions" line
      const body = lines.slice(lines.indexOf("#regions")).join("\n");
      expect(lines.slice(0, lines.indexOf("#regions")).every((l) => l.startsWith("# ")), name).toBe(true);
      expect(text, name).toMatch(/source: github\.com\/sjp38\/masim, configs\/\w+\.cfg at commit [0-9a-f]{40}/);
      const cfg = loadMasimConfig(path);
      expect(shape(parseMasimConfig(body, "original")), name).toEqual(shape(cfg));
      expect(cfg.regions.length, name).toBe(nRegions);
      expect(cfg.regions.every((r) => r.size === size), name).toBe(true);
      expect(cfg.phases.length, name).toBe(nPhases);
      // a 10 s warm-up of every region, then 5 s phases touching one region each at stride 4096
      expect(cfg.phases[0]!.durationMs, name).toBe(10_000);
      expect(cfg.phases[0]!.patterns.length, name).toBe(nRegions);
      for (const p of cfg.phases.slice(1)) {
        expect([p.durationMs, p.patterns.length, p.patterns[0]!.stride, p.patterns[0]!.random]).toEqual([5000, 1, 4096, false]);
      }
    }
    expect(totalMs(loadMasimConfig(join(CONFIGS_DIR, "stairs-60s.cfg")))).toBe(60_000);
    expect(totalMs(loadMasimConfig(join(CONFIGS_DIR, "zigzag-70s.cfg")))).toBe(70_000);
    // stairs visits every region in order, zigzag alternates
    const stairs = loadMasimConfig(join(CONFIGS_DIR, "stairs-60s.cfg"));
    expect(stairs.phases.slice(1).map((p) => p.patterns[0]!.region)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const zigzag = loadMasimConfig(join(CONFIGS_DIR, "zigzag-70s.cfg"));
    expect(zigzag.phases.slice(1).map((p) => p.patterns[0]!.region)).toEqual([0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
  });

  it("are listed by `damon-sim workloads` and resolve by name to their full length", () => {
    const listed = listWorkloads();
    for (const name of ["stairs-60s", "zigzag-70s", "stairs", "zigzag"]) expect(listed.find((w) => w.name === name)?.kind, name).toBe("masim-config");
    const r = runCli(["workloads"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^stairs-60s +masim-config +stairs-60s: masim's public stairs config/m);
    expect(r.stdout).toMatch(/^zigzag-70s +masim-config +zigzag-70s: masim's public zigzag config/m);
    expect(resolveWorkloadEnd("stairs-60s").end).toEqual({ finite: true, lengthNs: 60e9, accesses: null });
    expect(resolveWorkloadEnd("zigzag-70s").end).toEqual({ finite: true, lengthNs: 70e9, accesses: null });
    expect(resolveWorkloadEnd("stairs").end.lengthNs).toBe(6e9);
  });
});

describe("how a workload ends by itself", () => {
  it("built-in generators are endless unless given a duration; specs end when every thread does", () => {
    expect(resolveWorkloadEnd("seq").end.finite).toBe(false);
    expect(resolveWorkloadEnd("seq", { duration: 5e6 }).end).toEqual({ finite: true, lengthNs: 5e6, accesses: null });
    expect(resolveWorkloadEnd("stairs-60s", { duration: 2e9 }).end.lengthNs).toBe(2e9);
    expect(resolveWorkloadEnd("stairs", { repeat: 3 }).end.lengthNs).toBe(18e9);
    const spec = (threads: unknown[]): string => {
      const p = join(dir, `spec-${threads.length}-${JSON.stringify(threads).length}.json`);
      writeFileSync(p, JSON.stringify({ name: "t", regions: [{ name: "buf", size: 1 << 20 }], threads }));
      return p;
    };
    const phases = [{ name: "a", duration: "20ms", pattern: { region: "buf", type: "uniform" } }, { name: "b", duration: "30ms", pattern: { region: "buf", type: "sequential" } }];
    expect(resolveWorkloadEnd(spec([{ phases, repeat: 2 }])).end.lengthNs).toBe(100e6);
    expect(resolveWorkloadEnd(spec([{ phases, repeat: 2 }, { duration: "70ms", pattern: { region: "buf", type: "uniform" } }])).end.lengthNs).toBe(100e6);
    expect(resolveWorkloadEnd(spec([{ phases, repeat: 2 }, { duration: "170ms", pattern: { region: "buf", type: "uniform" } }])).end.lengthNs).toBe(170e6);
    expect(resolveWorkloadEnd(spec([{ phases, repeat: 2 }, { pattern: { region: "buf", type: "uniform" } }])).end.finite).toBe(false);
    expect(resolveWorkloadEnd(spec([{ phases, repeat: "forever" }])).end.finite).toBe(false);
  });

  it("run's limit: none for a finite workload, --duration when given, the default for an endless one", () => {
    const limit = (argv: string[]): [number, string] => {
      const s = buildRun(runCommand.spec, parseCommandArgs(runCommand.spec, [...argv, "--machine", "tiny"]));
      return [s.durationNs, s.durationLimit];
    };
    expect(limit(["stairs-60s"])).toEqual([Infinity, "none"]);
    expect(limit(["stairs-60s", "--duration", "2s"])).toEqual([2e9, "option"]);
    expect(limit(["seq"])).toEqual([parseDuration(DEFAULT_ENDLESS_DURATION, "s", "x"), "default"]);
    expect(limit(["seq", "--duration", "50ms"])).toEqual([50e6, "option"]);
    const help = runCli(["run", "--help"]);
    expect(help.stdout).toMatch(new RegExp(`one without an end[^\\n]*stops at ${DEFAULT_ENDLESS_DURATION}`));
    expect(help.stdout).not.toMatch(/--duration T +[^\n]*\(default: 30s\)/);
  });
});

describe("damon-sim run to the end, or cut at --duration", () => {
  // 1 MiB region, 40 ms + 30 ms of phases: a few hundred thousand accesses on the tiny machine
  const cfg = join(dir, "short.cfg");
  writeFileSync(cfg, "a, 1048576\nb, 1048576\n\nfirst\n40\na, 0, 4096, 1\nb, 1, 64, 1\n\nsecond\n30\nb, 0, 64, 1\n");
  const common = [cfg, "--machine", "tiny", "--sample", "1ms", "--aggr", "10ms", "--update", "50ms"];
  const summaryOf = (out: string): Record<string, unknown> => JSON.parse(readFileSync(join(out, "summary.json"), "utf8")) as Record<string, unknown>;

  it("runs a finite workload to its end without --duration, and says so", () => {
    const out = join(dir, "full");
    const r = runCli(["run", ...common, "-o", out]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const s = summaryOf(out);
    expect(s.ended).toBe("workload finished");
    expect(s.workloadFinished).toBe(true);
    expect(s.durationLimitNs).toBeNull();
    expect(s.simulatedNs as number).toBeGreaterThanOrEqual(70e6);
    expect(s.simulatedNs as number).toBeLessThan(90e6);
    expect(r.stdout).toMatch(/^simulated [\d.]+ ms \(workload finished\), \d+ accesses/m);
    // the wall-clock figures are printed at the end
    const host = /^host: ([\d.]+) s wall, ([\d.]+) ?([kMG]?) accesses\/s end to end, ([\d.]+) host s per simulated s/m.exec(r.stdout);
    expect(host, r.stdout).not.toBeNull();
    expect(Number(host![4])).toBeGreaterThan(0);
    const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8")) as Record<string, unknown>;
    expect([config.durationLimitNs, config.workloadLengthNs]).toEqual([null, 70e6]);
  });

  it("cuts it short at a shorter --duration, and says so", () => {
    const out = join(dir, "cut");
    const r = runCli(["run", ...common, "--duration", "25ms", "-o", out]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const s = summaryOf(out);
    expect([s.ended, s.workloadFinished, s.durationLimitNs, s.simulatedNs]).toEqual(["cut at --duration", false, 25e6, 25e6]);
    expect(r.stdout).toMatch(/^simulated 25(\.0+)? ms \(cut at --duration; the workload runs about 70(\.0+)? ms\)/m);
    // a longer --duration does not stretch it
    const long = join(dir, "long");
    expect(runCli(["run", ...common, "--duration", "10s", "-q", "-o", long]).status).toBe(0);
    expect(summaryOf(long).ended).toBe("workload finished");
    expect(summaryOf(long).simulatedNs).toBe(summaryOf(join(dir, "full")).simulatedNs);
  });

  it("says when an endless workload was cut", () => {
    const out = join(dir, "endless");
    const r = runCli(["run", "seq", "--machine", "tiny", "--duration", "3ms", "--sample", "1ms", "--aggr", "2ms", "-o", out]);
    expect(r.status).toBe(0);
    expect(summaryOf(out).ended).toBe("cut at --duration");
    expect(r.stdout).toMatch(/\(cut at --duration; the workload has no end\)/);
  });

  it("keeps the wall-clock figures out of every file: two runs write identical bytes", () => {
    // same relative -o from two working folders, so even config.json's options match
    const a = mkdtempSync(join(dir, "det-a-"));
    const b = mkdtempSync(join(dir, "det-b-"));
    const ra = runCli(["run", ...common, "-o", "out"], { cwd: a });
    const rb = runCli(["run", ...common, "-o", "out"], { cwd: b });
    expect([ra.status, rb.status]).toEqual([0, 0]);
    const files = readdirSync(join(a, "out")).sort();
    expect(files).toEqual(readdirSync(join(b, "out")).sort());
    expect(files).toEqual(expect.arrayContaining(["damon.data", "summary.json", "config.json", "stats.json", "stats.txt"]));
    for (const f of files) expect(readFileSync(join(a, "out", f)).equals(readFileSync(join(b, "out", f))), f).toBe(true);
    const summary = readFileSync(join(a, "out", "summary.json"), "utf8");
    expect(summary).not.toMatch(/wall|host|perSec|PerSimulated/i);
    // the stdout lines other than the host line agree too
    const strip = (s: string): string => s.replace(/^host: .*$/m, "");
    expect(strip(ra.stdout)).toBe(strip(rb.stdout));
    expect(ra.stdout).toMatch(/^host: /m);
  });
});

describe("progress bar", () => {
  class FakeTty {
    isTTY: boolean;
    columns = 200;
    written = "";
    constructor(tty: boolean) {
      this.isTTY = tty;
    }
    write(s: string): boolean {
      this.written += s;
      return true;
    }
  }
  const stream = (f: FakeTty): NodeJS.WriteStream => f as unknown as NodeJS.WriteStream;

  it("shows done/total, the accesses rate and an ETA on a terminal, then erases itself", async () => {
    const tty = new FakeTty(true);
    const p = new Progress("simulating", { stream: stream(tty), total: 60, format: (n) => `${n.toFixed(1)} s`, eta: true, rateOf: "accesses" });
    await new Promise((r) => setTimeout(r, 20));
    p.update(15, "30 snapshots", 3_000_000);
    expect(tty.written).toMatch(/^\rsimulating \[#{6}-{18}\]  25% 15\.0 s \/ 60\.0 s  [\d.]+ ?[kMG]? accesses\/s  \d+ s, ETA \d+ s  30 snapshots\x1b\[K$/);
    p.finish();
    expect(tty.written.endsWith("\r\x1b[K")).toBe(true);
  });

  it("draws nothing when stderr is not a terminal, nor before its delay", () => {
    const pipe = new FakeTty(false);
    const p = new Progress("simulating", { stream: stream(pipe), total: 10, eta: true });
    p.update(5);
    p.finish();
    expect(pipe.written).toBe("");
    const tty = new FakeTty(true);
    const late = new Progress("simulating", { stream: stream(tty), total: 10, delayMs: 60_000 });
    late.update(5);
    late.finish();
    expect(tty.written).toBe("");
  });

  it("a run in a pipe writes nothing to stderr", () => {
    // runCli's stderr is a pipe: the runs above already had empty stderr; here a longer one with snapshots
    const r = runCli(["run", "stairs", "--machine", "tiny", "--duration", "150ms", "-q", "-o", join(dir, "pipe")]);
    expect([r.status, r.stderr, r.stdout]).toEqual([0, "", ""]);
  });
});

describe("run.masim benchmark options", () => {
  it("BENCH_MASIM_SECONDS cuts the run; unset means the whole workload; nonsense is refused", () => {
    expect(masimSeconds({})).toBeNull();
    expect(masimSeconds({ BENCH_MASIM_SECONDS: "3" })).toBe("3s");
    expect(masimSeconds({ BENCH_MASIM_SECONDS: "0.5" })).toBe("0.5s");
    for (const bad of ["0", "-2", "ten"]) expect(() => masimSeconds({ BENCH_MASIM_SECONDS: bad }), bad).toThrow(/BENCH_MASIM_SECONDS/);
  });
});
