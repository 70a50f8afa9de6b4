// DAMON_STAT (mm/damon/stat.c, damon.md section 5): a module that monitors physical memory on its
// own (paddr, the biggest System RAM resource, 10..1000 regions) with self-tuned intervals (goal:
// 4 % of possible access events, tuned every 3 aggregations, sample interval 5 ms .. 10 s), and
// publishes two read-only parameters, refreshed from a damon_call that runs on every kdamond loop
// iteration (so it can read a partly counted aggregation window) but returns at once unless
// jiffies is past the last refresh's jiffies + msecs_to_jiffies(5000) (time_before_eq); the first
// stamp is the jiffies when the module started its kdamond (damon_stat_start):
//   estimated_memory_bandwidth  sum(region size x nr_accesses) x 1e6 / aggr_interval_us (bytes/s)
//   memory_idle_ms_percentiles  101 values: regions sorted by idle time (age+1 aggregations for
//                               unaccessed regions, -(age+1) for accessed ones), walked accumulating
//                               bytes; each percentile gets the value of the region that reaches it,
//                               in ms.
// The biggest System RAM resource (damon_set_region_biggest_system_ram_default, walk_system_ram:
// the first of equally large ones wins) is modelled from the machine's nodes: boot DRAM is one
// resource per run of physically contiguous DRAM nodes (e820 ranges do not stop at node
// boundaries), and each CXL node is a resource of its own (dax/kmem's "System RAM (kmem)").

import type { Machine } from "../hw/machine.ts";
import { SEC } from "../sim/time.ts";
import { defaultAttrs, type DamonAttrs } from "./attrs.ts";
import type { DamonContext } from "./context.ts";
import { kernelRules, type KernelRules } from "./kernel.ts";
import { createMonitor, type Monitor } from "./monitor.ts";
import { InputError } from "../sim/errors.ts";
import { Region } from "./region.ts";

export const DAMON_STAT_REFRESH_NS = 5 * SEC;

export function damonStatAttrs(): DamonAttrs {
  return {
    ...defaultAttrs(),
    sampleUs: 5_000,
    aggrUs: 100_000,
    opsUpdateUs: 60_000_000,
    minNrRegions: 10,
    maxNrRegions: 1000,
    intervalsGoal: { accessBp: 400, aggrs: 3, minSampleUs: 5_000, maxSampleUs: 10_000_000 },
  };
}

/** estimated_memory_bandwidth from the regions as they stand (bytes per second). */
export function estimatedMemoryBandwidth(regions: readonly Region[], aggrUs: number): number {
  let s = 0;
  for (const r of regions) s += r.size * r.nrAccesses;
  return Math.floor((s * 1_000_000) / aggrUs);
}

/** memory_idle_ms_percentiles: 101 values (percentiles 0..100). */
export function idleMsPercentiles(regions: readonly Region[], aggrUs: number): number[] {
  const total = regions.reduce((a, r) => a + r.size, 0);
  const vals = regions.map((r) => ({ idle: r.nrAccesses > 0 ? -(r.age + 1) : r.age + 1, size: r.size })).sort((a, b) => a.idle - b.idle);
  const out = new Array<number>(101);
  let filled = 0;
  let acc = 0;
  for (const v of vals) {
    acc += v.size;
    const reached = Math.floor((acc * 100) / total);
    while (filled <= 100 && filled <= reached) out[filled++] = Math.trunc((v.idle * aggrUs) / 1000);
  }
  while (filled <= 100) out[filled++] = vals.length ? Math.trunc((vals[vals.length - 1]!.idle * aggrUs) / 1000) : 0;
  return out;
}

export interface DamonStatValues {
  estimatedMemoryBandwidth: number;
  memoryIdleMsPercentiles: number[];
  aggrIntervalUs: number;
  sampleIntervalUs: number;
  /** Simulated time of the last refresh, ns. */
  refreshedAt: number;
  /**
   * How much of the aggregation window had been counted when the values were read (the module
   * reads nr_accesses mid-window; 1 when the read fell on an aggregation boundary).
   */
  windowFraction: number;
  refreshes: number;
}

export interface DamonStat {
  monitor: Monitor;
  values: DamonStatValues;
}

