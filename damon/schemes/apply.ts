// The DAMOS apply loop of one context (damos.md 2; core.c kdamond_apply_schemes, damos_apply_target,
// damon_do_apply_schemes, damos_apply_scheme, damos_skip_charged_region), run on every sample
// iteration: due and active schemes get their quotas adjusted, then every region of every target is
// offered to every due scheme in order: a full quota, the resume point of the last window, the
// snapshot limit, the pattern and the minimum score can each pass it by; a region larger than the
// quota's rest is split to fit, core filters may split or reject it, and the operations set applies
// the action (SchemeActions). Splits made for a quota are merged back after the region (7.2). The
// walk is over indices, so the piece a split leaves after the region is visited next, as the
// kernel's non-safe list walk does.

import { regionSzLimit } from "../aggregate.ts";
import { alignDown, splitRegionAt, type Target } from "../region.ts";
import { hasStat } from "./features.ts";
import { coreFilterOut } from "./filters.ts";
import type { GoalContext } from "./goals.ts";
import { patternMatch } from "./pattern.ts";
import { adjustQuota, chargeQuota, quotaIsFull, quotaIsSet, type HistogramFill } from "./quota.ts";
import type { Scheme } from "./scheme.ts";
import { regionScore, scoreNr } from "./score.ts";
import type { ActionRequest, ActionResult, MemoryState, SchemeActions, SchemeContext } from "./types.ts";

/** What the apply loop works with: the context, its schemes and the operations set's two sides. */
export interface ApplyEnv {
  readonly ctx: SchemeContext;
  readonly schemes: readonly Scheme[];
  /** null: an operations set without apply_scheme (regions are tried, nothing is applied or charged). */
  readonly actions: SchemeActions | null;
  readonly memory: MemoryState;
  readonly opsName: string;
  /** Scratch for the prioritisation histogram (DAMOS_MAX_SCORE + 1 buckets). */
  readonly hist: Float64Array;
  /** Adds the CPU time of one action to the context's total. */
  chargeAction(ns: number): void;
}

const NOTHING: ActionResult = { appliedBytes: 0, filterPassedBytes: 0, costNs: 0 };

/** What scheme s's goals read now. */
export function goalContext(env: ApplyEnv, s: Scheme): GoalContext {
  return { ctx: env.ctx, memory: env.memory, opsName: env.opsName, pattern: s.spec.pattern, tuner: s.spec.quota.goalTuner, esz: s.quota.esz, resetIntervalMs: s.spec.quota.resetIntervalMs };
}

/** The histogram pass of damos_adjust_quota: each pattern-matching region (7.1: and not core-filtered out) by score. */
function histogramFill(env: ApplyEnv, s: Scheme): HistogramFill | null {
  const kind = s.scoreKind;
  if (kind === null) return null;
  const ctx = env.ctx, w = s.spec.quota;
  return (add) => {
    for (const t of ctx.targets) {
      for (let i = 0; i < t.regions.length; i++) {
        ctx.costNs += ctx.costs.regionNs;
        if (!patternMatch(ctx, t.regions[i]!, s.spec.pattern)) continue;
        if (ctx.kernel.damosHistogramCoreFilters && coreFilterOut(ctx.targets, t, i, s, ctx.minRegionSz)) continue;
        const r = t.regions[i]!;
        add(regionScore(kind, ctx, r, w), r.size);
      }
    }
  };
}

/** damos_adjust_quota for scheme s. */
export function adjustSchemeQuota(env: ApplyEnv, s: Scheme): void {
  adjustQuota(s.quota, s.goals, goalContext(env, s), () => s.stat.qtExceeds++, histogramFill(env, s), env.hist);
}

/** damos_valid_target: the pattern, and with a quota and a score hook, the minimum score. */
function validTarget(env: ApplyEnv, t: Target, i: number, s: Scheme): boolean {
  const r = t.regions[i]!;
  if (!patternMatch(env.ctx, r, s.spec.pattern)) return false;
  if (!quotaIsSet(s.quota) || s.scoreKind === null) return true;
  return regionScore(s.scoreKind, env.ctx, r, s.spec.quota) >= s.quota.minScore;
}

function clearCharge(s: Scheme): void {
  s.quota.chargeTargetFrom = null;
  s.quota.chargeAddrFrom = 0;
}

/**
 * damos_skip_charged_region: while resuming after the last window's charge point, skips the regions
 * before it (splitting the one it falls into, so the tail is offered next). Up to 7.2 the target's
 * last region is always skipped while resuming (rule damosSkipLastRegion); later kernels clear the
 * resume point at the last region after the other checks.
 */
export function skipChargedRegion(env: ApplyEnv, t: Target, i: number, s: Scheme): boolean {
  const q = s.quota, minSz = env.ctx.minRegionSz;
  if (q.chargeTargetFrom === null) return false;
  if (t !== q.chargeTargetFrom) return true;
  const r = t.regions[i]!;
  const quirk = env.ctx.kernel.damosSkipLastRegion;
  if (quirk && i === t.regions.length - 1) {
    clearCharge(s);
    return true;
  }
  const addr = q.chargeAddrFrom;
  let skip = false;
  if (addr !== 0 && r.end <= addr) skip = true;
  else if (addr !== 0 && r.start < addr) {
    let k = alignDown(addr - r.start, minSz);
    if (k === 0 && r.size <= minSz) skip = true;
    else {
      if (k === 0) k = minSz;
      splitRegionAt(t, i, k);
      skip = true;
    }
  } else if (quirk) {
    clearCharge(s);
    return false;
  }
  if (!quirk && i === t.regions.length - 1) clearCharge(s);
  return skip;
}

