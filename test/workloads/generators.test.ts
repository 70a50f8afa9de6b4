// Access generators: hand-computed sequences (sequential, strided), distributions checked against
// independently computed expectations (uniform coverage, the Zipf pmf, hot/cold shares, write
// fractions, mix weights), the pointer-chase cycle, the time-following working set, determinism.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AccessBatch, AccessKind } from "../../hw/batch.ts";
import { RngRoot } from "../../sim/rng.ts";
import { AliasTable } from "../../workloads/alias.ts";
import { HotColdPattern } from "../../workloads/generators/hot-cold.ts";
import { MixPattern } from "../../workloads/generators/mix.ts";
import { PointerChasePattern, randomCycle } from "../../workloads/generators/pointer-chase.ts";
import { SequentialPattern } from "../../workloads/generators/sequential.ts";
import { UniformPattern } from "../../workloads/generators/uniform.ts";
import { WorkingSetPattern } from "../../workloads/generators/working-set.ts";
import { ZipfPattern, scrambleMultiplier } from "../../workloads/generators/zipf.ts";
import { DEFAULT_STYLE, type AccessStyle, type Pattern } from "../../workloads/pattern.ts";
import { chiSquare, chiSquareBound, ctx, drain, withinBinomial } from "./helpers.ts";

const BASE = 0x7f0000000000;
const style = (s: Partial<AccessStyle> = {}): AccessStyle => ({ ...DEFAULT_STYLE, ...s });

describe("sequential and strided", () => {
  it("sweeps from offset 0 by the access size and wraps when the next access would not fit", () => {
    const p = new SequentialPattern({ base: BASE, size: 40 }, style({ accessSize: 8 }), {}, ctx());
    // offsets 0, 8, 16, 24, 32 (32 + 8 = 40 fits), then back to 0
    expect(drain(p, 12).addr.map((a) => a - BASE)).toEqual([0, 8, 16, 24, 32, 0, 8, 16, 24, 32, 0, 8]);
  });

  it("strides by the given distance, restarting at 0 when a stride overshoots", () => {
    const p = new SequentialPattern({ base: BASE, size: 3 * 4096 + 100 }, style({ accessSize: 8 }), { stride: 4096 }, ctx());
    expect(drain(p, 9).addr.map((a) => a - BASE)).toEqual([0, 4096, 8192, 12288, 0, 4096, 8192, 12288, 0]);
    const q = new SequentialPattern({ base: BASE, size: 44 }, style({ accessSize: 8 }), { stride: 16 }, ctx());
    expect(drain(q, 7).addr.map((a) => a - BASE)).toEqual([0, 16, 32, 0, 16, 32, 0]);
  });

  it("keeps its position across batches of any size", () => {
    const whole = drain(new SequentialPattern({ base: BASE, size: 1000 }, style({ accessSize: 4 }), { stride: 12 }, ctx()), 500, 0, 500).addr;
    const pieces = drain(new SequentialPattern({ base: BASE, size: 1000 }, style({ accessSize: 4 }), { stride: 12 }, ctx()), 500, 0, 7).addr;
    expect(pieces).toEqual(whole);
  });
});

describe("uniform", () => {
  it("covers every aligned slot evenly (chi-square against the flat distribution)", () => {
    const slots = 64;
    const p = new UniformPattern({ base: BASE, size: slots * 8 }, style(), {}, ctx(3));
    const n = 320_000;
    const counts = new Array<number>(slots).fill(0);
    let misaligned = 0;
    for (const a of drain(p, n, 0, 4096).addr) {
      if ((a - BASE) % 8 !== 0) misaligned++;
      counts[Math.floor((a - BASE) / 8)]!++;
    }
    expect(misaligned).toBe(0);
    expect(Math.min(...counts)).toBeGreaterThan(0);
    expect(chiSquare(counts, new Array(slots).fill(n / slots))).toBeLessThan(chiSquareBound(slots - 1));
  });

  it("respects align and never runs past the end", () => {
    const p = new UniformPattern({ base: BASE, size: 1000 }, style({ accessSize: 8 }), { align: 64 }, ctx());
    const seen = new Set(drain(p, 20_000).addr.map((a) => a - BASE));
    // slots at 0, 64, ..., 960 (960 + 8 <= 1000): 16 of them
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i * 64));
  });
});

