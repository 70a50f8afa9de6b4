// The access check primitives feeding DAMON end to end: the TLB-hit case where the Accessed bit
// misses accesses that the page-fault primitive sees; perf mem and IBS reports with counts worked
// out by hand; SPE's batches and its lost records in the drop figure; NUMA hinting faults
// reported when the switch is on; write-only and CPU filters;
// buffer drops counted; several primitives at once; determinism.

import { describe, expect, it } from "vitest";
import { AccessKind } from "../../hw/batch.ts";
import { buildProcess } from "../../hw/layout.ts";
import { defaultAttrs, type DamonAttrs } from "../../damon/attrs.ts";
import type { Snapshot } from "../../damon/context.ts";
import { createMonitor, type MonitorOptions } from "../../damon/monitor.ts";
import { primitiveId } from "../../damon/primitives/index.ts";
import { DROP_REASON_NAMES, DropReason } from "../../damon/report-buffer/buffer.ts";
import { reportsDropped } from "../../cli/metrics.ts";
import { Region } from "../../damon/region.ts";
import { MS, SEC } from "../../sim/time.ts";
import { listWorkload, makeMachine, type Step } from "../hw/helpers.ts";
import type { MachineOptions } from "../../hw/machine.ts";

// 1 ms samples, 20 ms aggregations: 20 samples per aggregation, short runs
const attrs = (o: Partial<DamonAttrs> = {}): DamonAttrs => ({ ...defaultAttrs(), sampleUs: 1000, aggrUs: 20_000, minNrRegions: 3, opsUpdateUs: 10_000_000, ...o });

/** One thread on CPU 0 reading one page over and over (it never leaves the TLB). */
function onePageRun(mon: Partial<MonitorOptions>, machineOpts: MachineOptions = {}, ms = 150) {
  const { process, areas } = buildProcess({ mmap: [{ name: "a", size: 64 * 4096 }], threads: [{ tid: 1, cpus: [0] }] });
  const a = areas.get("a")!.start;
  const steps: Step[] = Array.from({ length: 200_000 }, (_, i) => ({ addr: a + (i % 64) * 8, kind: AccessKind.READ, gap: 3000 }));
  const { m, sched } = makeMachine("tiny", { truth: false, ...machineOpts });
  m.load(listWorkload({ processes: [process] }, new Map([[1, steps]])));
  const monitor = createMonitor(m, { ops: "vaddr", attrs: attrs(), ...mon });
  monitor.ctx.targets[0]!.regions = [new Region(a, a + 4096)];
  const snaps: Snapshot[] = [];
  monitor.ctx.onAggregation((_c, s) => snaps.push(s[0]!));
  monitor.kdamond.start();
  sched.run(ms * MS);
  return { m, monitor, snaps, nr: snaps.map((s) => s.regions[0]!.nrAccesses) };
}

describe("the TLB-hit blind spot of the Accessed bit", () => {
  it("PTE Accessed bit: a page that never leaves the TLB looks idle after the first aggregation", () => {
    const { nr } = onePageRun({ primitives: ["pte"] });
    expect(nr.slice(1).every((n) => n === 0)).toBe(true);
  });
  it("flushing the TLB on mkold makes the Accessed bit see every sample", () => {
    const { nr } = onePageRun({ primitives: ["pte"] }, { flushTlbOnMkold: true });
    expect(nr.slice(1).every((n) => n === 20)).toBe(true);
  });
  it("the page-fault primitive sees it in every sample interval: the trap flushes the TLB", () => {
    const { nr, monitor } = onePageRun({ primitives: ["fault"] });
    expect(nr.slice(1).every((n) => n === 20)).toBe(true);
    // one fault and one report per sample interval (the trap is re-armed at every prepare)
    const faults = monitor.counters.delivered[primitiveId("fault")]!;
    expect(faults).toBeGreaterThanOrEqual(149);
    expect(faults).toBeLessThanOrEqual(151);
    expect(monitor.buffer!.stats.accepted).toBe(faults);
  });
});

