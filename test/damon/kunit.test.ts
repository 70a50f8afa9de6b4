// The kernel's own DAMON test cases (KUnit "damon" and "damon-operations" suites, as listed in
// ../shared/reference/damon.md section 7 and sections 1-2), ported one by one against our code.

import { describe, expect, it } from "vitest";
import { applyMinNrRegions, mergeRegionsOf, movingSum, mvsum, nrAccessesMvsum, resetAggregated, splitRegions, splitRegionsOf, updateMonitoringResult } from "../../damon/aggregate.ts";
import { defaultAttrs, nrSamplesPerAggr, UINT_MAX, validateAttrs, type DamonAttrs } from "../../damon/attrs.ts";
import { evenlySplit, mergeTwo, Region, setRegions, splitRegionAt, Target } from "../../damon/region.ts";
import { feedLoopNextInput } from "../../damon/tuning.ts";
import { threeRegions } from "../../damon/vaddr.ts";
import { RngRoot } from "../../sim/rng.ts";

function target(ranges: Array<[number, number]>): Target {
  const t = new Target(0, null);
  t.regions = ranges.map(([s, e]) => new Region(s, e));
  return t;
}
const ranges = (t: Target): Array<[number, number]> => t.regions.map((r) => [r.start, r.end]);
const attrs = (o: Partial<DamonAttrs>): DamonAttrs => ({ ...defaultAttrs(), ...o });
const rngOf = (seed: number) => {
  const r = new RngRoot(seed).stream("test");
  return (lo: number, hi: number): number => r.range(lo, hi);
};

