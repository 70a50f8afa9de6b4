// A DAMON context (one kdamond's monitoring state): attributes, operations set, targets and their
// regions, and the time bookkeeping counted in sample intervals. step() is one iteration of the
// kdamond loop after its sleep, in the kernel's order (damon.md 1.3):
//   check accesses -> [aggregation: merge + age] -> callbacks -> DAMOS apply round -> [aggregation:
//   tune, advance, snapshot + reset, split] -> [ops update] -> watermarks -> prepare the next
//   access checks.
// With DAMOS schemes (setSchemes) whose watermarks all deactivate them, an iteration does no
// monitoring: kdamond sleeps the shortest watermark interval, runs the callbacks and checks again.
// The core is pure bookkeeping: what "accessed" means is the operations set's business.

import { InputError, SimError } from "../sim/errors.ts";
import type { Rng } from "../sim/rng.ts";
import { applyMinNrRegions, mergeRegions, regionSzLimit, resetAggregated, splitRegions, updateMonitoringResult, type SplitState, type Variant } from "./aggregate.ts";
import { cloneAttrs, nrSamplesPerAggr, sisOf, validateAttrs, type DamonAttrs } from "./attrs.ts";
import { defaultDamonCosts, type DamonCosts } from "./costs.ts";
import { rulesOf, type KernelRules } from "./kernel.ts";
import { DEFAULT_MAX_PROBES, type Probe } from "./probes.ts";
import { Damos } from "./schemes/damos.ts";
import type { MemoryState, SchemeActions, SchemeSpec } from "./schemes/types.ts";
import { MAX_PROBES } from "./region.ts";
import { Target, type Region } from "./region.ts";
import { adaptationBp, intervalsScore, nextSampleUs } from "./tuning.ts";

/**
 * The operations-set interface: how a context reaches the monitored address space. vaddr and
 * paddr implement it with the PTE Accessed bit; the push primitives (faults, perf mem, IBS, SPE,
 * the CHMU) plug in behind it, so the core never asks which primitive is in use. It lives with
 * the context its methods take, so the two need not import each other.
 */
export interface DamonOps {
  readonly name: string;
  /** Builds the initial regions of targets that have none (called once, at start). */
  init(ctx: DamonContext): void;
  /** Re-reads the monitored address space (every ops update interval). */
  update(ctx: DamonContext): void;
  /** Picks each region's sampling address and arms the access check for the next interval. */
  prepareAccessChecks(ctx: DamonContext): void;
  /** Checks each region's sample, updates nr_accesses; returns the largest nr_accesses. */
  checkAccesses(ctx: DamonContext): number;
  /** Releases anything armed (traps, samplers) when monitoring stops. */
  cleanup?(ctx: DamonContext): void;
}

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

/** damon_valid_probe_params: probe hits are u8 counters; weighted sums must fit an unsigned int. */
export function validateProbeParams(attrs: DamonAttrs, probes: readonly Probe[]): void {
  if (nrSamplesPerAggr(attrs) > 255) throw new InputError(`with probes, samples per aggregation (${nrSamplesPerAggr(attrs)}) must be at most 255 (u8 hit counters)`, { field: "aggrUs" });
  const wsum = probes.reduce((a, p) => a + p.weight, 0);
  if (wsum * 255 > 0xffffffff) throw new InputError("the sum of probe weights x 255 must fit in an unsigned int", { field: "probes" });
}

export type AggregationListener = (ctx: DamonContext, snapshots: Snapshot[]) => void;

