// perf mem (PEBS) sampler on hand-computed scenarios built from the tiny preset's latencies: the
// ldlat filter (which levels qualify), load periods, store and MODIFY sampling, the sample's
// fields against the machine's own access record, costs, and the perf core's throttling.

import { describe, expect, it } from "vitest";
import { AccessKind } from "../../../hw/batch.ts";
import { CpuTime } from "../../../hw/cpu.ts";
import { AccessRecord, DataSource } from "../../../hw/hooks.ts";
import { PerfLimits } from "../../../hw/primitives/perf-throttle.ts";
import { PerfMemSampler, type PerfMemOptions } from "../../../hw/primitives/perf-mem.ts";
import { PrimitiveEvent } from "../../../hw/primitives/sample.ts";
import { InputError } from "../../../sim/errors.ts";
import { MiB } from "../../../sim/units.ts";
import { listWorkload, makeMachine, oneProcess, type Step } from "../helpers.ts";

const R = AccessKind.READ;
const W = AccessKind.WRITE;
const M = AccessKind.MODIFY;

interface Run {
  pm: PerfMemSampler;
  events: PrimitiveEvent[];
  recs: AccessRecord[];
  sampling: number;
  a: number;
}

function run(rows: (a: number) => Step[], opts: PerfMemOptions, sinkNs = 0, record = false): Run {
  const { layout, areas } = oneProcess({ mmap: [{ name: "a", size: 4 * MiB }], threads: [{ tid: 1, cpus: [0] }] });
  const a = areas.get("a")!.start;
  const { m, sched } = makeMachine("tiny");
  const recs: AccessRecord[] = [];
  if (record) m.samplers.push({ onAccess: (r) => { recs.push(Object.assign(new AccessRecord(), r)); return 0; } });
  const events: PrimitiveEvent[] = [];
  const pm = new PerfMemSampler(m, opts, (e) => { events.push(Object.assign(new PrimitiveEvent(), e)); return sinkNs; }).attach();
  m.load(listWorkload(layout, new Map([[1, rows(a)]])));
  sched.run(100_000_000);
  expect(m.finished).toBe(true);
  return { pm, events, recs, sampling: m.cpus[0]!.time[CpuTime.SAMPLING]!, a };
}

describe("the tiny preset's latency ladder (preconditions of the hand-computed cases)", () => {
  it("in cycles: L1 hit between 3 and 10, L2 hit between 10 and 30, memory above 30", () => {
    const { m } = makeMachine("tiny");
    const c = m.config;
    const cyc = (ns: number): number => ns * c.cpuGHz;
    expect(cyc(c.caches.l1d.latencyNs)).toBeGreaterThan(3);
    expect(cyc(c.caches.l1d.latencyNs)).toBeLessThan(10);
    expect(cyc(c.caches.l2.latencyNs)).toBeGreaterThan(10);
    expect(cyc(c.caches.l2.latencyNs)).toBeLessThan(30);
    expect(cyc(c.latencyNs[0]![0]!)).toBeGreaterThan(30);
  });
});