function updateStat(env: ApplyEnv, s: Scheme, tried: number, applied: number, passed: number): void {
  const st = s.stat;
  st.nrTried++;
  st.szTried += tried;
  if (applied !== 0) st.nrApplied++;
  st.szApplied += applied;
  if (hasStat(env.ctx.kernel, "sz_ops_filter_passed")) st.szOpsFilterPassed += passed;
}

/** damos_apply_scheme on region index i of t. */
export function applyScheme(env: ApplyEnv, t: Target, i: number, s: Scheme): void {
  const ctx = env.ctx, q = s.quota, minSz = ctx.minRegionSz, rules = ctx.kernel;
  const r = t.regions[i]!;
  let sz = r.size, applied = 0, passed = 0;
  if (env.actions !== null) {
    if (quotaIsSet(q) && q.chargedSz + sz > q.esz) {
      sz = alignDown(q.esz - q.chargedSz, minSz);
      if (sz === 0) {
        updateStat(env, s, 0, 0, 0);
        return;
      }
      splitRegionAt(t, i, sz);
    }
    if (coreFilterOut(ctx.targets, t, i, s, minSz)) return;
    if (rules.damosSzTriedFiltered) sz = r.size;
    const req: ActionRequest = {
      action: s.spec.action,
      targetNid: s.spec.targetNid,
      dests: s.spec.dests,
      opsFilters: s.opsFilters,
      opsDefaultReject: s.opsFiltersDefaultReject,
      coreFiltersAllowed: s.coreFiltersAllowed,
      scheme: s.index,
    };
    const res = env.actions.supports(s.spec.action) ? env.actions.apply(t, r.start, r.end, req) : NOTHING;
    applied = res.appliedBytes;
    passed = res.filterPassedBytes;
    s.recordTried({ target: ctx.targets.indexOf(t), start: r.start, end: r.end, nrAccesses: scoreNr(ctx, r), age: r.age, szFilterPassed: passed });
    ctx.costNs += res.costNs;
    s.actionCostNs += res.costNs;
    env.chargeAction(res.costNs);
    q.totalChargedNs += res.costNs;
    if (rules.damosFailCharge) chargeQuota(q, sz, applied, true);
    else q.chargedSz += sz;
    if (quotaIsFull(q, minSz, rules.damosQuotaFullMinRegion)) {
      q.chargeTargetFrom = t;
      q.chargeAddrFrom = rules.damosChargeAddrPastEnd ? r.end + 1 : r.end;
    }
  }
  if (s.spec.action !== "stat") r.age = 0;
  updateStat(env, s, sz, applied, passed);
}

/** damon_do_apply_schemes: offers region index i of t to every due scheme. */
export function doApplySchemes(env: ApplyEnv, t: Target, i: number): void {
  const ctx = env.ctx, snapshots = hasStat(ctx.kernel, "nr_snapshots");
  for (const s of env.schemes) {
    if (ctx.passed < s.nextApplySis) continue;
    if (!s.activated) continue;
    if (quotaIsFull(s.quota, ctx.minRegionSz, ctx.kernel.damosQuotaFullMinRegion)) continue;
    if (skipChargedRegion(env, t, i, s)) continue;
    if (s.spec.maxNrSnapshots !== 0 && s.stat.nrSnapshots >= s.spec.maxNrSnapshots) continue;
    if (validTarget(env, t, i, s)) applyScheme(env, t, i, s);
    if (snapshots && i === t.regions.length - 1) s.stat.nrSnapshots++;
  }
}

/** damos_apply_target: every region of t, merging quota slices back into their left neighbour (7.2). */
export function applyTarget(env: ApplyEnv, t: Target, maxSz: number): void {
  const ctx = env.ctx, remerge = ctx.kernel.damosRemergeSlices;
  for (let i = 0; i < t.regions.length; i++) {
    ctx.costNs += ctx.costs.regionNs;
    doApplySchemes(env, t, i);
    if (!remerge || i === 0) continue;
    const prev = t.regions[i - 1]!, r = t.regions[i]!;
    if (prev.end !== r.start || prev.age !== r.age || prev.lastNrAccesses !== r.lastNrAccesses || prev.nrAccesses !== r.nrAccesses) continue;
    if (r.end - prev.start > maxSz) continue;
    prev.end = r.end;
    t.regions.splice(i, 1);
    i--;
  }
}

/** kdamond_apply_schemes: one apply round of every due scheme (a no-op unless one is due and active). */
export function applySchemes(env: ApplyEnv): void {
  const ctx = env.ctx;
  let any = false;
  for (const s of env.schemes) {
    if (ctx.passed < s.nextApplySis || !s.activated) continue;
    any = true;
    adjustSchemeQuota(env, s);
  }
  if (!any) return;
  const maxSz = regionSzLimit(ctx.targets, ctx.attrs.minNrRegions, ctx.minRegionSz);
  for (const t of ctx.targets) applyTarget(env, t, maxSz);
  for (const s of env.schemes) {
    if (ctx.passed < s.nextApplySis) continue;
    s.completeRound();
    s.setNextApplySis(ctx);
    env.actions?.roundDone?.(s.index);
  }
}
