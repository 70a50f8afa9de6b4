// IBS op sampler: period validation, op counting across gaps (a tag on a non-memory op costs an
// NMI but gives no event), the randomized low 7 bits (bounds, determinism per seed, predicted
// from an independently built stream of the same name), the sample's fields and L3MissOnly.

import { describe, expect, it } from "vitest";
import { AccessKind } from "../../../hw/batch.ts";
import { CpuTime } from "../../../hw/cpu.ts";
import { DataSource } from "../../../hw/hooks.ts";
import { IbsSampler, type IbsOptions } from "../../../hw/primitives/ibs.ts";
import { PrimitiveEvent } from "../../../hw/primitives/sample.ts";
import { InputError } from "../../../sim/errors.ts";
import { RngRoot } from "../../../sim/rng.ts";
import { MiB } from "../../../sim/units.ts";
import { listWorkload, makeMachine, oneProcess, type Step } from "../helpers.ts";

const R = AccessKind.READ;

function run(rows: (a: number) => Step[], opts: IbsOptions, seed = 1, sinkNs = 0): { ibs: IbsSampler; events: PrimitiveEvent[]; sampling: number; a: number } {
  const { layout, areas } = oneProcess({ mmap: [{ name: "a", size: 4 * MiB }], threads: [{ tid: 1, cpus: [0] }] });
  const a = areas.get("a")!.start;
  const { m, sched } = makeMachine("tiny", {}, seed);
  const events: PrimitiveEvent[] = [];
  const ibs = new IbsSampler(m, opts, (e) => { events.push(Object.assign(new PrimitiveEvent(), e)); return sinkNs; }).attach();
  m.load(listWorkload(layout, new Map([[1, rows(a)]])));
  sched.run(1_000_000_000);
  expect(m.finished).toBe(true);
  return { ibs, events, sampling: m.cpus[0]!.time[CpuTime.SAMPLING]!, a };
}

/** Intervals the sampler on CPU 0 will use, drawn independently from a stream of the same name. */
function intervals(seed: number, period: number, n: number): number[] {
  const rng = new RngRoot(seed).stream("hw.ibs.cpu0");
  return Array.from({ length: n }, () => period - rng.int(128));
}

describe("period validation", () => {
  const { m } = makeMachine("tiny");
  it("a period that is not a multiple of 16 is an InputError naming ibs.period", () => {
    expect(() => new IbsSampler(m, { period: 10_001 })).toThrow(InputError);
    expect(() => new IbsSampler(m, { period: 10_001 })).toThrow(/ibs\.period.*multiple of 16/);
    expect(() => new IbsSampler(m, { period: 1000.5 })).toThrow(/ibs\.period/);
  });
  it("periods below 0x90 or above 0x7FFFFF0 are rejected; the bounds are accepted", () => {
    expect(() => new IbsSampler(m, { period: 128 })).toThrow(/ibs\.period/);
    expect(() => new IbsSampler(m, { period: 0x7fffff0 + 16 })).toThrow(/ibs\.period/);
    expect(new IbsSampler(m, { period: 0x90 }).period).toBe(144);
    expect(new IbsSampler(m, { period: 0x7fffff0 }).period).toBe(134_217_712);
    expect(new IbsSampler(m).period).toBe(10_000);
  });
});

describe("op counting", () => {
  it("a tag inside a gap hits a non-memory op: an NMI with no event; the next lands on a memory op", () => {
    const period = 160;
    const [l0, l1, l2] = intervals(5, period, 3) as [number, number, number];
    // row 1: l0 + 1 ops, the tag is op l0, the one just before the memory op: a non-memory op;
    //        l1 - 1 ops are then left.
    // row 2: exactly l1 - 1 ops, so its memory op (the last) is tagged.
    // row 3: 10 ops, no tag (l2 - 10 left).
    const rows = (a: number): Step[] => [
      { addr: a, kind: R, gap: l0 },
      { addr: a + 64, kind: R, gap: l1 - 2 },
      { addr: a + 128, kind: R, gap: 9 },
    ];
    const r = run(rows, { period, nmiCostNs: 2500 }, 5, 40);
    expect(r.ibs.ops[0]).toBe(l0 + 1 + l1 - 1 + 10);
    expect(r.ibs.samples[0]).toBe(2);
    expect(r.ibs.memorySamples[0]).toBe(1);
    expect(r.events.map((e) => e.vaddr - r.a)).toEqual([64]);
    // two NMIs, one sink call
    expect(r.sampling).toBe(2 * 2500 + 40);
    expect(l2).toBeGreaterThan(10);
  });

  it("a gap longer than the period tags several non-memory ops in one access", () => {
    const period = 144;
    const ls = intervals(9, period, 4);
    const gap = ls[0]! + ls[1]! + ls[2]! + 3; // three tags inside the gap, none on the access
    const r = run((a) => [{ addr: a, kind: R, gap }], { period }, 9);
    expect(r.ibs.samples[0]).toBe(3);
    expect(r.ibs.memorySamples[0]).toBe(0);
    expect(r.events.length).toBe(0);
    expect(r.sampling).toBe(3 * 3000);
  });

  it("a tagged instruction fetch is a non-memory op", () => {
    const period = 160;
    const [l0] = intervals(2, period, 1) as [number];
    const r = run((a) => [{ addr: a, kind: R, gap: l0 - 2 }, { addr: a, kind: AccessKind.IFETCH }], { period }, 2);
    expect(r.ibs.samples[0]).toBe(1);
    expect(r.ibs.memorySamples[0]).toBe(0);
    expect(r.events.length).toBe(0);
  });
});