describe("KUnit damon core", () => {
  it("aggregate: reset moves nr_accesses to last and keeps regions and targets", () => {
    const nrs = [[42, 95, 84], [10, 20, 30], [0, 1, 2]];
    const ts = nrs.map((row) => {
      const t = target([[0, 100], [100, 200], [200, 300]]);
      t.regions.forEach((r, i) => { r.nrAccesses = row[i]!; r.nrAccessesBp = row[i]! * 10000; });
      return t;
    });
    resetAggregated(ts);
    ts.forEach((t, ti) => {
      expect(t.regions.length).toBe(3);
      t.regions.forEach((r, i) => {
        expect(r.nrAccesses).toBe(0);
        expect(r.lastNrAccesses).toBe(nrs[ti]![i]);
      });
    });
  });

  it("split_at: [0,100) at 25 gives [0,25) and [25,100) with every counter copied", () => {
    const t = target([[0, 100]]);
    const r = t.regions[0]!;
    r.nrAccesses = 7; r.nrAccessesBp = 70000; r.age = 3; r.lastNrAccesses = 5; r.probeHits = [1, 2, 3, 4];
    splitRegionAt(t, 0, 25);
    expect(ranges(t)).toEqual([[0, 25], [25, 100]]);
    const n = t.regions[1]!;
    expect([n.nrAccesses, n.nrAccessesBp, n.age, n.lastNrAccesses, n.probeHits]).toEqual([7, 70000, 3, 5, [1, 2, 3, 4]]);
  });

  it("merge_two: nr 10/20 -> 16, age 9/21 -> 17, probe hits 6/14 -> 11", () => {
    const t = target([[0, 100], [100, 300]]);
    Object.assign(t.regions[0]!, { nrAccesses: 10, age: 9 });
    Object.assign(t.regions[1]!, { nrAccesses: 20, age: 21 });
    t.regions[0]!.probeHits[0] = 6;
    t.regions[1]!.probeHits[0] = 14;
    mergeTwo(t, 0);
    expect(ranges(t)).toEqual([[0, 300]]);
    expect([t.regions[0]!.nrAccesses, t.regions[0]!.age, t.regions[0]!.probeHits[0]]).toEqual([16, 17, 11]);
  });

  it("merge_regions_of: nine regions become the six the kernel expects", () => {
    const starts = [0, 100, 114, 122, 130, 156, 170, 184, 230];
    const ends = [100, 112, 122, 130, 156, 170, 184, 230, 10170];
    const nrs = [0, 0, 10, 10, 20, 30, 1, 2, 5];
    const t = target(starts.map((s, i) => [s, ends[i]!]));
    t.regions.forEach((r, i) => { r.nrAccesses = nrs[i]!; });
    mergeRegionsOf(t, 9, 9999);
    expect(ranges(t)).toEqual([[0, 112], [114, 130], [130, 156], [156, 170], [170, 230], [230, 10170]]);
    expect(t.regions[4]!.nrAccesses).toBe(1); // (1*14 + 2*46) / 60
  });

  it("split_regions_of: never more pieces than asked", () => {
    const rand = rngOf(1);
    for (let rep = 0; rep < 100; rep++) {
      let t = target([[0, 22]]);
      splitRegionsOf(t, 2, 1, rand);
      expect(t.regions.length).toBeLessThanOrEqual(2);
      t = target([[0, 220]]);
      splitRegionsOf(t, 4, 1, rand);
      expect(t.regions.length).toBeLessThanOrEqual(4);
      t = target([[0, 220], [300, 400], [500, 700]]);
      splitRegionsOf(t, 4, 5, rand);
      expect(t.regions.length).toBeLessThanOrEqual(12);
    }
  });

  it("split_above_half_progresses (damon/next): 760 regions with max 1500 grow but stay <= 1500", () => {
    const t = target(Array.from({ length: 760 }, (_, i): [number, number] => [i * 100, (i + 1) * 100]));
    const state = { lastNrRegions: 0, rotation: 0 };
    splitRegions([t], attrs({ maxNrRegions: 1500 }), 1, rngOf(2), state, "next");
    expect(t.regions.length).toBeGreaterThan(760);
    expect(t.regions.length).toBeLessThanOrEqual(1500);
    // mainline skips the split entirely above max/2
    const t2 = target(Array.from({ length: 760 }, (_, i): [number, number] => [i * 100, (i + 1) * 100]));
    splitRegions([t2], attrs({ maxNrRegions: 1500 }), 1, rngOf(2), { lastNrRegions: 0, rotation: 0 }, "mainline");
    expect(t2.regions.length).toBe(760);
  });

  it("set_regions: the four kernel examples, and -EINVAL for overlap after alignment", () => {
    let t = target([[4, 16], [24, 32]]);
    setRegions(t, [{ start: 8, end: 28 }], 1);
    expect(ranges(t)).toEqual([[8, 16], [16, 24], [24, 28]]);
    t = target([[0, 4], [4, 17]]);
    setRegions(t, [{ start: 0, end: 15 }, { start: 25, end: 40 }], 1);
    expect(ranges(t)).toEqual([[0, 4], [4, 15], [25, 40]]);
    t = target([[0, 4], [42, 52]]);
    setRegions(t, [{ start: 0, end: 15 }, { start: 25, end: 40 }, { start: 44, end: 50 }], 1);
    expect(ranges(t)).toEqual([[0, 15], [25, 40], [44, 50]]);
    t = target([[4, 16], [24, 32]]);
    setRegions(t, [{ start: 18, end: 23 }], 1);
    expect(ranges(t)).toEqual([[18, 23]]);
    expect(() => setRegions(target([]), [{ start: 10, end: 20 }, { start: 20, end: 30 }], 4096)).toThrow(/overlap/);
  });

  it("nr_samples_per_aggr: aggr/sample, 1 when both are 0, UINT_MAX at the top", () => {
    expect(nrSamplesPerAggr({ sampleUs: 5000, aggrUs: 100000 })).toBe(20);
    expect(nrSamplesPerAggr({ sampleUs: 0, aggrUs: 0 })).toBe(1);
    expect(nrSamplesPerAggr({ sampleUs: 0, aggrUs: UINT_MAX + 1 })).toBe(UINT_MAX);
  });

  it("update_monitoring_result: nr 15 / age 20 through three interval changes", () => {
    const old = attrs({ sampleUs: 10, aggrUs: 1000 });
    const r = new Region(3, 7);
    r.nrAccesses = 15;
    r.age = 20;
    updateMonitoringResult(r, old, attrs({ sampleUs: 100, aggrUs: 10000 }), false);
    expect([r.nrAccesses, r.age]).toEqual([15, 2]);
    updateMonitoringResult(r, old, attrs({ sampleUs: 1, aggrUs: 1000 }), false);
    expect([r.nrAccesses, r.age]).toEqual([150, 2]);
    updateMonitoringResult(r, old, attrs({ sampleUs: 1, aggrUs: 100 }), false);
    expect([r.nrAccesses, r.age]).toEqual([150, 20]);
  });

  it("set_attrs: {10, 1000, 5000, 100000} is valid; min 1, max 9, aggr 4999 are not", () => {
    const ok = attrs({ minNrRegions: 10, maxNrRegions: 1000, sampleUs: 5000, aggrUs: 100000 });
    expect(() => validateAttrs(ok)).not.toThrow();
    expect(() => validateAttrs({ ...ok, minNrRegions: 1 })).toThrow(/minNrRegions/);
    expect(() => validateAttrs({ ...ok, maxNrRegions: 9 })).toThrow(/maxNrRegions/);
    expect(() => validateAttrs({ ...ok, aggrUs: 4999 })).toThrow(/aggrUs/);
    expect(() => validateAttrs({ ...ok, intervalsGoal: { accessBp: 400, aggrs: 3, minSampleUs: 6000, maxSampleUs: 10000 } })).toThrow(/intervalsGoal/);
    expect(() => validateAttrs({ ...ok, intervalsGoal: { accessBp: 400, aggrs: 3, minSampleUs: 9000, maxSampleUs: 1000 } })).toThrow(/minSampleUs/);
    expect(() => validateAttrs({ ...ok, intervalsGoal: { accessBp: 400, aggrs: 0, minSampleUs: 9000, maxSampleUs: 1000 } })).not.toThrow();
  });

  it("moving_sum (mainline): the kernel's ten-step table", () => {
    const inputs = [10000, 0, 10000, 0, 0, 0, 10000, 0, 0, 0];
    const expected = [55000, 50000, 55000, 50000, 45000, 40000, 45000, 40000, 35000, 30000];
    let mv = 50000;
    inputs.forEach((x, i) => {
      mv = movingSum(mv, 50000, 10, x);
      expect(mv).toBe(expected[i]);
    });
  });

  it("mvsum and nr_accesses_mvsum (damon/next): the kernel's tables", () => {
    expect([mvsum(0, 49, 10000), mvsum(3, 10, 7000), mvsum(3, 10, 5000), mvsum(32, 100, 1000), mvsum(42, 49, 0)]).toEqual([49, 10, 8, 42, 42]);
    const rows: Array<[number, number, number, number, number]> = [[0, 10, 5, 3, 3], [0, 10, 0, 7, 7], [5, 10, 3, 10, 8], [8, 10, 3, 10, 5], [10, 10, 42, 49, 42]];
    for (const [passed, next, nr, last, want] of rows) {
      const r = new Region(0, 1);
      r.nrAccesses = nr;
      r.lastNrAccesses = last;
      expect(nrAccessesMvsum(r, { sampleUs: 1, aggrUs: 10 }, passed, next)).toBe(want);
    }
  });

  it("apply_min_nr_regions: the kernel's (size, min_sz, min_nr -> limit, count) cases", () => {
    for (const [size, minSz, minNr, limit, count] of [[10, 1, 10, 1, 10], [10, 1, 15, 1, 10], [10, 2, 2, 6, 2], [10, 2, 10, 2, 5]] as const) {
      const t = target([[0, size]]);
      expect(applyMinNrRegions([t], minNr, minSz)).toBe(limit);
      expect(t.regions.length).toBe(count);
      expect(t.regions.at(-1)!.end).toBe(size);
    }
  });

  it("feed_loop_next_input: low scores grow the input, very high ones shrink it", () => {
    const last = 900000;
    expect(feedLoopNextInput(last, 200)).toBeGreaterThan(last);
    expect(feedLoopNextInput(last, 250_000_000)).toBeLessThan(last);
    expect(feedLoopNextInput(last, 200)).toBeGreaterThan(feedLoopNextInput(last, 2000));
    expect(feedLoopNextInput(last, 10000)).toBe(last);
  });

  it("rand: damon_rand(0, 10) stays in [0, 9]", () => {
    const rand = rngOf(3);
    const seen = new Set<number>();
    for (let i = 0; i < 10000; i++) {
      const v = rand(0, 10);
      expect(v >= 0 && v <= 9).toBe(true);
      seen.add(v);
    }
    expect(seen.size).toBe(10);
  });
});