export interface ContextOptions {
  attrs: DamonAttrs;
  ops: DamonOps;
  /** Random stream for sampling addresses and split points. */
  rng: Rng;
  /** The older switch: mainline semantics by default; "next" switches to damon/next (DN-b) behaviour. */
  variant?: Variant;
  /** The kernel's rules (--kernel); wins over `variant`. */
  kernel?: KernelRules;
  /** Region granularity (PAGE_SIZE in the kernel, 1 in KUnit builds). */
  minRegionSz?: number;
  costs?: Partial<DamonCosts>;
  /** Data-attribute probes (damon/next); up to maxProbes. */
  probes?: Probe[];
  /** The probe limit (DAMON_MAX_PROBES, 4 in the kernel). */
  maxProbes?: number;
  /** kdamond_split_regions' statics, shared with the other contexts of the same kernel (default: this context's own). */
  split?: SplitState;
}

export class DamonContext {
  attrs: DamonAttrs;
  readonly ops: DamonOps;
  readonly rng: Rng;
  /** The kernel version's rules; `variant` is their core semantics. */
  readonly kernel: KernelRules;
  readonly variant: Variant;
  readonly minRegionSz: number;
  readonly costs: DamonCosts;
  readonly targets: Target[] = [];
  readonly probes: Probe[];
  /** Any probe has a weight: access checking is off and probe hits drive region adjustment. */
  readonly attributesOnly: boolean;
  passed = 0;
  nextAggregationSis = 0;
  nextOpsUpdateSis = 0;
  nextIntervalsTuneSis = 0;
  szLimit = 0;
  /** The aggr/sample ratio fixed when tuning starts (the kernel's aggr_samples). */
  aggrSamples = 0;
  /** The split pass's statics (last_nr_regions): the kernel's are shared by every context. */
  readonly split: SplitState;
  /** CPU work (ns) accumulated by the current step, charged by the kdamond actor. */
  costNs = 0;
  /** Simulated time of the current step, ns (set by the driver). */
  now = 0;
  /** Simulated time the context started (kdamond_fn began), ns. */
  startedAt = 0;
  private lastAggregationNs = 0;
  private readonly aggregationListeners: AggregationListener[] = [];
  private readonly sampleListeners: Array<(ctx: DamonContext) => void> = [];
  private readonly callListeners: Array<(ctx: DamonContext) => void> = [];
  aggregations = 0;
  samples = 0;
  nrAccessesFixes = 0;
  /** The DAMOS schemes (setSchemes); null: none. */
  damos: Damos | null = null;
  /** kdamond is in kdamond_wait_activation (every scheme deactivated by its watermarks). */
  waiting = false;
  private started = false;

  constructor(o: ContextOptions) {
    this.kernel = o.kernel ?? rulesOf(o.variant);
    this.variant = this.kernel.core;
    this.split = o.split ?? { lastNrRegions: 0, rotation: 0 };
    this.attrs = this.validAttrs(cloneAttrs(o.attrs));
    this.ops = o.ops;
    this.rng = o.rng;
    this.minRegionSz = o.minRegionSz ?? 4096;
    this.costs = { ...defaultDamonCosts(), ...o.costs };
    this.probes = o.probes ?? [];
    const maxProbes = o.maxProbes ?? DEFAULT_MAX_PROBES;
    if (this.probes.length > maxProbes) throw new InputError(`at most ${maxProbes} probes per context (got ${this.probes.length})`, { field: "probes" });
    if (this.probes.length > MAX_PROBES) throw new InputError(`the simulator keeps at most ${MAX_PROBES} probe counters per region`, { field: "probes" });
    if (this.probes.length > 0 && !this.kernel.probes) throw new InputError(`data-attribute probes (struct damon_probe) are not in kernel ${this.kernel.name}: damon/next only (use --kernel next)`, { field: "probes" });
    this.attributesOnly = this.probes.some((p) => p.weight > 0);
    if (this.probes.length > 0) validateProbeParams(this.attrs, this.probes);
  }

  /** damon_set_attrs' checks, and intervals tuning only where the kernel has it (v6.15 on). */
  private validAttrs(a: DamonAttrs): DamonAttrs {
    validateAttrs(a);
    if (a.intervalsGoal.aggrs !== 0 && !this.kernel.intervalsTuning) {
      throw new InputError(`intervals auto-tuning (damon_intervals_goal) is not in kernel ${this.kernel.name}: it arrived in v6.15`, { field: "intervalsGoal" });
    }
    return a;
  }

