// `damon-sim check`: the project's own regression corpus (test/corpus/) must pass through the CLI,
// which is how `npm test` runs it; then the checker itself, against oracles written here:
//   * the comparator on results built by hand: a changed exact value fails and names the metric
//     and the first divergent aggregation; floats pass inside their tolerance and fail outside it;
//     exact metrics ignore tolerances; absent and new metrics are reported;
//   * the snapshot digest equals SHA-256 of the canonical text written out here, and moves when
//     any region field moves (property test);
//   * end to end on small cases in a temporary folder: a crashing case (a corrupt trace) and a
//     timing-out case are reported while a good one still passes; --bless rewrites expected.json
//     (atomically, byte-identical to the first blessing) and lists what changed; --json has the
//     documented shape; the in-process run equals what the worker blessed (determinism).

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { runCli, ROOT } from "../cli/helpers.ts";
import { tempDir } from "../workloads/trace/helpers.ts";
import { findCases, loadCase } from "../../cli/check/case.ts";
import { compareResults, DEFAULT_TOLERANCE, isFloatMetric, toleranceFor } from "../../cli/check/compare.ts";
import { ageBin, snapshotDigest } from "../../cli/check/digest.ts";
import { runCase } from "../../cli/check/results.ts";
import type { Snapshot } from "../../damon/context.ts";
import { InputError } from "../../sim/errors.ts";
import { PRIMITIVES } from "../../damon/primitives/index.ts";
import { isInlineJson } from "../../cli/damos-options.ts";

const CORPUS = resolve(ROOT, "test/corpus");

describe("the project's corpus", () => {
  it("has at least 8 cases, each small, together covering every primitive, both ops sets, filters, probes, cachegrind and DAMOS actions", () => {
    const dirs = findCases([CORPUS]);
    expect(dirs.length).toBeGreaterThanOrEqual(8);
    const seen = { prims: new Set<string>(), ops: new Set<string>(), filters: 0, probes: 0, cachegrind: 0, lackey: 0, actions: new Set<string>() };
    for (const d of dirs) {
      const c = loadCase(d);
      const bytes = readdirSync(d).reduce((a, f) => a + readFileSync(join(d, f)).length, 0);
      expect(bytes, d).toBeLessThan(2 * 1024 * 1024);
      const prims = c.run["exp-ops-use-reports"] === "y" ? ["fault"] : String(c.run.primitives ?? "pte").split(",");
      prims.forEach((p) => seen.prims.add(p));
      seen.ops.add(String(c.run.ops ?? "vaddr"));
      if (c.run["exp-ops-cpus"] || c.run["exp-ops-tids"] || c.run["exp-ops-write-only"]) seen.filters++;
      if (c.run.probe) seen.probes++;
      if (c.cachegrind) seen.cachegrind++;
      const schemes = c.run.schemes;
      if (typeof schemes === "string") {
        const list = JSON.parse(isInlineJson(schemes) ? schemes : readFileSync(schemes, "utf8")) as Array<{ action: string }>;
        for (const sc of list) seen.actions.add(`${sc.action} on ${String(c.run.ops ?? "vaddr")}`);
      }
      if (c.workload.endsWith(".dst") && readFileSync(c.workloadArg).includes("valgrind lackey log")) seen.lackey++;
    }
    expect([...seen.prims].sort()).toEqual([...PRIMITIVES].sort());
    expect([...seen.actions].sort()).toEqual(["migrate_cold on paddr", "migrate_hot on paddr", "pageout on vaddr"]);
    expect([...seen.ops].sort()).toEqual(["paddr", "vaddr"]);
    expect(seen.filters).toBeGreaterThan(0);
    expect(seen.probes).toBeGreaterThan(0);
    expect(seen.cachegrind).toBeGreaterThan(0);
    expect(seen.lackey).toBeGreaterThanOrEqual(2);
  });

  it("damon-sim check test/corpus passes (exit 0)", () => {
    const r = runCli(["check", "test/corpus"], { timeout: 170_000 });
    const n = findCases([CORPUS]).length;
    expect(r.stderr).toBe("");
    expect(r.stdout.match(/^PASS /gm)?.length ?? 0, r.stdout).toBe(n);
    expect(r.status, r.stdout).toBe(0);
  }, 180_000);
});