describe("randomized low 7 bits", () => {
  const period = 160;
  const n = 4000;
  const rows = (a: number): Step[] => Array.from({ length: n }, (_, i) => ({ addr: a + (i % 512) * 8, kind: R }));
  const positions = (seed: number): number[] => run(rows, { period }, seed).events.map((e) => e.time);

  it("every interval is within 0..127 below the period and matches the seeded stream", () => {
    const { m, sched } = makeMachine("tiny", {}, 3);
    const { layout, areas } = oneProcess({ mmap: [{ name: "a", size: 4 * MiB }], threads: [{ tid: 1, cpus: [0] }] });
    const a = areas.get("a")!.start;
    const idx: number[] = [];
    let i = 0;
    m.samplers.push({ onAccess: () => { i++; return 0; } });
    new IbsSampler(m, { period }, () => { idx.push(i); return 0; }).attach();
    m.load(listWorkload(layout, new Map([[1, rows(a)]])));
    sched.run(1_000_000_000);
    const gaps = idx.map((x, k) => x - (k === 0 ? 0 : idx[k - 1]!));
    expect(gaps.length).toBeGreaterThan(20);
    for (const g of gaps) {
      expect(g).toBeGreaterThanOrEqual(period - 127);
      expect(g).toBeLessThanOrEqual(period);
    }
    expect(new Set(gaps).size).toBeGreaterThan(5);
    expect(gaps).toEqual(intervals(3, period, gaps.length));
  });

  it("is deterministic per seed and differs across seeds", () => {
    const a = positions(11);
    expect(positions(11)).toEqual(a);
    expect(positions(12)).not.toEqual(a);
  });

  it("each CPU draws its first interval from its own stream at construction (one draw each)", () => {
    const { m } = makeMachine("tiny", {}, 4);
    new IbsSampler(m, { period });
    for (const name of ["hw.ibs.cpu0", "hw.ibs.cpu1"]) {
      const fresh = new RngRoot(4).stream(name);
      fresh.int(128);
      expect(m.rng.stream(name).state()).toEqual(fresh.state());
    }
  });
});

describe("sample fields and L3MissOnly", () => {
  it("a memory sample carries addresses, load/store, DC and L2 miss flags, TLB outcome and latency", () => {
    const period = 144;
    const [l0] = intervals(6, period, 1) as [number];
    const r = run((a) => [{ addr: a + 8, kind: R }, { addr: a + 4096 + 72, kind: AccessKind.MODIFY, size: 4, gap: l0 - 2 }], { period }, 6);
    expect(r.events.length).toBe(1);
    const e = r.events[0]!;
    expect(e).toMatchObject({
      context: "nmi", cpu: 0, tid: 1, pid: 1, vaddr: r.a + 4096 + 72, size: 4, isWrite: true,
      dataSource: DataSource.LOCAL_DRAM, dcMiss: true, l2Miss: true, l1TlbMiss: true, l2TlbMiss: true, memNode: 0,
    });
    expect(e.paddr % 4096).toBe(72);
    expect(e.latencyNs).toBeGreaterThan(90);
  });

  it("L3MissOnly drops tags served by the caches, without an NMI; memory accesses are kept", () => {
    const period = 160;
    // the same line over and over: every access after the first hits L1
    const hits = (a: number): Step[] => Array.from({ length: 3000 }, () => ({ addr: a, kind: R }));
    const all = run(hits, { period }, 8);
    const filtered = run(hits, { period, l3MissOnly: true }, 8);
    expect(all.ibs.samples[0]).toBeGreaterThan(15);
    expect(filtered.ibs.samples[0]).toBe(0);
    expect(filtered.ibs.dropped[0]).toBe(all.ibs.samples[0]);
    expect(filtered.sampling).toBe(0);
    // every access a new line: all from memory, all kept
    const misses = (a: number): Step[] => Array.from({ length: 3000 }, (_, i) => ({ addr: a + i * 64, kind: R }));
    const kept = run(misses, { period, l3MissOnly: true }, 8);
    expect(kept.ibs.dropped[0]).toBe(0);
    expect(kept.ibs.memorySamples[0]).toBe(all.ibs.samples[0]);
    expect(kept.events.every((e) => e.dataSource === DataSource.LOCAL_DRAM)).toBe(true);
  });

  it("L3MissOnly also drops tags on non-memory ops; tags on memory ops served by DRAM are kept", () => {
    const period = 160;
    // every access a new line (DRAM), each with one non-memory op before it: 2 ops per access, so
    // a tag at an even op position is on a memory op, at an odd one on the non-memory op
    const n = 3000;
    const rows = (a: number): Step[] => Array.from({ length: n }, (_, i) => ({ addr: a + i * 64, kind: R, gap: 1 }));
    const r = run(rows, { period, l3MissOnly: true }, 13);
    let pos = 0, even = 0, odd = 0;
    for (const l of intervals(13, period, Math.ceil((2 * n) / (period - 127)))) {
      pos += l;
      if (pos > 2 * n) break;
      if (pos % 2 === 0) even++;
      else odd++;
    }
    expect(even).toBeGreaterThan(5);
    expect(odd).toBeGreaterThan(5);
    expect(r.ibs.memorySamples[0]).toBe(even);
    expect(r.ibs.samples[0]).toBe(even);
    expect(r.ibs.dropped[0]).toBe(odd);
    expect(r.sampling).toBe(even * 3000);
  });
});