  /** The attributes-only merge score of a region: sum of probe hits x weight. */
  private probeScore = (r: Region): number => {
    let s = 0;
    for (let i = 0; i < this.probes.length; i++) s += r.probeHits[i]! * this.probes[i]!.weight;
    return s;
  };

  private lastProbeScore = (r: Region): number => {
    let s = 0;
    for (let i = 0; i < this.probes.length; i++) s += r.lastProbeHits[i]! * this.probes[i]!.weight;
    return s;
  };

  addTarget(pid: number | null): Target {
    const t = new Target(this.targets.length, pid);
    this.targets.push(t);
    return t;
  }

  /**
   * Installs DAMOS schemes (replacing any): built and checked against this context's kernel and
   * operations set (InputError naming `${field}[i].<field>`). `actions`: the operations set's
   * apply_scheme side (null: none, so regions are tried but nothing applied); `memory`: the counters
   * goals and watermarks read. On a running context the schemes are scheduled from now
   * (damon_add_scheme). An empty list removes the schemes.
   */
  setSchemes(specs: readonly SchemeSpec[], actions: SchemeActions | null, memory: MemoryState, field = "schemes"): Damos | null {
    this.damos = specs.length === 0 ? null : new Damos(specs, this, actions, memory, field);
    if (this.started) this.damos?.start();
    return this.damos;
  }

  onAggregation(fn: AggregationListener): void {
    this.aggregationListeners.push(fn);
  }

  /** Called after each sample's access check (before aggregation work). */
  onSample(fn: (ctx: DamonContext) => void): void {
    this.sampleListeners.push(fn);
  }

