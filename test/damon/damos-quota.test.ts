// DAMOS quotas worked out by hand: the effective size under goals window by window (consist's
// feedback loop, temporal's on/off), the time quota's throughput, the goal metrics' current values
// from the memory counters, the prioritisation histogram's minimum score, the fail-charge ratio,
// and a region split to fit the quota with the next window resuming where the last one stopped
// (including the kernels' differences: 7.1's end + 1 resume point, 7.2's last-region skip).

import { describe, expect, it } from "vitest";
import type { KernelVersion } from "../../damon/kernel.ts";
import { adjustSchemeQuota, applyTarget, goalContext } from "../../damon/schemes/apply.ts";
import { Damos } from "../../damon/schemes/damos.ts";
import { refreshGoal } from "../../damon/schemes/goals.ts";
import { chargeQuota, QuotaState, setEffectiveQuota } from "../../damon/schemes/quota.ts";
import type { DamosAction, QuotaGoal, SchemeSpec } from "../../damon/schemes/types.ts";
import { Driver, goal, makeCtx, spec, StubActions, StubMemory } from "./damos-helpers.ts";

const MiB = 1 << 20;

/** A scheme on a one-target context (not started), with its Damos. */
function setup(s: SchemeSpec, o: { kernel?: KernelVersion; regions?: Array<[number, number]>; ops?: string; memory?: StubMemory; actions?: StubActions } = {}) {
  const ctx = makeCtx({ kernel: o.kernel ?? "mainline", targets: [o.regions ?? [[0, 4 * MiB]]], ops: o.ops ?? "paddr" });
  const memory = o.memory ?? new StubMemory();
  const actions = o.actions ?? new StubActions(o.ops ?? "paddr");
  const d = new Damos([s], ctx, actions, memory);
  return { ctx, d, s: d.schemes[0]!, memory, actions };
}

describe("effective quota under goals, window by window", () => {
  it("consist: user_input 50/100 -> esz 1, then 0 -> 3, 0 -> 6 (capped by sz 5), 150 -> 3, 100 -> 3, 300 -> 1", () => {
    const { ctx, d, s } = setup(spec("stat", { quota: { sz: 5, resetIntervalMs: 100, goals: [goal("user_input", 100, { currentValue: 50 })] } }));
    const eszs: number[] = [];
    const bps: bigint[] = [];
    // esz_bp: max(0, 10000) fed score 5000 -> 15000; score 0 -> 30000, 60000; 15000 -> 60000 - 30000;
    // 10000 -> unchanged; 30000 (>= 2 x goal) -> the minimum 10000
    for (const [k, cur] of [[1, 50], [2, 0], [3, 0], [4, 150], [5, 100], [6, 300]] as const) {
      s.setGoalCurrentValue(0, cur);
      ctx.now = k * 100_000_000;
      adjustSchemeQuota(d.env, s);
      eszs.push(s.quota.esz);
      bps.push(s.quota.eszBp);
    }
    expect(bps).toEqual([15000n, 30000n, 60000n, 30000n, 30000n, 10000n]);
    expect(eszs).toEqual([1, 3, 5, 3, 3, 1]);
  });

  it("consist doubles every window while the score is 0 (node_mem_free_bp of a full node, target 50)", () => {
    const memory = new StubMemory();
    memory.free = [0, 1 << 29];
    const { ctx, d, s } = setup(spec("stat", { quota: { resetIntervalMs: 1000, goals: [goal("node_mem_free_bp", 50, { nid: 0 })] } }), { memory });
    const eszs: number[] = [];
    for (let k = 1; k <= 5; k++) {
      ctx.now = k * 1e9;
      adjustSchemeQuota(d.env, s);
      eszs.push(s.quota.esz);
    }
    expect(eszs).toEqual([2, 4, 8, 16, 32]); // esz_bp 20000, 40000, ...
    expect(s.goals[0]!.currentValue).toBe(0n);
  });

  it("temporal: below the goal the size quota (or no limit), at or above it 0", () => {
    const { ctx, d, s } = setup(spec("stat", { quota: { sz: MiB, resetIntervalMs: 100, goalTuner: "temporal", goals: [goal("user_input", 100)] } }));
    const eszs: number[] = [];
    for (const [k, cur] of [[1, 50], [2, 100], [3, 0], [4, 250]] as const) {
      s.setGoalCurrentValue(0, cur);
      ctx.now = k * 100_000_000;
      adjustSchemeQuota(d.env, s);
      eszs.push(s.quota.esz);
    }
    expect(eszs).toEqual([MiB, 0, MiB, 0]);
    const open = setup(spec("stat", { quota: { resetIntervalMs: 100, goalTuner: "temporal", goals: [goal("user_input", 100)] } }));
    open.ctx.now = 1;
    adjustSchemeQuota(open.d.env, open.s);
    expect(open.s.quota.esz).toBe(1_844_674_407_370_955); // ULONG_MAX / 10000
  });

  it("a window does not reset within reset_interval; qt_exceeds counts windows that ended full", () => {
    const { ctx, d, s } = setup(spec("stat", { quota: { sz: 8192, resetIntervalMs: 10 } }));
    ctx.now = 5_000_000;
    adjustSchemeQuota(d.env, s); // first window [5 ms, 15 ms)
    s.quota.chargedSz = 8192;
    ctx.now = 14_999_999;
    adjustSchemeQuota(d.env, s);
    expect([s.quota.chargedSz, s.stat.qtExceeds]).toEqual([8192, 0]);
    ctx.now = 15_000_000;
    adjustSchemeQuota(d.env, s);
    expect([s.quota.chargedSz, s.quota.totalChargedSz, s.quota.chargedFrom, s.stat.qtExceeds]).toEqual([0, 8192, 15_000_000, 1]);
    ctx.now = 30_000_000;
    adjustSchemeQuota(d.env, s);
    expect(s.stat.qtExceeds).toBe(1); // that window charged nothing
  });
});

