// DAMON's intervals auto-tuning (damon_intervals_goal): every `aggrs` aggregations, compare the
// observed access events with the goal ratio and scale the sample (and aggregation) interval by a
// factor in [0.5, 2] from the feedback loop damon_feed_loop_next_input. Integer arithmetic as the
// kernel's, in BigInt where products exceed 2^53. Reference: damon.md sections 1.9 and 8.3.

import type { Target } from "./region.ts";

const GOAL = 10000n;
const MIN_INPUT = 10000n;

/** damon_feed_loop_next_input(last_input, score) with goal 10,000 and minimum input 10,000. */
export function feedLoopNextInput(last: number, score: number): number {
  const l = BigInt(last), s = BigInt(score);
  if (s === GOAL) return last;
  if (s >= 2n * GOAL) return Number(MIN_INPUT);
  const diff = s < GOAL ? GOAL - s : s - GOAL;
  const comp = (l * diff) / GOAL;
  if (s < GOAL) return Number(l + comp);
  const next = l - comp;
  return Number(next > MIN_INPUT ? next : MIN_INPUT);
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
