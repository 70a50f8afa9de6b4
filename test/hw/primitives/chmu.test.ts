// The CXL CHMU: parameter validation; the memory-side hook against the node's own traffic
// counters; counting, epochs, threshold, order and size of the hotlist against a brute-force
// count of every line the CXL node served in a small run; epoch boundaries, threshold and hotlist
// size on hand-fed lines; the reports' fields and the host's cost; counter exhaustion; a machine
// without a CXL node.

import { describe, expect, it } from "vitest";
import { AccessKind, type AccessBatch } from "../../../hw/batch.ts";
import { CpuTime } from "../../../hw/cpu.ts";
import type { MemoryObserver } from "../../../hw/hooks.ts";
import { ChmuSampler, type ChmuOptions } from "../../../hw/primitives/chmu.ts";
import { NO_CPU, NO_PID, NO_TID, NO_VADDR, PrimitiveEvent } from "../../../hw/primitives/sample.ts";
import type { ThreadProgram } from "../../../hw/program.ts";
import { InputError } from "../../../sim/errors.ts";
import { US } from "../../../sim/time.ts";
import { MiB } from "../../../sim/units.ts";
import { makeMachine, oneProcess, tinyCxl } from "../helpers.ts";

/** Pseudo-random reads and writes over an area on the CXL node and one on DRAM (a 32-bit LCG, no allocation). */
class MixProgram implements ThreadProgram {
  private i = 0;
  private x = 12345;
  constructor(readonly tid: number, private readonly cxl: number, private readonly dram: number, private readonly bytes: number, private readonly n: number) {}
  next(out: AccessBatch): number {
    out.clear();
    while (this.i < this.n && out.length < out.capacity) {
      this.x = (Math.imul(this.x, 1664525) + 1013904223) >>> 0;
      const off = (this.x >>> 4) % this.bytes & ~63;
      // a skew: a quarter of the accesses go to the first 64 KiB of the CXL area
      const base = this.x % 3 === 0 ? this.dram : this.cxl;
      const addr = this.x % 4 === 0 ? this.cxl + (off % (64 * 1024)) : base + off;
      out.push(addr, 8, this.x % 5 === 0 ? AccessKind.WRITE : AccessKind.READ, this.tid, 5);
      this.i++;
    }
    return out.length;
  }
}

interface Line {
  line: number;
  write: boolean;
  time: number;
}

/** A tiny CXL machine with an attached CHMU whose sink keeps a copy of every report and costs sinkNs. */
function recordingChmu(opts: ChmuOptions, sinkNs: number) {
  const { m, sched } = makeMachine(tinyCxl(), { truth: false });
  const events: PrimitiveEvent[] = [];
  const chmu = new ChmuSampler(m, opts, (e) => {
    events.push(Object.assign(new PrimitiveEvent(), e));
    return sinkNs;
  }).attach();
  return { m, sched, chmu, events };
}

function mixRun(opts: ChmuOptions, n = 150_000, sinkNs = 0) {
  const { layout, areas } = oneProcess({
    mmap: [
      { name: "cxl", size: 2 * MiB, policy: { mode: "bind", nodes: [1] } },
      { name: "dram", size: 2 * MiB, policy: { mode: "bind", nodes: [0] } },
    ],
    threads: [{ tid: 1, cpus: [0] }],
  });
  const { m, sched, chmu, events } = recordingChmu(opts, sinkNs);
  // a tee in front of the unit: every line the node serves, in the order the device sees them
  const node = m.memory.nodes[1]!;
  const unit = node.observer!;
  const lines: Line[] = [];
  const tee: MemoryObserver = {
    onLine(line, write, time) {
      lines.push({ line, write, time });
      unit.onLine(line, write, time);
    },
  };
  node.observer = tee;
  m.load({ name: "mix", layout, start: () => ({ kind: "threads", threads: [new MixProgram(1, areas.get("cxl")!.start, areas.get("dram")!.start, 2 * MiB, n)] }) });
  sched.run(1_000_000_000);
  expect(m.finished).toBe(true);
  return { m, chmu, events, lines, node, endNs: sched.now };
}

/** The hotlists a CHMU should produce, by brute force: per epoch, per unit counts of the lines seen, thresholded, hottest first, cut at the size. */
function oracle(lines: Line[], o: { unitBytes: number; epochNs: number; threshold: number; hotlistSize: number; reads: boolean; writes: boolean; tracked: number }, nodeBase: number, epochs: number) {
  const per: Array<Map<number, number>> = Array.from({ length: epochs }, () => new Map());
  const untracked = new Array<number>(epochs).fill(0);
  for (const l of lines) {
    if (l.write ? !o.writes : !o.reads) continue;
    const k = Math.floor(l.time / o.epochNs);
    if (k >= epochs) continue;
    const unit = Math.floor((l.line * 64 - nodeBase) / o.unitBytes);
    const m = per[k]!;
    if (!m.has(unit) && m.size === o.tracked) {
      untracked[k]!++;
      continue;
    }
    m.set(unit, (m.get(unit) ?? 0) + 1);
  }
  const lists = per.map((m) =>
    [...m]
      .filter(([, c]) => c >= o.threshold)
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, o.hotlistSize)
      .map(([u, c]) => [nodeBase + u * o.unitBytes, c] as [number, number]),
  );
  return { lists, untracked };
}