describe("sampling primitives", () => {
  /** Reads of distinct lines (all served by memory) on CPU 0. */
  function linesRun(mon: Partial<MonitorOptions>, n: number, gap = 0) {
    const { process, areas } = buildProcess({ mmap: [{ name: "a", size: 4 * 1024 * 1024 }], threads: [{ tid: 1, cpus: [0] }] });
    const a = areas.get("a")!.start;
    const steps: Step[] = Array.from({ length: n }, (_, i) => ({ addr: a + i * 64, kind: AccessKind.READ, gap }));
    const { m, sched } = makeMachine("tiny", { truth: false });
    m.load(listWorkload({ processes: [process] }, new Map([[1, steps]])));
    const monitor = createMonitor(m, { ops: "vaddr", attrs: attrs(), ...mon });
    monitor.ctx.targets[0]!.regions = [new Region(a, a + 4 * 1024 * 1024)];
    monitor.kdamond.start();
    sched.run(50 * MS);
    return { m, monitor };
  }

  it("perf mem: every 5th load above ldlat is a report (50 memory loads -> 10)", () => {
    const { monitor } = linesRun({ primitives: ["perf-mem"], params: { "perf-mem": { loadPeriod: 5, ldlat: 30 } } }, 50);
    expect(monitor.counters.delivered[primitiveId("perf-mem")]).toBe(10);
    expect(monitor.instance("perf-mem")!.samples()).toBe(10);
  });

  it("IBS: one tag every period-r ops (r in 0..127), memory tags reported", () => {
    // 2000 accesses of 1 + 255 ops each = 512,000 ops; period 4096 -> between 125 and 129 tags
    const { monitor } = linesRun({ primitives: ["ibs"], params: { ibs: { period: 4096, maxSampleRate: Infinity, cpuTimeMaxPercent: 0 } } }, 2000, 255);
    const tags = monitor.instance("ibs")!.samples[0]!;
    expect(tags).toBeGreaterThanOrEqual(Math.floor(512_000 / 4096));
    expect(tags).toBeLessThanOrEqual(Math.ceil(512_000 / (4096 - 127)));
    // a tag lands on the memory op only when it is the last op of its group: about 1 in 256
    expect(monitor.counters.delivered[primitiveId("ibs")]).toBe(monitor.instance("ibs")!.memorySamples[0]);
    expect(monitor.instance("ibs")!.memorySamples[0]).toBeLessThan(tags / 20);
    // with perf's default ceiling (100,000 samples/s = 100 per 1 ms tick) the same run, which fits
    // in one tick, stops at the limit plus the overflow that crossed it
    const limited = linesRun({ primitives: ["ibs"], params: { ibs: { period: 4096 } } }, 2000, 255);
    expect(limited.monitor.instance("ibs")!.samples[0]).toBe(101);
  });

  it("SPE: watermark batches reach damon_report_access(); records lost to a full aux buffer count as reports made and dropped 'full'", () => {
    // 60,000 single-op reads, one sample per 256 + U(0..255) ops: about 156 samples; a 8 KiB
    // buffer holds 128 records and interrupts only when full; a 200 us delay loses what comes meanwhile
    const spe = { interval: 256, auxBytes: 8192, watermarkBytes: 8192, irqDelayNs: 200_000 };
    const { monitor } = linesRun({ primitives: ["spe"], params: { spe } }, 60_000);
    const s = monitor.instance("spe")!;
    const b = monitor.buffer!.stats;
    const id = primitiveId("spe");
    expect(s.auxDropped[0]).toBeGreaterThan(0);
    expect(s.interrupts[0]).toBeGreaterThan(0);
    expect(monitor.counters.delivered[id]).toBe(s.reported[0]! + s.auxDropped[0]!);
    expect(b.dropsByReason[DropReason.FULL]![id]).toBe(s.auxDropped[0]);
    expect(b.accepted).toBe(s.reported[0]);
    expect(b.submitted).toBe(b.accepted + s.auxDropped[0]!);
    // the drop figure (cli/metrics.ts: every reason of the report buffer) includes them
    expect(reportsDropped(Object.fromEntries(DROP_REASON_NAMES.map((r, k) => [r, b.dropsByReason[k]!.reduce((x, y) => x + y, 0)])))).toBe(s.auxDropped[0]);
  });
});

