// Runs one variant of an experiment: builds the machine, loads the workload with the experiment's
// seed, attaches DAMON with the variant's primitives (none for the baseline), scores every
// aggregation window against the ground truth (filtered when the variant's monitoring is), and
// returns plain data: accuracy, overhead, report counters, WSS and heatmap rows of the truth and
// of what DAMON observed. Used in worker threads and in-process.

import type { Scheduler } from "../../sim/scheduler.ts";
import { CPU_TIME_NAMES } from "../../hw/cpu.ts";
import type { Machine } from "../../hw/machine.ts";
import { TruthChannel } from "../../hw/truth-channel.ts";
import { AccuracyTracker, type AccuracySummary, type WindowAccuracy } from "../../damon/accuracy.ts";
import { defaultAttrs, nrSamplesPerAggr } from "../../damon/attrs.ts";
import { kernelRules } from "../../damon/kernel.ts";
import type { Snapshot } from "../../damon/context.ts";
import type { Monitor } from "../../damon/monitor.ts";
import { opsSet, type AddressSegment, type OpsName } from "../../damon/ops-sets.ts";
import { PRIMITIVES } from "../../damon/primitives/index.ts";
import { DROP_REASON_NAMES } from "../../damon/report-buffer/buffer.ts";
import { resolveWorkload } from "../../workloads/registry.ts";
import { overheadPercent } from "../metrics.ts";
import { machineConfig, parsePrimitiveParams } from "../run-setup.ts";
import { buildSimulation } from "../simulation.ts";
import { paramList, type ExperimentSpec, type TieringSpec, type VariantSpec } from "./spec.ts";
import { OracleTiering } from "./oracle-tiering.ts";
import { TieringObserver, type TieringOutcome } from "./tiering-observer.ts";
import type { MachineConfig } from "../../hw/config.ts";
import { InputError } from "../../sim/errors.ts";
import type { SchemeSpec } from "../../damon/schemes/types.ts";
import type { SchemeSummary } from "../../damon/schemes/damos.ts";
import { schemesOfList } from "../damos-options.ts";

export interface HeatmapRows {
  rows: number;
  cols: number;
  /** Row-major rates in [0, 1] (NaN: nothing mapped there). */
  truth: number[];
  damon: number[];
  /** End time of each row (aggregation window), ns. */
  t: number[];
  /** The address axis: monitored areas laid end to end (gaps dropped); asid -1 for physical. */
  segments: AddressSegment[];
}

export interface VariantResult {
  name: string;
  primitives: string[];
  monitor: boolean;
  finished: boolean;
  simulatedNs: number;
  /** Simulated time at which the workload finished (null if it did not within the duration). */
  finishNs: number | null;
  accesses: number;
  accuracy: AccuracySummary | null;
  windows: WindowAccuracy[];
  cpuTimeNs: Record<string, number>;
  totalCpuNs: number;
  /** Monitoring CPU time (faults, traps, samples, scans, kdamond) as % of all CPU time used. */
  overheadPercent: number;
  reports: { delivered: Record<string, number>; accepted: number; dropped: Record<string, number>; drained: number; credited: number } | null;
  heatmap: HeatmapRows | null;
  /** Host wall-clock seconds: written to timing.json only, never to results.json or .csv. */
  wallSeconds: number;
  remote: { precision: number | null; recall: number | null } | null;
  /** Tiering experiments only: what the placement achieved. */
  tiering?: TieringResult;
  /** Variants with DAMOS schemes only: each scheme's stats. */
  schemes?: SchemeSummary[];
}

export interface TieringResult extends TieringOutcome {
  /** Who placed memory: nobody (first touch), DAMOS schemes, the oracle, or all-DRAM (the reference run). */
  placement: "none" | "damos" | "oracle" | "all-dram";
  /** Bytes migrated to the fast node and to the slow node. */
  promotedBytes: number;
  demotedBytes: number;
  /** CPU time of the migrations: DAMOS actions (kdamond's) or the oracle's, ns. */
  migrationCpuNs: number;
}

const COLS = 100;

