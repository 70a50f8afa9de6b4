// Ground truth's sub-window counting skips the division for times inside the last sub-window; these
// tests check it against Math.floor(t / subWindowNs) by brute force, with times on, and one ulp
// either side of, sub-window boundaries and with times going backwards (CPU clock skew).

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { GroundTruth, firstAtLeast } from "../../hw/truth.ts";

const f = new Float64Array(1);
const b = new BigInt64Array(f.buffer);
/** The adjacent double (positive x). */
function step(x: number, dir: 1 | -1): number {
  f[0] = x;
  b[0] = b[0]! + BigInt(dir);
  return f[0]!;
}

describe("firstAtLeast", () => {
  it("is the smallest double whose quotient floors to at least k", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), fc.oneof(fc.integer({ min: 1, max: 1e9 }), fc.double({ min: 0.001, max: 1e7, noNaN: true })), (k, s) => {
        const x = firstAtLeast(k, s);
        expect(Math.floor(x / s)).toBeGreaterThanOrEqual(k);
        expect(Math.floor(step(x, -1) / s)).toBeLessThan(k);
      }),
      { numRuns: 2000 },
    );
    expect(firstAtLeast(0, 5e6)).toBe(0);
  });
});

describe("GroundTruth sub-windows", () => {
  it("counts sub-windows exactly as Math.floor(t / subWindowNs) does", () => {
    const tArb = (s: number): fc.Arbitrary<number> =>
      fc.oneof(
        fc.double({ min: 0, max: 1e12, noNaN: true }),
        // on a boundary, or an ulp or two either side of it
        fc.tuple(fc.integer({ min: 0, max: 200_000 }), fc.integer({ min: -2, max: 2 })).map(([k, d]) => {
          let t = k * s;
          for (let i = 0; i < Math.abs(d); i++) t = t > 0 || d > 0 ? step(t, d > 0 ? 1 : -1) : t;
          return t;
        }),
      );
    fc.assert(
      fc.property(fc.constantFrom(5e6, 1000, 3, 7919, 1), (s) =>
        fc.assert(
          fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 7 }), tArb(s), fc.boolean()), { minLength: 1, maxLength: 300, size: "max" }), (rows) => {
            const g = new GroundTruth({ windowNs: 0, subWindowNs: s, frames: false });
            g.ensurePages(8);
            const last = new Map<number, number>();
            const count = new Map<number, number>();
            // sorted runs (a CPU's clock) with the occasional step back (another CPU's clock)
            const ts = rows.map((r) => r[1]);
            const sorted = [...ts].sort((x, y) => x - y);
            rows.forEach(([pte, _t, write], i) => {
              const t = i % 17 === 16 ? ts[i]! : sorted[i]!;
              g.record(pte, 0, write, t);
              const sub = Math.floor(t / s);
              if (last.get(pte) !== sub) {
                last.set(pte, sub);
                count.set(pte, (count.get(pte) ?? 0) + 1);
              }
            });
            for (let p = 0; p < 8; p++) expect(g.pageSubCount(p)).toBe(count.get(p) ?? 0);
          }),
          { numRuns: 40 },
        ),
      ),
      { numRuns: 10 },
    );
  });
});
