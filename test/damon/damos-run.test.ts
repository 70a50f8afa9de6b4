// DAMOS schemes running in a DamonContext: a short run with stat schemes on a stub operations set,
// per apply interval as worked out by hand from the access script; what the core hands the actions
// and charges to kdamond; the snapshot limit, unsupported actions, rescheduling on damon_set_attrs
// and on a running context; the stats registry's names; and the refusal of bad or too-new schemes.

import { describe, expect, it } from "vitest";
import { AccessKind, type AccessBatch } from "../../hw/batch.ts";
import { buildProcess } from "../../hw/layout.ts";
import type { ThreadProgram, Workload } from "../../hw/program.ts";
import { defaultAttrs } from "../../damon/attrs.ts";
import { Kdamond } from "../../damon/kdamond.ts";
import { createMonitor } from "../../damon/monitor.ts";
import type { KernelVersion } from "../../damon/kernel.ts";
import type { ActionRequest, SchemeSpec } from "../../damon/schemes/types.ts";
import { InputError } from "../../sim/errors.ts";
import type { Rng } from "../../sim/rng.ts";
import { Stats } from "../../sim/stats.ts";
import { makeMachine } from "../hw/helpers.ts";
import { Driver, goal, makeCtx, spec, StubActions, StubMemory, type AccessScript } from "./damos-helpers.ts";

const MiB = 1 << 20;
const four: Array<[number, number]> = [[0, MiB], [MiB, 2 * MiB], [2 * MiB, 3 * MiB], [3 * MiB, 4 * MiB]];
// r0 always accessed, r1 never, r2 on even samples, r3 only after sample 40
const script: AccessScript = (_t, start, passed) => (start === 0 ? true : start === MiB ? false : start === 2 * MiB ? passed % 2 === 0 : passed > 40);

/** 5 ms samples, 50 ms aggregations (10 samples), four fixed regions (min = max = 4: no split or merge). */
function fourRegions(kernel: KernelVersion = "mainline") {
  return makeCtx({ kernel, attrs: { sampleUs: 5000, aggrUs: 50_000, minNrRegions: 4, maxNrRegions: 4 }, targets: [four], script });
}

const statAnswer = () => ({ appliedBytes: 0, filterPassedBytes: 0, costNs: 1000 });

