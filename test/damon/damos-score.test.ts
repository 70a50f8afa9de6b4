// DAMOS hot/cold scores worked out by hand from ops-common.c's formula, the per-ops-set mapping of
// actions to scores, and the nr_accesses DAMOS matches against under the 7.2 (mvsum) and the older
// (nr_accesses_bp / 10000) rules on a region whose two readings differ.

import { describe, expect, it } from "vitest";
import { Region } from "../../damon/region.ts";
import { patternNr } from "../../damon/schemes/pattern.ts";
import { coldScore, hotScore, regionScore, scoreKind } from "../../damon/schemes/score.ts";
import { Driver, makeCtx, spec, StubActions, StubMemory } from "./damos-helpers.ts";

const w11 = { weightNrAccesses: 1000, weightAge: 1000 };

describe("damon_hot_score / damon_cold_score", () => {
  // 20 samples per aggregation of 100 ms unless said otherwise
  const at = (nr: number, age: number, samples = 20, aggrUs = 100_000) => ({ nr, age, samples, aggrUs });

  it("nr 10 of 20, age 0: freq 50, age subscore 50 -> hot 49, cold 50", () => {
    expect(hotScore(at(10, 0), w11)).toBe(49); // (50 + 50) / 2 = 50; 50 * 99 / 100 = 49
    expect(coldScore(at(10, 0), w11)).toBe(50);
  });

  it("idle for 10 s (age 100): log 4 negated -> age subscore 43 -> hot 20, cold 79", () => {
    // age 10 s: ilog2(10) + 1 = 4, idle: -4 + 32 = 28; 28 * 100 / 32 = 87; / 2 = 43
    // (0 + 43) * 1000 / 2000 = 21; 21 * 99 / 100 = 20
    expect(hotScore(at(0, 100), w11)).toBe(20);
    expect(coldScore(at(0, 100), w11)).toBe(79);
  });

  it("always accessed for 1000 s: freq 100, log 10 -> 65 -> hot 81, cold 18", () => {
    // ilog2(1000) + 1 = 10; 42 * 100 / 32 = 131; / 2 = 65; (100 + 65) / 2 = 82; 82 * 99 / 100 = 81
    expect(hotScore(at(20, 10_000), w11)).toBe(81);
    expect(coldScore(at(20, 10_000), w11)).toBe(18);
  });

  it("frequency weight only: nr 7 of 20 -> 35 -> hot 34; no weights: hot 0, cold 99", () => {
    expect(hotScore(at(7, 12345), { weightNrAccesses: 1000, weightAge: 0 })).toBe(34);
    expect(hotScore(at(7, 12345), { weightNrAccesses: 0, weightAge: 0 })).toBe(0);
    expect(coldScore(at(7, 12345), { weightNrAccesses: 0, weightAge: 0 })).toBe(99);
  });

  it("the age log is capped at 32: 2^31 aggregations of 10 s, age weight only -> hot 99", () => {
    // age 2^31 * 10 s: ilog2 = 34, + 1 = 35 -> 32; accessed: 64 * 100 / 32 / 2 = 100; 100 * 99 / 100 = 99
    expect(hotScore(at(1, 2 ** 31, 20, 10_000_000), { weightNrAccesses: 0, weightAge: 1 })).toBe(99);
    // idle: -32 + 32 = 0 -> age subscore 0
    expect(hotScore(at(0, 2 ** 31, 20, 10_000_000), { weightNrAccesses: 0, weightAge: 1 })).toBe(0);
  });
});