export class Axis {
  readonly cum: number[] = [];
  readonly total: number;
  constructor(readonly segs: HeatmapRows["segments"]) {
    let c = 0;
    for (const s of segs) {
      this.cum.push(c);
      c += s.end - s.start;
    }
    this.total = c;
  }
  /** Adds `value` per byte over [lo, hi) of segment `k` into `acc` columns (and bytes into `w`). */
  spread(k: number, lo: number, hi: number, value: number, acc: Float64Array, w: Float64Array): void {
    const s = this.segs[k]!;
    const a = Math.max(lo, s.start), b = Math.min(hi, s.end);
    if (b <= a) return;
    const colBytes = this.total / COLS;
    const x0 = this.cum[k]! + (a - s.start);
    const x1 = this.cum[k]! + (b - s.start);
    // every column the span touches gets its overlap (column edges are fractional: no stepping
    // from edge to edge, which rounding could stall)
    const c0 = Math.min(COLS - 1, Math.floor(x0 / colBytes)), c1 = Math.min(COLS - 1, Math.floor(x1 / colBytes));
    for (let c = c0; c <= c1; c++) {
      const lo = c === 0 ? 0 : c * colBytes, hi = c === COLS - 1 ? this.total : (c + 1) * colBytes;
      const bytes = Math.min(x1, hi) - Math.max(x0, lo);
      if (bytes <= 0) continue;
      acc[c]! += value * bytes;
      w[c]! += bytes;
    }
  }
}

/** A variant's simulation, built and ready to run. */
export interface VariantSetup {
  sched: Scheduler;
  machine: Machine;
  monitor: Monitor | null;
  tracker: AccuracyTracker | null;
  heat: HeatmapRows | null;
  /** Simulated time at which the workload finished (null until it does). */
  finish: { ns: number | null };
  /** The tiering outcome observer (tiering experiments) and the oracle placement (its baseline). */
  observer: TieringObserver | null;
  oracle: OracleTiering | null;
}

/** A variant's machine: the experiment's, or for the all-DRAM reference every node as fast as the fast node. */
function variantMachine(x: ExperimentSpec, v: VariantSpec): MachineConfig {
  const c = machineConfig(x.machine);
  if (v.allDram !== true) return c;
  const fast = x.tiering?.fastNode ?? 0;
  const f = c.nodes[fast];
  if (!f) throw new InputError(`the tiering fast node ${fast} is not a node of machine '${c.name}'`, { field: "tiering.fastNode" });
  for (const n of c.nodes) {
    n.kind = f.kind;
    n.latencyNs = f.latencyNs;
    n.bandwidthGBps = f.bandwidthGBps;
  }
  // from every CPU's node, every node costs what the fast node does
  c.latencyNs = c.latencyNs.map((row) => row.map(() => row[fast]!));
  c.name = `${c.name} (all memory as fast as node ${fast})`;
  return c;
}

/** The DAMOS schemes a monitoring variant runs: its own, else the experiment's (damo JSON, read with the experiment's intervals). */
function variantSchemes(x: ExperimentSpec, v: VariantSpec): SchemeSpec[] {
  const list = v.schemes ?? x.schemes;
  if (list === undefined || list.length === 0) return [];
  return schemesOfList(list, x, `${x.sourceFile ?? "experiment"} schemes`);
}

/**
 * Builds a variant's machine, workload and monitor without running them. compare calls it for
 * every variant before starting any worker, so a bad parameter fails at once, not minutes in.
 */