describe("a short run with stat schemes", () => {
  // Scheme 0: nr_accesses in [5, 10]; scheme 1: idle ([0, 0]) for at least 2 aggregations. Both
  // every 100 ms (20 samples): rounds at samples 20, 40, 60, 80, each at an aggregation boundary
  // where DAMOS reads the window just completed. Windows' counts: r0 10; r1 0; r2 5; r3 0 until
  // sample 40, then 10. Ages: r1 grows 1 per aggregation; r3 too until sample 50 resets it.
  //   round:      20       40       60           80
  //   scheme 0:   r0, r2   r0, r2   r0, r2, r3   r0, r2, r3
  //   scheme 1:   r1, r3   r1, r3   r1           r1
  const schemes: SchemeSpec[] = [
    spec("stat", { applyIntervalUs: 100_000, pattern: { nrAccesses: { min: 5, max: 10 } } }),
    spec("stat", { applyIntervalUs: 100_000, pattern: { nrAccesses: { min: 0, max: 0 }, age: { min: 2, max: 2 ** 64 } } }),
  ];
  const perRound = (kernel: KernelVersion) => {
    const ctx = fourRegions(kernel);
    const actions = new StubActions("paddr", statAnswer);
    ctx.setSchemes(schemes, actions, new StubMemory());
    const d = ctx.damos!;
    const rows: Array<[number, number[], number[]]> = [];
    const seen = [0, 0];
    new Driver(ctx).steps(80, (c) => {
      if (c.passed % 20 !== 0) return;
      rows.push([c.passed, d.schemes.map((s, i) => s.stat.nrTried - seen[i]!), d.schemes.map((s) => s.stat.szTried / MiB)]);
      d.schemes.forEach((s, i) => (seen[i] = s.stat.nrTried));
    });
    return { rows, ctx, d, actions };
  };

  it("nr_tried per round and sz_tried so far (MiB), as worked out from the script", () => {
    const want = [
      [20, [2, 2], [2, 2]],
      [40, [2, 2], [4, 4]],
      [60, [3, 1], [7, 5]],
      [80, [3, 1], [10, 6]],
    ];
    expect(perRound("mainline").rows).toEqual(want);
    expect(perRound("v7.1").rows).toEqual(want); // at a boundary nr_accesses_bp / 10000 is the same count
  });

  it("the last round's tried regions, and stats: nothing applied (stat), nr_snapshots one per round", () => {
    const { d } = perRound("mainline");
    const [s0, s1] = d.schemes;
    // ages at sample 80: r0 and r2 reset at sample 10 then +1 per aggregation (7); r3 reset at 50 (3)
    expect(s0!.triedRegions).toEqual([
      { target: 0, start: 0, end: MiB, nrAccesses: 10, age: 7, szFilterPassed: 0 },
      { target: 0, start: 2 * MiB, end: 3 * MiB, nrAccesses: 5, age: 7, szFilterPassed: 0 },
      { target: 0, start: 3 * MiB, end: 4 * MiB, nrAccesses: 10, age: 3, szFilterPassed: 0 },
    ]);
    expect(s0!.triedBytes).toBe(3 * MiB);
    expect(s1!.triedRegions.map((r) => [r.start, r.age])).toEqual([[MiB, 8]]);
    expect([s0!.stat.nrApplied, s0!.stat.szApplied, s0!.stat.nrSnapshots, s0!.stat.qtExceeds]).toEqual([0, 0, 4, 0]);
  });

  it("every action's 1 us goes to the scheme, the context's total and kdamond's CPU time", () => {
    const { d, actions } = perRound("mainline");
    expect(actions.calls.length).toBe(16);
    expect(d.schemes.map((s) => s.actionCostNs)).toEqual([10_000, 6_000]);
    expect(d.actionCostNs).toBe(16_000);
    expect(d.schemes[0]!.quota.totalChargedNs).toBe(10_000);
    expect(actions.rounds).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);

    const kdamondNs = (cost: number): number => {
      const { m, sched } = makeMachine("tiny");
      const ctx = fourRegions();
      ctx.setSchemes(schemes, new StubActions("paddr", () => ({ appliedBytes: 0, filterPassedBytes: 0, costNs: cost })), new StubMemory());
      const k = new Kdamond(m, ctx);
      k.start();
      sched.run(400_000_000); // 80 samples
      k.stop();
      return k.totalCostNs;
    };
    expect(kdamondNs(1000) - kdamondNs(0)).toBe(16_000);
  });
});

describe("what the actions get, and the scheme's limits", () => {
  it("the request carries the action, target node, dests, ops filters with their default, and the scheme index", () => {
    const ctx = fourRegions();
    const actions = new StubActions("paddr");
    const young = { type: "young" as const, matching: true, allow: true };
    ctx.setSchemes([spec("stat"), spec("migrate_hot", { targetNid: 1, opsFilters: [young], coreFilters: [{ type: "target", matching: true, allow: true, targetIdx: 0 }] })], actions, new StubMemory());
    new Driver(ctx).steps(10);
    const req = actions.calls.find((c) => c.req.scheme === 1)!.req;
    const want: ActionRequest = { action: "migrate_hot", targetNid: 1, dests: [], opsFilters: [young], opsDefaultReject: true, coreFiltersAllowed: true, scheme: 1 };
    expect(req).toEqual(want);
    expect(actions.calls.filter((c) => c.req.scheme === 0).map((c) => c.req.coreFiltersAllowed)).toEqual([false, false, false, false]);
    // migrate_hot reset the ages of what it was applied to; stat did not
    expect(ctx.targets[0]!.regions.map((r) => r.age)).toEqual([0, 0, 0, 0]);
  });

  it("an action the operations set does not support applies 0 bytes but is tried and resets the age", () => {
    const ctx = fourRegions();
    const actions = new StubActions("paddr", undefined, (a) => a !== "willneed");
    ctx.setSchemes([spec("willneed", { pattern: { age: { min: 1, max: 2 ** 64 } } })], actions, new StubMemory());
    new Driver(ctx).steps(10);
    const s = ctx.damos!.schemes[0]!;
    // first aggregation (sample 10): the idle r1 and r3 have age 1; both tried, nothing applied, ages reset
    expect([actions.calls.length, s.stat.nrTried, s.stat.szTried, s.stat.nrApplied]).toEqual([0, 2, 2 * MiB, 0]);
    expect(ctx.targets[0]!.regions.map((r) => r.age)).toEqual([0, 0, 0, 0]);
  });

  it("max_nr_snapshots 2: two rounds, then the scheme is skipped", () => {
    const ctx = fourRegions();
    ctx.setSchemes([spec("stat", { maxNrSnapshots: 2 })], new StubActions(), new StubMemory());
    new Driver(ctx).steps(50);
    const st = ctx.damos!.schemes[0]!.stat;
    expect([st.nrSnapshots, st.nrTried]).toEqual([2, 8]);
  });

  it("damon_set_attrs reschedules from now in the new intervals; setSchemes on a running context too", () => {
    const ctx = fourRegions();
    ctx.setSchemes([spec("stat")], new StubActions(), new StubMemory());
    const d = new Driver(ctx).steps(3);
    expect(ctx.damos!.schemes[0]!.nextApplySis).toBe(10); // aggr / sample from the start
    ctx.setAttrs({ ...ctx.attrs, aggrUs: 100_000 });
    expect(ctx.damos!.schemes[0]!.nextApplySis).toBe(3 + 20);
    d.steps(4);
    const again = ctx.setSchemes([spec("stat", { applyIntervalUs: 25_000 })], new StubActions(), new StubMemory());
    expect(again!.schemes[0]!.nextApplySis).toBe(7 + 5);
    expect(ctx.setSchemes([], null, new StubMemory())).toBeNull();
    expect(ctx.damos).toBeNull();
  });
});

