// The kernel's DAMOS KUnit cases (suite "damon", damos.md section 7), ported against the scheme
// core: ML72 (mainline) cases under the mainline rules, the NEXT-only ones under the next rules
// (with what mainline does instead where it differs). The commit_* cases are not ported: the
// simulator has no online commit path (a scheme set is built whole by DamonContext.setSchemes).

import { describe, expect, it } from "vitest";
import { Region, Target } from "../../damon/region.ts";
import { applyScheme, goalContext } from "../../damon/schemes/apply.ts";
import { Damos } from "../../damon/schemes/damos.ts";
import { coreFilterMatch, filtersDefaultReject } from "../../damon/schemes/filters.ts";
import { refreshGoal } from "../../damon/schemes/goals.ts";
import { patternNr } from "../../damon/schemes/pattern.ts";
import { setEffectiveQuota } from "../../damon/schemes/quota.ts";
import type { DamosFilter, SchemeActions, SchemeSpec } from "../../damon/schemes/types.ts";
import { feedLoopNextInputU64 } from "../../damon/tuning.ts";
import { ULONG_MAX } from "../../damon/u64.ts";
import type { KernelVersion } from "../../damon/kernel.ts";
import { goal, makeCtx, ranges, spec, StubActions, StubMemory } from "./damos-helpers.ts";

const addr = (start: number, end: number, allow: boolean): DamosFilter => ({ type: "addr", matching: true, allow, addrStart: start, addrEnd: end });

describe("KUnit damos_test_filter_out", () => {
  it("addr filter [2, 6) with min_sz 1: inside, before, after, straddling the start, straddling the end", () => {
    const t = new Target(0, null);
    const f = addr(2, 6, false);
    const r = new Region(3, 5);
    t.regions = [r];
    expect(coreFilterMatch([t], t, 0, f, 1)).toBe(true);
    expect(t.regions.length).toBe(1);
    [r.start, r.end] = [1, 2];
    expect(coreFilterMatch([t], t, 0, f, 1)).toBe(false);
    expect(t.regions.length).toBe(1);
    [r.start, r.end] = [6, 8];
    expect(coreFilterMatch([t], t, 0, f, 1)).toBe(false);
    expect(t.regions.length).toBe(1);
    [r.start, r.end] = [1, 4];
    expect(coreFilterMatch([t], t, 0, f, 1)).toBe(false);
    expect(ranges(t)).toEqual([[1, 2], [2, 4]]);
    expect(t.regions[0]).toBe(r);
    t.regions.splice(1, 1);
    [r.start, r.end] = [2, 8];
    expect(coreFilterMatch([t], t, 0, f, 1)).toBe(true);
    expect(ranges(t)).toEqual([[2, 6], [6, 8]]);
  });
});

describe("KUnit damon_test_feed_loop_next_input", () => {
  it("last 900,000: score 200 grows it to 1,782,000, 250,000,000 shrinks it to the minimum, 2000 grows it less", () => {
    const last = 900_000n;
    expect(feedLoopNextInputU64(last, 200n)).toBe(1_782_000n); // 900,000 + 900,000 * 9,800 / 10,000
    expect(feedLoopNextInputU64(last, 250_000_000n)).toBe(10_000n);
    expect(feedLoopNextInputU64(last, 2000n)).toBe(1_620_000n); // 900,000 + 900,000 * 8,000 / 10,000
    expect(feedLoopNextInputU64(last, 10_000n)).toBe(last);
    expect(feedLoopNextInputU64(last, 15_000n)).toBe(450_000n); // over by half: 900,000 - 450,000
  });

  it("overflow: last / goal * diff when last * diff would wrap, and saturation at ULONG_MAX", () => {
    const half = ULONG_MAX / 2n; // 9,223,372,036,854,775,807 > ULONG_MAX / 10,000
    // comp = half / 10000 * 10000 = 9,223,372,036,854,770,000 (the divide-first form drops 5,807)
    expect(feedLoopNextInputU64(half, 0n)).toBe(18_446_744_073_709_545_807n);
    expect(feedLoopNextInputU64(ULONG_MAX - 5n, 0n)).toBe(ULONG_MAX);
    // over-achieving: 2^62 > ULONG_MAX / 5000, comp = 2^62 / 10000 * 5000 = 2,305,843,009,213,690,000
    expect(feedLoopNextInputU64(1n << 62n, 15_000n)).toBe(2_305_843_009_213_697_904n);
  });
});

