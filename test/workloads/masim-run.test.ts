// Running masim configs: masim's semantics (first byte touched is offset stride, wrap to 0 at the
// region end, uniform random offsets, ro/wo/rw kinds, bursts of nr_accesses_per_region, pattern
// choice by probability, phase ends checked against the simulated clock between bursts, repeat,
// end of program) and the malloc-like layout.

import { describe, expect, it } from "vitest";
import { AccessBatch, AccessKind } from "../../hw/batch.ts";
import { validateLayout } from "../../hw/layout.ts";
import { InputError } from "../../sim/errors.ts";
import { RngRoot } from "../../sim/rng.ts";
import { MS } from "../../sim/time.ts";
import { MasimProgram, MasimWorkload, parseMasimConfig, type MasimOptions } from "../../workloads/masim.ts";
import { chiSquare, chiSquareBound, insideLayout, runProgram } from "./helpers.ts";

function program(text: string, options: MasimOptions = {}, seed = 1): { p: MasimProgram; bases: number[]; w: MasimWorkload } {
  const w = new MasimWorkload(parseMasimConfig(text, "t.cfg"), options);
  const run = w.start(new RngRoot(seed));
  if (run.kind !== "threads") throw new Error("expected threads");
  return { p: run.threads[0] as MasimProgram, bases: regionBases(w), w };
}

/** Region bases recovered from the layout: the VMA named after the region, plus malloc's 16-byte header. */
function regionBases(w: MasimWorkload): number[] {
  const vmas = w.layout.processes[0]!.vmas;
  return w.config.regions.map((r) => vmas.find((v) => v.name === r.name)!.start + 16);
}

describe("masim sequential and random accesses", () => {
  it("the first byte touched is offset stride; the walk wraps to 0 at the region end", () => {
    const { p, bases } = program("r, 10\n\np\n1000\nr, 0, 3, 1\n", { nrAccessesPerRegion: 1000 });
    const { rows } = runProgram(p, 12, 0, 1);
    // offsets 3, 6, 9, then 12 >= 10 wraps to 0, then 3, 6, 9, 0, ...
    expect(rows.addr.map((a) => a - bases[0]!)).toEqual([3, 6, 9, 0, 3, 6, 9, 0, 3, 6, 9, 0]);
    expect(new Set(rows.size)).toEqual(new Set([1]));
  });

  it("touches the first, fifth and ninth bytes of a 12-byte region with a 4-byte stride (masim README)", () => {
    const { p, bases } = program("r, 12\n\np\n1000\nr, 0, 4, 1\n");
    const { rows } = runProgram(p, 7, 0, 1);
    expect(rows.addr.map((a) => a - bases[0]!)).toEqual([4, 8, 0, 4, 8, 0, 4]);
  });

  it("keeps each sequential pattern's position across bursts and batches", () => {
    const { p, bases } = program("a, 100\nb, 100\n\np\n1000\na, 0, 7, 1\nb, 0, 7, 1\n", { nrAccessesPerRegion: 3 });
    const { rows } = runProgram(p, 64, 0, 5);
    const offsets = (base: number) => rows.addr.filter((x) => x >= base && x < base + 100).map((x) => x - base);
    const expected = (n: number) => Array.from({ length: n }, (_, i) => ((i + 1) * 7) % 105).map((o) => (o >= 100 ? 0 : o));
    const a = offsets(bases[0]!);
    expect(a).toEqual(expected(a.length).slice(0, a.length));
    expect(a.length % 3).toBe(0);
  });

  it("random patterns touch uniformly random bytes of the whole region", () => {
    const { p, bases } = program("r, 64\n\np\n1000\nr, 1, 999, 1\n");
    const { rows } = runProgram(p, 4096, 0, 40);
    const counts = new Array<number>(64).fill(0);
    for (const a of rows.addr) counts[a - bases[0]!]!++;
    expect(chiSquare(counts, new Array(64).fill(rows.addr.length / 64))).toBeLessThan(chiSquareBound(63));
  });

  it("ro reads, wo writes, rw is a read-modify-write; the default mode is wo or the option", () => {
    const text = "r, 4096\n\np\n1000\nr, 0, 1, 1, ro\n\nq\n1000\nr, 0, 1, 1, rw\n\ns\n1000\nr, 0, 1, 1\n";
    const kindsOf = (opts: MasimOptions): number[] => {
      const { p } = program(text, { nrAccessesPerRegion: 8, ...opts });
      const out = new AccessBatch(8);
      const kinds: number[] = [];
      let now = 0;
      while (p.next(out, now) > 0) {
        kinds.push(...new Set(out.kind));
        now += 2000 * MS;
      }
      return kinds;
    };
    expect(kindsOf({})).toEqual([AccessKind.READ, AccessKind.MODIFY, AccessKind.WRITE]);
    expect(kindsOf({ defaultRwMode: "ro" })).toEqual([AccessKind.READ, AccessKind.MODIFY, AccessKind.READ]);
  });
});