/** Results shaped like expected.json, built by hand: 4 aggregations, one probe, cachegrind. */
function fakeResults(): Record<string, unknown> {
  return {
    format: "damon-sim-check/1",
    run: { simulatedNs: 40_000_000, finished: false, accesses: 1000, samples: 40, aggregations: 4, finalRegions: 3 },
    snapshots: { endNs: [10_000_000, 20_000_000, 30_000_000, 40_000_000], digest: ["a1", "b2", "c3", "d4"], regions: [10, 11, 12, 13] },
    histograms: { nrAccesses: [30, 10, 6], age: [4, 20, 22] },
    probes: { anon: { hits: [1, 2, 3, 4], truthBytes: [4096, 8192, 8192, 8192], estimatedBytes: [409.6, 819.2, 1228.8, 1638.4] } },
    accuracy: { windows: 4, precision: 0.5, recall: 0.25, f1: 1 / 3, rateError: 0.125, spearman: null, wssError: 0.1, coldPrecision: 1, coldRecall: 0.75, phaseChanges: 1, detected: 0, meanDetectionNs: null },
    overhead: { cpuTimeNs: { user: 1e7, kdamond: 12345.5 }, kdamondCpuNs: 12345.5, monitoringPercent: 0.123455, reports: null },
    cachegrind: { Ir: 100, I1mr: 2, ILmr: 1, Dr: 50, D1mr: 5, DLmr: 3, Dw: 20, D1mw: 2, DLmw: 1 },
  };
}

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
type Obj = Record<string, Record<string, unknown>>;