describe("KUnit damon_test_set_filters_default_reject", () => {
  it("(core, ops) defaults as filters are added and flipped", () => {
    const target: DamosFilter = { type: "target", matching: true, allow: true, targetIdx: 0 };
    const anon: DamosFilter = { type: "anon", matching: true, allow: true };
    expect(filtersDefaultReject([], [])).toEqual({ core: false, ops: false });
    expect(filtersDefaultReject([target], [])).toEqual({ core: true, ops: false });
    expect(filtersDefaultReject([{ ...target, allow: false }], [])).toEqual({ core: false, ops: false });
    expect(filtersDefaultReject([{ ...target, allow: false }], [anon])).toEqual({ core: false, ops: true });
    expect(filtersDefaultReject([target], [anon])).toEqual({ core: false, ops: true });
  });
});

describe("KUnit damon_test_nr_accesses_mvsum as DAMOS reads it", () => {
  it("sample 1, aggr 10: (passed, next_aggr, nr, last) -> the nr_accesses a pattern is matched against (mainline)", () => {
    const ctx = makeCtx({ attrs: { sampleUs: 1, aggrUs: 10 } });
    const r = new Region(0, 4096);
    for (const [passed, next, nr, last, want] of [[0, 10, 5, 3, 3], [0, 10, 0, 7, 7], [5, 10, 3, 10, 8], [8, 10, 3, 10, 5], [10, 10, 42, 49, 42]] as const) {
      ctx.passed = passed;
      ctx.nextAggregationSis = next;
      r.nrAccesses = nr;
      r.lastNrAccesses = last;
      expect(patternNr(ctx, r)).toBe(want);
    }
  });
});

/** A context with one target and a stat scheme whose ops apply_scheme returns 0 (the KUnit stub). */
function stubbed(kernel: KernelVersion, s: SchemeSpec, actions: SchemeActions | null = new StubActions("paddr", () => ({ appliedBytes: 0, filterPassedBytes: 0, costNs: 0 }))) {
  const ctx = makeCtx({ kernel, targets: [[]] });
  const d = new Damos([s], ctx, actions, new StubMemory());
  const sc = d.schemes[0]!;
  const t = ctx.targets[0]!;
  const apply = (start: number, end: number): Region => {
    const r = new Region(start, end);
    t.regions = [r];
    applyScheme(d.env, t, 0, sc);
    return r;
  };
  return { ctx, d, s: sc, t, apply };
}

const m = 4096;

describe("KUnit damos_test_apply_scheme_filtered_sz (next; mainline counts before the filter's split)", () => {
  it("reject [2m, 8m) over [0, 4m): 2 regions, r.end 2m, sz_tried 2m (mainline 4m)", () => {
    for (const [k, want] of [["next", 2 * m], ["mainline", 4 * m]] as const) {
      const { s, t, apply } = stubbed(k, spec("stat", { coreFilters: [addr(2 * m, 8 * m, false)] }));
      const r = apply(0, 4 * m);
      expect(t.regions.length).toBe(2);
      expect(r.end).toBe(2 * m);
      expect(s.stat.szTried).toBe(want);
    }
  });

  it("allow [2m, 8m) over [2m, 10m): r.end 8m, sz_tried 6m (mainline 8m)", () => {
    for (const [k, want] of [["next", 6 * m], ["mainline", 8 * m]] as const) {
      const { s, t, apply } = stubbed(k, spec("stat", { coreFilters: [addr(2 * m, 8 * m, true)] }));
      const r = apply(2 * m, 10 * m);
      expect(t.regions.length).toBe(2);
      expect(r.end).toBe(8 * m);
      expect(s.stat.szTried).toBe(want);
    }
  });
});