describe("time quota", () => {
  const q = (ms: number, sz: number, ns: number, kernel: KernelVersion = "mainline", goals: QuotaGoal[] = []) => {
    const { s, d } = setup(spec("stat", { quota: { ms, goals, goalTuner: goals.length ? "temporal" : "consist", resetIntervalMs: 1 } }), { kernel });
    s.quota.totalChargedSz = sz;
    s.quota.totalChargedNs = ns;
    setEffectiveQuota(s.quota, s.goals, goalContext(d.env, s));
    return s.quota.esz;
  };

  it("no charge yet: PAGE_SIZE * 1024 bytes per ms; then total charged bytes over total ns", () => {
    expect(q(10, 0, 0)).toBe(10 * 4096 * 1024); // 40 MiB
    // 40 MiB in 20.48 ms of actions: 2,048,000 bytes per ms
    expect(q(10, 40 * MiB, 20_480_000)).toBe(20_480_000);
  });

  it("floored at min_region_sz; a met temporal goal gives 4096 in 7.2 but 0 in next (the floor applies before the min)", () => {
    expect(q(1, 1000, 1e9)).toBe(4096); // 1 byte per ms
    const met = [goal("user_input", 100, { currentValue: 100 })];
    expect(q(10, 0, 0, "mainline", met)).toBe(4096);
    expect(q(10, 0, 0, "next", met)).toBe(0);
  });
});

