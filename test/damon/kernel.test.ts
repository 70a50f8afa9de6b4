// DAMON as each kernel version does it (issue 18): --kernel picks a rule set, each rule stated with
// the kernel source it comes from. Expectations are worked out by hand from those sources.

import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readRecordFile } from "../../damon/damo/record-file.ts";
import { runCli } from "../cli/helpers.ts";
import { experimentFromJson } from "../../cli/experiment/spec.ts";
import { setupVariant } from "../../cli/experiment/variant.ts";
import { mergeRegions, splitRegions, updateAccessRate } from "../../damon/aggregate.ts";
import { defaultAttrs, nrSamplesPerAggr, type DamonAttrs } from "../../damon/attrs.ts";
import { DamonContext } from "../../damon/context.ts";
import { KERNEL_VERSIONS, kernelRules, parseKernel, variantRules } from "../../damon/kernel.ts";
import type { DamonOps } from "../../damon/context.ts";
import { Region, Target } from "../../damon/region.ts";
import { RngRoot } from "../../sim/rng.ts";
import { buildProcess } from "../../hw/layout.ts";
import type { AccessBatch } from "../../hw/batch.ts";
import type { ThreadProgram } from "../../hw/program.ts";
import { createMonitor, type OpsName } from "../../damon/monitor.ts";
import { threeRegions } from "../../damon/vaddr.ts";
import { MiB, SEC } from "../../sim/index.ts";
import { biggestSystemRam, createDamonStat, msecsToJiffies, statRefreshDue, systemRamResources } from "../../damon/stat.ts";
import { makeMachine } from "../hw/helpers.ts";

const attrs = (o: Partial<DamonAttrs> = {}): DamonAttrs => ({ ...defaultAttrs(), ...o });
const noOps: DamonOps = { name: "none", init: () => undefined, update: () => undefined, prepareAccessChecks: () => undefined, checkAccesses: () => 0 };

function target(rows: Array<[number, number, number, number, number]>): Target {
  const t = new Target(0, null);
  t.regions = rows.map(([s, e, nr, last, age]) => {
    const r = new Region(s, e);
    r.nrAccesses = nr;
    r.nrAccessesBp = nr * 10000;
    r.lastNrAccesses = last;
    r.age = age;
    return r;
  });
  return t;
}