const byEpoch = (events: PrimitiveEvent[], epochNs: number, epochs: number): Array<Array<[number, number]>> => {
  const out: Array<Array<[number, number]>> = Array.from({ length: epochs }, () => []);
  for (const e of events) out[Math.round(e.time / epochNs) - 1]!.push([e.paddr, e.count]);
  return out;
};

describe("parameter validation", () => {
  const { m } = makeMachine(tinyCxl());
  const bad = (o: ChmuOptions, field: string): void => {
    expect(() => new ChmuSampler(m, o)).toThrow(InputError);
    expect(() => new ChmuSampler(m, o)).toThrow(new RegExp(`chmu\\.${field}`));
  };
  it("unit size, epoch, threshold, hotlist size, counters, access types, costs and the reading CPU", () => {
    bad({ unitBytes: 128 }, "unitBytes");
    bad({ unitBytes: 3000 }, "unitBytes");
    bad({ unitBytes: 2 ** 32 }, "unitBytes");
    bad({ epochUs: 150 }, "epochUs");
    bad({ epochUs: 0 }, "epochUs");
    bad({ threshold: 0 }, "threshold");
    bad({ hotlistSize: 65_536 }, "hotlistSize");
    bad({ trackedUnits: 0 }, "trackedUnits");
    bad({ reads: false, writes: false }, "reads");
    bad({ readCostNs: -1 }, "readCostNs");
    bad({ readerCpu: 2 }, "readerCpu");
    const c = new ChmuSampler(m);
    expect([c.unitBytes, c.epochNs, c.threshold, c.hotlistSize, c.readerCpu, c.units.length]).toEqual([4096, 5_000_000, 4, 1024, 1, 1]);
  });
});

