// One DAMOS scheme at run time (struct damos): the accepted SchemeSpec (validated, checked against
// the kernel's features, goals with target 0 dropped as sysfs drops them), its schedule
// (next_apply_sis), quota and goal state, watermark activation, the filters' defaults, its stats
// and the tried regions of its latest completed apply round, as sysfs shows them after an
// update_schemes_tried_regions (start, end, nr_accesses, age before the action, sz_filter_passed).

import { SimError } from "../../sim/errors.ts";
import type { KernelRules } from "../kernel.ts";
import { checkSchemeFeatures } from "./features.ts";
import { filtersDefaultReject, type CoreFilterState } from "./filters.ts";
import { newGoalState, type GoalState } from "./goals.ts";
import { u64 } from "../u64.ts";
import { QuotaState } from "./quota.ts";
import { scoreKind, type ScoreKind } from "./score.ts";
import type { DamosFilter, SchemeContext, SchemeSpec, Watermarks } from "./types.ts";
import { validateSchemeSpec } from "./validate.ts";
import type { WatermarkState } from "./watermarks.ts";

/** struct damos_stat. */
export interface SchemeStats {
  nrTried: number;
  szTried: number;
  nrApplied: number;
  szApplied: number;
  szOpsFilterPassed: number;
  qtExceeds: number;
  nrSnapshots: number;
}

/** One sysfs tried_regions/<R> entry. */
export interface TriedRegion {
  /** Index of the region's target in the context. */
  target: number;
  start: number;
  end: number;
  /** As DAMOS read it: the mvsum (7.2) or the raw nr_accesses. */
  nrAccesses: number;
  /** Before the action's age reset. */
  age: number;
  szFilterPassed: number;
}

function cloneSpec(spec: SchemeSpec): SchemeSpec {
  const range = (r: { min: number; max: number }) => ({ min: r.min, max: r.max });
  return {
    ...spec,
    pattern: { szRegion: range(spec.pattern.szRegion), nrAccesses: range(spec.pattern.nrAccesses), age: range(spec.pattern.age) },
    quota: { ...spec.quota, goals: spec.quota.goals.filter((g) => g.targetValue !== 0).map((g) => ({ ...g })) },
    wmarks: { ...spec.wmarks },
    coreFilters: spec.coreFilters.map((f) => ({ ...f })),
    opsFilters: spec.opsFilters.map((f) => ({ ...f })),
    dests: spec.dests.map((d) => ({ ...d })),
  };
}

export class Scheme implements CoreFilterState, WatermarkState {
  /** The scheme as accepted (goals whose target is 0 dropped). */
  readonly spec: SchemeSpec;
  readonly quota: QuotaState;
  readonly goals: GoalState[];
  readonly wmarks: Watermarks;
  readonly coreFilters: readonly DamosFilter[];
  readonly opsFilters: readonly DamosFilter[];
  /** How the operations set scores regions for this scheme's action (null: no get_scheme_score). */
  readonly scoreKind: ScoreKind | null;
  nextApplySis = 0;
  activated = true;
  coreFiltersDefaultReject = false;
  opsFiltersDefaultReject = false;
  coreFiltersAllowed = false;
  readonly stat: SchemeStats = { nrTried: 0, szTried: 0, nrApplied: 0, szApplied: 0, szOpsFilterPassed: 0, qtExceeds: 0, nrSnapshots: 0 };
  /** Simulated CPU time the operations set's actions cost, ns. */
  actionCostNs = 0;
  /** The tried regions of the latest completed apply round. */
  triedRegions: readonly TriedRegion[] = [];
  private round: TriedRegion[] = [];

  /**
   * Builds a scheme from `spec`, refusing (InputError naming `${prefix}.<field>`) a malformed spec
   * or one that uses a feature kernel `rules` or operations set `opsName` lacks.
   */
  constructor(spec: SchemeSpec, readonly index: number, rules: KernelRules, opsName: string, prefix = `schemes[${index}]`) {
    validateSchemeSpec(spec, prefix);
    checkSchemeFeatures(spec, rules, opsName, prefix);
    this.spec = cloneSpec(spec);
    this.quota = new QuotaState(this.spec.quota);
    this.goals = this.spec.quota.goals.map((g) => newGoalState(g, rules.damosPsiSentinel));
    this.wmarks = this.spec.wmarks;
    this.coreFilters = this.spec.coreFilters;
    this.opsFilters = this.spec.opsFilters;
    this.scoreKind = scoreKind(opsName, this.spec.action);
    this.setFiltersDefaultReject();
  }

  /** damos_set_filters_default_reject. */
  setFiltersDefaultReject(): void {
    const d = filtersDefaultReject(this.coreFilters, this.opsFilters);
    this.coreFiltersDefaultReject = d.core;
    this.opsFiltersDefaultReject = d.ops;
  }

  /** damos_set_next_apply_sis: passed + (apply interval or aggr) / sample. */
  setNextApplySis(ctx: SchemeContext): void {
    const sample = ctx.attrs.sampleUs === 0 ? 1 : ctx.attrs.sampleUs;
    const apply = this.spec.applyIntervalUs === 0 ? ctx.attrs.aggrUs : this.spec.applyIntervalUs;
    this.nextApplySis = ctx.passed + Math.floor(apply / sample);
  }

  /** The user_input goal i's new current value (the commit_schemes_quota_goals state command). */
  setGoalCurrentValue(i: number, value: number): void {
    const g = this.goals[i];
    if (g === undefined || g.goal.metric !== "user_input") throw new SimError(`scheme ${this.index} has no user_input goal ${i}`);
    g.goal.currentValue = value;
    g.currentValue = u64(value);
  }

  /** sysfs tried_regions/total_bytes of the latest completed round. */
  get triedBytes(): number {
    let s = 0;
    for (const r of this.triedRegions) s += r.end - r.start;
    return s;
  }

  /** The walk callback: region [start, end) reached ops.apply_scheme in the round under way. */
  recordTried(r: TriedRegion): void {
    this.round.push(r);
  }

  /** The apply round is over: its tried regions become the ones shown. */
  completeRound(): void {
    this.triedRegions = this.round;
    this.round = [];
  }
}
