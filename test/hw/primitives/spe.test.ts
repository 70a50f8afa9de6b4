// ARM SPE sampler: parameter validation; the sampling interval and its jitter measured from which
// accesses were sampled (each access an op of its own, so the gap between sampled accesses is the
// interval) against the interval + U(0..255) law and an independently drawn stream of the same
// name; ops inside gaps; the type and minimum-latency filters against an unfiltered run of the
// same access stream; batch delivery (bursts of the watermark size, one interrupt and its cost
// each); records lost to a full aux buffer while the interrupt is delayed.

import { describe, expect, it } from "vitest";
import { AccessKind, type AccessBatch } from "../../../hw/batch.ts";
import { CpuTime } from "../../../hw/cpu.ts";
import { SpeSampler, type SpeOptions } from "../../../hw/primitives/spe.ts";
import { PrimitiveEvent } from "../../../hw/primitives/sample.ts";
import type { ThreadProgram } from "../../../hw/program.ts";
import { InputError } from "../../../sim/errors.ts";
import { RngRoot } from "../../../sim/rng.ts";
import { MiB } from "../../../sim/units.ts";
import { makeMachine, oneProcess } from "../helpers.ts";

const R = AccessKind.READ, W = AccessKind.WRITE, M = AccessKind.MODIFY;
/** Accesses cycle over this many distinct lines, so a sampled access's index is known modulo it. */
const LINES = 65_536;

interface Row {
  kind: number;
  gap: number;
  /** Line (of the 4 MiB area) the access reads; default i mod LINES. */
  line?: number;
}

/** n accesses, access i at line i mod LINES of a 4 MiB area, its kind and gap from row(i). */
class RowsProgram implements ThreadProgram {
  private i = 0;
  constructor(readonly tid: number, private readonly base: number, private readonly n: number, private readonly row: (i: number) => Row) {}
  next(out: AccessBatch): number {
    out.clear();
    while (this.i < this.n && out.length < out.capacity) {
      const r = this.row(this.i);
      out.push(this.base + (r.line ?? this.i % LINES) * 64, 8, r.kind, this.tid, r.gap);
      this.i++;
    }
    return out.length;
  }
}

interface Run {
  spe: SpeSampler;
  events: PrimitiveEvent[];
  /** Index (mod LINES) of each event's access. */
  idx: number[];
  sampling: number;
}

function run(n: number, row: (i: number) => Row, opts: SpeOptions, seed = 1, sinkNs = 0): Run {
  const { layout, areas } = oneProcess({ mmap: [{ name: "a", size: 4 * MiB }], threads: [{ tid: 1, cpus: [0] }] });
  const a = areas.get("a")!.start;
  const { m, sched } = makeMachine("tiny", { truth: false }, seed);
  const events: PrimitiveEvent[] = [];
  const spe = new SpeSampler(m, opts, (e) => {
    events.push(Object.assign(new PrimitiveEvent(), e));
    return sinkNs;
  }).attach();
  m.load({ name: "rows", layout, start: () => ({ kind: "threads", threads: [new RowsProgram(1, a, n, row)] }) });
  sched.run(100_000_000_000);
  expect(m.finished).toBe(true);
  return { spe, events, idx: events.map((e) => (e.vaddr - a) / 64), sampling: m.cpus[0]!.time[CpuTime.SAMPLING]! };
}

/** Gaps (in accesses) between consecutive sampled accesses, the indexes being known modulo LINES. */
const gapsOf = (idx: number[]): number[] => idx.slice(1).map((x, k) => (x - idx[k]! + LINES) % LINES);

/** Free costs, so that sampling does not move the access stream's timing between runs. */
const free: SpeOptions = { irqCostNs: 0, recordCostNs: 0 };

