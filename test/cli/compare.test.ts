// `damon-sim compare` end to end (the real executable in temp folders): the scenario list, a small
// comparison's results.json / results.csv / report.html / PNG files, determinism (same command,
// same bytes; another seed, other results), an experiment file with a sweep (and a command-line
// option overriding it, even at the option's usual default value), bad input, and
// Ctrl-C (exit 130 with the partial results written, no temp files left). Also the heatmap's
// address Axis (cli/experiment/variant.ts) against exact column overlaps (fast-check). The
// variants run on the local pool (cli/jobs/local.ts): 1, one per core or 4 threads give the same
// bytes, and a variant that fails (a damaged trace) is reported the same way whatever the thread
// count, the variants after it on the same thread unaffected.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Axis } from "../../cli/experiment/variant.ts";
import type { Row } from "../../cli/experiment/output.ts";
import type { AccuracySummary as Accuracy } from "../../damon/accuracy.ts";
import { BIN, damagedTrace, ROOT, runCli, type CliResult } from "./helpers.ts";

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const COLS = 100;
const LONG = 180_000; // ms: a comparison on a busy two-core machine

/** runCli without blocking the event loop, so several comparisons can run side by side. */
function runCliAsync(args: string[], timeoutMs = 150_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ status: code ?? (signal ? -1 : -2), stdout, stderr });
    });
  });
}

interface Variant {
  name: string;
  primitives: string[];
  monitor: boolean;
  simulatedNs: number;
  accesses: number;
  accuracy: Accuracy | null;
  windows: Array<{ t: number; precision: number | null; recall: number | null }>;
  cpuTimeNs: Record<string, number>;
  totalCpuNs: number;
  overheadPercent: number;
  reports: { delivered: Record<string, number> } | null;
  heatmap: { rows: number; cols: number; truth: Array<number | null>; damon: Array<number | null> } | null;
}

interface Results {
  tool: string;
  interrupted: boolean;
  errors: Array<{ variant: string; error: string }>;
  experiment: { name: string; workload: string; machine: string; durationNs: number; seed: number; sampleUs: number; aggrUs: number; warmupWindows: number; variants: Array<{ name: string; primitives: string[]; params: Record<string, number> }> };
  rows: Row[];
  variants: Variant[];
}

const readResults = (dir: string): Results => JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as Results;


const inUnit = (x: number | null): boolean => x === null || (x >= 0 && x <= 1);

const SMALL = ["compare", "stairs", "--machine", "tiny", "--primitives", "pte,fault,perf-mem", "--duration", "200ms", "--sample", "2ms", "--aggr", "20ms", "-q"];
const DET = ["compare", "stairs", "--machine", "tiny", "--primitives", "fault", "--no-baseline", "--duration", "100ms", "--sample", "2ms", "--aggr", "20ms", "-q"];
const SWEEP = {
  name: "sweep-test",
  workload: "stairs",
  machine: "tiny",
  duration: "100ms",
  seed: 3,
  attrs: { sample: "2ms", aggr: "20ms" },
  variants: [{ name: "pte-only", primitives: ["pte"] }],
  sweep: { param: "ibs.period", values: [4096, 65536] },
};

let tmp = "";
const dir = (name: string): string => join(tmp, name);
/** The comparisons, started together up front (they overlap each other's start-up) and awaited by the tests. */
const runs = new Map<string, Promise<CliResult>>();
const run = (name: string): Promise<CliResult> => runs.get(name)!;