describe("counting at the CXL node", () => {
  const opts = { unitBytes: 4096, epochUs: 200, threshold: 3, hotlistSize: 40, readCostNs: 0, entryCostNs: 0 };
  const r = mixRun(opts);
  const epochs = Math.floor(r.endNs / (200 * US));

  it("the hook sees exactly the node's line traffic (its bandwidth counters, counted apart)", () => {
    expect(r.lines.filter((l) => !l.write).length * 64).toBe(r.node.readBytes);
    expect(r.lines.filter((l) => l.write).length * 64).toBe(r.node.writeBytes);
    expect(r.node.writeBytes).toBeGreaterThan(0);
    // and nothing from the DRAM node
    const dram = r.m.memory.nodes[0]!;
    expect(dram.readBytes).toBeGreaterThan(0);
    expect(r.lines.every((l) => l.line * 64 >= r.node.base * 4096)).toBe(true);
  });

  it("each epoch's hotlist equals a brute-force count of the fills and write-backs that reached the node", () => {
    expect(epochs).toBeGreaterThan(10);
    const want = oracle(r.lines, { ...opts, epochNs: 200 * US, reads: true, writes: true, tracked: 65_536 }, r.node.base * 4096, epochs);
    const got = byEpoch(r.events, 200 * US, epochs + 1).slice(0, epochs);
    expect(got).toEqual(want.lists);
    // the thresholds and the size both bite in this run
    expect(want.lists.some((l) => l.length === 40)).toBe(true);
    const u = r.chmu.units[0]!;
    expect(u.overflowed).toBeGreaterThan(0);
    expect(u.counted).toBe(r.lines.length);
    expect(u.untracked).toBe(0);
  });

  it("counting reads only or writes only, and running out of counters, match the brute force too", () => {
    for (const o of [{ reads: true, writes: false, trackedUnits: 65_536 }, { reads: false, writes: true, trackedUnits: 65_536 }, { reads: true, writes: true, trackedUnits: 20 }]) {
      const q = mixRun({ ...opts, ...o });
      const n = Math.floor(q.endNs / (200 * US));
      const want = oracle(q.lines, { ...opts, epochNs: 200 * US, reads: o.reads, writes: o.writes, tracked: o.trackedUnits }, q.node.base * 4096, n);
      expect(byEpoch(q.events, 200 * US, n + 1).slice(0, n)).toEqual(want.lists);
      if (o.trackedUnits === 20) {
        expect(q.chmu.units[0]!.untracked).toBeGreaterThan(0);
        expect(want.untracked.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(q.chmu.units[0]!.untracked);
      }
      if (!o.reads) expect(q.events.every((e) => e.isWrite)).toBe(true);
      else expect(q.events.every((e) => !e.isWrite)).toBe(true);
    }
  });
});

describe("epochs, threshold and hotlist size, by hand", () => {
  function fed(opts: ChmuOptions, feed: Array<[number, number]>, sinkNs = 0) {
    const { m, sched, chmu, events } = recordingChmu(opts, sinkNs);
    const node = m.memory.nodes[1]!;
    const base = node.base * 64; // first line of the node
    // [unit (4 KiB = 64 lines), time]
    for (const [u, t] of feed) node.observer!.onLine(base + u * 64 + 3, false, t);
    sched.run(3 * opts.epochUs! * US + 1);
    return { m, chmu, events, base: node.base * 4096 };
  }

  it("an access belongs to the epoch its time falls in, even when fed before that epoch's end fired", () => {
    const E = 100 * US;
    const { events, base } = fed({ epochUs: 100, threshold: 1, readCostNs: 0, entryCostNs: 0 }, [
      [1, E - 0.5],
      [2, E], // first instant of the second epoch
      [2, E + 1],
      [3, 2 * E - 1e-6],
      // more than one epoch ahead of the open one (only a quantum longer than the epoch does this): the next
      [4, 2 * E + 5],
    ]);
    expect(events.map((e) => [e.time, (e.paddr - base) / 4096, e.count])).toEqual([
      [E, 1, 1],
      [2 * E, 2, 2],
      [2 * E, 3, 1],
      [2 * E, 4, 1],
    ]);
  });

  it("units at or above the threshold, hottest first (ties by address), cut at the hotlist size; the rest overflow", () => {
    const counts: Array<[number, number]> = [[10, 5], [11, 3], [12, 4], [13, 4], [14, 10]];
    const feed: Array<[number, number]> = counts.flatMap(([u, c]) => Array.from({ length: c }, (_, k): [number, number] => [u, 10 + k]));
    const { events, chmu, base, m } = fed({ epochUs: 100, threshold: 4, hotlistSize: 3, readCostNs: 700, entryCostNs: 50, readerCpu: 0 }, feed, 15);
    expect(events.map((e) => [(e.paddr - base) / 4096, e.count])).toEqual([[14, 10], [10, 5], [12, 4]]);
    const u = chmu.units[0]!;
    expect([u.hotUnits, u.overflowed, u.counted, u.epochs]).toEqual([3, 1, 26, 3]);
    // the reports: a physical address range and a count; no CPU, thread, process or virtual address
    for (const e of events) {
      expect([e.cpu, e.tid, e.pid, e.vaddr, e.size, e.isWrite, e.context, e.submitCpu, e.lost]).toEqual([NO_CPU, NO_TID, NO_PID, NO_VADDR, 4096, false, "process", 0, false]);
    }
    // the host pays per read (three epochs) and per entry, plus the sink's cost, on the reading CPU
    const want = 3 * 700 + 3 * 50 + 3 * 15;
    expect(chmu.handlingNs).toBe(want);
    expect(m.cpus[0]!.time[CpuTime.SAMPLING]).toBe(want);
    expect(m.cpus[1]!.time[CpuTime.SAMPLING]).toBe(0);
  });

  it("larger units count every line of the unit together", () => {
    const { events, base } = fed({ epochUs: 100, threshold: 2, unitBytes: 2 * MiB, readCostNs: 0, entryCostNs: 0 }, [[0, 1], [511, 2], [512, 3]]);
    // units 0..511 of 4 KiB are one 2 MiB unit; 512 starts the next (count 1: below the threshold)
    expect(events.map((e) => [e.paddr - base, e.size, e.count])).toEqual([[0, 2 * MiB, 2]]);
  });
});

describe("a machine without a CXL node", () => {
  it("has no unit: nothing is counted, read or charged", () => {
    const { m, sched } = makeMachine("tiny", { truth: false });
    const c = new ChmuSampler(m).attach();
    sched.run(50_000_000);
    expect(c.units.length).toBe(0);
    expect(c.hotlistReads).toBe(0);
    expect(m.cpus.every((cpu) => cpu.time[CpuTime.SAMPLING] === 0)).toBe(true);
    expect(m.memory.nodes.every((n) => n.observer === null)).toBe(true);
    c.detach();
  });

  it("detach unhooks the node and stops the epochs", () => {
    const { m, sched } = makeMachine(tinyCxl(), { truth: false });
    const c = new ChmuSampler(m, { epochUs: 100 }).attach();
    sched.run(250 * US);
    c.detach();
    sched.run(1000 * US);
    expect(c.hotlistReads).toBe(2);
    expect(m.memory.nodes[1]!.observer).toBeNull();
  });
});
