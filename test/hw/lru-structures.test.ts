// Caches and TLBs (fingerprinted ways, linked-list LRU) against plain-array reference models on
// random operation sequences that also invalidate, flush, probe and re-insert, with keys chosen to
// collide: equal low 32 bits (lines 2^32 apart, TLB keys of different address spaces), so
// fingerprint matches that are not the key are exercised too.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Cache } from "../../hw/cache.ts";
import { Tlb, tlbKey2m, tlbKey4k } from "../../hw/tlb.ts";

/** Reference LRU cache: per set a JS array of {line, dirty}, most recent first. */
class RefLruCache {
  sets: { line: number; dirty: boolean }[][];
  constructor(private nsets: number, private assoc: number) {
    this.sets = Array.from({ length: nsets }, () => []);
  }
  private set(line: number): { line: number; dirty: boolean }[] {
    return this.sets[line % this.nsets]!;
  }
  access(line: number, write: boolean): { hit: boolean; victim: number; victimDirty: boolean } {
    const s = this.set(line);
    const i = s.findIndex((e) => e.line === line);
    if (i >= 0) {
      const [e] = s.splice(i, 1);
      if (write) e!.dirty = true;
      s.unshift(e!);
      return { hit: true, victim: -1, victimDirty: false };
    }
    s.unshift({ line, dirty: write });
    if (s.length > this.assoc) {
      const v = s.pop()!;
      return { hit: false, victim: v.line, victimDirty: v.dirty };
    }
    return { hit: false, victim: -1, victimDirty: false };
  }
  invalidate(line: number): boolean {
    const s = this.set(line);
    const i = s.findIndex((e) => e.line === line);
    if (i >= 0) s.splice(i, 1);
    return i >= 0;
  }
  contains(line: number): boolean {
    return this.set(line).some((e) => e.line === line);
  }
  flush(): void {
    for (const s of this.sets) s.length = 0;
  }
}

/** Reference TLB: per set a JS array of entries, most recent first (what an MRU-first array keeps). */
class RefTlb {
  sets: { key: number; pte: number; dirty: boolean }[][];
  constructor(private nsets: number, private assoc: number) {
    this.sets = Array.from({ length: nsets }, () => []);
  }
  private set(key: number): { key: number; pte: number; dirty: boolean }[] {
    return this.sets[Math.floor(key / 2) % this.nsets]!;
  }
  lookup(key: number): { pte: number; dirty: boolean } | null {
    const s = this.set(key);
    const i = s.findIndex((e) => e.key === key);
    if (i < 0) return null;
    const [e] = s.splice(i, 1);
    s.unshift(e!);
    return { pte: e!.pte, dirty: e!.dirty };
  }
  insert(key: number, pte: number, dirty: boolean): void {
    const s = this.set(key);
    const i = s.findIndex((e) => e.key === key);
    if (i >= 0) s.splice(i, 1);
    s.unshift({ key, pte, dirty });
    if (s.length > this.assoc) s.pop();
  }
  setDirtyMru(key: number): void {
    const s = this.set(key);
    if (s.length > 0 && s[0]!.key === key) s[0]!.dirty = true;
  }
  invalidate(key: number): boolean {
    const s = this.set(key);
    const i = s.findIndex((e) => e.key === key);
    if (i >= 0) s.splice(i, 1);
    return i >= 0;
  }
  contains(key: number): boolean {
    return this.set(key).some((e) => e.key === key);
  }
  flush(): void {
    for (const s of this.sets) s.length = 0;
  }
}

const TWO32 = 2 ** 32;
// small lines, and the same low 32 bits again 2^32 and 2^36 higher (below 2^53)
const lineArb = fc.tuple(fc.integer({ min: 0, max: 40 }), fc.constantFrom(0, TWO32, 3 * TWO32, 2 ** 36)).map(([l, hi]) => l + hi);

const cacheOpArb = fc.oneof(
  { weight: 8, arbitrary: fc.record({ op: fc.constant("access" as const), line: lineArb, write: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("invalidate" as const), line: lineArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("contains" as const), line: lineArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("flush" as const) }) },
);

