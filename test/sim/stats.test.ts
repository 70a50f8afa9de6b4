// Statistics: histogram percentiles against a brute-force sort (exact for small integers, within
// the documented 1/128 bound above), counters and gauges, and the JSON / stats.txt dumps.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Histogram, Stats } from "../../sim/stats.ts";

function nearestRank(sorted: number[], p: number): number {
  if (p === 0) return sorted[0]!;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

describe("Histogram", () => {
  it("percentiles are exact for integers below 256", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 500 }), fc.integer({ min: 0, max: 100 }), (vals, p) => {
        const h = new Histogram();
        for (const v of vals) h.record(v);
        const sorted = [...vals].sort((a, b) => a - b);
        expect(h.percentile(p)).toBe(nearestRank(sorted, p));
        expect(h.min).toBe(sorted[0]);
        expect(h.max).toBe(sorted.at(-1));
        expect(h.count).toBe(vals.length);
      }),
    );
  });

  it("percentiles of large values are within the 1/128 relative bound, never above the true value", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 50 }), { minLength: 1, maxLength: 300 }), fc.double({ min: 0.1, max: 99.9, noNaN: true }), (vals, p) => {
        const h = new Histogram();
        for (const v of vals) h.record(v);
        const truth = nearestRank([...vals].sort((a, b) => a - b), p);
        const got = h.percentile(p);
        expect(got).toBeLessThanOrEqual(truth);
        expect(truth).toBeLessThan(got * (1 + 1 / 128) + 1);
      }),
    );
  });

  it("mean, stdev, weights and merge", () => {
    const a = new Histogram();
    a.record(2, 3);
    a.record(8);
    expect(a.count).toBe(4);
    expect(a.mean).toBe(3.5);
    expect(a.stdev).toBeCloseTo(3, 10);
    const b = new Histogram();
    b.record(100_000);
    a.merge(b);
    expect(a.count).toBe(5);
    expect(a.max).toBe(100_000);
    expect(a.percentile(100)).toBe(100_000);
    expect(() => a.record(-1)).toThrow(/>= 0/);
    expect(() => a.record(Infinity)).toThrow();
    expect(() => a.percentile(101)).toThrow();
  });
});

describe("Stats", () => {
  it("dumps counters, gauges and histograms as JSON and gem5-style text", () => {
    const s = new Stats();
    const c = s.counter("system.cpu0.l1d.misses", "L1D misses");
    c.add(3);
    let g = 10;
    s.gauge("system.mem.bytes", "bytes", () => g, "Byte");
    const h = s.histogram("system.lat", "latency", "Nanosecond");
    h.record(5);
    h.record(7);
    g = 11;
    const json = s.toJSON();
    expect(json["system.cpu0.l1d.misses"]).toBe(3);
    expect(json["system.mem.bytes"]).toBe(11);
    expect(json["system.lat"]).toMatchObject({ samples: 2, min: 5, max: 7, mean: 6 });
    const txt = s.toStatsTxt().split("\n");
    expect(txt).toContain("---------- Begin Simulation Statistics ----------");
    expect(txt).toContain("---------- End Simulation Statistics   ----------");
    const line = txt.find((l) => l.startsWith("system.cpu0.l1d.misses"))!;
    expect(line.slice(0, 40).trimEnd()).toBe("system.cpu0.l1d.misses");
    expect(line.slice(41, 53).trim()).toBe("3");
    expect(line).toMatch(/# L1D misses \(Count\)$/);
    expect(txt.some((l) => /^system\.lat::mean\s+6\s+# latency: Mean \(Nanosecond\)$/.test(l))).toBe(true);
  });

  it("rejects duplicate and malformed names", () => {
    const s = new Stats();
    s.counter("a.b", "x");
    expect(() => s.counter("a.b", "y")).toThrow(/already registered/);
    expect(() => s.counter("has space", "y")).toThrow(/invalid/);
    expect(() => s.value("nope")).toThrow(/no statistic/);
  });
});