describe("damon-sim compare", () => {
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), "damon-sim-compare-"));
    writeFileSync(dir("sweep.json"), JSON.stringify(SWEEP));
    runs.set("small", runCliAsync([...SMALL, "-o", dir("small")]));
    runs.set("small-j1", runCliAsync([...SMALL, "--jobs", "1", "-o", dir("small-j1")]));
    runs.set("small-j4", runCliAsync([...SMALL, "--jobs", "4", "-o", dir("small-j4")]));
    runs.set("det-a", runCliAsync([...DET, "-o", dir("det-a")]));
    runs.set("det-b", runCliAsync([...DET, "-o", dir("det-b")]));
    runs.set("det-seed", runCliAsync([...DET, "--seed", "2", "-o", dir("det-seed")]));
    // --seed 1 is the option's default value, given explicitly: it must still override the file's 3
    runs.set("sweep", runCliAsync(["compare", dir("sweep.json"), "--seed", "1", "-q", "-o", dir("sweep")]));
  });
  afterAll(async () => {
    await Promise.allSettled(runs.values()); // never remove the folder under a running comparison
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }, LONG);

  it("--list-scenarios lists the built-in scenarios", () => {
    const r = runCli(["compare", "--list-scenarios"]);
    expect(r.status).toBe(0);
    const names = r.stdout.trim().split("\n").map((l) => l.split(/\s+/)[0]);
    for (const s of ["tiering", "tiering-arm", "numa-hit-miss", "ksm-targets", "live-migration", "cache-aware-sched"]) expect(names).toContain(s);
  }, LONG);

  describe("a small comparison (stairs on tiny: baseline, pte, fault, perf-mem)", () => {
    const names = ["baseline", "pte", "fault", "perf-mem"];
    let out = "";
    let res: Results;
    beforeAll(async () => {
      out = dir("small");
      const r = await run("small");
      expect(r.status, r.stderr).toBe(0);
      // quiet: only the report's path
      expect(r.stdout.trim()).toBe(join(out, "report.html"));
      res = readResults(out);
    }, LONG);

    it("results.json: one entry per variant plus the baseline, the experiment as run", () => {
      expect(res.interrupted).toBe(false);
      expect(res.errors).toEqual([]);
      expect(res.variants.map((v) => v.name)).toEqual(names);
      expect(res.rows.map((r) => r.variant)).toEqual(names);
      expect(res.variants.map((v) => v.monitor)).toEqual([false, true, true, true]);
      expect(res.variants.map((v) => v.primitives)).toEqual([[], ["pte"], ["fault"], ["perf-mem"]]);
      const x = res.experiment;
      expect([x.workload, x.machine, x.durationNs, x.sampleUs, x.aggrUs, x.seed]).toEqual(["stairs", "tiny", 200_000_000, 2000, 20_000, 1]);
    });

    it("accuracy and overhead are in range and consistent between rows and variants", () => {
      const base = res.variants[0]!;
      expect(base.accuracy).toBeNull();
      expect(base.overheadPercent).toBe(0);
      expect(base.reports).toBeNull();
      expect(base.heatmap).toBeNull();
      expect(res.rows[0]!.slowdownPercent).toBeNull();
      for (const [i, v] of res.variants.entries()) {
        const row = res.rows[i]!;
        expect(v.simulatedNs).toBeLessThanOrEqual(200_000_000);
        expect(v.accesses).toBeGreaterThan(0);
        // overhead: monitoring CPU time (trap, sampling, scan, kdamond, migrate) over user CPU time
        const cpu = v.cpuTimeNs;
        const total = Object.values(cpu).reduce((a, b) => a + b, 0);
        expect(Math.abs(total - v.totalCpuNs)).toBeLessThanOrEqual(1e-9 * total);
        const monitoring = cpu.trap! + cpu.sampling! + cpu.scan! + cpu.kdamond! + cpu.migrate!;
        expect(v.overheadPercent).toBeCloseTo(cpu.user! > 0 ? (monitoring / cpu.user!) * 100 : 0, 9);
        expect(v.overheadPercent).toBeGreaterThanOrEqual(0);
        expect(row.overheadPercent).toBe(v.overheadPercent);
        if (!v.monitor) continue;
        expect(v.overheadPercent, v.name).toBeGreaterThan(0);
        const a = v.accuracy!;
        for (const k of ["precision", "recall", "f1", "rateError", "coldPrecision", "coldRecall"] as const) expect(inUnit(a[k]), `${v.name} ${k} = ${a[k]}`).toBe(true);
        expect(a.spearman === null || Math.abs(a.spearman) <= 1 + 1e-12).toBe(true);
        expect(a.rateError).not.toBeNull();
        expect(a.wssError === null || a.wssError >= 0).toBe(true);
        if (a.precision !== null && a.recall !== null && a.precision + a.recall > 0) expect(a.f1!).toBeCloseTo((2 * a.precision * a.recall) / (a.precision + a.recall), 12);
        expect(a.detected).toBeLessThanOrEqual(a.phaseChanges);
        for (const k of ["precision", "recall", "f1", "rateError", "spearman", "wssError"] as const) expect(row[k], `${v.name} ${k}`).toBe(a[k]);
        // 200 ms in 20 ms windows; the first warmupWindows are not scored
        expect(v.windows.length).toBeGreaterThanOrEqual(9);
        expect(v.windows.length).toBeLessThanOrEqual(10);
        expect(a.windows).toBe(v.windows.length - res.experiment.warmupWindows);
        v.windows.forEach((w, k) => {
          expect(w.t).toBe((k + 1) * 20_000_000);
          expect(inUnit(w.precision) && inUnit(w.recall), `${v.name} window ${k}`).toBe(true);
        });
        const h = v.heatmap!;
        expect([h.rows, h.cols, h.truth.length, h.damon.length]).toEqual([v.windows.length, COLS, v.windows.length * COLS, v.windows.length * COLS]);
        for (const x of [...h.truth, ...h.damon]) expect(x === null || (x >= 0 && x <= 1 + 1e-9)).toBe(true);
        expect(typeof row.slowdownPercent === "number" || row.slowdownPercent === null).toBe(true);
      }
      // PTE Accessed bits find stairs' hot set: both precision and recall are defined
      const pte = res.variants[1]!.accuracy!;
      expect(typeof pte.precision).toBe("number");
      expect(typeof pte.recall).toBe("number");
      // report-based variants made reports
      for (const v of res.variants.slice(2)) expect(Object.values(v.reports!.delivered).reduce((a, b) => a + b, 0), v.name).toBeGreaterThan(0);
    });

    it("results.csv: a header, then every metric of every variant, matching results.json", () => {
      const lines = readFileSync(join(out, "results.csv"), "utf8").trimEnd().split("\n");
      expect(lines[0]).toBe("variant,metric,value");
      const byVariant = new Map<string, Map<string, string>>();
      for (const l of lines.slice(1)) {
        const m = /^"((?:[^"]|"")*)",([A-Za-z0-9]+),(.*)$/.exec(l);
        expect(m, l).not.toBeNull();
        const [, name, metric, value] = m!;
        const metrics = byVariant.get(name!) ?? new Map<string, string>();
        expect(metrics.has(metric!), `${name} ${metric} twice`).toBe(false);
        metrics.set(metric!, value!);
        byVariant.set(name!, metrics);
      }
      expect([...byVariant.keys()]).toEqual(names);
      const metricNames = Object.keys(res.rows[0]!).filter((k) => k !== "variant");
      for (const [i, row] of res.rows.entries()) {
        const metrics = byVariant.get(row.variant)!;
        expect([...metrics.keys()].sort()).toEqual([...metricNames].sort());
        for (const k of metricNames) {
          const want = (row as unknown as Record<string, unknown>)[k];
          const got = metrics.get(k)!;
          if (want === null) expect(got, `${names[i]} ${k}`).toBe("");
          else if (typeof want === "number") expect(Number(got), `${names[i]} ${k}`).toBe(want);
          else expect(got).toBe(`"${String(want)}"`);
        }
      }
    });

    it("report.html is self-contained, names every variant; the PNG plots are real PNGs", () => {
      const html = readFileSync(join(out, "report.html"), "utf8");
      expect(html).toMatch(/^<!doctype html>/i);
      // nothing fetched from the network: no remote src/href, no external scripts or stylesheets
      const refs = [...html.matchAll(/\b(?:src|href|xlink:href)\s*=\s*["']([^"']*)["']/gi)].map((m) => m[1]!);
      expect(refs.length).toBeGreaterThan(0);
      for (const ref of refs) {
        expect(ref, ref.slice(0, 60)).not.toMatch(/^(?:https?:)?\/\//i);
        if (!ref.startsWith("data:") && !ref.startsWith("#")) expect(existsSync(join(out, ref)), ref).toBe(true);
      }
      expect(html).not.toMatch(/<script[^>]*\bsrc=/i);
      expect(html).not.toMatch(/<link\b/i);
      expect(html).not.toMatch(/@import|url\(\s*["']?https?:/i);
      // images are inline PNG data URIs
      const images = [...html.matchAll(/<(?:img|image)\b[^>]*\b(?:src|href)="([^"]*)"/gi)].map((m) => m[1]!);
      expect(images.length).toBeGreaterThanOrEqual(2 * 3); // truth and DAMON heatmaps per monitored variant
      for (const img of images) {
        expect(img.startsWith("data:image/png;base64,"), img.slice(0, 40)).toBe(true);
        expect(Buffer.from(img.slice("data:image/png;base64,".length), "base64").subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
      }
      for (const n of names) expect(html, n).toContain(`<td>${n}</td>`);
      // PNG files next to it (any referenced by name must exist; the plots always do)
      for (const ref of html.matchAll(/["'(]([\w.-]+\.png)\b/g)) expect(existsSync(join(out, ref[1]!)), ref[1]).toBe(true);
      const pngs = readdirSync(out).filter((f) => f.endsWith(".png")).sort();
      expect(pngs).toEqual(["heatmap-fault.png", "heatmap-perf-mem.png", "heatmap-pte.png", "scatter.png", "wss.png"]);
      for (const f of pngs) expect(readFileSync(join(out, f)).subarray(0, 8).equals(PNG_SIGNATURE), f).toBe(true);
      expect(readdirSync(out).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    });
  });

  it(
    "is deterministic: the same command gives the same results; another seed other results",
    async () => {
      const [a, b, c] = [dir("det-a"), dir("det-b"), dir("det-seed")];
      const rs = await Promise.all([run("det-a"), run("det-b"), run("det-seed")]);
      for (const r of rs) expect(r.status, r.stderr).toBe(0);
      // every output byte for byte (results.json and .csv hold no wall-clock time), but timing.json
      const files = readdirSync(a).filter((f) => f !== "timing.json").sort();
      expect(files).toEqual(["heatmap-fault.png", "report.html", "results.csv", "results.json", "scatter.png", "wss.png"]);
      for (const f of files) expect(readFileSync(join(b, f)).equals(readFileSync(join(a, f))), f).toBe(true);
      expect(readFileSync(join(a, "results.json"), "utf8")).not.toMatch(/wallSeconds/);
      const timing = JSON.parse(readFileSync(join(a, "timing.json"), "utf8")) as { variants: Array<{ variant: string; wallSeconds: number }> };
      expect(timing.variants.map((v) => v.variant)).toEqual(["fault"]);
      expect(timing.variants[0]!.wallSeconds).toBeGreaterThan(0);
      // another seed: the workload's randomness, hence what happened, changes
      const ra = readResults(a), rc = readResults(c);
      expect(rc.experiment.seed).toBe(2);
      const sim = (x: Results): string => JSON.stringify(x.variants.map((v) => [v.accesses, v.windows, v.cpuTimeNs, v.heatmap]));
      expect(sim(rc)).not.toBe(sim(ra));
    },
    LONG,
  );

  it(
    "an experiment file with variants and a sweep runs the baseline, the variants and one variant per swept value; options override it",
    async () => {
      const out = dir("sweep");
      const r = await run("sweep");
      expect(r.status, r.stderr).toBe(0);
      const res = readResults(out);
      const names = ["baseline", "pte-only", "ibs ibs.period=4096", "ibs ibs.period=65536"];
      expect(res.variants.map((v) => v.name)).toEqual(names);
      expect(res.variants.map((v) => v.primitives)).toEqual([[], ["pte"], ["ibs"], ["ibs"]]);
      expect(res.experiment.variants.map((v) => v.params)).toEqual([{}, {}, { "ibs.period": 4096 }, { "ibs.period": 65536 }]);
      // the file's settings, but for the seed given on the command line
      expect([res.experiment.name, res.experiment.durationNs, res.experiment.seed, res.experiment.sampleUs, res.experiment.aggrUs]).toEqual(["sweep-test", 100_000_000, 1, 2000, 20_000]);
      // the swept parameter reached the sampler: a 16x longer IBS period takes fewer samples
      const reports = (v: Variant): number => Object.values(v.reports!.delivered).reduce((a, b) => a + b, 0);
      expect(reports(res.variants[2]!)).toBeGreaterThan(reports(res.variants[3]!));
      const html = readFileSync(join(out, "report.html"), "utf8");
      for (const n of names) expect(html).toContain(`<td>${n}</td>`);
    },
    LONG,
  );

  it("bad input: unknown primitive and bad --param exit 2, a malformed experiment names its file", async () => {
    const out = join(tmp, "never");
    const bad = join(tmp, "malformed.json");
    writeFileSync(bad, '{ "workload": "stairs", "variants": [ { "primitives": ["pte"] }, ');
    const badPrim = join(tmp, "bad-primitive.json");
    writeFileSync(badPrim, JSON.stringify({ workload: "stairs", variants: [{ name: "x", primitives: ["pte", "telepathy"] }] }));
    const [prim, param, malformed, unknownInFile] = await Promise.all([
      runCliAsync(["compare", "stairs", "--machine", "tiny", "--primitives", "pte,frobnicate", "-o", out]),
      runCliAsync(["compare", "stairs", "--machine", "tiny", "--param", "ibs.period", "-o", out]),
      runCliAsync(["compare", bad, "-o", out]),
      runCliAsync(["compare", badPrim, "-o", out]),
    ]);
    expect(prim.status).toBe(2);
    expect(prim.stderr).toMatch(/unknown primitive 'frobnicate'/);
    expect(param.status).toBe(2);
    expect(param.stderr).toMatch(/--param.*ibs\.period/);
    expect(malformed.status).not.toBe(0);
    expect(malformed.status).not.toBe(130);
    expect(malformed.stderr).toContain(bad);
    expect(unknownInFile.status).toBe(2);
    expect(unknownInFile.stderr).toContain(badPrim);
    expect(unknownInFile.stderr).toMatch(/variants\[0\]\.primitives\[1\]/);
    expect(unknownInFile.stderr).toMatch(/telepathy/);
    // nothing was run, nothing written
    expect(existsSync(out)).toBe(false);
  }, LONG);

  it(
    "the same bytes with 1 worker thread, the default (one per core) or 4",
    async () => {
      const rs = await Promise.all([run("small"), run("small-j1"), run("small-j4")]);
      for (const r of rs) expect(r.status, r.stderr).toBe(0);
      const files = readdirSync(dir("small")).filter((f) => f !== "timing.json").sort();
      expect(files).toContain("results.json");
      for (const other of ["small-j1", "small-j4"]) {
        expect(readdirSync(dir(other)).sort()).toEqual([...files, "timing.json"].sort());
        for (const f of files) expect(readFileSync(join(dir(other), f)).equals(readFileSync(join(dir("small"), f))), `${other}/${f}`).toBe(true);
      }
    },
    LONG,
  );

  it(
    "variants that fail (a damaged trace) are reported in variant order, exit 1, the same with 1 or 3 threads; the others' results are unaffected",
    async () => {
      // a trace with a damaged chunk: the unmonitored baseline and pte reach it, the slowed-down IBS variants do not
      const dst = damagedTrace(join(tmp, "damaged.dst"), 120);
      const slow = (period: number): Record<string, number> => ({ "ibs.period": period, "ibs.nmiCostNs": 200_000 });
      const exp = join(tmp, "failing.json");
      writeFileSync(exp, JSON.stringify({ name: "failing", workload: dst, machine: "tiny", duration: "100ms", attrs: { sample: "2ms", aggr: "20ms" }, variants: [{ name: "ibs-a", primitives: ["ibs"], params: slow(144) }, { name: "pte", primitives: ["pte"] }, { name: "ibs-b", primitives: ["ibs"], params: slow(160) }] }));
      const [one, three] = await Promise.all(["1", "3"].map((j) => runCliAsync(["compare", exp, "--jobs", j, "-q", "-o", dir(`failing-${j}`)])));
      for (const [r, j] of [[one!, "1"], [three!, "3"]] as const) {
        expect(r.status, r.stderr).toBe(1);
        const lines = r.stderr.trimEnd().split("\n");
        expect(lines).toHaveLength(3);
        expect(lines[0]!.startsWith(`damon-sim: compare: variant 'baseline' failed: ${dst}, byte offset `), lines[0]).toBe(true);
        expect(lines[0]).toMatch(/, byte offset \d+, field 'chunk 120 crc': chunk checksum mismatch/);
        expect(lines[1]).toBe(lines[0]!.replace("variant 'baseline'", "variant 'pte'"));
        expect(lines[2]).toBe(`damon-sim: compare: 2 of 4 variants failed (their errors are in ${join(dir(`failing-${j}`), "results.json")}); exit status 1`);
        const res = readResults(dir(`failing-${j}`));
        expect(res.errors.map((e) => e.variant)).toEqual(["baseline", "pte"]);
        expect(res.variants.map((v) => v.name)).toEqual(["ibs-a", "ibs-b"]);
        expect(res.variants.every((v) => v.accesses > 0)).toBe(true);
      }
      expect(three!.stderr.replaceAll("failing-3", "failing-1")).toBe(one!.stderr);
      // on one thread ibs-b ran after two failures in the same thread: still the same bytes as on its own thread
      for (const f of readdirSync(dir("failing-1")).filter((f) => f !== "timing.json")) expect(readFileSync(join(dir("failing-3"), f)).equals(readFileSync(join(dir("failing-1"), f))), f).toBe(true);
    },
    LONG,
  );

  it(
    "Ctrl-C stops promptly with status 130 and writes the partial results (interrupted: true)",
    async () => {
      const out = join(tmp, "interrupted");
      const child = spawn(process.execPath, [BIN, "compare", "stairs", "--machine", "tiny", "--primitives", "pte,fault", "--duration", "60s", "--sample", "2ms", "--aggr", "40ms", "--jobs", "1", "-o", out], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "", stderr = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
      const started = new Promise<void>((resolve) => {
        child.stderr.setEncoding("utf8").on("data", (d: string) => {
          stderr += d;
          if (stderr.includes("damon-sim compare:")) resolve();
        });
      });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
      const guard = setTimeout(() => child.kill("SIGKILL"), 90_000);
      try {
        await started; // printed just before the workers start and the SIGINT handler is installed
        await new Promise((r) => setTimeout(r, 2000)); // let a worker get going
        const sent = performance.now();
        child.kill("SIGINT");
        const { code, signal } = await exited;
        const took = (performance.now() - sent) / 1000;
        expect(signal, stderr).toBeNull();
        expect(code, stderr).toBe(130);
        expect(took).toBeLessThan(15);
      } finally {
        clearTimeout(guard);
        child.kill("SIGKILL");
      }
      expect(stdout).toMatch(/interrupted/);
      const res = readResults(out);
      expect(res.interrupted).toBe(true);
      // at most the variants that ended before the signal; the one running is reported interrupted
      expect(res.variants.length).toBeLessThan(3);
      expect(res.errors.map((e) => e.error)).toContain("interrupted");
      expect(res.rows.map((r) => r.variant)).toEqual(res.variants.map((v) => v.name));
      expect(existsSync(join(out, "report.html"))).toBe(true);
      expect(existsSync(join(out, "results.csv"))).toBe(true);
      expect(readdirSync(out).filter((f) => f.endsWith(".tmp") || f.startsWith("."))).toEqual([]);
    },
    LONG,
  );
});

// ---- the heatmap's address axis ------------------------------------------------------------

type Seg = { name: string; asid: number; start: number; end: number };

describe("Axis.spread", () => {
  it("hand-computed: two segments of 150 and 50 bytes, 2 bytes per column", () => {
    const segs: Seg[] = [
      { name: "a", asid: 0, start: 0x7fff_0000_0000, end: 0x7fff_0000_0000 + 150 },
      { name: "b", asid: 1, start: 0x1000, end: 0x1000 + 50 },
    ];
    const axis = new Axis(segs);
    expect(axis.total).toBe(200);
    const acc = new Float64Array(COLS), w = new Float64Array(COLS);
    axis.spread(0, segs[0]!.start, segs[0]!.start + 3, 1, acc, w); // bytes 0..3: column 0 (2), column 1 (1)
    axis.spread(1, 0x1000 - 10, 0x1000 + 5, 0.5, acc, w); // clipped to b's bytes 0..5 = axis 150..155
    axis.spread(0, segs[0]!.end, segs[0]!.end + 10, 1, acc, w); // outside a: nothing
    axis.spread(1, 0x1000 + 49, 0x1000 + 50, 0.25, acc, w); // the very last byte: column 99
    const want = new Map<number, [number, number]>([[0, [2, 2]], [1, [1, 1]], [75, [1, 2]], [76, [1, 2]], [77, [0.5, 1]], [99, [0.25, 1]]]);
    for (let c = 0; c < COLS; c++) {
      const [a, b] = want.get(c) ?? [0, 0];
      expect([acc[c], w[c]], `column ${c}`).toEqual([a, b]);
    }
  }, 60_000);

  it("regions tiling every segment fill every column with exactly its width (fractional columns, large addresses)", () => {
    const segArb = fc.oneof(
      fc.integer({ min: 1, max: 999 }),
      fc.integer({ min: 1, max: 60_000_000 }),
      fc.integer({ min: 1, max: 5000 }).map((p) => p * 4096 + 37),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(segArb, fc.uniqueArray(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), { maxLength: 40 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 41, maxLength: 41 })), { minLength: 1, maxLength: 6 }),
        (spec) => {
          const segs: Seg[] = spec.map(([size], k) => ({ name: `s${k}`, asid: k, start: 0x7fff_0000_0000 + k * 4096, end: 0x7fff_0000_0000 + k * 4096 + size }));
          const axis = new Axis(segs);
          const total = segs.reduce((a, s) => a + s.end - s.start, 0);
          expect(axis.total).toBe(total);
          const acc = new Float64Array(COLS), w = new Float64Array(COLS);
          // exact oracle in units of 1/COLS byte: column c is [c * total, (c + 1) * total)
          const accOracle = new Float64Array(COLS);
          let offset = 0, weighted = 0;
          spec.forEach(([size, fracs, values], k) => {
            const s = segs[k]!;
            const cuts = [...new Set(fracs.map((f) => Math.floor(f * size)))].filter((x) => x > 0 && x < size).sort((a, b) => a - b);
            const bounds = [0, ...cuts, size];
            for (let i = 0; i + 1 < bounds.length; i++) {
              const lo = bounds[i]!, hi = bounds[i + 1]!, v = values[i]!;
              axis.spread(k, s.start + lo, s.start + hi, v, acc, w);
              weighted += v * (hi - lo);
              for (let c = 0; c < COLS; c++) {
                const ov = Math.min((offset + hi) * COLS, (c + 1) * total) - Math.max((offset + lo) * COLS, c * total);
                if (ov > 0) accOracle[c]! += (v * ov) / COLS;
              }
            }
            offset += size;
          });
          const colBytes = total / COLS;
          for (let c = 0; c < COLS; c++) {
            expect(Math.abs(w[c]! - colBytes), `column ${c}: ${w[c]} bytes, want ${colBytes}`).toBeLessThanOrEqual(1e-6 * colBytes);
            expect(Math.abs(acc[c]! - accOracle[c]!), `column ${c}`).toBeLessThanOrEqual(1e-6 * colBytes);
          }
          const sumAcc = acc.reduce((a, b) => a + b, 0), sumW = w.reduce((a, b) => a + b, 0);
          expect(Math.abs(sumAcc / sumW - weighted / total)).toBeLessThanOrEqual(1e-6 * Math.max(1e-3, weighted / total));
        },
      ),
      { numRuns: 300 },
    );
  }, 60_000);
});