  /** A repeating damon_call(): runs at kdamond_call() of every loop iteration (after the merge). */
  onCall(fn: (ctx: DamonContext) => void): void {
    this.callListeners.push(fn);
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

  /**
   * kdamond_init_ctx, ops.init and the initial size limit (or damon_apply_min_nr_regions in
   * damon/next), then the top of the first iteration; returns kdamond's first sleep in ns.
   */
  start(now: number): number {
    this.now = now;
    this.started = true;
    this.startedAt = now;
    this.lastAggregationNs = now;
    const a = this.attrs;
    this.passed = 0;
    this.nextAggregationSis = sisOf(a.aggrUs, a.sampleUs);
    this.nextOpsUpdateSis = sisOf(a.opsUpdateUs, a.sampleUs);
    this.nextIntervalsTuneSis = this.nextAggregationSis * a.intervalsGoal.aggrs;
    this.aggrSamples = nrSamplesPerAggr(a);
    this.ops.init(this);
    // damon/next's "always respect min_nr_regions from the beginning" cuts the regions here
    // (damon_apply_min_nr_regions); mainline kdamond_fn only computes damon_region_sz_limit()
    this.szLimit = this.kernel.minRegionsAtStart ? applyMinNrRegions(this.targets, a.minNrRegions, this.minRegionSz) : regionSzLimit(this.targets, a.minNrRegions, this.minRegionSz);
    this.damos?.start();
    this.costNs = 0;
    return this.beginIteration();
  }

  /**
   * The top of a kdamond iteration: kdamond_wait_activation (the least watermark wait over the
   * schemes; 0 or no schemes: monitor), then prepare_access_checks. Returns the sleep in ns.
   */
  private beginIteration(): number {
    const waitUs = this.damos === null ? 0 : this.damos.waitUs();
    this.waiting = waitUs > 0;
    if (this.waiting) return waitUs * 1000;
    this.ops.prepareAccessChecks(this);
    return this.sampleNs;
  }

  /** One kdamond iteration after sleeping (one sample interval, or a watermark wait); returns the next sleep in ns. */
  step(now: number): number {
    this.now = now;
    if (this.waiting) {
      // kdamond_wait_activation slept: damon_call requests are served, then the watermarks checked again
      for (const fn of this.callListeners) fn(this);
      return this.beginIteration();
    }
    const a = this.attrs;
    this.passed++;
    this.samples++;
    const maxNr = this.ops.checkAccesses(this);
    this.costNs += this.costs.regionNs * this.nrRegions();
    for (const fn of this.sampleListeners) fn(this);
    const nextAggregation = this.nextAggregationSis;
    const aggregate = this.passed >= nextAggregation;
    if (aggregate) {
      if (this.attributesOnly) {
        let maxScore = 0;
        for (const t of this.targets) for (const r of t.regions) maxScore = Math.max(maxScore, this.probeScore(r));
        mergeRegions(this.targets, Math.floor(maxScore / 10), this.szLimit, a, this.kernel, this.probeScore, this.lastProbeScore);
      } else {
        mergeRegions(this.targets, Math.floor(maxNr / 10), this.szLimit, a, this.kernel);
      }
      if (this.variant === "next") this.szLimit = applyMinNrRegions(this.targets, a.minNrRegions, this.minRegionSz);
    }
    for (const fn of this.callListeners) fn(this);
    this.damos?.apply();
    if (aggregate) {
      const g = a.intervalsGoal;
      if (g.aggrs !== 0 && this.passed >= this.nextIntervalsTuneSis) {
        // kdamond_fn: a damon_call() may have moved next_aggregation_sis (damon_set_attrs); put the
        // boundary just reached back, or the tuning's damon_set_attrs would think it is mid-window
        // and zero the finished window's counts
        this.nextAggregationSis = nextAggregation;
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
    return this.beginIteration();
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
    // kdamond_tune_intervals returns before damon_set_attrs when the adaptation is exactly 1
    if (adaptationBp(score) === 10000) return;
    const sample = nextSampleUs(this.attrs.sampleUs, score, g.minSampleUs, g.maxSampleUs);
    const next = cloneAttrs(this.attrs);
    next.sampleUs = sample;
    next.aggrUs = sample * this.aggrSamples;
    this.applyAttrs(next, true);
  }

  /**
   * damon_set_attrs while running: validates, rescales nr_accesses and age of every region, and
   * reschedules the aggregation and ops-update counters from now. The rescale runs whether or not
   * the intervals changed (damon_update_monitoring_results skips it only when an interval is 0), so
   * a call in the middle of a window always restarts its count, as the kernel's does.
   */
  setAttrs(next: DamonAttrs): void {
    this.applyAttrs(next, false);
  }

  /**
   * damon_set_attrs. `tuning`: the call from kdamond_tune_intervals, which passes the context's
   * aggr_samples on; any other caller leaves it 0, so the kernel recomputes it as aggr / sample.
   */
  private applyAttrs(next: DamonAttrs, tuning: boolean): void {
    this.validAttrs(next);
    if (!tuning) this.aggrSamples = sisOf(next.aggrUs, next.sampleUs);
    const old = this.attrs;
    if (old.sampleUs !== 0 && old.aggrUs !== 0 && next.sampleUs !== 0 && next.aggrUs !== 0) {
      const aggregating = this.passed < this.nextAggregationSis;
      for (const t of this.targets) for (const r of t.regions) updateMonitoringResult(r, old, next, aggregating);
    }
    this.attrs = cloneAttrs(next);
    this.nextAggregationSis = this.passed + sisOf(next.aggrUs, next.sampleUs);
    this.nextOpsUpdateSis = this.passed + sisOf(next.opsUpdateUs, next.sampleUs);
    this.damos?.reschedule();
  }

  /** For tests and user-given regions: the region list of target `id`. */
  regionsOf(id: number): Region[] {
    const t = this.targets[id];
    if (!t) throw new SimError(`no target ${id}`);
    return t.regions;
  }
}
