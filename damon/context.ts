// A DAMON context (one kdamond's monitoring state): attributes, operations set, targets and their
// regions, and the time bookkeeping counted in sample intervals. step() is one iteration of the
// kdamond loop after its sleep, in the kernel's order (damon.md 1.3):
//   check accesses -> [aggregation: merge + age] -> callbacks -> [aggregation: tune, advance,
//   snapshot + reset, split] -> [ops update] -> prepare the next access checks.
// The core is pure bookkeeping: what "accessed" means is the operations set's business.

import { SimError } from "../sim/errors.ts";
import type { Rng } from "../sim/rng.ts";
import { applyMinNrRegions, mergeRegions, regionSzLimit, resetAggregated, splitRegions, updateMonitoringResult, type SplitState, type Variant } from "./aggregate.ts";
import { cloneAttrs, nrSamplesPerAggr, sisOf, validateAttrs, type DamonAttrs } from "./attrs.ts";
import { defaultDamonCosts, type DamonCosts } from "./costs.ts";
import type { DamonOps } from "./ops.ts";
import { Target, type Region } from "./region.ts";
import { intervalsScore, nextSampleUs } from "./tuning.ts";

/** One region as seen at an aggregation (what damo's records hold). */
export interface SnapshotRegion {
  start: number;
  end: number;
  nrAccesses: number;
  age: number;
  probeHits: number[];
}

export interface Snapshot {
  targetId: number;
  /** Simulated ns: the aggregation window. */
  startNs: number;
  endNs: number;
  /** Intervals in force during the window. */
  sampleUs: number;
  aggrUs: number;
  regions: SnapshotRegion[];
}

export type AggregationListener = (ctx: DamonContext, snapshots: Snapshot[]) => void;

export interface ContextOptions {
  attrs: DamonAttrs;
  ops: DamonOps;
  /** Random stream for sampling addresses and split points. */
  rng: Rng;
  /** Mainline semantics by default; "next" switches to damon/next (DN-b) behaviour. */
  variant?: Variant;
  /** Region granularity (PAGE_SIZE in the kernel, 1 in KUnit builds). */
  minRegionSz?: number;
  costs?: Partial<DamonCosts>;
}

export class DamonContext {
  attrs: DamonAttrs;
  readonly ops: DamonOps;
  readonly rng: Rng;
  readonly variant: Variant;
  readonly minRegionSz: number;
  readonly costs: DamonCosts;
  readonly targets: Target[] = [];
  passed = 0;
  nextAggregationSis = 0;
  nextOpsUpdateSis = 0;
  nextIntervalsTuneSis = 0;
  szLimit = 0;
  /** The aggr/sample ratio fixed when tuning starts (the kernel's aggr_samples). */
  aggrSamples = 0;
  readonly split: SplitState = { lastNrRegions: 0, rotation: 0 };
  /** CPU work (ns) accumulated by the current step, charged by the kdamond actor. */
  costNs = 0;
  /** Simulated time of the current step, ns (set by the driver). */
  now = 0;
  private lastAggregationNs = 0;
  private readonly aggregationListeners: AggregationListener[] = [];
  private readonly sampleListeners: Array<(ctx: DamonContext) => void> = [];
  aggregations = 0;
  samples = 0;
  nrAccessesFixes = 0;

  constructor(o: ContextOptions) {
    this.attrs = validateAttrs(cloneAttrs(o.attrs));
    this.ops = o.ops;
    this.rng = o.rng;
    this.variant = o.variant ?? "mainline";
    this.minRegionSz = o.minRegionSz ?? 4096;
    this.costs = { ...defaultDamonCosts(), ...o.costs };
  }

  addTarget(pid: number | null): Target {
    const t = new Target(this.targets.length, pid);
    this.targets.push(t);
    return t;
  }

  onAggregation(fn: AggregationListener): void {
    this.aggregationListeners.push(fn);
  }

  /** Called after each sample's access check (before aggregation work). */
  onSample(fn: (ctx: DamonContext) => void): void {
    this.sampleListeners.push(fn);
  }

  get sampleNs(): number {
    return this.attrs.sampleUs * 1000;
  }

  nrRegions(): number {
    let n = 0;
    for (const t of this.targets) n += t.regions.length;
    return n;
  }

  /** damon_rand(l, r): uniform integer in [l, r). */
  rand(lo: number, hi: number): number {
    return this.rng.range(lo, hi);
  }