describe("stats registry", () => {
  it("per-scheme gauges under the prefix and the context's action CPU time; v6.12 lacks sz_ops_filter_passed and nr_snapshots", () => {
    const names = (kernel: KernelVersion): string[] => {
      const ctx = fourRegions(kernel);
      ctx.setSchemes([spec("stat")], new StubActions(), new StubMemory());
      const stats = new Stats();
      ctx.damos!.registerStats(stats, "damon.ctx0");
      return stats.names();
    };
    const all = ["nr_tried", "sz_tried", "nr_applied", "sz_applied", "sz_ops_filter_passed", "qt_exceeds", "nr_snapshots", "effective_bytes", "action_cost_ns"].map((n) => `damon.ctx0.scheme0.${n}`);
    expect(names("mainline").sort()).toEqual([...all, "damon.ctx0.damos.action_cost_ns"].sort());
    expect(names("v6.12")).not.toContain("damon.ctx0.scheme0.sz_ops_filter_passed");
    expect(names("v6.12")).not.toContain("damon.ctx0.scheme0.nr_snapshots");

    const ctx = fourRegions();
    ctx.setSchemes([spec("stat")], new StubActions("paddr", statAnswer), new StubMemory());
    const stats = new Stats();
    ctx.damos!.registerStats(stats, "damon.ctx0");
    new Driver(ctx).steps(10);
    expect([stats.value("damon.ctx0.scheme0.nr_tried"), stats.value("damon.ctx0.scheme0.sz_tried"), stats.value("damon.ctx0.damos.action_cost_ns")]).toEqual([4, 4 * MiB, 4000]);
  });
});