describe("parameter validation", () => {
  const { m } = makeMachine("tiny");
  const bad = (o: SpeOptions, field: string): void => {
    expect(() => new SpeSampler(m, o)).toThrow(InputError);
    expect(() => new SpeSampler(m, o)).toThrow(new RegExp(`spe\\.${field}`));
  };
  it("interval: a multiple of 256 in [256, 0xFFFFFF00]", () => {
    bad({ interval: 1000 }, "interval");
    expect(() => new SpeSampler(m, { interval: 1000 })).toThrow(/nearest: 1024/);
    bad({ interval: 0 }, "interval");
    bad({ interval: 0xffffff00 + 256 }, "interval");
    expect(new SpeSampler(m, { interval: 256 }).interval).toBe(256);
    expect(new SpeSampler(m).interval).toBe(4096);
  });
  it("minLatency (12 bits), recordBytes, auxBytes and watermarkBytes", () => {
    bad({ minLatency: 4096 }, "minLatency");
    bad({ minLatency: -1 }, "minLatency");
    bad({ recordBytes: 48 }, "recordBytes");
    bad({ recordBytes: 4096 }, "recordBytes");
    bad({ auxBytes: 4096 }, "auxBytes");
    bad({ auxBytes: 100_000 }, "auxBytes");
    bad({ auxBytes: 1 << 30 }, "auxBytes");
    bad({ watermarkBytes: 6000 }, "watermarkBytes");
    bad({ auxBytes: 8192, watermarkBytes: 16384 }, "watermarkBytes");
    bad({ irqCostNs: -1 }, "irqCostNs");
    const s = new SpeSampler(m, { auxBytes: 65536 });
    expect([s.capacity, s.watermark]).toEqual([1024, 512]);
  });
});

/** 1-based op positions the counter on CPU 0 samples within `ops` ops, from an independent stream of the sampler's name. */
function positions(seed: number, interval: number, jitter: boolean, ops: number): number[] {
  const rng = new RngRoot(seed).stream("hw.spe.cpu0");
  const out: number[] = [];
  for (let at = 0; ; ) {
    at += interval + (jitter ? rng.int(256) : 0);
    if (at > ops) return out;
    out.push(at);
  }
}

describe("sampling interval and jitter", () => {
  it("without jitter every interval-th op is sampled", () => {
    const r = run(100_000, () => ({ kind: R, gap: 0 }), { ...free, interval: 512, jitter: false, auxBytes: 8192 });
    expect(r.spe.samples[0]).toBe(Math.floor(100_000 / 512));
    expect(new Set(gapsOf(r.idx))).toEqual(new Set([512]));
    expect(r.idx[0]).toBe(511);
  });

  it("with jitter the intervals are interval + U(0..255): mean, range and spread over 1500 samples, measured from the sampled accesses", () => {
    const interval = 256;
    const n = 1500 * (interval + 128);
    const r = run(n, () => ({ kind: R, gap: 0 }), { ...free, interval, auxBytes: 8192 });
    const gaps = gapsOf(r.idx);
    expect(gaps.length).toBeGreaterThan(1400);
    const mean = gaps.reduce((a, g) => a + g, 0) / gaps.length;
    // uniform 0..255: mean 127.5, sd 73.9, so the standard error over 1400+ intervals is < 2
    expect(Math.abs(mean - (interval + 127.5))).toBeLessThan(8);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(interval);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(interval + 255);
    // each quarter of the jitter range holds about a quarter of the intervals
    for (let q = 0; q < 4; q++) {
      const share = gaps.filter((g) => g - interval >= q * 64 && g - interval < (q + 1) * 64).length / gaps.length;
      expect(Math.abs(share - 0.25)).toBeLessThan(0.05);
    }
    // the ops counted per sample taken agree
    expect(Math.abs(r.spe.ops[0]! / r.spe.samples[0]! - (interval + 127.5))).toBeLessThan(8);
  });

  it("the intervals are the stream 'hw.spe.cpu0' drawn independently: the first at construction, one per reload", () => {
    const seed = 7;
    const n = 70_000;
    const want = positions(seed, 1024, true, n).map((p) => p - 1); // one op per access: access index = position - 1
    const r = run(n, () => ({ kind: R, gap: 0 }), { ...free, interval: 1024, auxBytes: 8192, watermarkBytes: 4096 }, seed);
    expect(r.spe.samples[0]).toBe(want.length);
    // records still buffered at the end are not delivered: the delivered ones are a prefix
    expect(r.idx.length).toBe(Math.floor(want.length / 64) * 64);
    expect(r.idx).toEqual(want.slice(0, r.idx.length).map((x) => x % LINES));
  });
});