describe("masim pattern selection", () => {
  it("each selection performs nr_accesses_per_region accesses, chosen in proportion to the probabilities", () => {
    const text = "a, 4096\nb, 4096\nc, 4096\nd, 4096\n\np\n1000\na, 1, 0, 1\nb, 1, 0, 2\nd, 1, 0, 0\nc, 1, 0, 7\n";
    const { p, bases } = program(text, { nrAccessesPerRegion: 10 }, 3);
    const { rows } = runProgram(p, 1000, 0, 60);
    const regionOf = (x: number): number => bases.findIndex((b) => x >= b && x < b + 4096);
    const bursts = [0, 0, 0, 0];
    let mixed = 0;
    for (let i = 0; i < rows.addr.length; i += 10) {
      const r = regionOf(rows.addr[i]!);
      for (let j = i; j < i + 10; j++) if (regionOf(rows.addr[j]!) !== r) mixed++;
      bursts[r]!++;
    }
    expect(mixed).toBe(0);
    const n = rows.addr.length / 10;
    expect(bursts[3]).toBe(0); // probability 0 is never chosen
    const obs = [bursts[0]!, bursts[1]!, bursts[2]!];
    expect(chiSquare(obs, [0.1 * n, 0.2 * n, 0.7 * n])).toBeLessThan(chiSquareBound(2));
    expect(Array.from(p.selections)).toEqual([bursts[0], bursts[1], bursts[3], bursts[2]]);
  });
});

describe("masim phases follow simulated time", () => {
  const TWO = "a, 4096\nb, 4096\n\npa\n10\na, 0, 1, 1\n\npb\n10\nb, 0, 1, 1\n";

  it("ends a phase at the first burst boundary after its duration has elapsed, then the program ends", () => {
    const { p, bases } = program(TWO, { nrAccessesPerRegion: 256 });
    const out = new AccessBatch(256);
    const at = (now: number): string => {
      if (p.next(out, now) === 0) return "end";
      return out.addr[0]! >= bases[1]! ? "b" : "a";
    };
    expect(at(0)).toBe("a");
    expect(at(5 * MS)).toBe("a");
    expect(at(10 * MS)).toBe("a"); // masim ends a phase when elapsed > duration
    expect(at(10 * MS + 1)).toBe("b");
    expect(at(20 * MS + 1)).toBe("b");
    expect(at(20 * MS + 2)).toBe("end");
    expect(p.done).toBe(true);
    expect(at(30 * MS)).toBe("end");
  });

  it("never interrupts a burst: a late clock finishes the burst first, then switches", () => {
    const { p, bases } = program(TWO, { nrAccessesPerRegion: 1000 });
    const out = new AccessBatch(256);
    expect(p.next(out, 0)).toBe(256);
    expect(p.next(out, 50 * MS)).toBe(256);
    expect(out.addr[0]! < bases[1]!).toBe(true);
    expect(p.next(out, 51 * MS)).toBe(256);
    expect(p.next(out, 52 * MS)).toBe(232); // the rest of the 1000-access burst
    expect(p.next(out, 53 * MS)).toBe(256);
    expect(out.addr[0]! >= bases[1]!).toBe(true);
  });

  it("runs every phase for at least one burst, even with a 0 ms duration", () => {
    const { p, bases } = program("a, 64\nb, 64\n\npa\n0\na, 0, 1, 1\n\npb\n0\nb, 0, 1, 1\n", { nrAccessesPerRegion: 16 });
    const { rows } = runProgram(p, 16, 1000, 10);
    expect(rows.addr.length).toBe(32);
    expect(rows.addr.slice(0, 16).every((x) => x < bases[1]!)).toBe(true);
    expect(rows.addr.slice(16).every((x) => x >= bases[1]!)).toBe(true);
  });

  it("with a regular clock, a phase lasts its duration to within one burst", () => {
    // 1 us per access, 10 ms phases, bursts of 100: a phase ends after the first burst that
    // crosses 10 ms, so it makes between 10,001 and 10,100 accesses.
    const { p, bases } = program(TWO, { nrAccessesPerRegion: 100 });
    const { rows } = runProgram(p, 4096, 1000, 1000);
    const inA = rows.addr.filter((x) => x < bases[1]!).length;
    const inB = rows.addr.length - inA;
    for (const n of [inA, inB]) {
      expect(n).toBeGreaterThan(10_000);
      expect(n).toBeLessThanOrEqual(10_100);
      expect(n % 100).toBe(0);
    }
  });

  it("repeat runs the whole config again", () => {
    const count = (repeat: number): number => {
      const { p } = program(TWO, { nrAccessesPerRegion: 50, repeat });
      return runProgram(p, 50, 1e6, 1000).rows.addr.length;
    };
    expect(count(1)).toBeGreaterThan(0);
    expect(count(3)).toBe(3 * count(1));
  });

  it("is deterministic for a seed", () => {
    const text = "r, 1048576\n\np\n5\nr, 1, 0, 1, rw\n";
    const a = runProgram(program(text, {}, 5).p, 4096, 1, 10).rows;
    const b = runProgram(program(text, {}, 5).p, 4096, 1, 10).rows;
    const c = runProgram(program(text, {}, 6).p, 4096, 1, 10).rows;
    expect(a).toEqual(b);
    expect(a.addr).not.toEqual(c.addr);
  });
});