describe("zipf", () => {
  const pmf = (n: number, s: number): number[] => {
    const w = Array.from({ length: n }, (_, i) => 1 / Math.pow(i + 1, s));
    const h = w.reduce((a, b) => a + b, 0);
    return w.map((x) => x / h);
  };

  for (const s of [0.5, 0.99, 1.3]) {
    it(`item frequencies follow k^-${s} / H(n, ${s}) (chi-square)`, () => {
      const n = 50;
      const p = new ZipfPattern({ base: BASE, size: n * 4096 }, style(), { exponent: s, granularity: 4096, scramble: false }, ctx(5));
      const draws = 400_000;
      const counts = new Array<number>(n).fill(0);
      for (const a of drain(p, draws, 0, 4096).addr) counts[Math.floor((a - BASE) / 4096)]!++;
      const expected = pmf(n, s).map((q) => q * draws);
      expect(chiSquare(counts, expected)).toBeLessThan(chiSquareBound(n - 1));
      expect(counts[0]).toBeGreaterThan(counts[n - 1]!);
    });
  }

  it("scramble permutes items (a bijection) and keeps the rank frequencies", () => {
    const n = 40;
    const p = new ZipfPattern({ base: BASE, size: n * 4096 }, style(), { exponent: 1, granularity: 4096, scramble: true }, ctx(6));
    const items = Array.from({ length: n }, (_, k) => p.itemOfRank(k));
    expect(new Set(items).size).toBe(n);
    expect(items.slice(0, 5)).not.toEqual([0, 1, 2, 3, 4]);
    const draws = 200_000;
    const counts = new Array<number>(n).fill(0);
    for (const a of drain(p, draws, 0, 4096).addr) counts[Math.floor((a - BASE) / 4096)]!++;
    const expected = pmf(n, 1).map((q) => q * draws);
    const byRank = items.map((item) => counts[item]!);
    expect(chiSquare(byRank, expected)).toBeLessThan(chiSquareBound(n - 1));
  });

  it("the scramble multiplier is coprime with n for many n", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1 << 22 }), (n) => {
        const m = scrambleMultiplier(n);
        let a = m, b = n;
        while (b) [a, b] = [b, a % b];
        return a === 1;
      }),
    );
  });

  it("picks offsets inside the chosen item, aligned to the access size", () => {
    const p = new ZipfPattern({ base: BASE, size: 8 * 4096 }, style({ accessSize: 64 }), { exponent: 0.8, granularity: 4096, scramble: false }, ctx());
    const offsets = new Set(drain(p, 50_000).addr.map((a) => (a - BASE) % 4096));
    for (const o of offsets) expect(o % 64).toBe(0);
    expect(offsets.size).toBe(64);
  });
});

describe("alias table", () => {
  it("implies exactly the given probabilities", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1000, noNaN: true }), { minLength: 1, maxLength: 60 }), (ws) => {
        const total = ws.reduce((a, b) => a + b, 0);
        if (!(total > 0)) return true;
        const t = new AliasTable(ws);
        return ws.every((w, k) => Math.abs(t.probabilityOf(k) - w / total) < 1e-9);
      }),
    );
  });
});