describe("comparator", () => {
  it("identical results have no diffs", () => {
    const c = compareResults(fakeResults(), fakeResults());
    expect(c).toEqual({ diffs: [], firstDivergentAggregation: null, divergenceEndNs: null });
  });

  it("a changed exact value fails, naming the metric and the first divergent aggregation", () => {
    const got = clone(fakeResults()) as Obj;
    (got.snapshots!.regions as number[])[2] = 99;
    (got.snapshots!.regions as number[])[3] = 98;
    (got.snapshots!.digest as string[])[2] = "zz";
    (got.cachegrind as Record<string, number>).D1mr = 6;
    const c = compareResults(fakeResults(), got);
    expect(c.firstDivergentAggregation).toBe(2);
    expect(c.divergenceEndNs).toBe(30_000_000);
    const regions = c.diffs.find((d) => d.metric === "snapshots.regions")!;
    expect(regions).toMatchObject({ expected: 12, got: 99, aggregation: 2, differing: 2 });
    expect(regions.message).toContain("first at aggregation 2");
    expect(c.diffs.find((d) => d.metric === "cachegrind.D1mr")).toMatchObject({ expected: 5, got: 6 });
    expect(c.diffs.map((d) => d.metric).sort()).toEqual(["cachegrind.D1mr", "snapshots.digest", "snapshots.regions"]);
  });

  it("a longer or shorter run diverges where the lists stop matching", () => {
    const got = clone(fakeResults()) as Obj;
    (got.snapshots!.digest as string[]).push("e5");
    const c = compareResults(fakeResults(), got);
    expect(c.firstDivergentAggregation).toBe(4);
    expect(c.diffs[0]).toMatchObject({ metric: "snapshots.digest", lengths: [4, 5], expected: undefined, got: "e5" });
  });

  it("floats pass inside their tolerance and fail outside it; absolute, relative, exact name over pattern", () => {
    const moved = (dp: number): Obj => {
      const g = clone(fakeResults()) as Obj;
      g.accuracy!.precision = 0.5 + dp;
      return g;
    };
    expect(compareResults(fakeResults(), moved(1e-13)).diffs).toEqual([]); // default abs 1e-12
    expect(compareResults(fakeResults(), moved(1e-9)).diffs.map((d) => d.metric)).toEqual(["accuracy.precision"]);
    expect(compareResults(fakeResults(), moved(0.01), { "accuracy.*": { abs: 0.02 } }).diffs).toEqual([]);
    expect(compareResults(fakeResults(), moved(0.03), { "accuracy.*": { abs: 0.02 } }).diffs[0]).toMatchObject({ metric: "accuracy.precision", expected: 0.5, got: 0.53, tolerance: { abs: 0.02, rel: 0 } });
    expect(compareResults(fakeResults(), moved(0.03), { "accuracy.*": { abs: 0.02 }, "accuracy.precision": { rel: 0.1 } }).diffs).toEqual([]); // 0.03 <= 0.1 x 0.5
    expect(compareResults(fakeResults(), moved(0.06), { "accuracy.precision": { rel: 0.1 } }).diffs).toHaveLength(1);
    // the most specific pattern wins
    expect(toleranceFor("overhead.cpuTimeNs.user", { "*": { abs: 1 }, "overhead.*": { abs: 2 }, "overhead.cpuTimeNs.*": { rel: 3 } })).toEqual({ abs: 0, rel: 3 });
    expect(toleranceFor("accuracy.recall", {})).toEqual(DEFAULT_TOLERANCE);
    // null vs a number is a change whatever the tolerance
    const g = clone(fakeResults()) as Obj;
    g.accuracy!.spearman = 0.9;
    expect(compareResults(fakeResults(), g, { "*": { abs: 10 } }).diffs[0]).toMatchObject({ metric: "accuracy.spearman", expected: null, got: 0.9 });
  });

  it("exact metrics ignore tolerances; per-aggregation floats report their aggregation", () => {
    expect(isFloatMetric("accuracy.windows")).toBe(false);
    expect(isFloatMetric("probes.anon.estimatedBytes")).toBe(true);
    const g = clone(fakeResults()) as Obj;
    g.accuracy!.windows = 5;
    (g.probes!.anon as Record<string, number[]>).estimatedBytes![1] = 819.21;
    const c = compareResults(fakeResults(), g, { "*": { abs: 0.1 } });
    expect(c.diffs.map((d) => d.metric)).toEqual(["accuracy.windows"]);
    const d = compareResults(fakeResults(), g).diffs.find((x) => x.metric === "probes.anon.estimatedBytes")!;
    expect(d).toMatchObject({ aggregation: 1, expected: 819.2, got: 819.21 });
  });

  it("names histogram bins, absent and new metrics; --bless's exact mode lists every change", () => {
    const g = clone(fakeResults()) as Obj;
    (g.histograms!.age as number[])[2] = 21;
    (g.histograms!.age as number[]).push(1);
    delete g.cachegrind;
    g.extra = { x: 1 } as Record<string, unknown>;
    g.overhead!.kdamondCpuNs = 12345.5 + 1e-9;
    const c = compareResults(fakeResults(), g);
    const age = c.diffs.find((d) => d.metric === "histograms.age")!;
    expect(age.message).toContain("age 2-3: expected 22, got 21");
    expect(age.message).toContain("age 4-7: expected 0, got 1");
    expect(c.diffs.find((d) => d.metric === "cachegrind")!.message).toMatch(/missing/);
    expect(c.diffs.find((d) => d.metric === "extra")!.message).toMatch(/new/);
    expect(c.diffs.some((d) => d.metric === "overhead.kdamondCpuNs")).toBe(false);
    expect(compareResults(fakeResults(), g, {}, { exact: true }).diffs.some((d) => d.metric === "overhead.kdamondCpuNs")).toBe(true);
  });
});