describe("masim layout", () => {
  it("lays regions out like malloc: small in the heap, large mmap'ed top-down, with gaps", () => {
    const text = "small, 1000\nbig, 10000000\nbig2, 20000000\n\np\n1\nsmall, 1, 0, 1\nbig, 1, 0, 1\nbig2, 1, 0, 1\n";
    const w = new MasimWorkload(parseMasimConfig(text, "t.cfg"));
    validateLayout(w.layout);
    const vmas = w.layout.processes[0]!.vmas;
    const get = (n: string) => vmas.find((v) => v.name === n)!;
    expect(get("small").kind).toBe("heap");
    expect(get("big").kind).toBe("mmap");
    expect(get("big2").kind).toBe("mmap");
    expect(get("big2").end).toBeLessThan(get("big").start); // the second mmap lies below the first
    expect(get("big").end - get("big").start).toBeGreaterThanOrEqual(10_000_000 + 16);
    // the three areas DAMON's vaddr init looks for: heap .. mmap .. stack, separated by big gaps
    expect(get("big2").start - get("small").end).toBeGreaterThan(1 << 30);
    const run = w.start(new RngRoot(1));
    if (run.kind !== "threads") throw new Error("threads");
    const { rows } = runProgram(run.threads[0]!, 4096, 1, 20);
    expect(rows.addr.filter((a) => !insideLayout(w.layout, a, 1))).toEqual([]);
    expect(run.threads[0]!.tid).toBe(w.layout.processes[0]!.threads[0]!.tid);
  });

  it("hugetlb (masim -h) maps every region with 2 MiB pages at a 2 MiB boundary", () => {
    const w = new MasimWorkload(parseMasimConfig("a, 3000000\nb, 5000\n\np\n1\na, 1, 0, 1\n", "t.cfg"), { hugetlb: true });
    validateLayout(w.layout);
    for (const name of ["a", "b"]) {
      const v = w.layout.processes[0]!.vmas.find((x) => x.name === name)!;
      expect(v.hugepages).toBe(true);
      expect(v.start % (2 << 20)).toBe(0);
      expect(v.end - v.start).toBeGreaterThanOrEqual(2 << 20);
    }
  });

  it("rejects bad run options", () => {
    const cfg = parseMasimConfig("a, 64\n\np\n1\na, 1, 0, 1\n", "t.cfg");
    expect(() => new MasimWorkload(cfg, { repeat: 0 })).toThrow(/repeat/);
    expect(() => new MasimWorkload(cfg, { nrAccessesPerRegion: 0 })).toThrow(/nr_accesses_per_region/);
    expect(InputError).toBeDefined();
  });
});