describe("goal metrics' current values", () => {
  const value = (g: QuotaGoal, memory: StubMemory, kernel: KernelVersion = "mainline", ops = "paddr"): bigint => {
    const { d, s } = setup(spec("stat", { quota: { goals: [g] } }), { kernel, memory, ops });
    refreshGoal(s.goals[0]!, goalContext(d.env, s));
    return s.goals[0]!.currentValue;
  };
  const mem = (): StubMemory => {
    const m = new StubMemory();
    m.total = [1 << 30, 1 << 30];
    m.free = [256 * MiB, 768 * MiB];
    m.memcg.set("1:3", 128 * MiB);
    m.active = 300;
    m.inactive = 100;
    m.huge = 512 * MiB;
    return m;
  };

  it("node_mem_{used,free}_bp: 75% used of node 0, 25% of node 1; an invalid node reads used 0, free 10000", () => {
    expect(value(goal("node_mem_used_bp", 1, { nid: 0 }), mem())).toBe(7500n);
    expect(value(goal("node_mem_free_bp", 1, { nid: 0 }), mem())).toBe(2500n);
    expect(value(goal("node_mem_used_bp", 1, { nid: 1 }), mem())).toBe(2500n);
    expect(value(goal("node_mem_used_bp", 1, { nid: 5 }), mem())).toBe(0n);
    expect(value(goal("node_mem_free_bp", 1, { nid: -1 }), mem())).toBe(10000n);
  });

  it("node_memcg_{used,free}_bp: memcg 3 holds 128 MiB of node 1 -> 1250 / 8750; unknown memcg 0 / 10000", () => {
    expect(value(goal("node_memcg_used_bp", 1, { nid: 1, memcgId: 3 }), mem())).toBe(1250n);
    expect(value(goal("node_memcg_free_bp", 1, { nid: 1, memcgId: 3 }), mem())).toBe(8750n);
    const m = mem();
    m.hasMemcg = (id) => id === 3;
    expect(value(goal("node_memcg_used_bp", 1, { nid: 1, memcgId: 4 }), m)).toBe(0n);
    expect(value(goal("node_memcg_free_bp", 1, { nid: 1, memcgId: 4 }), m)).toBe(10000n);
  });

  it("active/inactive_mem_bp: 300 / 100 -> 7500 / 2500; an empty LRU reads 0", () => {
    expect(value(goal("active_mem_bp", 1), mem())).toBe(7500n);
    expect(value(goal("inactive_mem_bp", 1), mem())).toBe(2500n);
    const m = mem();
    m.active = m.inactive = 0;
    expect(value(goal("active_mem_bp", 1), m)).toBe(0n);
  });

  it("node_eligible_mem_bp (paddr): of the 4 MiB region, the 2 MiB on node 0 -> 5000; an invalid node 0", () => {
    expect(value(goal("node_eligible_mem_bp", 1, { nid: 0 }), mem())).toBe(5000n);
    const m = mem();
    m.onNode = (s, e, nid) => (nid === 1 ? (e - s) / 4 : (3 * (e - s)) / 4);
    expect(value(goal("node_eligible_mem_bp", 1, { nid: 1 }), m)).toBe(2500n);
    expect(value(goal("node_eligible_mem_bp", 1, { nid: 2 }), m)).toBe(0n);
  });

  it("next: hugepage_mem_bp (512 MiB THP of 1 GiB used -> 5000) and the complement flag (10000 - 7500)", () => {
    expect(value(goal("hugepage_mem_bp", 1), mem(), "next")).toBe(5000n);
    expect(value(goal("node_mem_used_bp", 1, { nid: 0, complement: true }), mem(), "next")).toBe(2500n);
  });

  it("some_mem_psi_us (7.2): the stall time since the previous read", () => {
    const m = mem();
    const { d, s } = setup(spec("stat", { quota: { goals: [goal("some_mem_psi_us", 1000)] } }), { memory: m });
    const g = s.goals[0]!;
    m.stallUs = 1000;
    refreshGoal(g, goalContext(d.env, s));
    expect(g.currentValue).toBe(1000n);
    m.stallUs = 1500;
    refreshGoal(g, goalContext(d.env, s));
    expect(g.currentValue).toBe(500n);
  });
});