describe("ops inside gaps", () => {
  it("a sample landing on a non-memory op is discarded by the type filter; without a type filter it is recorded but reports nothing", () => {
    const n = 10_000, gap = 2; // 3 ops per access: op p (1-based) is a memory op when p % 3 === 0
    const opts = { ...free, interval: 256, jitter: false, auxBytes: 8192, watermarkBytes: 4096 };
    const pos = positions(1, 256, false, n * 3);
    const mem = pos.filter((p) => p % 3 === 0);
    const typed = run(n, () => ({ kind: R, gap }), opts);
    expect(typed.spe.samples[0]).toBe(pos.length);
    expect(typed.spe.filtered[0]).toBe(pos.length - mem.length);
    expect(typed.spe.records[0]).toBe(mem.length);
    const all = run(n, () => ({ kind: R, gap }), { ...opts, loads: false, stores: false });
    expect(all.spe.filtered[0]).toBe(0);
    expect(all.spe.records[0]).toBe(pos.length);
    // batches of 64 records, of which only the memory ops' are reported, in order
    const delivered = pos.slice(0, all.spe.interrupts[0]! * 64);
    expect(all.idx).toEqual(delivered.filter((p) => p % 3 === 0).map((p) => (p / 3 - 1) % LINES));
    expect(all.spe.reported[0]).toBe(all.idx.length);
  });
});

describe("filters", () => {
  // reads, writes and read-modify-writes in a fixed pattern, one op each
  const kinds = [R, W, M, R, R, W];
  const kindOf = (i: number): number => kinds[i % kinds.length]!;
  const row = (i: number): Row => ({ kind: kindOf(i), gap: 0 });
  const opts = { ...free, interval: 256, auxBytes: 8192, watermarkBytes: 4096 };
  const n = 60_000;
  const sampled = positions(1, 256, true, n).map((p) => p - 1);

  it("by type: loads keep reads and MODIFYs, stores keep writes and MODIFYs (the same ops are sampled whatever the filter)", () => {
    for (const [o, keep] of [
      [{ loads: true, stores: false }, (k: number) => k !== W],
      [{ loads: false, stores: true }, (k: number) => k !== R],
      [{ loads: true, stores: true }, () => true],
    ] as const) {
      const r = run(n, row, { ...opts, ...o });
      const kept = sampled.filter((i) => keep(kindOf(i)));
      expect(r.spe.samples[0]).toBe(sampled.length);
      expect(r.spe.records[0]).toBe(kept.length);
      expect(r.spe.filtered[0]).toBe(sampled.length - kept.length);
      expect(r.idx).toEqual(kept.slice(0, r.idx.length).map((i) => i % LINES));
      expect(r.events.map((e) => e.isWrite)).toEqual(kept.slice(0, r.idx.length).map((i) => kindOf(i) !== R));
      expect(r.idx.length).toBe(Math.floor(kept.length / 64) * 64);
    }
  });

  it("by minimum latency: exactly the unfiltered run's records whose latency x cpuGHz reaches it", () => {
    const ghz = 3.0; // the tiny preset's clock
    // one access in three goes to a new line (memory), the others to 16 lines that stay in L1
    const mixed = (i: number): Row => ({ kind: kindOf(i), gap: 0, line: i % 3 === 0 ? i % LINES : i % 16 });
    const long = 200_000;
    const base = run(long, mixed, opts);
    const threshold = 30;
    const lats = base.events.map((e) => e.latencyNs * ghz);
    expect(lats.some((l) => l < threshold) && lats.some((l) => l >= threshold)).toBe(true);
    const slow = run(long, mixed, { ...opts, minLatency: threshold });
    const want = base.events.filter((e) => e.latencyNs * ghz >= threshold).map((e) => e.vaddr);
    const got = slow.events.map((e) => e.vaddr);
    const k = Math.min(got.length, want.length);
    expect(k).toBeGreaterThanOrEqual(64);
    expect(got.slice(0, k)).toEqual(want.slice(0, k));
    expect(slow.spe.records[0]! + slow.spe.filtered[0]!).toBe(slow.spe.samples[0]);
  });
});