describe("--kernel VERSION", () => {
  it("knows v6.12, v6.18, v7.1, mainline and next, and sets each rule per version", () => {
    expect([...KERNEL_VERSIONS]).toEqual(["v6.12", "v6.18", "v7.1", "mainline", "next"]);
    const r = (v: (typeof KERNEL_VERSIONS)[number]) => kernelRules(v);
    expect(r("v6.12")).toMatchObject({ core: "mainline", ageResetOnZeroChange: false, intervalsTuning: false, damonStat: false, reportAccess: false, minRegionsAtStart: false });
    expect(r("v6.18")).toMatchObject({ core: "mainline", ageResetOnZeroChange: true, intervalsTuning: true, damonStat: true, reportAccess: false, minRegionsAtStart: false });
    const monitoring = (k: (typeof KERNEL_VERSIONS)[number]) => {
      const { core, ageResetOnZeroChange, minRegionsAtStart, intervalsTuning, damonStat, reportAccess, probes } = r(k);
      return { core, ageResetOnZeroChange, minRegionsAtStart, intervalsTuning, damonStat, reportAccess, probes };
    };
    expect(monitoring("v7.1")).toEqual(monitoring("v6.18"));
    expect(monitoring("mainline")).toEqual(monitoring("v6.18"));
    expect(r("next")).toMatchObject({ core: "next", ageResetOnZeroChange: true, intervalsTuning: true, reportAccess: true, minRegionsAtStart: true, probes: true });
    for (const k of ["v6.12", "v6.18", "v7.1", "mainline"] as const) expect(r(k).probes).toBe(false);
  });

  it("sets the DAMOS rules per version (damos.md: mainline = ML72, about v7.2-rc1)", () => {
    const damos = (k: (typeof KERNEL_VERSIONS)[number]) => {
      const x = kernelRules(k);
      return [x.release, x.damosMvsum, x.damosFailCharge, x.damosGoalTuner, x.damosHistogramCoreFilters, x.damosRemergeSlices, x.damosChargeAddrPastEnd, x.damosSkipLastRegion, x.damosPsiSentinel, x.damosTimeQuotaFloor, x.damosTemporalSaturates, x.damosSzTriedFiltered];
    };
    //                              release mvsum  failCh tuner  histCF remerge +1    lastSk psi    tfloor tsat   szFilt
    expect(damos("v6.12")).toEqual([612, false, false, false, false, false, true, true, false, false, false, false]);
    expect(damos("v6.18")).toEqual([618, false, false, false, false, false, true, true, false, false, false, false]);
    expect(damos("v7.1")).toEqual([701, false, false, true, true, false, true, true, false, false, false, false]);
    expect(damos("mainline")).toEqual([702, true, true, true, true, true, false, true, false, false, false, false]);
    expect(damos("next")).toEqual([703, true, true, true, true, true, false, false, true, true, true, true]);
    // --variant mainline has mainline's DAMOS
    expect(variantRules("mainline").release).toBe(702);
  });

  it("keeps --variant as the older spelling and refuses contradictions and unknown versions", () => {
    expect(parseKernel(undefined, undefined)).toEqual(variantRules("mainline"));
    expect(parseKernel(undefined, "next")).toEqual(kernelRules("next"));
    expect(parseKernel("next", "next")).toEqual(kernelRules("next"));
    // --variant mainline is mainline's rules with the report-access RFC applied (push primitives usable)
    expect(variantRules("mainline")).toMatchObject({ ...kernelRules("mainline"), name: "mainline+reports", reportAccess: true, probes: true });
    expect(() => parseKernel("v6.18", "next")).toThrow(/contradicts/);
    expect(() => parseKernel("v5.15", undefined)).toThrow(/unknown kernel 'v5.15': one of v6.12, v6.18, v7.1, mainline, next/);
    expect(() => parseKernel(undefined, "stable")).toThrow(/--variant must be mainline or next/);
  });

  it("refuses intervals auto-tuning before v6.15 (damon_intervals_goal did not exist)", () => {
    const goal = { accessBp: 400, aggrs: 3, minSampleUs: 5000, maxSampleUs: 10_000_000 };
    const make = (k: (typeof KERNEL_VERSIONS)[number]) => new DamonContext({ attrs: attrs({ intervalsGoal: goal }), ops: noOps, rng: new RngRoot(1).stream("t"), kernel: kernelRules(k) });
    expect(() => make("v6.12")).toThrow(/intervals auto-tuning .* not in kernel v6.12/);
    expect(make("v6.18").attrs.intervalsGoal.aggrs).toBe(3);
    // and not through damon_set_attrs later either
    const ctx = new DamonContext({ attrs: attrs(), ops: noOps, rng: new RngRoot(1).stream("t"), kernel: kernelRules("v6.12") });
    expect(() => ctx.setAttrs(attrs({ intervalsGoal: goal }))).toThrow(/v6.15/);
  });
});

describe("data-attribute probes are damon/next's", () => {
  // struct damon_probe and the probes sysfs directory came with the data attributes monitoring
  // series (PATCH 00/28, into mm-new on 2026-05-18): no released kernel up to v7.1 has them
  it("a context with a probe is refused on mainline and older, accepted on next", () => {
    const probe = { name: "anon", filters: [{ type: "anon" as const, matching: true, allow: true }], weight: 0 };
    const make = (k: (typeof KERNEL_VERSIONS)[number]) => new DamonContext({ attrs: attrs(), ops: noOps, rng: new RngRoot(1).stream("t"), kernel: kernelRules(k), probes: [probe] });
    expect(() => make("mainline")).toThrow(/probes .* not in kernel mainline/);
    expect(() => make("v7.1")).toThrow(/not in kernel v7.1/);
    expect(make("next").probes.length).toBe(1);
  });
});