/** msecs_to_jiffies() for whole milliseconds (rounded up, as the kernel's is for HZ not dividing 1000). */
export function msecsToJiffies(ms: number, hz: number): number {
  return Math.ceil((ms * hz) / 1000);
}

/** damon_stat_damon_call_fn's gate: refresh only when jiffies is past last + 5 s of jiffies. */
export function statRefreshDue(jiffies: number, lastRefreshJiffies: number, hz: number): boolean {
  return jiffies > lastRefreshJiffies + msecsToJiffies(5000, hz);
}

/** The System RAM resources the kernel would list, from the machine's nodes (see the header). */
export function systemRamResources(machine: Machine): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number; kind: string }> = [];
  for (const n of machine.memory.nodes) {
    const start = n.base * 4096, end = (n.base + n.frames) * 4096;
    const last = out[out.length - 1];
    if (last && n.cfg.kind === "dram" && last.kind === "dram" && last.end === start) last.end = end;
    else out.push({ start, end, kind: n.cfg.kind });
  }
  return out.map(({ start, end }) => ({ start, end }));
}

/** damon_find_biggest_system_ram: the largest resource, the first one on a tie. */
export function biggestSystemRam(machine: Machine): { start: number; end: number } {
  let best = { start: 0, end: 0 };
  for (const r of systemRamResources(machine)) if (best.end - best.start < r.end - r.start) best = r;
  return best;
}

/**
 * Creates DAMON_STAT's context on a machine (its kdamond is not started). `region`: the biggest
 * System RAM resource (stat.c), or "all" physical memory. The last-refresh stamp is the jiffies at
 * which the kdamond starts, so the first values appear just over 5 s later. `kernel`: DAMON_STAT
 * exists from v6.17 (default: mainline's rules).
 */
export function createDamonStat(machine: Machine, region: "biggest" | "all" = "biggest", cpu?: number, kernel: KernelRules = kernelRules("mainline"), hz = 250): DamonStat {
  if (!kernel.damonStat) throw new InputError(`DAMON_STAT (mm/damon/stat.c) is not in kernel ${kernel.name}: it arrived in v6.17`, { field: "kernel" });
  const monitor = createMonitor(machine, { ops: "paddr", attrs: damonStatAttrs(), rngName: "damon.stat", kernel, variant: kernel.core, ...(cpu !== undefined ? { cpu } : {}) });
  if (region === "biggest") {
    const r = biggestSystemRam(machine);
    monitor.ctx.targets[0]!.regions = [new Region(r.start, r.end)];
  }
  const values: DamonStatValues = {
    estimatedMemoryBandwidth: 0,
    memoryIdleMsPercentiles: new Array<number>(101).fill(0),
    aggrIntervalUs: monitor.ctx.attrs.aggrUs,
    sampleIntervalUs: monitor.ctx.attrs.sampleUs,
    refreshedAt: 0,
    windowFraction: 0,
    refreshes: 0,
  };
  const jiffyNs = 1e9 / hz;
  let lastRefreshJiffies: number | null = null;
  monitor.ctx.onCall((ctx: DamonContext) => {
    // damon_stat_start() stamps the jiffies right after damon_start()
    lastRefreshJiffies ??= Math.floor(ctx.startedAt / jiffyNs);
    const jiffies = Math.floor(ctx.now / jiffyNs);
    if (!statRefreshDue(jiffies, lastRefreshJiffies, hz)) return;
    lastRefreshJiffies = jiffies;
    const regions = ctx.targets.flatMap((x) => x.regions);
    values.estimatedMemoryBandwidth = estimatedMemoryBandwidth(regions, ctx.attrs.aggrUs);
    values.memoryIdleMsPercentiles = idleMsPercentiles(regions, ctx.attrs.aggrUs);
    values.aggrIntervalUs = ctx.attrs.aggrUs;
    values.sampleIntervalUs = ctx.attrs.sampleUs;
    values.refreshedAt = ctx.now;
    const window = Math.max(1, Math.floor(ctx.attrs.aggrUs / ctx.attrs.sampleUs));
    const left = Math.max(0, ctx.nextAggregationSis - ctx.passed);
    values.windowFraction = (window - Math.min(window, left)) / window;
    values.refreshes++;
  });
  return { monitor, values };
}