describe("LRU cache with invalidations and flushes", () => {
  it("matches an MRU-first list model hit for hit, victim for victim", () => {
    fc.assert(
      fc.property(fc.array(cacheOpArb, { minLength: 100, maxLength: 500, size: "max" }), fc.constantFrom(1, 2, 4), fc.constantFrom(1, 2, 3, 4, 5, 8, 12, 16), (ops, sets, assoc) => {
        const c = new Cache({ size: sets * assoc * 64, assoc, line: 64, latencyNs: 1, policy: "lru" });
        const ref = new RefLruCache(sets, assoc);
        let hits = 0, misses = 0, wbs = 0;
        for (const o of ops) {
          if (o.op === "access") {
            const r = ref.access(o.line, o.write);
            expect(c.access(o.line, o.write)).toBe(r.hit);
            if (r.hit) hits++;
            else {
              misses++;
              expect(c.victimLine).toBe(r.victim);
              expect(c.victimDirty).toBe(r.victimDirty);
              if (r.victimDirty) wbs++;
            }
          } else if (o.op === "invalidate") {
            expect(c.invalidate(o.line)).toBe(ref.invalidate(o.line));
          } else if (o.op === "contains") {
            expect(c.contains(o.line)).toBe(ref.contains(o.line));
          } else {
            c.flush();
            ref.flush();
          }
        }
        expect([c.hits, c.misses, c.writebacks]).toEqual([hits, misses, wbs]);
      }),
      { numRuns: 300 },
    );
  });

  it("matches the model on a large cache too (no most-recent-way shortcut there)", () => {
    // 512 sets x 16 ways; lines crowd four sets so that ways are evicted
    const bigLineArb = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 30 }), fc.constantFrom(0, TWO32)).map(([s, k, hi]) => s + 512 * k + hi);
    const opArb = fc.oneof(
      { weight: 8, arbitrary: fc.record({ op: fc.constant("access" as const), line: bigLineArb, write: fc.boolean() }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant("invalidate" as const), line: bigLineArb }) },
    );
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 200, maxLength: 800, size: "max" }), (ops) => {
        const c = new Cache({ size: 512 * 16 * 64, assoc: 16, line: 64, latencyNs: 1, policy: "lru" });
        const ref = new RefLruCache(512, 16);
        for (const o of ops) {
          if (o.op === "invalidate") {
            expect(c.invalidate(o.line)).toBe(ref.invalidate(o.line));
            continue;
          }
          const r = ref.access(o.line, o.write);
          expect(c.access(o.line, o.write)).toBe(r.hit);
          if (!r.hit) expect([c.victimLine, c.victimDirty]).toEqual([r.victim, r.victimDirty]);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("keeps a dirty line dirty through the same-line fast path and writes it back once", () => {
    const c = new Cache({ size: 1 * 2 * 64, assoc: 2, line: 64, latencyNs: 1 });
    expect(c.access(7, false)).toBe(false);
    expect(c.access(7, true)).toBe(true); // fast path: same line as last time, marks it dirty
    expect(c.access(7 + TWO32, false)).toBe(false); // same low 32 bits, a different line
    expect(c.contains(7) && c.contains(7 + TWO32)).toBe(true);
    expect(c.access(9, false)).toBe(false); // evicts 7, the least recently used
    expect([c.victimLine, c.victimDirty, c.writebacks]).toEqual([7, true, 1]);
  });
});

// TLB keys of 4 KiB and 2 MiB pages of three address spaces whose keys share their low 32 bits
const tlbKeyArb = fc.tuple(fc.constantFrom(0, 32, 2 ** 15), fc.integer({ min: 0, max: 40 }), fc.boolean()).map(([asid, vpn, huge]) => (huge ? tlbKey2m(asid, vpn * 256) : tlbKey4k(asid, vpn)));

const tlbOpArb = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant("lookup" as const), key: tlbKeyArb }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("insert" as const), key: tlbKeyArb, pte: fc.integer({ min: 0, max: 1 << 30 }), dirty: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("dirty" as const), key: tlbKeyArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("invalidate" as const), key: tlbKeyArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("contains" as const), key: tlbKeyArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("flush" as const) }) },
);

describe("TLB against an MRU-first list model", () => {
  it("agrees on hits, PTE slots, dirty flags, evictions, invalidations and MRU-only dirtying", () => {
    fc.assert(
      fc.property(fc.array(tlbOpArb, { minLength: 100, maxLength: 500, size: "max" }), fc.constantFrom([4, 1], [8, 2], [16, 4], [24, 6], [32, 16]), (ops, [entries, assoc]) => {
        const t = new Tlb({ entries: entries!, assoc: assoc! });
        const ref = new RefTlb(entries! / assoc!, assoc!);
        let hits = 0, misses = 0;
        for (const o of ops) {
          if (o.op === "lookup") {
            const r = ref.lookup(o.key);
            expect(t.lookup(o.key)).toBe(r !== null);
            if (r !== null) {
              hits++;
              expect([t.pte, t.entryDirty]).toEqual([r.pte, r.dirty]);
            } else misses++;
          } else if (o.op === "insert") {
            t.insert(o.key, o.pte, o.dirty);
            ref.insert(o.key, o.pte, o.dirty);
          } else if (o.op === "dirty") {
            t.setDirtyMru(o.key);
            ref.setDirtyMru(o.key);
          } else if (o.op === "invalidate") {
            expect(t.invalidate(o.key)).toBe(ref.invalidate(o.key));
          } else if (o.op === "contains") {
            expect(t.contains(o.key)).toBe(ref.contains(o.key));
          } else {
            t.flush();
            ref.flush();
          }
        }
        expect([t.hits, t.misses]).toEqual([hits, misses]);
      }),
      { numRuns: 300 },
    );
  });

  it("inserts after a miss without duplicating the key, and replaces an existing entry in place", () => {
    const t = new Tlb({ entries: 2, assoc: 2 });
    const a = tlbKey4k(1, 0), b = tlbKey4k(1, 1), c = tlbKey4k(2, 0);
    expect(t.lookup(a)).toBe(false);
    t.insert(a, 10, false);
    t.insert(b, 11, false);
    t.insert(a, 12, true); // existing: updated and most recent; b stays
    expect(t.contains(b)).toBe(true);
    expect(t.lookup(c)).toBe(false);
    t.insert(c, 13, false); // evicts b, the least recently used
    expect(t.contains(b)).toBe(false);
    expect(t.lookup(a) && t.pte === 12 && t.entryDirty).toBe(true);
    expect(t.lookup(c) && t.pte === 13 && !t.entryDirty).toBe(true);
  });
});
