// Runs one regression case and collects what `damon-sim check` compares (the content of
// expected.json): per-aggregation snapshot digests, window ends and region counts; histograms of
// nr_accesses and age; per-probe hits and attribute sizes; accuracy against the ground truth
// (damon/accuracy.ts); overhead (CPU time by category, kdamond time, reports made and dropped);
// and cachegrind's nine counters when the case replays its trace through the cachegrind model; with
// DAMOS schemes, each scheme's stats and where the memory ended up (resident and migrated bytes
// per node, pages paged out, major faults).
//
// Determinism: everything here is a pure function of the case (its files, options and seed).
// The simulation takes its randomness from the seeded streams only; nothing reads the wall clock,
// the locale or the environment; collections are arrays filled in event order, objects get their
// keys in a fixed order written in this file, and histogram bins are array indices. Counts,
// addresses, times (integer ns) and digests are exact. The few floating-point figures (accuracy
// means, CPU time sums, estimated attribute bytes) come from IEEE-754 +, -, *, / and sqrt only,
// which are correctly rounded on every platform, evaluated in a fixed order; they are still
// compared with a tolerance (see compare.ts) so that a harmless re-association elsewhere (e.g. a
// sum taken in another order by a faster implementation) does not count as a regression.

import { AccessBatch } from "../../hw/batch.ts";
import { CachegrindSim, type CachegrindCounters } from "../../hw/cachegrind.ts";
import { CPU_TIME_NAMES } from "../../hw/cpu.ts";
import { AccuracyTracker, type AccuracySummary } from "../../damon/accuracy.ts";
import type { Snapshot } from "../../damon/context.ts";
import type { Monitor } from "../../damon/monitor.ts";
import { PRIMITIVES, primitiveDef } from "../../damon/primitives/index.ts";
import { DROP_REASON_NAMES } from "../../damon/report-buffer/buffer.ts";
import { openTrace } from "../../workloads/trace/index.ts";
import type { CaseSpec } from "./case.ts";
import { ageBin, snapshotDigest } from "./digest.ts";
import { buildCaseRun } from "./setup.ts";
import { overheadPercent } from "../metrics.ts";
import type { SchemeSummary } from "../../damon/schemes/damos.ts";

export const RESULTS_FORMAT = "damon-sim-check/1";

export interface ProbeResults {
  /** Sum over regions of the probe's hits, per aggregation. */
  hits: number[];
  /** Exact bytes with the attribute in the monitored regions, per aggregation. */
  truthBytes: number[];
  /** DAMON's estimate of those bytes (hits / samples x region size, summed), per aggregation. */
  estimatedBytes: number[];
}

export interface ReportCounters {
  buffer: string;
  /** Events each primitive handed to damon_report_access(). */
  delivered: Record<string, number>;
  submitted: number;
  accepted: number;
  /** Dropped reports by reason (all primitives). */
  dropped: Record<string, number>;
  drained: number;
  stale: number;
  /** Drain outcomes: credited to a region, filtered out, straddling, outside every region. */
  credited: number;
  filtered: number;
  straddling: number;
  outside: number;
}

export interface CaseResults {
  format: typeof RESULTS_FORMAT;
  run: { simulatedNs: number; finished: boolean; accesses: number; samples: number; aggregations: number; finalRegions: number };
  /** One entry per aggregation (all targets together). */
  snapshots: { endNs: number[]; digest: string[]; regions: number[] };
  /** Regions seen over all aggregations: by nr_accesses (index = value), by age (index = ageBin). */
  histograms: { nrAccesses: number[]; age: number[] };
  /** Per probe name (null without probes). */
  probes: Record<string, ProbeResults> | null;
  accuracy: AccuracySummary;
  overhead: {
    cpuTimeNs: Record<string, number>;
    kdamondCpuNs: number;
    /** Overhead % (cli/metrics.ts). */
    monitoringPercent: number;
    reports: ReportCounters | null;
  };
  cachegrind: CachegrindCounters | null;
  /** Cases with DAMOS schemes only: each scheme's stats, and where the memory ended up. */
  schemes?: SchemeSummary[];
  memory?: { residentBytes: number[]; migratedInBytes: number[]; pagesOut: number; majorFaults: number };
}

