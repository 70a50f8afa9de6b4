// DAMOS quotas (damos.md 3; core.c damos_adjust_quota, damos_set_effective_quota,
// damos_charge_quota, damos_quota_is_set/_is_full): charge windows of reset_interval ms on the
// simulated wall clock, the effective size quota esz from the size quota, the time quota (bytes per
// ms measured as total charged bytes over total action CPU time; PAGE_SIZE * 1024 before any) and
// the goals through the consist (feedback loop) or temporal (on/off) tuner, and the prioritisation
// histogram that turns esz into a minimum score. esz_bp and the score are unsigned longs (BigInt,
// wrapping or saturating as the kernel's); esz itself is at most ULONG_MAX / 10000 (< 2^53) unless
// only a time quota is set, where it is the time-derived bytes (exact below 2^53, rounded above).

import type { Target } from "../region.ts";
import { feedLoopNextInputU64 } from "../tuning.ts";
import { maxU, minU, multFrac, u64, ULONG_MAX, wrap64 } from "../u64.ts";
import type { GoalContext, GoalState } from "./goals.ts";
import { quotaScore } from "./goals.ts";
import type { Quota, SchemeContext } from "./types.ts";

const PAGE_SIZE = 4096n;

/** struct damos_quota's runtime part (all zero for a new scheme). */
export class QuotaState {
  /** Effective size quota of the current window, bytes. */
  esz = 0;
  /** The goal tuner's output, in 1/10000 bytes (an unsigned long). */
  eszBp = 0n;
  totalChargedSz = 0;
  /** Total action CPU time charged, ns. */
  totalChargedNs = 0;
  chargedSz = 0;
  /** Start of the current charge window, simulated ns (0 = none yet). */
  chargedFrom = 0;
  /** Where the next window resumes after the quota filled up (damos_skip_charged_region). */
  chargeTargetFrom: Target | null = null;
  chargeAddrFrom = 0;
  /** Regions scoring below this are skipped while the quota is set. */
  minScore = 0;
  constructor(readonly spec: Quota) {}
}

/** damos_quota_is_set. */
export function quotaIsSet(q: QuotaState): boolean {
  return q.esz !== 0 || q.spec.sz !== 0 || q.spec.ms !== 0 || q.spec.goals.length > 0;
}

/**
 * damos_quota_is_full: charged up to esz, or (7.2 on, `minRegionRule`) less than one min_region_sz
 * left. Before 7.2 a remainder below min_region_sz keeps the quota open: every region is then
 * tried with 0 bytes, and no resume point is set.
 */
export function quotaIsFull(q: QuotaState, minSz: number, minRegionRule: boolean): boolean {
  if (!quotaIsSet(q)) return false;
  if (q.chargedSz >= q.esz) return true;
  return minRegionRule && q.esz - q.chargedSz < minSz;
}

/** damos_charge_quota: the region's bytes, or with the 7.2 fail-charge ratio applied + failed * num / denom. */
export function chargeQuota(q: QuotaState, sz: number, applied: number, failCharge: boolean): void {
  const denom = failCharge ? q.spec.failChargeDenom : 0;
  if (denom === 0 || applied > sz) q.chargedSz += sz;
  else q.chargedSz += applied + Number(multFrac(u64(sz - applied), u64(q.spec.failChargeNum), u64(denom)));
}

/** The goal tuners' new esz_bp from the goals' score. */
function tuneEszBp(q: QuotaState, goals: readonly GoalState[], g: GoalContext): void {
  const score = quotaScore(goals, g);
  if (q.spec.goalTuner === "consist") {
    q.eszBp = feedLoopNextInputU64(maxU(q.eszBp, 10000n), score);
  } else if (score >= 10000n) {
    q.eszBp = 0n;
  } else if (q.spec.sz !== 0) {
    const bp = u64(q.spec.sz) * 10000n;
    q.eszBp = g.ctx.kernel.damosTemporalSaturates ? minU(bp, ULONG_MAX) : wrap64(bp);
  } else {
    q.eszBp = ULONG_MAX;
  }
}

/** damos_set_effective_quota. */
export function setEffectiveQuota(q: QuotaState, goals: readonly GoalState[], g: GoalContext): void {
  const { ms, sz } = q.spec;
  if (ms === 0 && goals.length === 0) {
    q.esz = sz;
    return;
  }
  let esz = ULONG_MAX;
  if (goals.length > 0) {
    tuneEszBp(q, goals, g);
    esz = q.eszBp / 10000n;
  }
  if (ms !== 0) {
    const thr = q.totalChargedNs !== 0 ? multFrac(u64(q.totalChargedSz), 1_000_000n, u64(q.totalChargedNs)) : PAGE_SIZE * 1024n;
    const timeSz = wrap64(thr * u64(ms));
    const minSz = u64(g.ctx.minRegionSz);
    esz = g.ctx.kernel.damosTimeQuotaFloor ? minU(maxU(timeSz, minSz), esz) : maxU(minSz, minU(timeSz, esz));
  }
  if (sz !== 0 && u64(sz) < esz) esz = u64(sz);
  q.esz = Number(esz);
}

/** The regions' scores for the prioritisation histogram: calls `add(score, bytes)` for each region that counts. */
export type HistogramFill = (add: (score: number, bytes: number) => void) => void;

/** The minimum score: going down from the highest score, the first whose cumulated bytes reach esz (or 0). */
export function minScoreOf(hist: Float64Array, maxScore: number, esz: number): number {
  let cum = 0;
  let score = maxScore;
  for (;;) {
    cum += hist[score]!;
    if (cum >= esz || score === 0) return score;
    score--;
  }
}

/**
 * damos_adjust_quota: opens the first or a new charge window when due (counting qt_exceeds when the
 * finished one was full) and recomputes esz; then, with a score hook, the minimum score from the
 * histogram `fill` builds (`hist` is the 100-bucket scratch, DAMOS_MAX_SCORE + 1 entries).
 */
export function adjustQuota(q: QuotaState, goals: readonly GoalState[], g: GoalContext, onExceeded: () => void, fill: HistogramFill | null, hist: Float64Array): void {
  const { ms, sz, resetIntervalMs } = q.spec;
  if (ms === 0 && sz === 0 && goals.length === 0) return;
  const ctx: SchemeContext = g.ctx;
  const now = ctx.now;
  if (q.totalChargedSz === 0 && q.chargedFrom === 0) {
    q.chargedFrom = now;
    setEffectiveQuota(q, goals, g);
  }
  if (!(now >= q.chargedFrom && now < q.chargedFrom + resetIntervalMs * 1_000_000)) {
    if (quotaIsFull(q, ctx.minRegionSz, ctx.kernel.damosQuotaFullMinRegion)) onExceeded();
    q.totalChargedSz += q.chargedSz;
    q.chargedFrom = now;
    q.chargedSz = 0;
    setEffectiveQuota(q, goals, g);
  }
  if (fill === null) return;
  hist.fill(0);
  let maxScore = 0;
  fill((score, bytes) => {
    hist[score]! += bytes;
    if (score > maxScore) maxScore = score;
  });
  q.minScore = minScoreOf(hist, maxScore, q.esz);
}