export function setupVariant(x: ExperimentSpec, v: VariantSpec): VariantSetup {
  const finish: VariantSetup["finish"] = { ns: null };
  const sim = buildSimulation({
    config: variantMachine(x, v),
    workload: resolveWorkload(x.workload),
    seed: x.seed,
    flushTlbOnMkold: v.flushTlbOnMkold === true,
    truth: { subWindowNs: x.sampleUs * 1000, ops: x.ops },
    onFinish: (now) => {
      finish.ns = now;
      sim.sched.stop();
    },
    monitor: !v.monitor ? null : {
      ops: x.ops,
      ...(x.kernel ? { kernel: kernelRules(x.kernel), variant: kernelRules(x.kernel).core } : {}),
      attrs: { ...defaultAttrs(), sampleUs: x.sampleUs, aggrUs: x.aggrUs, opsUpdateUs: x.opsUpdateUs, minNrRegions: x.minNrRegions, maxNrRegions: x.maxNrRegions },
      primitives: v.primitives,
      params: parsePrimitiveParams(paramList(v)),
      buffer: v.buffer,
      filters: v.filters.map((f) => ({ type: f.type, matching: f.matching, allow: f.allow, ...(f.cpus ? { cpus: new Set(f.cpus) } : {}), ...(f.tids ? { tids: new Set(f.tids) } : {}) })),
      filterSemantics: v.filterSemantics,
      numaBalancing: v.numaBalancing === true,
      schemes: variantSchemes(x, v),
    },
  });
  const { sched, machine: m, monitor: mon } = sim;
  let tracker: AccuracyTracker | null = null;
  let heat: HeatmapRows | null = null;
  if (mon !== null) {
    const channel = v.truthFilter
      ? new TruthChannel(m, { ...(v.truthFilter.cpus ? { cpus: new Set(v.truthFilter.cpus) } : {}), ...(v.truthFilter.tids ? { tids: new Set(v.truthFilter.tids) } : {}), ...(v.truthFilter.writesOnly ? { writesOnly: true } : {}) }, x.sampleUs * 1000).attach()
      : undefined;
    // heatmap rows are taken before the tracker closes the truth window
    const axis = new Axis(opsSet(x.ops).heatmapSegments(m));
    const h: HeatmapRows = { rows: 0, cols: COLS, truth: [], damon: [], t: [], segments: axis.segs };
    heat = h;
    const samples = nrSamplesPerAggr({ sampleUs: x.sampleUs, aggrUs: x.aggrUs });
    const pids = mon.ctx.targets.map((t) => t.pid);
    mon.ctx.onAggregation((_c, snaps) => addHeatRow(m, h, axis, snaps, samples, channel ?? null, x.ops, pids));
    tracker = new AccuracyTracker(m, mon.ctx, { theta: x.theta, keepHotRanges: x.scenario === "cache-aware-sched", ...(channel ? { channel } : {}) });
  }
  const t = x.tiering;
  const oracle = t && v.placement === "oracle" ? new OracleTiering(m, { fastNode: t.fastNode, slowNode: t.slowNode, intervalNs: t.oracleIntervalNs, headroom: t.headroom }) : null;
  const observer = t
    ? new TieringObserver(m, { fastNode: t.fastNode, bucketNs: t.bucketNs, hotRegion: t.hotRegion, phaseChangeNs: t.phaseChangeNs, settled: t.settled, served: () => m.memServed.map((n, k) => n + m.memWritebacks[k]!) })
    : null;
  return { sched, machine: m, monitor: mon, tracker, heat, finish, observer, oracle };
}

export function runVariant(x: ExperimentSpec, v: VariantSpec, onProgress?: (fraction: number) => void): VariantResult {
  const t0 = performance.now();
  const { sched, machine: m, monitor: mon, tracker, heat, finish, observer, oracle } = setupVariant(x, v);
  mon?.kdamond.start();
  observer?.start();
  oracle?.start();
  const step = 50_000_000;
  while (sched.now < x.durationNs && finish.ns === null) {
    sched.run(Math.min(x.durationNs, sched.now + step));
    onProgress?.(sched.now / x.durationNs);
  }
  const cpuTimeNs = Object.fromEntries(CPU_TIME_NAMES.map((n, k) => [n, m.cpuTime(k)]));
  const total = CPU_TIME_NAMES.reduce((a, _n, k) => a + m.cpuTime(k), 0);
  let reports: VariantResult["reports"] = null;
  if (mon?.buffer) {
    const b = mon.buffer;
    const delivered = Object.fromEntries(PRIMITIVES.map((p, i) => [p, mon.counters.delivered[i]!]).filter(([, n]) => (n as number) > 0));
    const dropped = Object.fromEntries(DROP_REASON_NAMES.map((r, i) => [r, b.stats.dropsByReason[i]!.reduce((a, n) => a + n, 0)]));
    reports = { delivered, accepted: b.stats.accepted, dropped, drained: b.stats.drained, credited: mon.drain?.stats.credited ?? 0 };
  }
  if (heat) heat.rows = heat.t.length;
  return {
    name: v.name,
    primitives: v.primitives,
    monitor: v.monitor,
    finished: m.finished,
    simulatedNs: sched.now,
    finishNs: finish.ns,
    accesses: m.cpus.reduce((a, c) => a + c.accesses, 0),
    accuracy: tracker ? tracker.summary(x.warmupWindows) : null,
    windows: tracker ? tracker.windows : [],
    cpuTimeNs,
    totalCpuNs: total,
    overheadPercent: overheadPercent(m),
    reports,
    heatmap: heat,
    wallSeconds: (performance.now() - t0) / 1000,
    remote: null,
    ...(mon?.ctx.damos ? { schemes: mon.ctx.damos.summary() } : {}),
    ...(observer && x.tiering ? { tiering: tieringResult(m, x.tiering, observer.outcome(sched.now), (mon?.ctx.damos?.actionCostNs ?? 0) + (oracle?.costNs ?? 0), v.allDram === true ? "all-dram" : oracle ? "oracle" : mon?.ctx.damos ? "damos" : "none") } : {}),
  };
}