describe("pointer chase", () => {
  it("visits every element exactly once per cycle, then repeats the same cycle", () => {
    const n = 1000;
    const p = new PointerChasePattern({ base: BASE, size: n * 64 + 10 }, style(), { granularity: 64 }, ctx(9));
    const addrs = drain(p, 3 * n, 0, 333).addr;
    const first = addrs.slice(0, n).map((a) => (a - BASE) / 64);
    expect(new Set(first).size).toBe(n);
    expect(Math.max(...first)).toBe(n - 1);
    expect(addrs.slice(n, 2 * n)).toEqual(addrs.slice(0, n));
    expect(addrs.slice(2 * n)).toEqual(addrs.slice(0, n));
    // not a sequential walk
    expect(first.filter((e, i) => i > 0 && e === first[i - 1]! + 1).length).toBeLessThan(20);
  });

  it("Sattolo's shuffle always yields a single cycle", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer(), (n, seed) => {
        const next = randomCycle(n, new RngRoot(seed).stream("c"));
        let cur = 0, steps = 0;
        do {
          cur = next[cur]!;
          steps++;
        } while (cur !== 0 && steps <= n);
        return steps === n;
      }),
      { numRuns: 50 },
    );
  });
});

describe("hot/cold", () => {
  it("sends hotProbability of accesses to the hot part, uniformly, and the rest outside it", () => {
    const size = 100 * 4096;
    const p = new HotColdPattern({ base: BASE, size }, style(), { hotFraction: 0.1, hotProbability: 0.8, hotOffset: 40 * 4096 }, ctx(4));
    const n = 200_000;
    const addrs = drain(p, n, 0, 4096).addr.map((a) => a - BASE);
    const hotLo = 40 * 4096, hotHi = 50 * 4096;
    const hot = addrs.filter((o) => o >= hotLo && o < hotHi);
    expect(withinBinomial(hot.length, n, 0.8)).toBe(true);
    // cold accesses on both sides of the hot part, in proportion to their sizes (40 : 50 pages)
    const below = addrs.filter((o) => o < hotLo).length;
    const above = addrs.filter((o) => o >= hotHi).length;
    expect(withinBinomial(below, below + above, 40 / 90)).toBe(true);
    // hot part: 10 pages evenly
    const perPage = new Array<number>(10).fill(0);
    for (const o of hot) perPage[Math.floor((o - hotLo) / 4096)]!++;
    expect(chiSquare(perPage, new Array(10).fill(hot.length / 10))).toBeLessThan(chiSquareBound(9));
    expect(addrs.reduce((m, x) => Math.max(m, x), 0)).toBeLessThanOrEqual(size - 8);
  });
});