describe("KUnit damos_test_apply_scheme_filter_sz_unchanged (next)", () => {
  it("inside a reject range: not tried; inside an allow range: whole, unsplit", () => {
    const { s, t, apply, d } = stubbed("next", spec("stat", { coreFilters: [addr(2 * m, 8 * m, false)] }));
    apply(4 * m, 6 * m);
    expect([s.stat.nrTried, s.stat.szTried, t.regions.length]).toEqual([0, 0, 1]);
    const allowing = new Damos([spec("stat", { coreFilters: [addr(2 * m, 8 * m, true)] })], d.ctx, d.actions, d.memory).schemes[0]!;
    applyScheme(d.env, t, 0, allowing);
    expect([allowing.stat.szTried, t.regions.length]).toEqual([2 * m, 1]);
  });

  it("two reject filters [4m, 12m) and [2m, 3m) over [0, 8m): 3 regions, r.end 2m, sz_tried 2m; then a target allow filter: 2m", () => {
    const { s, t, apply, d } = stubbed("next", spec("stat", { coreFilters: [addr(4 * m, 12 * m, false), addr(2 * m, 3 * m, false)] }));
    const r = apply(0, 8 * m);
    expect(ranges(t)).toEqual([[0, 2 * m], [2 * m, 4 * m], [4 * m, 8 * m]]);
    expect(r.end).toBe(2 * m);
    expect(s.stat.szTried).toBe(2 * m);
    const byTarget = new Damos([spec("stat", { coreFilters: [{ type: "target", matching: true, allow: true, targetIdx: 0 }] })], d.ctx, d.actions, d.memory).schemes[0]!;
    applyScheme(d.env, t, 0, byTarget);
    expect([t.regions.length, r.end, byTarget.stat.szTried]).toEqual([3, 2 * m, 2 * m]);
  });
});

describe("KUnit damos_test_apply_scheme_quota_sz (next)", () => {
  it("no apply_scheme: the whole region; no quota: whole; esz 2m over [0, 8m): trimmed to 2m; esz 1: tried, 0 bytes, no split", () => {
    const none = stubbed("next", spec("stat"), null);
    none.apply(0, 4 * m);
    expect([none.s.stat.szTried, none.t.regions.length]).toEqual([4 * m, 1]);
    const { s, t, apply } = stubbed("next", spec("stat"));
    apply(0, 4 * m);
    expect([s.stat.szTried, t.regions.length]).toEqual([4 * m, 1]);
    s.stat.szTried = 0;
    s.quota.esz = 2 * m;
    s.quota.chargedSz = 0;
    const r = apply(0, 8 * m);
    expect([r.end, s.stat.szTried]).toEqual([2 * m, 2 * m]);
    s.stat.nrTried = 0;
    s.stat.szTried = 0;
    s.quota.esz = 1;
    s.quota.chargedSz = 0;
    const r2 = apply(0, 4 * m);
    expect([s.stat.nrTried, s.stat.szTried, r2.end, t.regions.length]).toEqual([1, 0, 4 * m, 1]);
  });
});

describe("KUnit damos_test_esz_goal_temporal (next; 7.2 wraps sz * 10000)", () => {
  it("sz = ULONG_MAX / 10^4 gives that; one more, or ULONG_MAX, saturates there (mainline: wraps to 0)", () => {
    const top = Number(ULONG_MAX / 10000n); // 1,844,674,407,370,955 (exact in a double)
    for (const k of ["next", "mainline"] as const) {
      const { d, s } = stubbed(k, spec("stat", { quota: { goalTuner: "temporal", goals: [goal("user_input", 10000)] } }));
      const esz = (sz: number): number => {
        s.quota.spec.sz = sz;
        setEffectiveQuota(s.quota, s.goals, goalContext(d.env, s));
        return s.quota.esz;
      };
      expect(esz(top)).toBe(top);
      // (top + 1) * 10000 = 2^64 + 8384: next saturates, 7.2 keeps 8384 bp = 0 bytes
      expect(esz(top + 1)).toBe(k === "next" ? top : 0);
      // ULONG_MAX * 10000 wraps to 2^64 - 10000 in 7.2: esz 1,844,674,407,370,954
      expect(esz(2 ** 64)).toBe(k === "next" ? top : top - 1);
    }
  });
});

