// DAMON's intervals auto-tuning (damon_intervals_goal): every `aggrs` aggregations, compare the
// observed access events with the goal ratio and scale the sample (and aggregation) interval by a
// factor in [0.5, 2] from the feedback loop damon_feed_loop_next_input. Integer arithmetic as the
// kernel's, in BigInt where products exceed 2^53. Reference: damon.md sections 1.9 and 8.3.

import type { Target } from "./region.ts";
import { ULONG_MAX } from "./u64.ts";

const GOAL = 10000n;
const MIN_INPUT = 10000n;

/**
 * damon_feed_loop_next_input(last_input, score) on unsigned longs, goal 10,000 and minimum input
 * 10,000: the compensation last * |score - goal| / goal, computed as last / goal * diff when the
 * product would overflow, and the grown input saturating at ULONG_MAX.
 */
export function feedLoopNextInputU64(last: bigint, score: bigint): bigint {
  if (score === GOAL) return last;
  if (score >= 2n * GOAL) return MIN_INPUT;
  const over = score > GOAL;
  const diff = over ? score - GOAL : GOAL - score;
  const comp = last < ULONG_MAX / diff ? (last * diff) / GOAL : (last / GOAL) * diff;
  if (over) return last - comp > MIN_INPUT ? last - comp : MIN_INPUT;
  return last < ULONG_MAX - comp ? last + comp : ULONG_MAX;
}

/** feedLoopNextInputU64 on numbers (the intervals tuner's inputs stay far below 2^53). */
export function feedLoopNextInput(last: number, score: number): number {
  return Number(feedLoopNextInputU64(BigInt(last), BigInt(score)));
}

/** damon_get_intervals_score: observed / (max * access_bp / 10000), in basis points. */
export function intervalsScore(targets: Target[], aggrSamples: number, accessBp: number): number {
  let observed = 0n, max = 0n;
  for (const t of targets) {
    for (const r of t.regions) {
      const sz = BigInt(r.size);
      observed += sz * BigInt(r.nrAccesses);
      max += sz * BigInt(aggrSamples);
    }
  }
  let target = (max * BigInt(accessBp)) / 10000n;
  if (target === 0n) target = 1n;
  return Number((observed * 10000n) / target);
}

/** The adaptation factor in basis points (10000 = keep): >10000 grows the intervals, <10000 shrinks. */
export function adaptationBp(score: number): number {
  const bp = Math.floor(feedLoopNextInput(100_000_000, score) / 10000);
  return bp <= 10000 ? 5000 + Math.floor(bp / 2) : bp;
}

/** The next sample interval (us) for a score: sample * adaptation, clamped to [min, max]. */
export function nextSampleUs(sampleUs: number, score: number, minUs: number, maxUs: number): number {
  const next = Math.floor((sampleUs * adaptationBp(score)) / 10000);
  return Math.min(maxUs, Math.max(minUs, next));
}