describe("prioritisation histogram", () => {
  // 20 samples per aggregation; migrate_hot with frequency weight only: hot = (nr * 100 / 20) * 99 / 100
  //   [0,4M) nr 20 -> 99   [4M,12M) nr 10 -> 49   [12M,14M) nr 10 -> 49   [14M,30M) nr 2 -> 9   [30M,34M) nr 0 -> 0
  const regions: Array<[number, number, number]> = [[0, 4, 20], [4, 12, 10], [12, 14, 10], [14, 30, 2], [30, 34, 0]];
  const hist = (sz: number, o: { kernel?: KernelVersion; action?: DamosAction; filterOutFirst?: boolean; minNr?: number } = {}) => {
    const s = spec(o.action ?? "migrate_hot", {
      targetNid: 0,
      pattern: { nrAccesses: { min: o.minNr ?? 0, max: 2 ** 64 } },
      quota: { sz, resetIntervalMs: 100, weightNrAccesses: 1000 },
      coreFilters: o.filterOutFirst ? [{ type: "addr", matching: true, allow: false, addrStart: 0, addrEnd: 4 * MiB }] : [],
    });
    const st = setup(s, { kernel: o.kernel ?? "mainline", regions: regions.map(([a, b]) => [a * MiB, b * MiB]) });
    st.ctx.targets[0]!.regions.forEach((r, i) => {
      r.nrAccesses = regions[i]![2];
      r.nrAccessesBp = r.nrAccesses * 10000;
    });
    st.ctx.passed = st.ctx.nextAggregationSis = 20; // at an aggregation boundary: mvsum = nr_accesses
    st.ctx.now = 1;
    adjustSchemeQuota(st.d.env, st.s);
    return st;
  };

  it("min_score is the highest score whose cumulated bytes from the top reach esz", () => {
    expect(hist(4 * MiB).s.quota.minScore).toBe(99); // 4 MiB at 99
    expect(hist(10 * MiB).s.quota.minScore).toBe(49); // 4 + 8 + 2 = 14 MiB >= 10 at 49
    expect(hist(30 * MiB).s.quota.minScore).toBe(9); // 14 + 16 = 30
    expect(hist(100 * MiB).s.quota.minScore).toBe(0); // never reached: down to 0
    expect(hist(4 * MiB, { minNr: 21 }).s.quota.minScore).toBe(0); // nothing matches: empty histogram, max 0
  });

  it("core filters count in the histogram from v7.1 on: rejecting [0, 4M) moves esz 4 MiB's min_score to 49", () => {
    expect(hist(4 * MiB, { filterOutFirst: true }).s.quota.minScore).toBe(49);
    expect(hist(4 * MiB, { filterOutFirst: true, kernel: "v7.1" }).s.quota.minScore).toBe(49);
    expect(hist(4 * MiB, { filterOutFirst: true, kernel: "v6.18" }).s.quota.minScore).toBe(99);
  });

  it("applying with esz 10 MiB: the 99 region whole, then the first 49 region cut to the 6 MiB left", () => {
    const st = hist(10 * MiB);
    applyTarget(st.d.env, st.ctx.targets[0]!, 34 * MiB);
    expect(st.actions.calls.map((c) => [c.start / MiB, c.end / MiB])).toEqual([[0, 4], [4, 10]]);
    expect([st.s.stat.nrTried, st.s.stat.szTried, st.s.quota.chargedSz]).toEqual([2, 10 * MiB, 10 * MiB]);
    expect([st.s.quota.chargeTargetFrom, st.s.quota.chargeAddrFrom]).toEqual([st.ctx.targets[0], 10 * MiB]);
  });
});

describe("damos_charge_quota", () => {
  it("7.2's fail-charge ratio 1/4: half applied of 16 MiB charges 8 + 8/4 = 10 MiB; more applied than tried charges the size", () => {
    const q = new QuotaState({ ...spec("stat").quota, failChargeNum: 1, failChargeDenom: 4 });
    chargeQuota(q, 16 * MiB, 8 * MiB, true);
    expect(q.chargedSz).toBe(10 * MiB);
    chargeQuota(q, 4096, 8192, true);
    expect(q.chargedSz).toBe(10 * MiB + 4096);
    chargeQuota(q, 16 * MiB, 0, false); // a kernel without it charges the size
    expect(q.chargedSz).toBe(26 * MiB + 4096);
  });
});