describe("NUMA hinting faults", () => {
  it("are reported to DAMON only with the reuse switch, one report per hint fault", () => {
    const run = (primitives: MonitorOptions["primitives"], numaBalancing: boolean) => {
      const { process, areas } = buildProcess({ mmap: [{ name: "a", size: 8 * 1024 * 1024, policy: { mode: "bind", nodes: [1] } }], threads: [{ tid: 1, cpus: [0] }] });
      const a = areas.get("a")!.start;
      const steps: Step[] = Array.from({ length: 400_000 }, (_, i) => ({ addr: a + ((i * 4096 * 7) % (8 * 1024 * 1024)), kind: AccessKind.READ, gap: 3000 }));
      const { m, sched } = makeMachine("2s-ddr5", { truth: false });
      m.load(listWorkload({ processes: [process] }, new Map([[1, steps]])));
      const monitor = createMonitor(m, { ops: "vaddr", attrs: attrs(), primitives, numaBalancing, params: { "numa-hint": { scanDelayMs: 10, scanPeriodMinMs: 20 } } });
      monitor.kdamond.start();
      sched.run(3 * SEC);
      return monitor;
    };
    const reported = run(["numa-hint"], true);
    expect(reported.numa!.numaHintFaults).toBeGreaterThan(0);
    expect(reported.counters.delivered[primitiveId("numa-hint")]).toBe(reported.numa!.numaHintFaults);
    const silent = run(["pte"], true);
    expect(silent.numa!.numaHintFaults).toBeGreaterThan(0);
    expect(silent.buffer).toBeNull();
  }, 60_000);
});

describe("filters and several primitives", () => {
  /** Thread 1 (CPU 0) reads area A, thread 2 (CPU 1) writes area B. */
  function twoThreads(mon: Partial<MonitorOptions>) {
    const { process, areas } = buildProcess({ mmap: [{ name: "A", size: 64 * 4096 }, { name: "B", size: 64 * 4096 }], threads: [{ tid: 1, cpus: [0] }, { tid: 2, cpus: [1] }] });
    const A = areas.get("A")!, B = areas.get("B")!;
    const rows = (base: number, kind: AccessKind): Step[] => Array.from({ length: 250_000 }, (_, i) => ({ addr: base + ((i * 4096 * 5) % (64 * 4096)), kind, gap: 2000 }));
    const { m, sched } = makeMachine("tiny", { truth: false });
    m.load(listWorkload({ processes: [process] }, new Map([[1, rows(A.start, AccessKind.READ)], [2, rows(B.start, AccessKind.WRITE)]])));
    const monitor = createMonitor(m, { ops: "vaddr", attrs: attrs(), ...mon });
    monitor.ctx.targets[0]!.regions = [new Region(A.start, A.end), new Region(B.start, B.end)].sort((x, y) => x.start - y.start);
    const snaps: Snapshot[] = [];
    monitor.ctx.onAggregation((_c, s) => snaps.push(s[0]!));
    monitor.kdamond.start();
    sched.run(150 * MS);
    // regions may be split/merged; report the accessed bytes per area in the last snapshot
    const last = snaps[snaps.length - 1]!;
    const hot = (lo: number, hi: number): number => last.regions.filter((r) => r.start >= lo && r.end <= hi && r.nrAccesses > 0).reduce((s, r) => s + r.end - r.start, 0);
    return { monitor, hotA: hot(A.start, A.end), hotB: hot(B.start, B.end) };
  }

  it("write-only monitoring sees only the written area", () => {
    const r = twoThreads({ primitives: ["fault"], filters: [{ type: "write", matching: true, allow: true }] });
    expect(r.hotA).toBe(0);
    expect(r.hotB).toBeGreaterThan(0);
    expect(r.monitor.drain!.stats.filtered).toBeGreaterThan(0);
  });

  it("CPU-filtered monitoring sees only what CPU 0 touches", () => {
    const r = twoThreads({ primitives: ["fault"], filters: [{ type: "cpumask", matching: true, allow: true, cpus: new Set([0]) }] });
    expect(r.hotA).toBeGreaterThan(0);
    expect(r.hotB).toBe(0);
  });

  it("the damon/next quirk lets a lone allow filter pass everything", () => {
    const r = twoThreads({ primitives: ["fault"], filters: [{ type: "write", matching: true, allow: true }], filterSemantics: "next-quirk" });
    expect(r.hotA).toBeGreaterThan(0);
    expect(r.hotB).toBeGreaterThan(0);
  });

  it("the array buffer drops NMI reports and counts them; several primitives at once, deterministically", () => {
    const a = twoThreads({ primitives: ["pte", "fault", "ibs"], buffer: "array", params: { ibs: { period: 1024 } } });
    const st = a.monitor.buffer!.stats;
    expect(st.dropsByReason[1]![primitiveId("ibs")]).toBeGreaterThan(0); // nmi-unsafe
    expect(st.accepted).toBeGreaterThan(0);
    const b = twoThreads({ primitives: ["pte", "fault", "ibs"], buffer: "array", params: { ibs: { period: 1024 } } });
    expect(JSON.stringify(b.monitor.buffer!.stats)).toBe(JSON.stringify(st));
    expect([b.hotA, b.hotB]).toEqual([a.hotA, a.hotB]);
  });
});
