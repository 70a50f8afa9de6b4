// DAMON_STAT (mm/damon/stat.c, damon.md section 5): a module that monitors physical memory on its
// own (paddr, the biggest System RAM range, 10..1000 regions) with self-tuned intervals (goal:
// 4 % of possible access events, tuned every 3 aggregations, sample interval 5 ms .. 10 s), and
// publishes two read-only parameters, refreshed at most every 5 s from a damon_call that runs on
// every kdamond loop iteration (so it can read a partly counted aggregation window):
//   estimated_memory_bandwidth  sum(region size x nr_accesses) x 1e6 / aggr_interval_us (bytes/s)
//   memory_idle_ms_percentiles  101 values: regions sorted by idle time (age+1 aggregations for
//                               unaccessed regions, -(age+1) for accessed ones), walked accumulating
//                               bytes; each percentile gets the value of the region that reaches it,
//                               in ms.

import type { Machine } from "../hw/machine.ts";
import { SEC } from "../sim/time.ts";
import { defaultAttrs, type DamonAttrs } from "./attrs.ts";
import type { DamonContext } from "./context.ts";
import { createMonitor, type Monitor } from "./monitor.ts";
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

/**
 * Creates DAMON_STAT's context on a machine (its kdamond is not started). `region`: the "biggest"
 * System RAM range (mainline stat.c), or "all" physical memory. The last-refresh time starts at 0,
 * like the module's jiffies stamp, so the first values appear 5 s into the run.
 */
export function createDamonStat(machine: Machine, region: "biggest" | "all" = "biggest", cpu?: number): DamonStat {
  const monitor = createMonitor(machine, { ops: "paddr", attrs: damonStatAttrs(), rngName: "damon.stat", ...(cpu !== undefined ? { cpu } : {}) });
  if (region === "biggest") {
    let best = machine.memory.nodes[0]!;
    for (const n of machine.memory.nodes) if (n.frames > best.frames) best = n;
    monitor.ctx.targets[0]!.regions = [new Region(best.base * 4096, (best.base + best.frames) * 4096)];
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
  monitor.ctx.onCall((ctx: DamonContext) => {
    if (ctx.now < values.refreshedAt + DAMON_STAT_REFRESH_NS) return;
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