describe("ldlat", () => {
  // Five lines whose page offsets are equal mod 2 KiB share an L1 set of the 4-way 8 KiB L1D, so
  // after them the first line is only in L2; then an L1 hit.
  const rows = (a: number): Step[] => [
    { addr: a, kind: R },
    { addr: a + 2048, kind: R },
    { addr: a + 4096, kind: R },
    { addr: a + 6144, kind: R },
    { addr: a + 8192, kind: R },
    { addr: a, kind: R },
    { addr: a + 8, kind: R },
  ];

  it("the scenario really gives five memory accesses, an L2 hit and an L1 hit", () => {
    const r = run(rows, { loadPeriod: 1 }, 0, true);
    const D = DataSource.LOCAL_DRAM;
    expect(r.recs.map((x) => x.source)).toEqual([D, D, D, D, D, DataSource.L2, DataSource.L1]);
  });

  it("ldlat 30 (default) keeps only the memory accesses; 10 adds the L2 hit; 3 keeps all", () => {
    for (const [ldlat, expected] of [[30, 5], [10, 6], [3, 7]] as const) {
      const r = run(rows, { ldlat, loadPeriod: 1 });
      expect(r.pm.loadsCounted[0], `ldlat ${ldlat}`).toBe(expected);
      expect(r.events.length).toBe(expected);
    }
    const r = run(rows, { ldlat: 30, loadPeriod: 1 });
    expect(r.events.map((e) => e.vaddr - r.a)).toEqual([0, 2048, 4096, 6144, 8192]);
  });

  it("rejects ldlat outside the hardware range, naming the option", () => {
    const { m } = makeMachine("tiny");
    expect(() => new PerfMemSampler(m, { ldlat: 2 })).toThrow(InputError);
    expect(() => new PerfMemSampler(m, { ldlat: 2 })).toThrow(/perfMem\.ldlat/);
    expect(() => new PerfMemSampler(m, { loadPeriod: 0 })).toThrow(/perfMem\.loadPeriod/);
  });
});