describe("the v6.18 age rule can be switched off for older kernels", () => {
  // mm/damon/core.c damon_merge_regions_of(): up to v6.17 (e.g. core.c@004ded6b) the age restarts
  // only when |nr_accesses - last_nr_accesses| > thres, else age++. "mm/damon/core: reset age if
  // nr_accesses changes between non-zero and zero" (SJ, posted 2025-09-15 in the 6.18 series) also
  // restarts it when exactly one of the two is zero, however small the change.
  const rows: Array<[number, number, number, number, number]> = [
    [0, 100, 1, 0, 5], //    idle -> accessed, |1 - 0| <= thres
    [200, 300, 0, 1, 7], //  accessed -> idle
    [400, 500, 3, 2, 4], //  accessed both times, small change
    [600, 700, 9, 0, 2], //  a change larger than thres: reset by both rules
  ];
  // the regions are not adjacent, so nothing merges; thres = 2
  it("v6.12: only a change above the threshold resets the age", () => {
    const t = target(rows);
    mergeRegions([t], 2, 1 << 30, attrs(), kernelRules("v6.12"));
    expect(t.regions.map((r) => r.age)).toEqual([6, 8, 5, 0]);
  });
  it("v6.18, mainline and next: a move between zero and non-zero resets it too", () => {
    for (const k of ["v6.18", "v7.1", "mainline", "next"] as const) {
      const t = target(rows);
      mergeRegions([t], 2, 1 << 30, attrs(), kernelRules(k));
      expect(t.regions.map((r) => r.age)).toEqual([0, 0, 5, 0]);
    }
  });
});

describe("min_nr_regions at start is damon/next's, not mainline's", () => {
  // Mainline (vaddr.c __damon_va_init_regions): sz = total / min_nr_regions; each of the three
  // regions is cut into size / sz pieces by damon_va_evenly_split_region (0 pieces is -EINVAL: the
  // region stays whole); paddr keeps the range it was given; then kdamond_fn only computes
  // damon_region_sz_limit() (core.c@004ded6b). damon/next ("always respect min_nr_regions from the
  // beginning", posted 2026-02-17) installs the three regions unsplit and cuts every region larger
  // than ALIGN(total / min_nr_regions, PAGE_SIZE) into pieces of that size
  // (damon_apply_min_nr_regions).
  //
  // The layout below gives three regions of 4624, 16385 and 33 pages (21042 in all), so
  // sz = 21042 * 4096 / 10 = 8618803 bytes (2104.2 pages):
  //   mainline: 4624 pages / 2104.2 -> 2 pieces of 2312; 16385 -> 7 pieces (6 x 2340, then 2345);
  //             33 -> 0 pieces, left whole: 10 regions
  //   next:     limit 2105 pages: 4624 -> 2105, 2105, 414; 16385 -> 7 x 2105, 1650; 33: 12 regions
  const layout = () =>
    buildProcess({ heap: [{ name: "small", size: 2 * MiB }], mmap: [{ name: "hot", size: 16 * MiB }, { name: "cold", size: 48 * MiB }], threads: [{ tid: 1, cpus: [0] }] }).process;
  const idle: ThreadProgram = { tid: 1, next: (out: AccessBatch) => (out.clear(), 0) };
  const startRegions = (ops: OpsName, k: (typeof KERNEL_VERSIONS)[number]): number[] => {
    const { m } = makeMachine("tiny", { truth: false }, 1);
    m.load({ name: "idle", layout: { processes: [layout()] }, start: () => ({ kind: "threads", threads: [idle] }) });
    const mon = createMonitor(m, { ops, kernel: kernelRules(k) });
    mon.ctx.start(0);
    return mon.ctx.targets.flatMap((t) => t.regions.map((r) => r.size / 4096));
  };

  it("vaddr: mainline splits the three regions evenly, next by the size limit", () => {
    expect(threeRegions(layout().vmas, 4096)!.map((r) => (r.end - r.start) / 4096)).toEqual([4624, 16385, 33]);
    for (const k of ["v6.12", "v6.18", "v7.1", "mainline"] as const) expect(startRegions("vaddr", k)).toEqual([2312, 2312, 2340, 2340, 2340, 2340, 2340, 2340, 2345, 33]);
    expect(startRegions("vaddr", "next")).toEqual([2105, 2105, 414, 2105, 2105, 2105, 2105, 2105, 2105, 2105, 1650, 33]);
  });

  it("paddr: mainline starts with the one range (256 MiB on tiny), next with ten pieces", () => {
    expect(startRegions("paddr", "mainline")).toEqual([65536]);
    // limit = ALIGN(268435456 / 10, 4096) = 6554 pages: 9 pieces of 6554 and the rest, 6550
    expect(startRegions("paddr", "next")).toEqual([...new Array<number>(9).fill(6554), 6550]);
  });
});