describe("snapshot digests", () => {
  const snap = (regions: Array<[number, number, number, number]>, endNs = 5000, targetId = 0): Snapshot => ({
    targetId, startNs: 0, endNs, sampleUs: 5, aggrUs: 100,
    regions: regions.map(([start, end, nrAccesses, age]) => ({ start, end, nrAccesses, age, probeHits: [] })),
  });

  it("is SHA-256 of the documented canonical text", () => {
    const s = [snap([[4096, 8192, 3, 7], [8192, 16384, 0, 1]], 123456789, 2)];
    const text = "T 2 123456789\n4096 8192 3 7\n8192 16384 0 1\n";
    expect(snapshotDigest(s)).toBe(createHash("sha256").update(text).digest("hex").slice(0, 16));
  });

  it("moves when any start, end, nr_accesses or age moves", () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.nat(1e9), fc.nat(1e6), fc.nat(255), fc.nat(1e5)), { minLength: 1, maxLength: 8 }),
      fc.nat(), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 1000 }),
      (rows, pick, field, delta) => {
        const regions = rows.map(([s, len, n, a]) => [s, s + len + 1, n, a] as [number, number, number, number]);
        const moved = regions.map((r) => [...r] as [number, number, number, number]);
        moved[pick % moved.length]![field]! += delta;
        return snapshotDigest([snap(regions)]) !== snapshotDigest([snap(moved)]);
      },
    ));
  });

  it("bins ages by powers of two", () => {
    expect([0, 1, 2, 3, 4, 7, 8, 1000].map(ageBin)).toEqual([0, 1, 2, 2, 3, 3, 4, 10]);
  });
});