describe("periods", () => {
  // Ten lines, each read twice: the first read of a line goes to memory (qualifies at ldlat 30),
  // the second hits L1 (does not).
  const rows = (a: number): Step[] => {
    const s: Step[] = [];
    for (let k = 0; k < 10; k++) s.push({ addr: a + 64 * k, kind: R }, { addr: a + 64 * k + 8, kind: R });
    return s;
  };

  it("period 1 samples every qualifying load, period 3 every third, period 4 every fourth", () => {
    const p1 = run(rows, { loadPeriod: 1 });
    expect(p1.events.map((e) => (e.vaddr - p1.a) / 64)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const p3 = run(rows, { loadPeriod: 3 });
    expect(p3.events.map((e) => (e.vaddr - p3.a) / 64)).toEqual([2, 5, 8]);
    const p4 = run(rows, { loadPeriod: 4 });
    expect(p4.events.map((e) => (e.vaddr - p4.a) / 64)).toEqual([3, 7]);
    expect(p4.pm.loadsCounted[0]).toBe(10);
    expect(p4.pm.samples(0)).toBe(2);
  });

  it("each sample costs sampleCostNs plus the sink's ns, charged as sampling time", () => {
    const r = run(rows, { loadPeriod: 3, sampleCostNs: 1500 }, 250);
    expect(r.sampling).toBe(3 * (1500 + 250));
    expect(r.pm.handlingNs[0]).toBe(3 * 1750);
  });

  it("the sample carries the access's addresses, latency, source, node, TLB outcome and ids", () => {
    const { layout, areas } = oneProcess({ pid: 7, mmap: [{ name: "a", size: 1 * MiB }], threads: [{ tid: 70, cpus: [1] }] });
    const a = areas.get("a")!.start;
    const { m, sched } = makeMachine("tiny");
    const recs: AccessRecord[] = [];
    m.samplers.push({ onAccess: (r) => { recs.push(Object.assign(new AccessRecord(), r)); return 0; } });
    const events: PrimitiveEvent[] = [];
    new PerfMemSampler(m, { loadPeriod: 2 }, (e) => { events.push(Object.assign(new PrimitiveEvent(), e)); return 0; }).attach();
    m.load(listWorkload(layout, new Map([[70, [{ addr: a + 100, kind: R, size: 4 }, { addr: a + 300, kind: R, size: 4 }]]])));
    sched.run(10_000_000);
    expect(events.length).toBe(1);
    const e = events[0]!, r = recs[1]!;
    expect(e).toMatchObject({
      context: "nmi", cpu: 1, cpuNode: 0, pid: 7, tid: 70,
      vaddr: a + 300, paddr: r.paddr, size: 4, pageSize: 4096, isWrite: false,
      latencyNs: r.latencyNs, dataSource: DataSource.LOCAL_DRAM, memNode: 0, time: r.time, pte: r.pte,
      l1TlbMiss: false, l2TlbMiss: false, dcMiss: true, l2Miss: true,
    });
    expect(r.paddr % 4096).toBe(300);
  });
});

describe("stores, MODIFY and instruction fetches", () => {
  it("stores are sampled every storePeriod-th store with no latency filter and no latency", () => {
    const rows = (a: number): Step[] => [
      { addr: a, kind: W }, { addr: a + 8, kind: W }, { addr: a + 16, kind: R }, { addr: a + 24, kind: W },
      { addr: a + 32, kind: W }, { addr: a + 40, kind: R }, { addr: a + 48, kind: W },
    ];
    const r = run(rows, { loadPeriod: 1, storePeriod: 2 });
    // loads at +16 and +40 are L1 hits: below ldlat 30; stores 2 and 4 (of 5) are sampled
    const stores = r.events.filter((e) => e.isWrite);
    expect(stores.map((e) => e.vaddr - r.a)).toEqual([8, 32]);
    expect(stores.every((e) => e.latencyNs === 0)).toBe(true);
    expect(r.events.length).toBe(2);
    expect(r.pm.storesCounted[0]).toBe(5);
    expect(r.pm.storeSamples[0]).toBe(2);
  });

  it("a MODIFY counts as a load and as a store; stores: false turns store sampling off", () => {
    const rows = (a: number): Step[] => [{ addr: a, kind: M }, { addr: a + 8, kind: M }, { addr: a + 16, kind: M }];
    const r = run(rows, { ldlat: 3, loadPeriod: 1, storePeriod: 1 });
    expect(r.events.map((e) => [e.vaddr - r.a, e.isWrite])).toEqual([[0, false], [0, true], [8, false], [8, true], [16, false], [16, true]]);
    const noStores = run(rows, { ldlat: 3, loadPeriod: 1, storePeriod: 1, stores: false });
    expect(noStores.events.map((e) => e.isWrite)).toEqual([false, false, false]);
  });

  it("instruction fetches are not counted by either event", () => {
    const rows = (a: number): Step[] => [{ addr: a, kind: AccessKind.IFETCH }, { addr: a + 64, kind: AccessKind.IFETCH }];
    const r = run(rows, { ldlat: 3, loadPeriod: 1, storePeriod: 1 });
    expect(r.events.length).toBe(0);
    expect(r.pm.loadsCounted[0]! + r.pm.storesCounted[0]!).toBe(0);
  });
});

describe("throttling (perf_event_max_sample_rate)", () => {
  it("at 100 000 samples/s a CPU takes 100 samples in a 1 ms tick plus the one that throttles, then resumes next tick", () => {
    const opsPerMs = Math.ceil(1_000_000 / makeMachine("tiny").m.config.nsPerOp);
    const rows = (a: number): Step[] => {
      const s: Step[] = [];
      for (let i = 0; i < 300; i++) s.push({ addr: a + (i % 64) * 8, kind: R });
      // the next row runs more than 1 ms later (its gap of ops alone is 1 ms), in the next tick
      s.push({ addr: a, kind: R, gap: opsPerMs });
      for (let i = 0; i < 49; i++) s.push({ addr: a + (i % 64) * 8, kind: R });
      return s;
    };
    const r = run(rows, { ldlat: 3, loadPeriod: 1 });
    // tick 0: 101 samples (the 101st throttles, 202 us of handling, well inside the tick); tick 1: 50
    expect(r.pm.loadSamples[0]).toBe(101 + 50);
    expect(r.pm.throttled(0)).toBe(1);
    expect(r.pm.loadsCounted[0]).toBe(151);
    expect(r.sampling).toBe(151 * 2000);
    // the throttled stretch delivered nothing: samples are the first 101 rows, then the last 50
    expect(r.events[100]!.time).toBeLessThan(1_000_000);
    expect(r.events[101]!.time).toBeGreaterThan(1_000_000);
  });

  it("a lower maxSampleRate lowers the per-tick limit; Infinity never throttles", () => {
    const rows = (a: number): Step[] => Array.from({ length: 200 }, (_, i) => ({ addr: a + (i % 64) * 8, kind: R }));
    expect(run(rows, { ldlat: 3, loadPeriod: 1, maxSampleRate: 20_000 }).pm.loadSamples[0]).toBe(21);
    const free = run(rows, { ldlat: 3, loadPeriod: 1, maxSampleRate: Infinity });
    expect(free.pm.loadSamples[0]).toBe(200);
    expect(free.pm.throttled()).toBe(0);
  });
});

describe("perf_cpu_time_max_percent", () => {
  /** The kernel rule written out independently: a 1/128-decay running sum in integer ns. */
  function firstLowering(costNs: number): { n: number; perTick: number } {
    let run = 0;
    for (let n = 1; n < 10_000; n++) {
      run = run - Math.floor(run / 128) + costNs;
      const avg = Math.floor(run / 128);
      if (avg > 2500) {
        const len = avg + Math.floor(avg / 4);
        return { n, perTick: Math.floor(250_000 / len) };
      }
    }
    throw new Error("never lowered");
  }

  it("samples averaging more than 2.5 us lower the rate once the running average passes it", () => {
    const limits = new PerfLimits(1);
    expect(limits.allowedNs).toBe(2500);
    expect(limits.maxPerTick).toBe(100);
    const want = firstLowering(5000);
    for (let i = 1; i < want.n; i++) limits.took(0, 5000);
    expect(limits.lowerings).toBe(0);
    limits.took(0, 5000);
    expect(limits.lowerings).toBe(1);
    expect(limits.maxPerTick).toBe(want.perTick);
    expect(limits.maxSampleRate).toBe(want.perTick * 1000);
  });

  it("2 us samples never lower it; 0 and 100 percent turn the check off", () => {
    for (const [pct, cost] of [[25, 2000], [0, 50_000], [100, 50_000]] as const) {
      const limits = new PerfLimits(1, { cpuTimeMaxPercent: pct });
      for (let i = 0; i < 5000; i++) limits.took(0, cost);
      expect(limits.lowerings, `pct ${pct}`).toBe(0);
    }
  });

  it("with slow samples on a saturated stream, the lowered limit keeps sample handling within 25 % of a tick", () => {
    const { layout, areas } = oneProcess({ mmap: [{ name: "a", size: 1 * MiB }], threads: [{ tid: 1, cpus: [0] }] });
    const a = areas.get("a")!.start;
    const { m, sched } = makeMachine("tiny");
    // ~1 us of ops before each read: 20 ms of accesses, every one sampled unless throttled
    const rows: Step[] = Array.from({ length: 20_000 }, (_, i) => ({ addr: a + (i % 64) * 8, kind: R, gap: 3000 }));
    const seen: Array<[number, number]> = [];
    const pm: PerfMemSampler = new PerfMemSampler(m, { ldlat: 3, loadPeriod: 1, sampleCostNs: 6000 }, (e) => {
      seen.push([Math.floor(e.time / 1_000_000), pm.limits.maxPerTick]);
      return 0;
    }).attach();
    m.load(listWorkload(layout, new Map([[1, rows]])));
    sched.run(1_000_000_000);
    expect(m.finished).toBe(true);
    const lim = pm.limits;
    expect(lim.lowerings).toBeGreaterThan(1);
    expect(lim.maxPerTick * 6000).toBeLessThanOrEqual(250_000);
    const ticks = new Map<number, { n: number; limit: number }>();
    for (const [tick, limit] of seen) {
      const t = ticks.get(tick) ?? { n: 0, limit: 0 };
      t.n++;
      t.limit = Math.max(t.limit, limit);
      ticks.set(tick, t);
    }
    expect(ticks.size).toBeGreaterThan(15);
    for (const t of ticks.values()) expect(t.n).toBeLessThanOrEqual(t.limit + 1);
    // once the limit has settled, every full tick is throttled at exactly the limit + 1
    const last = Math.max(...ticks.keys());
    expect(ticks.get(last - 1)!.n).toBe(lim.maxPerTick + 1);
  });
});