describe("KUnit damos_test_set_psi_current_val (next's U64_MAX sentinel; mainline starts from 0)", () => {
  it("consist: first read gives the target, then deltas; temporal: the target with esz 0, else 0; then the delta", () => {
    const mem = new StubMemory();
    const { d, s } = stubbed("next", spec("stat", { quota: { goals: [goal("some_mem_psi_us", 100)] } }));
    const env = { ...d.env, memory: mem };
    const g = s.goals[0]!;
    const read = (now: number, tuner: "consist" | "temporal", esz: number): [bigint, bigint] => {
      mem.stallUs = now;
      refreshGoal(g, { ...goalContext(env, s), tuner, esz });
      return [g.currentValue, g.lastPsiTotal];
    };
    expect(g.lastPsiTotal).toBe(ULONG_MAX);
    expect(read(1000, "consist", 0)).toEqual([100n, 1000n]);
    expect(read(1030, "consist", 0)).toEqual([30n, 1030n]);
    g.lastPsiTotal = ULONG_MAX;
    expect(read(2000, "temporal", 0)).toEqual([100n, 2000n]);
    g.lastPsiTotal = ULONG_MAX;
    expect(read(3000, "temporal", 65536)).toEqual([0n, 3000n]);
    expect(read(3250, "temporal", 65536)).toEqual([250n, 3250n]);

    const ml = stubbed("mainline", spec("stat", { quota: { goals: [goal("some_mem_psi_us", 100)] } }));
    const gm = ml.s.goals[0]!;
    expect(gm.lastPsiTotal).toBe(0n);
    mem.stallUs = 1000;
    refreshGoal(gm, { ...goalContext({ ...ml.d.env, memory: mem }, ml.s) });
    expect(gm.currentValue).toBe(1000n);
  });
});

describe("KUnit damos_test_new_scheme_keeps_src_quota (next)", () => {
  it("building a scheme leaves the spec untouched and starts every runtime quota field at zero", () => {
    const src = spec("stat", { quota: { sz: 65536, goals: [goal("user_input", 123, { currentValue: 12 }), goal("user_input", 0)] } });
    const before = JSON.stringify(src);
    const { s } = stubbed("next", src);
    expect(JSON.stringify(src)).toBe(before);
    expect(s.spec.quota.sz).toBe(65536);
    const q = s.quota;
    expect([q.esz, q.eszBp, q.totalChargedSz, q.totalChargedNs, q.chargedSz, q.chargedFrom, q.chargeTargetFrom, q.chargeAddrFrom]).toEqual([0, 0n, 0, 0, 0, 0, null, 0]);
    // sysfs drops goals whose target is 0
    expect(s.goals.map((g) => g.goal.targetValue)).toEqual([123]);
  });
});

describe("next's complement flag on some_mem_psi_us (damos_set_psi_current_val, kernel-patches/bpf core.c@006e6a85)", () => {
  it("is the reset window's microseconds less the stall, at least 0, and not applied to the sentinel's first read", () => {
    const mem = new StubMemory();
    const { d, s } = stubbed("next", spec("stat", { quota: { resetIntervalMs: 1000, goals: [goal("some_mem_psi_us", 100, { complement: true })] } }));
    const env = { ...d.env, memory: mem };
    const g = s.goals[0]!;
    const read = (stallUs: number): bigint => {
      mem.stallUs = stallUs;
      refreshGoal(g, goalContext(env, s));
      return g.currentValue;
    };
    // first read (sentinel): the target, uncomplemented
    expect(read(5000)).toBe(100n);
    // 300 us of stall in a 1 s window: 1,000,000 - 300
    expect(read(5300)).toBe(999_700n);
    // more stall than the window: 0
    expect(read(5300 + 2_000_000)).toBe(0n);
  });
});
