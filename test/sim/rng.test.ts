// Seeded randomness: reproducibility, independence of named sub-streams, state save/restore,
// and the ranges and uniformity of the integer helpers.

import { describe, expect, it } from "vitest";
import { Rng, RngRoot, deriveSeed } from "../../sim/rng.ts";

const draw = (r: Rng, n: number): number[] => Array.from({ length: n }, () => r.uint32());

describe("RngRoot", () => {
  it("is reproducible for a seed and differs across seeds", () => {
    expect(draw(new RngRoot(1).stream("a"), 20)).toEqual(draw(new RngRoot(1).stream("a"), 20));
    expect(draw(new RngRoot(1).stream("a"), 20)).not.toEqual(draw(new RngRoot(2).stream("a"), 20));
    expect(draw(new RngRoot("1").stream("a"), 20)).not.toEqual(draw(new RngRoot(1).stream("a"), 20));
  });

  it("sub-streams are independent: creating or drawing from others never changes a stream", () => {
    const alone = draw(new RngRoot(7).stream("damon.sampling"), 50);
    const root = new RngRoot(7);
    const other = root.stream("hw.ibs");
    draw(other, 13);
    const s = root.stream("damon.sampling");
    const mixed: number[] = [];
    for (let i = 0; i < 50; i++) {
      mixed.push(s.uint32());
      root.stream(`extra${i}`).uint32();
      other.uint32();
    }
    expect(mixed).toEqual(alone);
    expect(root.stream("damon.sampling")).toBe(s);
  });

  it("nearby names give unrelated streams", () => {
    const a = draw(new RngRoot(3).stream("cpu0"), 1000);
    const b = draw(new RngRoot(3).stream("cpu1"), 1000);
    const same = a.filter((x, i) => x === b[i]).length;
    expect(same).toBeLessThan(3);
    expect(deriveSeed(3, "cpu0")).not.toBe(deriveSeed(3, "cpu1"));
  });

  it("saves and restores the exact state", () => {
    const root = new RngRoot(11);
    const s = root.stream("x");
    draw(s, 100);
    const saved = JSON.parse(JSON.stringify(root.saveState()));
    const next = draw(s, 30);
    const again = RngRoot.restore(saved).stream("x");
    expect(draw(again, 30)).toEqual(next);
    const st = s.state();
    const a = draw(s, 5);
    expect(draw(new Rng("x", st), 5)).toEqual(a);
  });
});

describe("Rng helpers", () => {
  it("int(n) and range(lo, hi) stay in range and are roughly uniform", () => {
    const r = new RngRoot(5).stream("u");
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const v = r.int(10);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(10);
      counts[v]++;
    }
    // chi-square with 9 degrees of freedom: 27.9 is the 0.1% critical value.
    const chi = counts.reduce((a, c) => a + (c - 10_000) ** 2 / 10_000, 0);
    expect(chi).toBeLessThan(27.9);
    for (let i = 0; i < 10_000; i++) {
      const v = r.range(2 ** 40, 2 ** 40 + 3);
      expect(v >= 2 ** 40 && v < 2 ** 40 + 3 && Number.isInteger(v)).toBe(true);
    }
    expect(() => r.range(5, 5)).toThrow(/empty/);
  });

  it("next() and double() are in [0, 1)", () => {
    const r = new RngRoot(9).stream("f");
    for (let i = 0; i < 10_000; i++) {
      const a = r.next();
      const b = r.double();
      expect(a >= 0 && a < 1 && b >= 0 && b < 1).toBe(true);
    }
  });

  it("rejects a non-integer numeric seed", () => {
    expect(() => new RngRoot(1.5)).toThrow(/integer/);
  });
});