/** A context over one region [0, 400 KiB) whose every sample counts as an access. */
function countingCtx(a: DamonAttrs, onCall?: (ctx: DamonContext) => void): DamonContext {
  const ops: DamonOps = {
    ...noOps,
    checkAccesses: (ctx) => {
      let max = 0;
      for (const t of ctx.targets) for (const r of t.regions) {
        updateAccessRate(r, true, nrSamplesPerAggr(ctx.attrs));
        max = Math.max(max, r.nrAccesses);
      }
      return max;
    },
  };
  const ctx = new DamonContext({ attrs: a, ops, rng: new RngRoot(1).stream("t"), kernel: kernelRules("mainline") });
  ctx.addTarget(null).regions = [new Region(0, 100 * 4096)];
  if (onCall) ctx.onCall(onCall);
  ctx.start(0);
  return ctx;
}

describe("damon_set_attrs always rescales or restarts nr_accesses", () => {
  // core.c damon_set_attrs() calls damon_update_monitoring_results() whatever changed; that returns
  // early only when an old or new sample or aggregation interval is 0. In the middle of a window
  // (passed < next_aggregation_sis) damon_update_monitoring_result() converts last_nr_accesses to the
  // new intervals, sets nr_accesses_bp = last * 10000 and nr_accesses = 0, as if
  // kdamond_reset_aggregated() had run; at a boundary it converts nr_accesses.
  it("a change of max_nr_regions alone, mid-window, still zeroes the partial count", () => {
    const a = attrs({ sampleUs: 5000, aggrUs: 100_000 }); // 20 samples per window
    const ctx = countingCtx(a);
    for (let i = 1; i <= 23; i++) ctx.step(i * 5_000_000); // one window (20) and 3 samples
    const r = ctx.regionsOf(0)[0]!;
    expect([r.nrAccesses, r.lastNrAccesses]).toEqual([3, 20]);
    ctx.setAttrs({ ...ctx.attrs, maxNrRegions: 500 }); // same intervals
    // last: 20 * 10000 / 20 = 10000 bp -> 10000 * 20 / 10000 = 20; nr restarts at 0
    expect([r.nrAccesses, r.lastNrAccesses, r.nrAccessesBp]).toEqual([0, 20, 200_000]);
  });
});

describe("aggr_samples and next_aggregation_sis around intervals tuning", () => {
  // core.c damon_set_attrs(): "calls from core-external doesn't set" aggr_samples, so it is
  // recomputed as aggr_interval / sample_interval; kdamond_tune_intervals() passes a copy of
  // c->attrs (aggr_samples kept) and sets aggr_interval = sample_interval * aggr_samples.
  it("an outside damon_set_attrs recomputes aggr_samples; tuning keeps it", () => {
    const ctx = countingCtx(attrs({ sampleUs: 5000, aggrUs: 100_000 }));
    expect(ctx.aggrSamples).toBe(20);
    ctx.setAttrs({ ...ctx.attrs, sampleUs: 1000 });
    expect(ctx.aggrSamples).toBe(100);
  });

  const goal = (accessBp: number) => ({ accessBp, aggrs: 1, minSampleUs: 1000, maxSampleUs: 10_000 });

  // kdamond_fn, at an aggregation boundary with a tuning due: it sets ctx->next_aggregation_sis
  // back to the boundary just reached before kdamond_tune_intervals(), because a damon_call() in
  // kdamond_call() may have moved it (damon_set_attrs), and the tuning's damon_set_attrs would then
  // take the finished window for a partial one and zero it before kdamond_reset_aggregated().
  it("a damon_call() changing attributes at the boundary does not zero the finished window", () => {
    // 4 samples per window, every sample an access; at the first boundary (passed 4) the call
    // commits max_nr_regions 999, then tuning runs: score = 4 / (4 * 50%) = 200% -> adaptation 0.5,
    // sample 5 ms -> 2.5 ms, aggr 2.5 ms * 4 = 10 ms, nr_accesses 4 -> 4 * 10000 / 4 bp -> 4
    const ctx = countingCtx(attrs({ sampleUs: 5000, aggrUs: 20_000, intervalsGoal: goal(5000) }), (c) => {
      if (c.passed === 4) c.setAttrs({ ...c.attrs, maxNrRegions: 999 });
    });
    for (let i = 1; i <= 4; i++) ctx.step(i * 5_000_000);
    expect([ctx.attrs.sampleUs, ctx.attrs.aggrUs, ctx.attrs.maxNrRegions]).toEqual([2500, 10_000, 999]);
    expect(ctx.nextAggregationSis).toBe(4 + 4);
    for (const r of ctx.regionsOf(0)) expect([r.nrAccesses, r.lastNrAccesses]).toEqual([0, 4]);
  });

  // kdamond_tune_intervals() returns before damon_set_attrs() when the adaptation is exactly 1
  // (score = goal), so nothing is rescheduled: next_ops_update_sis keeps its value.
  it("a score on the goal changes nothing, not even the ops update schedule", () => {
    // access_bp 100%: every sample accessed gives score 10000 = the goal
    const ctx = countingCtx(attrs({ sampleUs: 5000, aggrUs: 20_000, opsUpdateUs: 1_000_000, intervalsGoal: goal(10_000) }));
    expect(ctx.nextOpsUpdateSis).toBe(200);
    for (let i = 1; i <= 4; i++) ctx.step(i * 5_000_000);
    expect([ctx.attrs.sampleUs, ctx.nextOpsUpdateSis]).toEqual([5000, 200]);
  });
});