describe("KUnit damon-operations (vaddr)", () => {
  it("three_regions_in_vmas: [10,25) [200,220) [300,330)", () => {
    const vmas = [[10, 20], [20, 25], [200, 210], [210, 220], [300, 305], [307, 330]].map(([start, end]) => ({ start: start!, end: end! }));
    expect(threeRegions(vmas, 1)).toEqual([{ start: 10, end: 25 }, { start: 200, end: 220 }, { start: 300, end: 330 }]);
    expect(threeRegions([{ start: 0, end: 10 }, { start: 20, end: 30 }], 1)).toBeNull();
  });

  const initial = (): Target => target([[10, 20], [20, 30], [50, 55], [55, 57], [57, 59], [70, 80], [80, 90], [90, 100]]);
  it.each([
    ["1", [[5, 27], [45, 55], [73, 104]], [[5, 20], [20, 27], [45, 55], [73, 80], [80, 90], [90, 104]]],
    ["2", [[5, 27], [56, 57], [65, 104]], [[5, 20], [20, 27], [56, 57], [65, 80], [80, 90], [90, 104]]],
    ["3", [[5, 27], [61, 63], [65, 104]], [[5, 20], [20, 27], [61, 63], [65, 80], [80, 90], [90, 104]]],
    ["4", [[5, 7], [30, 32], [65, 68]], [[5, 7], [30, 32], [65, 68]]],
  ])("apply_three_regions%s", (_n, three, want) => {
    const t = initial();
    setRegions(t, three.map(([start, end]) => ({ start: start!, end: end! })), 1);
    expect(ranges(t)).toEqual(want);
  });

  it("split_evenly: success and failure cases", () => {
    const ok: Array<[number, number, number, Array<[number, number]>]> = [
      [0, 100, 10, Array.from({ length: 10 }, (_, i): [number, number] => [i * 10, i * 10 + 10])],
      [5, 59, 5, [[5, 15], [15, 25], [25, 35], [35, 45], [45, 59]]],
      [4, 6, 1, [[4, 6]]],
      [0, 3, 2, [[0, 1], [1, 3]]],
    ];
    for (const [s, e, nr, want] of ok) {
      const t = target([[s, e]]);
      expect(evenlySplit(t, 0, nr, 1)).toBe(true);
      expect(ranges(t)).toEqual(want);
    }
    for (const [s, e, nr] of [[0, 100, 0], [5, 6, 2]] as const) {
      const t = target([[s, e]]);
      expect(evenlySplit(t, 0, nr, 1)).toBe(false);
      expect(ranges(t)).toEqual([[s, e]]);
    }
  });
});