describe("refusing schemes", () => {
  const refuse = (s: SchemeSpec, kernel: KernelVersion = "mainline", ops = "paddr"): string => {
    const ctx = makeCtx({ kernel, ops });
    try {
      ctx.setSchemes([spec("stat"), s], new StubActions(ops), new StubMemory());
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      return (e as Error).message;
    }
    throw new Error("accepted");
  };

  it("malformed specs name the field", () => {
    expect(refuse(spec("stat", { pattern: { age: { min: 5, max: 2 } } }))).toBe("field 'schemes[1].pattern.age': min (5) must not exceed max (2)");
    expect(refuse({ ...spec("stat"), action: "reclaim" as never })).toMatch(/^field 'schemes\[1\]\.action': must be one of willneed, .*, got 'reclaim'$/);
    expect(refuse(spec("stat", { coreFilters: [{ type: "addr", matching: true, allow: false, addrStart: 0 }] }))).toBe("field 'schemes[1].coreFilters[0].addrEnd': the addr filter needs addrEnd");
    expect(refuse(spec("stat", { coreFilters: [{ type: "addr", matching: true, allow: false, addrStart: 8, addrEnd: 4 }] }))).toBe("field 'schemes[1].coreFilters[0]': addr filter start (8) must not exceed end (4)");
    expect(refuse(spec("stat", { opsFilters: [{ type: "hugepage_size", matching: true, allow: false, min: 2 * MiB, max: 4096 }] }))).toMatch(/opsFilters\[0\]': hugepage_size min \(2097152\) must not exceed max \(4096\)/);
    expect(refuse(spec("stat", { coreFilters: [{ type: "anon", matching: true, allow: false }] }))).toMatch(/coreFilters\[0\]\.type': must be one of addr, target, got 'anon'/);
    expect(refuse(spec("stat", { quota: { ms: -1 } }))).toMatch(/quota\.ms': must be an integer >= 0, got -1/);
    expect(refuse(spec("stat", { quota: { goals: [goal("node_mem_used_bp", 10, { nid: -2 })] } }))).toMatch(/quota\.goals\[0\]\.nid': must be an integer >= -1, got -2/);
    expect(refuse(spec("stat", { dests: [{ nid: 1, weight: 1.5 }] }))).toMatch(/dests\[0\]\.weight'/);
  });

  it("features a kernel predates name the version they arrived in", () => {
    const allow = { type: "anon" as const, matching: true, allow: true };
    expect(refuse(spec("stat", { opsFilters: [allow] }), "v6.12")).toBe("field 'schemes[1].opsFilters[0].allow': allow filters is not in kernel v6.12: it arrived in v6.14");
    expect(refuse(spec("stat", { opsFilters: [{ type: "active", matching: true, allow: false }] }), "v6.12")).toMatch(/the active filter is not in kernel v6.12: it arrived in v6.15/);
    expect(refuse(spec("stat", { quota: { goals: [goal("node_mem_used_bp", 10)] } }), "v6.12")).toMatch(/quota\.goals\[0\]\.metric': the quota goal metric node_mem_used_bp is not in kernel v6.12: it arrived in v6.16/);
    expect(refuse(spec("stat", { quota: { goals: [goal("node_memcg_free_bp", 10)] } }), "v6.18")).toMatch(/node_memcg_free_bp is not in kernel v6.18: it arrived in v6.19/);
    expect(refuse(spec("stat", { quota: { goals: [goal("inactive_mem_bp", 10)] } }), "v6.18")).toMatch(/inactive_mem_bp is not in kernel v6.18: it arrived in v7.0/);
    expect(refuse(spec("stat", { quota: { goals: [goal("node_eligible_mem_bp", 10)] } }), "v7.1")).toMatch(/node_eligible_mem_bp is not in kernel v7.1: it arrived in v7.2/);
    expect(refuse(spec("stat", { quota: { goals: [goal("hugepage_mem_bp", 10)] } }))).toMatch(/hugepage_mem_bp is not in kernel mainline: it is damon\/next only \(use --kernel next\)/);
    expect(refuse(spec("stat", { quota: { goals: [goal("user_input", 10, { complement: true })] } }))).toMatch(/goals\[0\]\.complement': the quota goal complement flag is not in kernel mainline/);
    expect(refuse(spec("stat", { quota: { goalTuner: "temporal" } }), "v6.18")).toMatch(/quota\.goalTuner': the temporal goal tuner is not in kernel v6.18: it arrived in v7.1/);
    expect(refuse(spec("stat", { quota: { failChargeNum: 1, failChargeDenom: 2 } }), "v7.1")).toMatch(/failChargeDenom': the quota fail-charge ratio is not in kernel v7.1: it arrived in v7.2/);
    expect(refuse(spec("collapse"), "mainline", "vaddr")).toMatch(/action': the collapse action is not in kernel mainline: it is damon\/next only/);
    expect(refuse(spec("migrate_cold"), "v6.12", "vaddr")).toMatch(/action': migrate_cold on vaddr is not in kernel v6.12: it arrived in v6.17/);
    expect(refuse(spec("migrate_hot", { dests: [{ nid: 1, weight: 1 }] }), "v6.12")).toMatch(/dests': migration destinations \(dests\) is not in kernel v6.12: it arrived in v6.17/);
    expect(refuse(spec("stat", { maxNrSnapshots: 3 }), "v6.18")).toMatch(/maxNrSnapshots': max_nr_snapshots is not in kernel v6.18: it arrived in v7.0/);
    expect(refuse(spec("stat", { quota: { goals: [goal("node_eligible_mem_bp", 10)] } }), "mainline", "vaddr")).toMatch(/goals\[0\]\.metric': the quota goal metric node_eligible_mem_bp needs the paddr operations set/);
  });

  it("accepts on the kernels that have them", () => {
    const ok = (s: SchemeSpec, kernel: KernelVersion, ops = "paddr") => makeCtx({ kernel, ops }).setSchemes([s], new StubActions(ops), new StubMemory());
    expect(ok(spec("migrate_cold"), "v6.12")).not.toBeNull();
    expect(ok(spec("collapse"), "next", "vaddr")).not.toBeNull();
    expect(ok(spec("stat", { quota: { goals: [goal("hugepage_mem_bp", 10, { complement: true })] } }), "next")).not.toBeNull();
    expect(ok(spec("migrate_hot", { dests: [{ nid: 0, weight: 1 }] }), "v6.18", "vaddr")).not.toBeNull();
    // a goal with target 0 is dropped before the kernel sees it
    expect(ok(spec("stat", { quota: { goals: [goal("node_memcg_used_bp", 0)] } }), "v6.12")!.schemes[0]!.goals).toEqual([]);
  });
});

describe("on the simulated machine", () => {
  // One thread reading random bytes of a 16 MiB hot area 9 times in 10, else of a 48 MiB cold one.
  class TwoAreas implements ThreadProgram {
    readonly tid = 1;
    constructor(private readonly rng: Rng, private readonly hot: [number, number], private readonly cold: [number, number]) {}
    next(out: AccessBatch): number {
      out.clear();
      while (!out.full) {
        const [lo, hi] = this.rng.int(10) < 9 ? this.hot : this.cold;
        out.push(lo + this.rng.int(hi - lo), 1, AccessKind.READ, 1, 5000);
      }
      return out.length;
    }
  }

  it("vaddr: each round tries exactly the regions the window found accessed, with their counts (checked just before the round)", () => {
    const { process, areas } = buildProcess({ mmap: [{ name: "hot", size: 16 * MiB }, { name: "cold", size: 48 * MiB }], threads: [{ tid: 1, cpus: [0] }] });
    const hot = areas.get("hot")!, cold = areas.get("cold")!;
    const wl: Workload = { name: "two", layout: { processes: [process] }, start: (rng) => ({ kind: "threads", threads: [new TwoAreas(rng.stream("w"), [hot.start, hot.end], [cold.start, cold.end])] }) };
    const { m, sched } = makeMachine("tiny", { truth: false });
    m.load(wl);
    const mon = createMonitor(m, { ops: "vaddr", attrs: { ...defaultAttrs(), sampleUs: 5000, aggrUs: 100_000 } });
    const ctx = mon.ctx;
    const actions = new StubActions("vaddr", statAnswer);
    ctx.setSchemes([spec("stat", { pattern: { nrAccesses: { min: 1, max: 2 ** 64 } } }), spec("stat")], actions, new StubMemory());
    const [accessed, all] = ctx.damos!.schemes;
    const rounds: Array<{ want: Array<[number, number, number]>; wantAll: [number, number]; before: [number, number] }> = [];
    const mismatches: string[] = [];
    ctx.onCall((c) => {
      if (c.passed < accessed!.nextApplySis) return;
      // just before the apply round, at an aggregation boundary: DAMOS reads each region's nr_accesses
      const regions = c.targets.flatMap((t) => t.regions);
      rounds.push({
        want: regions.filter((r) => r.nrAccesses >= 1).map((r) => [r.start, r.end, r.nrAccesses]),
        wantAll: [regions.length, regions.reduce((a, r) => a + r.size, 0)],
        before: [all!.stat.nrTried, all!.stat.szTried],
      });
    });
    ctx.onAggregation(() => {
      const r = rounds[rounds.length - 1];
      if (r === undefined) return;
      const got = accessed!.triedRegions.map((t) => [t.start, t.end, t.nrAccesses]);
      if (JSON.stringify(got) !== JSON.stringify(r.want)) mismatches.push(`accessed: ${JSON.stringify(got)} vs ${JSON.stringify(r.want)}`);
      const delta = [all!.stat.nrTried - r.before[0], all!.stat.szTried - r.before[1]];
      if (JSON.stringify(delta) !== JSON.stringify(r.wantAll)) mismatches.push(`all: ${JSON.stringify(delta)} vs ${JSON.stringify(r.wantAll)}`);
    });
    mon.kdamond.start();
    sched.run(2_000_000_000);
    mon.kdamond.stop();
    expect(rounds.length).toBe(20);
    expect(rounds.some((r) => r.want.length > 0)).toBe(true);
    expect(mismatches).toEqual([]);
    expect(actions.calls.every((c) => c.target.pid === process.pid)).toBe(true);
  });
});