/** The tiering figures of a run: the observer's outcome, bytes migrated each way and the migrations' CPU time. */
function tieringResult(m: Machine, t: TieringSpec, o: TieringOutcome, migrationCpuNs: number, placement: TieringResult["placement"]): TieringResult {
  return { placement, ...o, promotedBytes: m.migratedBytesTo[t.fastNode] ?? 0, demotedBytes: m.migratedBytesTo[t.slowNode] ?? 0, migrationCpuNs };
}

/** One heatmap row: the truth of the window and DAMON's snapshot, as rates per address column. */
function addHeatRow(m: Machine, heat: HeatmapRows, axis: Axis, snaps: Snapshot[], samples: number, channel: TruthChannel | null, ops: OpsName, targetPids: Array<number | null>): void {
  const segs = axis.segs;
  // segments are sorted by (asid, start)
  const findSeg = (asid: number, addr: number): number => {
    let lo = 0, hi = segs.length - 1, f = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const sg = segs[mid]!;
      if (sg.asid < asid || (sg.asid === asid && sg.start <= addr)) {
        f = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return f >= 0 && segs[f]!.asid === asid && addr < segs[f]!.end ? f : -1;
  };
  const tAcc = new Float64Array(COLS), tW = new Float64Array(COLS), dAcc = new Float64Array(COLS), dW = new Float64Array(COLS);
  const t = m.truth!;
  const frames = opsSet(ops).truthFrames;
  const addPage = (asid: number, addr: number, bytes: number, sub: number): void => {
    const k = findSeg(asid, addr);
    if (k >= 0) axis.spread(k, addr, addr + bytes, Math.min(1, sub / samples), tAcc, tW);
  };
  if (channel) {
    for (let i = 0; i < channel.touchedCount; i++) {
      const p = channel.touched[i]!;
      if (frames) addPage(-1, m.ptes.frame[p]! * 4096, m.ptes.bytes(p), channel.subCount[p]!);
      else addPage(m.ptes.asid[p]!, m.ptes.vpn[p]! * 4096, m.ptes.bytes(p), channel.subCount[p]!);
    }
  } else if (frames) {
    for (let i = 0; i < t.fTouchedCount; i++) addPage(-1, t.fTouched[i]! * 4096, 4096, t.frameSubCount(t.fTouched[i]!));
  } else {
    for (let i = 0; i < t.vTouchedCount; i++) {
      const p = t.vTouched[i]!;
      addPage(m.ptes.asid[p]!, m.ptes.vpn[p]! * 4096, m.ptes.bytes(p), t.pageSubCount(p));
    }
  }
  for (const s of snaps) {
    const pid = targetPids[s.targetId] ?? null;
    const asid = pid === null ? -1 : (m.spaceOf(pid)?.asid ?? -2);
    for (const r of s.regions) {
      const rate = Math.min(1, r.nrAccesses / samples);
      for (let k = 0; k < segs.length; k++) if (segs[k]!.asid === asid) axis.spread(k, r.start, r.end, rate, dAcc, dW);
    }
  }
  // columns: truth = accessed bytes' rate over the column's bytes (untouched bytes count as 0)
  const colBytes = axis.total / COLS;
  for (let c = 0; c < COLS; c++) {
    heat.truth.push(tAcc[c]! / colBytes);
    heat.damon.push(dW[c]! > 0 ? dAcc[c]! / dW[c]! : NaN);
  }
  heat.t.push(snaps[0]?.endNs ?? 0);
}