describe("get_scheme_score per operations set", () => {
  it("paddr: pageout, lru_deprio, migrate_cold cold; lru_prio, migrate_hot hot; others 99", () => {
    expect(["pageout", "lru_deprio", "migrate_cold"].map((a) => scoreKind("paddr", a as never))).toEqual(["cold", "cold", "cold"]);
    expect(["lru_prio", "migrate_hot"].map((a) => scoreKind("paddr", a as never))).toEqual(["hot", "hot"]);
    expect(["stat", "willneed", "cold", "hugepage"].map((a) => scoreKind("paddr", a as never))).toEqual(["max", "max", "max", "max"]);
  });

  it("vaddr: pageout, migrate_cold cold; migrate_hot hot; lru_prio and the rest 99; an unknown set has no hook", () => {
    expect(["pageout", "migrate_cold", "migrate_hot", "lru_prio", "lru_deprio", "cold"].map((a) => scoreKind("vaddr", a as never))).toEqual(["cold", "cold", "hot", "max", "max", "max"]);
    expect(scoreKind("stub", "pageout")).toBeNull();
  });

  it("mid-window the score reads the mvsum in 7.2 and the raw count before", () => {
    // window 10 samples, 5 left: mvsum = 3 + 10 * 5000 / 10000 = 8 -> freq 80; raw 3 -> freq 30
    for (const [k, hot] of [["mainline", 79], ["v7.1", 29]] as const) {
      const ctx = makeCtx({ kernel: k, attrs: { sampleUs: 1000, aggrUs: 10_000 } });
      ctx.passed = 5;
      ctx.nextAggregationSis = 10;
      const r = new Region(0, 4096);
      r.nrAccesses = 3;
      r.lastNrAccesses = 10;
      // weights: frequency only: hot = freq * 99 / 100
      expect(regionScore("hot", ctx, r, { weightNrAccesses: 1, weightAge: 0 })).toBe(hot);
    }
  });
});

describe("nr_accesses matching: mvsum (7.2) against nr_accesses_bp / 10000 (<= 7.1)", () => {
  // Window of 3 samples; region 0 is accessed in all three samples of the first window and not in
  // the fourth. The moving sum subtracts floor(3 * 10000 / 3) = 10000 a sample: bp = 30000 - 10000
  // = 20000 -> 2. The mvsum: 2 samples left, left_bp = floor(2 * 10000 / 3) = 6666, 0 + floor(3 *
  // 6666 / 10000) = 1. A stat scheme applied every 4 samples sees it once, at sample 4.
  const sizes = 1 << 20;
  const three: Array<[number, number]> = [[0, sizes], [sizes, 2 * sizes], [2 * sizes, 3 * sizes]];
  const tried = (kernel: "mainline" | "v7.1", nr: number): number => {
    const ctx = makeCtx({ kernel, attrs: { sampleUs: 1000, aggrUs: 3000, minNrRegions: 3, maxNrRegions: 3 }, targets: [three], script: (_t, start, passed) => start === 0 && passed <= 3 });
    ctx.setSchemes([spec("stat", { applyIntervalUs: 4000, pattern: { nrAccesses: { min: nr, max: nr }, szRegion: { min: sizes, max: sizes } } })], new StubActions(), new StubMemory());
    new Driver(ctx).steps(4);
    const s = ctx.damos!.schemes[0]!;
    return s.triedRegions.filter((r) => r.start === 0).length;
  };

  it("the constructed region reads 2 under the bp rule and 1 under mvsum", () => {
    const ctx = makeCtx({ kernel: "v7.1", attrs: { sampleUs: 1000, aggrUs: 3000 } });
    const r = new Region(0, 4096);
    Object.assign(r, { nrAccesses: 0, lastNrAccesses: 3, nrAccessesBp: 20000 });
    ctx.passed = 4;
    ctx.nextAggregationSis = 6;
    expect(patternNr(ctx, r)).toBe(2);
    const ml = makeCtx({ kernel: "mainline", attrs: { sampleUs: 1000, aggrUs: 3000 } });
    ml.passed = 4;
    ml.nextAggregationSis = 6;
    expect(patternNr(ml, r)).toBe(1);
  });

  it("in a run: a pattern of exactly 2 matches region 0 under v7.1 only, exactly 1 under mainline only", () => {
    expect([tried("v7.1", 2), tried("v7.1", 1)]).toEqual([1, 0]);
    expect([tried("mainline", 2), tried("mainline", 1)]).toEqual([0, 1]);
  });
});