/** Simulates case `c` and returns its results. `onProgress` gets the simulated fraction done. */
export function runCase(c: CaseSpec, onProgress?: (fraction: number) => void): CaseResults {
  const setup = buildCaseRun(c);
  const { machine, sched, monitor, durationNs } = setup;
  const ctx = monitor.ctx;
  const snapshots: CaseResults["snapshots"] = { endNs: [], digest: [], regions: [] };
  const nrHist: number[] = [];
  const ageHist: number[] = [];
  const probeNames = uniqueNames(ctx.probes.map((p) => p.name));
  const probeHits: number[][] = probeNames.map(() => []);
  const bump = (h: number[], i: number): void => {
    while (h.length <= i) h.push(0);
    h[i]!++;
  };
  ctx.onAggregation((_c, snaps: Snapshot[]) => {
    let regions = 0;
    const hits = probeNames.map(() => 0);
    for (const s of snaps) {
      regions += s.regions.length;
      for (const r of s.regions) {
        bump(nrHist, r.nrAccesses);
        bump(ageHist, ageBin(r.age));
        for (let i = 0; i < hits.length; i++) hits[i]! += r.probeHits[i] ?? 0;
      }
    }
    snapshots.endNs.push(snaps[0]?.endNs ?? ctx.now);
    snapshots.digest.push(snapshotDigest(snaps));
    snapshots.regions.push(regions);
    hits.forEach((h, i) => probeHits[i]!.push(h));
  });
  const tracker = new AccuracyTracker(machine, ctx, { theta: c.accuracy.theta });
  machine.onAllThreadsDone(() => sched.stop());
  monitor.kdamond.start();
  const step = Math.max(1, Math.min(durationNs, 10_000_000));
  while (sched.now < durationNs && !machine.finished) {
    sched.run(Math.min(durationNs, sched.now + step));
    onProgress?.(sched.now / durationNs);
  }

  let probes: CaseResults["probes"] = null;
  if (probeNames.length > 0) {
    const windows = setup.attributes?.windows ?? [];
    probes = {};
    probeNames.forEach((name, i) => {
      probes![name] = {
        hits: probeHits[i]!,
        truthBytes: windows.map((w) => w.probes[i]!.truth),
        estimatedBytes: windows.map((w) => w.probes[i]!.estimated),
      };
    });
  }
  const cpuTimeNs: Record<string, number> = {};
  CPU_TIME_NAMES.forEach((n, k) => (cpuTimeNs[n] = machine.cpuTime(k)));
  return {
    format: RESULTS_FORMAT,
    run: {
      simulatedNs: sched.now,
      finished: machine.finished,
      accesses: machine.cpus.reduce((a, cpu) => a + cpu.accesses, 0),
      samples: ctx.samples,
      aggregations: ctx.aggregations,
      finalRegions: ctx.nrRegions(),
    },
    snapshots,
    histograms: { nrAccesses: nrHist, age: ageHist },
    probes,
    accuracy: tracker.summary(c.accuracy.warmup),
    overhead: {
      cpuTimeNs,
      kdamondCpuNs: monitor.kdamond.totalCostNs,
      monitoringPercent: overheadPercent(machine),
      reports: reportCounters(setup.monitor),
    },
    cachegrind: c.cachegrind ? replayCachegrind(c) : null,
    ...(ctx.damos
      ? {
          schemes: ctx.damos.summary(),
          memory: { residentBytes: machine.memory.nodes.map((n) => n.used * 4096), migratedInBytes: Array.from(machine.migratedBytesTo), pagesOut: machine.pagesOut, majorFaults: machine.majorFaults },
        }
      : {}),
  };
}

/** Probe names made unique in order ("a", "a" -> "a", "a#2") so each keys its own results. */
function uniqueNames(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((n) => {
    const k = (seen.get(n) ?? 0) + 1;
    seen.set(n, k);
    return k === 1 ? n : `${n}#${k}`;
  });
}

function reportCounters(mon: Monitor): ReportCounters | null {
  const b = mon.buffer;
  if (!b) return null;
  const delivered: Record<string, number> = {};
  PRIMITIVES.forEach((p, i) => {
    if (primitiveDef(p).reports) delivered[p] = mon.counters.delivered[i]!;
  });
  const dropped: Record<string, number> = {};
  DROP_REASON_NAMES.forEach((r, i) => (dropped[r] = b.stats.dropsByReason[i]!.reduce((a, n) => a + n, 0)));
  const d = mon.drain?.stats;
  return {
    buffer: b.kind,
    delivered,
    submitted: b.stats.submitted,
    accepted: b.stats.accepted,
    dropped,
    drained: b.stats.drained,
    stale: b.stats.stale,
    credited: d?.credited ?? 0,
    filtered: d?.filtered ?? 0,
    straddling: d?.straddling ?? 0,
    outside: d?.outside ?? 0,
  };
}

/** Replays the case's .dst trace through the cachegrind-exact cache model. */
function replayCachegrind(c: CaseSpec): CachegrindCounters {
  const sim = new CachegrindSim(c.cachegrind!);
  const src = openTrace(c.workloadArg);
  const batch = new AccessBatch(4096);
  try {
    while (src.next(batch) > 0) sim.run(batch);
  } finally {
    src.close();
  }
  return sim.counters();
}