  /** kdamond_init_ctx, ops.init and the initial damon_apply_min_nr_regions. */
  start(now: number): void {
    this.now = now;
    this.lastAggregationNs = now;
    const a = this.attrs;
    this.passed = 0;
    this.nextAggregationSis = sisOf(a.aggrUs, a.sampleUs);
    this.nextOpsUpdateSis = sisOf(a.opsUpdateUs, a.sampleUs);
    this.nextIntervalsTuneSis = this.nextAggregationSis * a.intervalsGoal.aggrs;
    this.aggrSamples = nrSamplesPerAggr(a);
    this.ops.init(this);
    this.szLimit = applyMinNrRegions(this.targets, a.minNrRegions, this.minRegionSz);
    this.costNs = 0;
    this.ops.prepareAccessChecks(this);
  }

  /** One kdamond iteration after sleeping one sample interval; returns the next sleep in ns. */
  step(now: number): number {
    this.now = now;
    const a = this.attrs;
    this.passed++;
    this.samples++;
    const maxNr = this.ops.checkAccesses(this);
    this.costNs += this.costs.regionNs * this.nrRegions();
    for (const fn of this.sampleListeners) fn(this);
    const nextAggregation = this.nextAggregationSis;
    const aggregate = this.passed >= nextAggregation;
    if (aggregate) {
      mergeRegions(this.targets, Math.floor(maxNr / 10), this.szLimit, a, this.variant);
      if (this.variant === "next") this.szLimit = applyMinNrRegions(this.targets, a.minNrRegions, this.minRegionSz);
    }
    if (aggregate) {
      const g = a.intervalsGoal;
      if (g.aggrs !== 0 && this.passed >= this.nextIntervalsTuneSis) {
        this.nextIntervalsTuneSis += this.aggrSamples * g.aggrs;
        this.tuneIntervals();
      }
      // from the boundary just reached, with the possibly re-tuned intervals (kdamond_fn)
      this.nextAggregationSis = nextAggregation + sisOf(this.attrs.aggrUs, this.attrs.sampleUs);
      this.emitSnapshots(now);
      this.nrAccessesFixes += resetAggregated(this.targets);
      this.costNs += this.costs.aggregateRegionNs * this.nrRegions();
      splitRegions(this.targets, this.attrs, this.minRegionSz, (lo, hi) => this.rand(lo, hi), this.split, this.variant);
      this.aggregations++;
    }
    if (this.passed >= this.nextOpsUpdateSis) {
      this.nextOpsUpdateSis += sisOf(this.attrs.opsUpdateUs, this.attrs.sampleUs);
      this.ops.update(this);
      if (this.variant === "mainline") this.szLimit = regionSzLimit(this.targets, this.attrs.minNrRegions, this.minRegionSz);
    }
    this.ops.prepareAccessChecks(this);
    return this.sampleNs;
  }

  private emitSnapshots(now: number): void {
    if (this.aggregationListeners.length === 0) {
      this.lastAggregationNs = now;
      return;
    }
    const snaps: Snapshot[] = this.targets.map((t) => ({
      targetId: t.id,
      startNs: this.lastAggregationNs,
      endNs: now,
      sampleUs: this.attrs.sampleUs,
      aggrUs: this.attrs.aggrUs,
      regions: t.regions.map((r) => ({ start: r.start, end: r.end, nrAccesses: r.nrAccesses, age: r.age, probeHits: r.probeHits.slice() })),
    }));
    this.lastAggregationNs = now;
    for (const fn of this.aggregationListeners) fn(this, snaps);
  }

  /** Intervals auto-tuning (damon.md 1.9): new sample = clamp(sample * factor), aggr = sample * aggr_samples. */
  private tuneIntervals(): void {
    const g = this.attrs.intervalsGoal;
    const score = intervalsScore(this.targets, this.aggrSamples, g.accessBp);
    const sample = nextSampleUs(this.attrs.sampleUs, score, g.minSampleUs, g.maxSampleUs);
    const next = cloneAttrs(this.attrs);
    next.sampleUs = sample;
    next.aggrUs = sample * this.aggrSamples;
    this.setAttrs(next);
  }

  /**
   * damon_set_attrs while running: validates, rescales nr_accesses and age of every region, and
   * reschedules the aggregation and ops-update counters from now.
   */
  setAttrs(next: DamonAttrs): void {
    validateAttrs(next);
    const old = this.attrs;
    if (old.sampleUs !== next.sampleUs || old.aggrUs !== next.aggrUs) {
      const aggregating = this.passed < this.nextAggregationSis;
      for (const t of this.targets) for (const r of t.regions) updateMonitoringResult(r, old, next, aggregating);
    }
    this.attrs = cloneAttrs(next);
    this.nextAggregationSis = this.passed + sisOf(next.aggrUs, next.sampleUs);
    this.nextOpsUpdateSis = this.passed + sisOf(next.opsUpdateUs, next.sampleUs);
  }

  /** For tests and user-given regions: the region list of target `id`. */
  regionsOf(id: number): Region[] {
    const t = this.targets[id];
    if (!t) throw new SimError(`no target ${id}`);
    return t.regions;
  }
}