describe("split to fit the quota, and the next window resuming after the charge point", () => {
  // Three 16 MiB regions, never accessed, a stat scheme (every region scores 99) applied every
  // aggregation (100 ms) with a size quota per 100 ms window; min_nr_regions 3 keeps regions at
  // most 16 MiB. Per apply round: [nr_tried, sz_tried in KiB].
  const rounds = (kernel: KernelVersion, szMiB: number, n: number): Array<[number, number]> => {
    const ctx = makeCtx({ kernel, attrs: { minNrRegions: 3, maxNrRegions: 3 }, targets: [[[0, 16 * MiB], [16 * MiB, 32 * MiB], [32 * MiB, 48 * MiB]]] });
    ctx.setSchemes([spec("stat", { quota: { sz: szMiB * MiB, resetIntervalMs: 100 } })], new StubActions(), new StubMemory());
    const s = ctx.damos!.schemes[0]!;
    const out: Array<[number, number]> = [];
    let last = { nr: 0, sz: 0 };
    new Driver(ctx).steps(20 * n, (c) => {
      if (c.passed % 20 !== 0) return;
      out.push([s.stat.nrTried - last.nr, (s.stat.szTried - last.sz) / 1024]);
      last = { nr: s.stat.nrTried, sz: s.stat.szTried };
    });
    return out;
  };

  it("24 MiB: [0,16) and [16,24); then [24,32) and [32,48); then (at the end) nothing; again", () => {
    const w = [2, 24 * 1024] as [number, number];
    expect(rounds("mainline", 24, 4)).toEqual([w, w, [0, 0], w]);
    expect(rounds("next", 24, 4)).toEqual([w, w, [0, 0], w]);
  });

  it("v7.1 resumes at end + 1: the next window's first piece loses a page (24 MiB - 4 KiB)", () => {
    const w = [2, 24 * 1024] as [number, number], short = [2, 24 * 1024 - 4] as [number, number];
    expect(rounds("v7.1", 24, 4)).toEqual([w, short, w, short]);
  });

  it("40 MiB: 7.2 skips the target's last region while resuming, so [40M, 48M) is never tried; next tries it", () => {
    const full = [3, 40 * 1024] as [number, number];
    expect(rounds("mainline", 40, 4)).toEqual([full, [0, 0], full, [0, 0]]);
    expect(rounds("next", 40, 4)).toEqual([full, [1, 8 * 1024], full, [1, 8 * 1024]]);
  });

  it("7.2 merges the quota slices back: three regions after each round (v7.1 keeps them until the next merge)", () => {
    const count = (kernel: KernelVersion): number[] => {
      const ctx = makeCtx({ kernel, attrs: { minNrRegions: 3, maxNrRegions: 3 }, targets: [[[0, 16 * MiB], [16 * MiB, 32 * MiB], [32 * MiB, 48 * MiB]]] });
      ctx.setSchemes([spec("stat", { quota: { sz: 24 * MiB, resetIntervalMs: 100 } })], new StubActions(), new StubMemory());
      const n: number[] = [];
      // after the first round's iteration (its reset and split leave four regions alone: 4 > max / 2)
      new Driver(ctx).steps(20, (c) => {
        if (c.passed === 20) n.push(c.targets[0]!.regions.length);
      });
      return n;
    };
    expect(count("mainline")).toEqual([3]);
    expect(count("v7.1")).toEqual([4]);
  });
});

describe("a quota left with less than min_region_sz (7.2's 'handle <min_region_sz remaining quota as empty')", () => {
  // sz 6000 over four 4 KiB regions, three 1 ms windows, a stat scheme. By hand:
  //   7.2 (mainline): region 0 takes 4096, then 1904 < 4096 left is full: the resume point is
  //     set after it; each next window counts qt_exceeds, skips to the resume point and takes one
  //     more region: regions 0 | 1 | 2, nr_tried 3, qt_exceeds 2.
  //   v7.1: the quota is only full at charged >= esz, never here: region 0 takes 4096 and regions
  //     1-3 are tried with 0 bytes (sz aligned down to 0) every window, nothing resumes:
  //     regions 0 | 0 | 0, nr_tried 12, sz_tried 3 x 4096, qt_exceeds 0.
  const run = (kernel: KernelVersion) => {
    const ctx = makeCtx({ kernel, targets: [[[0, 4096], [4096, 8192], [8192, 12288], [12288, 16384]]] });
    const actions = new StubActions("paddr");
    const d = new Damos([spec("stat", { quota: { sz: 6000, resetIntervalMs: 1 } })], ctx, actions, new StubMemory());
    const s = d.schemes[0]!;
    const applied: number[][] = [];
    for (let w = 1; w <= 3; w++) {
      ctx.now = w * 10_000_000;
      ctx.passed = w * 1000;
      s.nextApplySis = 0;
      const n0 = actions.calls.length;
      d.apply();
      applied.push(actions.calls.slice(n0).map((c) => c.start / 4096));
    }
    return { applied, nrTried: s.stat.nrTried, szTried: s.stat.szTried, qtExceeds: s.stat.qtExceeds };
  };
  it("is full in mainline (7.2): one region per window, resumed where the last stopped", () => {
    expect(run("mainline")).toEqual({ applied: [[0], [1], [2]], nrTried: 3, szTried: 3 * 4096, qtExceeds: 2 });
  });
  it("is not full in v7.1 and older: every region tried each window, the rest with 0 bytes", () => {
    for (const k of ["v7.1", "v6.18", "v6.12"] as const) expect(run(k), k).toEqual({ applied: [[0], [0], [0]], nrTried: 12, szTried: 3 * 4096, qtExceeds: 0 });
  });
});