describe("hot/cold edges", () => {
  it("with probability 0 or 1, touches exactly the cold or exactly the hot slots", () => {
    const slots = (p: number) => {
      const pat = new HotColdPattern({ base: BASE, size: 16 * 8 }, style(), { hotFraction: 0.25, hotProbability: p, hotOffset: 32 }, ctx());
      return [...new Set(drain(pat, 5000).addr.map((a) => (a - BASE) / 8))].sort((a, b) => a - b);
    };
    expect(slots(0)).toEqual([0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(slots(1)).toEqual([4, 5, 6, 7]);
  });
});

describe("working set", () => {
  it("follows simulated time: min at the start, max at half the period (triangle)", () => {
    const MiB = 1 << 20;
    const p = new WorkingSetPattern({ base: BASE, size: 64 * MiB }, style(), { minBytes: 8 * MiB, maxBytes: 64 * MiB, period: 1e9, shape: "triangle", access: "random", granularity: 4096 }, ctx());
    p.begin(5e9);
    expect(p.windowAt(5e9)).toBe(8 * MiB);
    expect(p.windowAt(5e9 + 0.5e9)).toBe(64 * MiB);
    expect(p.windowAt(5e9 + 0.25e9)).toBe(36 * MiB);
    expect(p.windowAt(5e9 + 0.75e9)).toBe(36 * MiB);
    expect(p.windowAt(5e9 + 1e9)).toBe(8 * MiB);
    const early = drain(p, 20_000, 5e9).addr;
    expect(Math.max(...early) - BASE).toBeLessThan(8 * MiB);
    const mid = drain(p, 20_000, 5.5e9).addr;
    expect(Math.max(...mid) - BASE).toBeGreaterThan(60 * MiB);
  });

  it("sequential access wraps at the current window", () => {
    const p = new WorkingSetPattern({ base: BASE, size: 64 }, style({ accessSize: 8 }), { minBytes: 16, maxBytes: 64, period: 100, shape: "square", access: "sequential", granularity: 8 }, ctx());
    p.begin(0);
    expect(drain(p, 5, 0).addr.map((a) => a - BASE)).toEqual([0, 8, 0, 8, 0]);
    expect(drain(p, 9, 50).addr.map((a) => a - BASE)).toEqual([8, 16, 24, 32, 40, 48, 56, 0, 8]);
  });
});

describe("access style", () => {
  it("issues the write fraction as writes (or read-modify-writes), with the gap, size and tid", () => {
    const n = 100_000;
    const rows = drain(new UniformPattern({ base: BASE, size: 1 << 20 }, style({ writeFraction: 0.3, gap: 17, accessSize: 4 }), {}, ctx(2, 42)), n, 0, 4096);
    const writes = rows.kind.filter((k) => k === AccessKind.WRITE).length;
    expect(writes + rows.kind.filter((k) => k === AccessKind.READ).length).toBe(n);
    expect(withinBinomial(writes, n, 0.3)).toBe(true);
    expect(new Set(rows.gap)).toEqual(new Set([17]));
    expect(new Set(rows.size)).toEqual(new Set([4]));
    expect(new Set(rows.tid)).toEqual(new Set([42]));
    const m = drain(new SequentialPattern({ base: BASE, size: 4096 }, style({ writeFraction: 1, writeKind: AccessKind.MODIFY }), {}, ctx()), 100);
    expect(new Set(m.kind)).toEqual(new Set([AccessKind.MODIFY]));
    const r = drain(new SequentialPattern({ base: BASE, size: 4096 }, style(), {}, ctx()), 100);
    expect(new Set(r.kind)).toEqual(new Set([AccessKind.READ]));
  });
});

describe("mix", () => {
  it("picks parts in proportion to their weights, per access or per burst", () => {
    const c = ctx(8);
    const a = new UniformPattern({ base: BASE, size: 4096 }, style(), {}, c);
    const b = new UniformPattern({ base: BASE + 1e6, size: 4096 }, style(), {}, c);
    const n = 100_000;
    const rows = drain(new MixPattern([a, b], [3, 1], c.rng), n, 0, 4096).addr;
    expect(withinBinomial(rows.filter((x) => x < BASE + 1e6).length, n, 0.75)).toBe(true);
    const burst = drain(new MixPattern([a, b], [1, 1], c.rng, 5), 10_000, 0, 333).addr.map((x) => (x < BASE + 1e6 ? 0 : 1));
    for (let i = 0; i < burst.length; i += 5) expect(new Set(burst.slice(i, i + 5)).size).toBe(1);
  });
});

describe("determinism", () => {
  it("same seed, same rows; different seed, different rows", () => {
    const make = (seed: number) => new ZipfPattern({ base: BASE, size: 1 << 24 }, style({ writeFraction: 0.5 }), { exponent: 0.9, granularity: 4096, scramble: true }, ctx(seed));
    const a = drain(make(1), 5000), b = drain(make(1), 5000), c = drain(make(2), 5000);
    expect(a).toEqual(b);
    expect(a.addr).not.toEqual(c.addr);
    const chase = (seed: number) => drain(new PointerChasePattern({ base: BASE, size: 1 << 16 }, style(), { granularity: 64 }, ctx(seed)), 2000).addr;
    expect(chase(1)).toEqual(chase(1));
    expect(chase(1)).not.toEqual(chase(2));
  });

  it("batches are filled without reallocation (rows land in the caller's arrays)", () => {
    const out = new AccessBatch(64);
    const addrArray = out.addr;
    const p: Pattern = new UniformPattern({ base: BASE, size: 4096 }, style(), {}, ctx());
    p.fill(out, 64, 0);
    expect(out.length).toBe(64);
    expect(out.addr).toBe(addrArray);
  });
});