describe("last_nr_regions is the kernel's, not the context's", () => {
  // core.c kdamond_split_regions(): `static unsigned int last_nr_regions`, one for every kdamond of
  // the kernel; 3 pieces instead of 2 when the current count equals it (and is below max / 3).
  it("contexts on one machine share it; machines do not", () => {
    const a = makeMachine("tiny", { truth: false }, 1).m;
    const b = makeMachine("tiny", { truth: false }, 1).m;
    const one = createMonitor(a, { ops: "paddr" }), two = createMonitor(a, { ops: "paddr", rngName: "damon.kdamond1" });
    const other = createMonitor(b, { ops: "paddr" });
    expect(one.ctx.split).toBe(two.ctx.split);
    expect(other.ctx.split).not.toBe(one.ctx.split);
  });

  it("so a second context with the same region count splits in three", () => {
    const split = { lastNrRegions: 0, rotation: 0 };
    const first = new Target(0, null), second = new Target(0, null);
    first.regions = [new Region(0, 1000)];
    second.regions = [new Region(0, 1000)];
    // damon_rand(1, 10) always 5: each round cuts the left piece in half
    splitRegions([first], attrs(), 1, () => 5, split); // 1 region, last 0: 2 pieces; last = 1
    expect(first.regions.map((r) => r.size)).toEqual([500, 500]);
    splitRegions([second], attrs(), 1, () => 5, split); // 1 region == last: 3 pieces
    expect(second.regions.map((r) => r.size)).toEqual([250, 250, 500]);
  });
});

describe("DAMON_STAT as stat.c does it", () => {
  // stat.c damon_stat_damon_call_fn(): returns unless !time_before_eq(jiffies,
  // damon_stat_last_refresh_jiffies + msecs_to_jiffies(5 * MSEC_PER_SEC)), i.e. it refreshes only
  // once jiffies is strictly past the stamp + 5 s; at HZ 250 a jiffy is 4 ms and 5 s is 1250.
  it("refreshes one jiffy after the 5 s, not at it", () => {
    expect(msecsToJiffies(5000, 250)).toBe(1250);
    expect(msecsToJiffies(5000, 300)).toBe(1500);
    expect(statRefreshDue(1250, 0, 250)).toBe(false);
    expect(statRefreshDue(1251, 0, 250)).toBe(true);
  });

  // damon_stat_start() stamps damon_stat_last_refresh_jiffies = jiffies right after damon_start(),
  // so a module enabled at 1 s publishes nothing before jiffies 250 + 1250 + 1 = 1501 (6.004 s).
  it("counts its first 5 s from when it started", () => {
    const { m, sched } = makeMachine("tiny", { truth: false }, 1);
    m.load({ name: "idle", layout: { processes: [buildProcess({ heap: [{ name: "h", size: 2 * MiB }], threads: [{ tid: 1, cpus: [0] }] }).process] }, start: () => ({ kind: "threads", threads: [{ tid: 1, next: (out: AccessBatch) => (out.clear(), 0) }] }) });
    const stat = createDamonStat(m, "all");
    sched.run(SEC);
    stat.monitor.kdamond.start();
    sched.run(6 * SEC);
    expect(stat.values.refreshes).toBe(0);
    sched.run(8 * SEC);
    expect(stat.values.refreshes).toBe(1);
    expect(Math.floor(stat.values.refreshedAt / 4_000_000)).toBeGreaterThan(1500);
  });

  // core.c damon_set_region_biggest_system_ram_default() -> damon_find_biggest_system_ram():
  // walk_system_ram() keeps the strictly larger resource, so the first of equal ones wins. The
  // resources are System RAM ranges, not nodes: two sockets' contiguous DRAM is one.
  it("monitors the biggest System RAM resource, not the biggest node", () => {
    const GiB = 1024 * MiB;
    const two = makeMachine("2s-ddr5", { truth: false }, 1).m; // 2 x 64 GiB DRAM, contiguous
    expect(biggestSystemRam(two)).toEqual({ start: 0, end: 128 * GiB });
    const cxl = makeMachine("cxl-tier", { truth: false }, 1).m; // 32 GiB DRAM, then 128 GiB CXL (kmem)
    expect(systemRamResources(cxl)).toEqual([{ start: 0, end: 32 * GiB }, { start: 32 * GiB, end: 160 * GiB }]);
    expect(biggestSystemRam(cxl)).toEqual({ start: 32 * GiB, end: 160 * GiB });
    expect(createDamonStat(two).monitor.ctx.regionsOf(0).map((r) => [r.start, r.end])).toEqual([[0, 128 * GiB]]);
  });

  it("exists from v6.17 only", () => {
    const { m } = makeMachine("tiny", { truth: false }, 1);
    expect(() => createDamonStat(m, "all", undefined, kernelRules("v6.12"))).toThrow(/DAMON_STAT .* not in kernel v6.12/);
  });
});