describe("damon-sim check end to end", () => {
  const root = tempDir("damon-sim-check-");
  const WORKLOAD = {
    name: "check-test",
    regions: [{ name: "buf", size: "2MiB", area: "mmap" }, { name: "hot", size: "256KiB", area: "mmap" }],
    threads: [{ pattern: { type: "mix", parts: [
      { weight: 7, pattern: { type: "uniform", region: "hot", gap: 300, writeFraction: 0.2 } },
      { weight: 3, pattern: { type: "uniform", region: "buf", gap: 300 } },
    ] } }],
  };
  const RUN = { duration: "20ms", machine: "tiny", sample: "500us", aggr: "4ms", update: "10ms", probe: ["anon:anon"] };
  const makeCase = (name: string, caseJson: Record<string, unknown>, files: Record<string, string | Buffer> = {}): string => {
    const d = join(root, name);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, "case.json"), JSON.stringify(caseJson, null, 2));
    for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text);
    return d;
  };
  const good = makeCase("set/good", { workload: "workload.json", run: RUN }, { "workload.json": JSON.stringify(WORKLOAD) });
  makeCase("set/crash", { workload: "bad.dst", run: RUN }, { "bad.dst": Buffer.from("DSTR\u0001 this is not a trace at all, just bytes\n".repeat(20)) });
  makeCase("set/slow", { workload: "workload.json", run: { ...RUN, duration: "1000s" }, timeout: "1500ms" }, { "workload.json": JSON.stringify(WORKLOAD) });
  const expectedPath = join(good, "expected.json");

  it("--bless creates expected.json; a case without one fails as missing; bad case.json is named", () => {
    const miss = runCli(["check", good]);
    expect(miss.status).toBe(1);
    expect(miss.stdout).toMatch(/^MISSING +.*good/m);
    const b = runCli(["check", "--bless", good]);
    expect(b.status, b.stdout + b.stderr).toBe(0);
    expect(b.stdout).toMatch(/^BLESSED +.*good/m);
    expect(existsSync(expectedPath)).toBe(true);
    expect(readdirSync(good).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    const e = JSON.parse(readFileSync(expectedPath, "utf8")) as Obj;
    expect(e.snapshots!.digest).toHaveLength(5); // 20 ms / 4 ms aggregations
    expect(Object.keys(e.probes!)).toEqual(["anon"]);
    expect(runCli(["check", good]).status).toBe(0);
    // a bad case definition: the file and the field
    const bad = makeCase("bad-def", { workload: "workload.json", run: { ...RUN, bogus_opt: 1 } }, { "workload.json": "{}" });
    expect(() => loadCase(bad)).toThrow(InputError);
    expect(() => loadCase(bad)).toThrow(/case\.json.*field 'run\.bogus_opt'.*unknown or unsupported run option/);
    const r = runCli(["check", bad]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^CRASHED +.*bad-def[\s\S]*invalid case: .*bogus_opt/m);
  }, 60_000);

  it("the in-process run equals what the worker blessed (no dependence on thread or process)", () => {
    const fresh = JSON.parse(JSON.stringify(runCase(loadCase(good)))) as unknown;
    const blessed = JSON.parse(readFileSync(expectedPath, "utf8")) as unknown;
    expect(compareResults(blessed, fresh, {}, { exact: true }).diffs).toEqual([]);
  }, 30_000);

  it("reports a crashing and a timing-out case while the good one still passes", () => {
    const r = runCli(["check", "--jobs", "2", join(root, "set")], { timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^CRASHED +.*set\/crash[^\n]*\n +.*bad\.dst/m);
    expect(r.stdout).toMatch(/^TIMEOUT +.*set\/slow/m);
    expect(r.stdout).toMatch(/^PASS +.*set\/good/m);
    expect(r.stdout).toMatch(/1 passed, 0 failed, 1 crashed, 1 timed out/);
  }, 60_000);

  it("a regression prints the metric, expected, got and the first divergent aggregation; --json; --bless rewrites", () => {
    const original = readFileSync(expectedPath, "utf8");
    const e = JSON.parse(original) as Obj;
    const regions = e.snapshots!.regions as number[];
    regions[3] = regions[3]! + 1;
    (e.snapshots!.digest as string[])[3] = "0123456789abcdef";
    e.accuracy!.rateError = (e.accuracy!.rateError as number) + 0.5;
    writeFileSync(expectedPath, JSON.stringify(e));
    const r = runCli(["check", good]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^FAIL +.*good/m);
    expect(r.stdout).toContain("snapshots diverge first at aggregation 3 (the window ending at 16 ms)");
    expect(r.stdout).toMatch(new RegExp(`snapshots\\.regions: +1 of 5 aggregations differ, first at aggregation 3: expected ${regions[3]}, got ${regions[3]! - 1}`));
    expect(r.stdout).toMatch(/accuracy\.rateError: +expected [0-9.e-]+, got [0-9.e-]+ \(\|diff\| 0\.5\d* > tolerance/);

    // a tolerance in the case lets the float through (the exact changes still fail)
    const caseJson = JSON.parse(readFileSync(join(good, "case.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(join(good, "case.json"), JSON.stringify({ ...caseJson, tolerances: { "accuracy.rateError": { abs: 0.6 } } }));
    const j = runCli(["check", "--json", good]);
    expect(j.status).toBe(1);
    const report = JSON.parse(j.stdout) as { format: string; ok: boolean; bless: boolean; counts: Record<string, number>; cases: Array<Record<string, unknown>> };
    expect(report).toMatchObject({ format: "damon-sim-check-report/1", ok: false, bless: false, counts: { pass: 0, fail: 1, crashed: 0, timeout: 0, missing: 0 } });
    expect(report.cases).toHaveLength(1);
    const c = report.cases[0]!;
    expect(c).toMatchObject({ status: "fail", firstDivergentAggregation: 3, divergenceEndNs: 16_000_000, error: null });
    expect(typeof c.wallSeconds).toBe("number");
    const diffs = c.diffs as Array<Record<string, unknown>>;
    expect(diffs.map((d) => d.metric).sort()).toEqual(["snapshots.digest", "snapshots.regions"]);
    expect(diffs.find((d) => d.metric === "snapshots.regions")).toMatchObject({ aggregation: 3, expected: regions[3], got: regions[3]! - 1 });
    writeFileSync(join(good, "case.json"), JSON.stringify(caseJson));

    // --bless rewrites the expectations (byte-identical to the first blessing) and says what changed
    const b = runCli(["check", "--bless", good]);
    expect(b.status).toBe(0);
    expect(b.stdout).toMatch(/^BLESSED +.*good/m);
    expect(b.stdout).toContain("snapshots.regions");
    expect(b.stdout).toContain("accuracy.rateError");
    expect(readFileSync(expectedPath, "utf8")).toBe(original);
    expect(readdirSync(good).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    const again = runCli(["check", "--bless", "--json", good]);
    expect((JSON.parse(again.stdout) as { counts: Record<string, number> }).counts).toMatchObject({ unchanged: 1, blessed: 0 });
  }, 60_000);

  it("misuse exits 2; a missing folder exits 2 naming it", () => {
    expect(runCli(["check"]).status).toBe(2);
    expect(runCli(["check", "--bogus", good]).status).toBe(2);
    expect(runCli(["check", "--jobs", "0", good]).status).toBe(2);
    const r = runCli(["check", join(root, "nope")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/nope.*no such case folder/);
  });
});