describe("delivery through the aux buffer", () => {
  const opts: SpeOptions = { interval: 256, auxBytes: 16384, watermarkBytes: 8192, irqCostNs: 1500, recordCostNs: 40 };

  it("reports arrive in bursts of watermark / record size, one interrupt each, costing the interrupt + per record + the sink", () => {
    const r = run(100_000, () => ({ kind: R, gap: 0 }), opts, 3, 25);
    const batch = 8192 / 64;
    const bursts = new Map<number, number>();
    for (const e of r.events) bursts.set(e.time, (bursts.get(e.time) ?? 0) + 1);
    expect([...bursts.values()].every((k) => k === batch)).toBe(true);
    expect(bursts.size).toBe(r.spe.interrupts[0]);
    expect(r.events.length).toBe(r.spe.interrupts[0]! * batch);
    expect(r.spe.pending(0)).toBe(r.spe.records[0]! - r.events.length);
    expect(r.spe.pending(0)).toBeLessThan(batch);
    // all in interrupt context, with the CPU, thread and addresses of the sampled access
    expect(r.events.every((e) => e.context === "nmi" && e.cpu === 0 && e.tid === 1 && e.submitCpu === 0 && e.count === 1 && !e.lost)).toBe(true);
    const want = r.spe.interrupts[0]! * (1500 + batch * 40 + batch * 25);
    expect(r.spe.handlingNs[0]).toBeCloseTo(want, 6);
    expect(r.sampling).toBeCloseTo(want, 6);
    expect(r.spe.auxDropped[0]).toBe(0);
  });

  it("a full buffer loses records while the interrupt is delayed; each memory record lost is handed to the sink as lost", () => {
    // watermark = the whole buffer: once full, every record due before the interrupt is lost
    const delayed = run(100_000, () => ({ kind: R, gap: 0 }), { ...opts, watermarkBytes: 16384, irqDelayNs: 200_000 }, 3);
    const lost = delayed.events.filter((e) => e.lost);
    const reports = delayed.events.filter((e) => !e.lost);
    expect(delayed.spe.auxDropped[0]).toBeGreaterThan(0);
    expect(lost.length).toBe(delayed.spe.auxDropped[0]);
    // every sampled op is recorded, lost, or still buffered; none filtered (reads, loads kept)
    expect(delayed.spe.records[0]! + delayed.spe.auxDropped[0]!).toBe(delayed.spe.samples[0]);
    // bursts are whole buffers, delivered irqDelayNs after the buffer filled, and a lost record
    // falls inside such a wait: after the last record kept before it and before the burst
    const batch = 16384 / 64;
    const bursts = [...new Set(reports.map((e) => e.time))];
    expect(reports.length).toBe(bursts.length * batch);
    for (const e of lost) {
      const next = bursts.find((t) => t >= e.time);
      expect(next).toBeDefined();
      expect(next! - e.time).toBeLessThanOrEqual(200_000 + 1e-6);
    }
    // taken at once, nothing is lost
    const prompt = run(100_000, () => ({ kind: R, gap: 0 }), { ...opts, watermarkBytes: 16384 }, 3);
    expect(prompt.spe.auxDropped[0]).toBe(0);
    expect(prompt.spe.records[0]).toBe(prompt.spe.samples[0]);
  });
});