describe("damon-sim run --kernel", () => {
  it("records the version, and refuses what the version lacks (exit 2)", () => {
    const dir = mkdtempSync(join(tmpdir(), "damon-sim-kernel-"));
    const out = join(dir, "out");
    const base = ["run", "seq", "--machine", "tiny", "--duration", "50ms", "--sample", "1ms", "--aggr", "10ms", "-q"];
    const ok = runCli([...base, "--kernel", "v6.18", "-o", out]);
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    expect(JSON.parse(readFileSync(join(out, "config.json"), "utf8")).damon).toMatchObject({ kernel: "v6.18", variant: "mainline" });
    expect(readRecordFile(join(out, "damon.data"))[0]!.kernel).toBe("v6.18");
    expect(runCli(["report", "wss", out]).stderr).toBe("report: record made by damon-sim with kernel v6.18\n");
    const old = runCli([...base, "--kernel", "v6.12", "--intervals-goal", "4%,3,1ms,10ms", "-o", out]);
    expect(old.status).toBe(2);
    expect(old.stderr).toMatch(/intervals auto-tuning .* not in kernel v6.12/);
    const push = runCli([...base, "--kernel", "mainline", "--primitives", "fault", "-o", out]);
    expect(push.status).toBe(2);
    expect(push.stderr).toMatch(/fault needs damon_report_access\(\), which kernel mainline lacks/);
    const bad = runCli([...base, "--kernel", "v5.4", "-o", out]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown kernel 'v5.4'/);
  }, 60_000);
});

describe("experiment files and compare take the kernel too", () => {
  it("\"kernel\" in an experiment file reaches every variant's context; a bad one names the field", () => {
    const x = experimentFromJson({ workload: "seq", machine: "tiny", kernel: "v6.12", variants: [{ name: "pte", primitives: ["pte"] }] }, "x.json");
    expect(x.kernel).toBe("v6.12");
    const sim = setupVariant(x, x.variants[0]!);
    expect(sim.monitor!.ctx.kernel.name).toBe("v6.12");
    expect(() => experimentFromJson({ kernel: "v9", variants: [{ primitives: ["pte"] }] }, "x.json")).toThrow(/x\.json.*kernel.*must be one of v6.12/);
    // a push primitive on a kernel without damon_report_access() fails when the variant is built
    const y = experimentFromJson({ workload: "seq", machine: "tiny", kernel: "v6.18", variants: [{ name: "ibs", primitives: ["ibs"] }] }, "y.json");
    expect(() => setupVariant(y, y.variants[0]!)).toThrow(/ibs needs damon_report_access\(\), which kernel v6.18 lacks/);
  });

  it("compare --kernel refuses an unknown version (exit 2)", () => {
    const r = runCli(["compare", "seq", "--machine", "tiny", "--kernel", "v2.6", "-q"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown kernel 'v2.6'/);
  }, 30_000);
});
