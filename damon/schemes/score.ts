// DAMOS prioritisation scores (ops-common.c damon_hot_score / damon_cold_score, damos.md 3) and each
// operations set's get_scheme_score: which actions rank regions by coldness, which by hotness and
// which give every region DAMOS_MAX_SCORE. The frequency is the on-demand mvsum in 7.2 (rule
// damosMvsum) and the raw nr_accesses before; the age subscore is log2 of the age in seconds,
// negated for idle regions. Integer arithmetic as C's (truncation toward zero).

import { nrSamplesPerAggr } from "../attrs.ts";
import { nrAccessesMvsum } from "../aggregate.ts";
import type { Region } from "../region.ts";
import type { DamosAction, SchemeContext } from "./types.ts";

export const DAMOS_MAX_SCORE = 99;
const MAX_SUBSCORE = 100;
const MAX_AGE_IN_LOG = 32;

/** What the score of a region reads from its context. */
export interface ScoreInputs {
  /** The frequency count: mvsum (7.2) or nr_accesses. */
  nr: number;
  age: number;
  /** Samples per aggregation. */
  samples: number;
  aggrUs: number;
}

/** The weights the score uses (permil; weight_sz is unused by the kernel). */
export interface ScoreWeights {
  weightNrAccesses: number;
  weightAge: number;
}

/** The nr_accesses DAMOS sees for a region: the mvsum (damosMvsum) or the raw count. */
export function scoreNr(ctx: SchemeContext, r: Region): number {
  return ctx.kernel.damosMvsum ? nrAccessesMvsum(r, ctx.attrs, ctx.passed, ctx.nextAggregationSis) : r.nrAccesses;
}

export function scoreInputs(ctx: SchemeContext, r: Region): ScoreInputs {
  return { nr: scoreNr(ctx, r), age: r.age, samples: nrSamplesPerAggr(ctx.attrs), aggrUs: ctx.attrs.aggrUs };
}

/** floor(log2(x)) for x >= 1. */
function ilog2(x: number): number {
  let n = 0;
  while (x >= 2) {
    x = Math.floor(x / 2);
    n++;
  }
  return n;
}

/** damon_hot_score: 0 (cold) .. 99 (hot). */
export function hotScore(i: ScoreInputs, w: ScoreWeights): number {
  const freq = Math.trunc((i.nr * MAX_SUBSCORE) / i.samples);
  const ageSec = Math.floor((i.age * i.aggrUs) / 1_000_000);
  let ageLog = ageSec > 0 ? Math.min(ilog2(ageSec) + 1, MAX_AGE_IN_LOG) : 0;
  if (freq === 0) ageLog = -ageLog;
  ageLog += MAX_AGE_IN_LOG;
  const ageSub = Math.trunc(Math.trunc((ageLog * MAX_SUBSCORE) / MAX_AGE_IN_LOG) / 2);
  let hot = w.weightNrAccesses * freq + w.weightAge * ageSub;
  if (w.weightNrAccesses + w.weightAge) hot = Math.trunc(hot / (w.weightNrAccesses + w.weightAge));
  hot = Math.trunc((hot * DAMOS_MAX_SCORE) / MAX_SUBSCORE);
  return Math.max(Math.min(hot, DAMOS_MAX_SCORE), 0);
}

/** damon_cold_score: DAMOS_MAX_SCORE - hot. */
export function coldScore(i: ScoreInputs, w: ScoreWeights): number {
  return DAMOS_MAX_SCORE - hotScore(i, w);
}

export type ScoreKind = "hot" | "cold" | "max";

/**
 * The operations set's get_scheme_score for an action: paddr ranks pageout, lru_deprio and
 * migrate_cold by coldness and lru_prio, migrate_hot by hotness; vaddr (and fvaddr) pageout and
 * migrate_cold by coldness, migrate_hot by hotness; every other action scores DAMOS_MAX_SCORE.
 * null: an operations set without get_scheme_score (no prioritisation at all).
 */
export function scoreKind(opsName: string, action: DamosAction): ScoreKind | null {
  if (opsName === "paddr") {
    if (action === "pageout" || action === "lru_deprio" || action === "migrate_cold") return "cold";
    if (action === "lru_prio" || action === "migrate_hot") return "hot";
    return "max";
  }
  if (opsName === "vaddr" || opsName === "fvaddr") {
    if (action === "pageout" || action === "migrate_cold") return "cold";
    if (action === "migrate_hot") return "hot";
    return "max";
  }
  return null;
}

/** The score of region r for a scheme whose score kind is `kind`. */
export function regionScore(kind: ScoreKind, ctx: SchemeContext, r: Region, w: ScoreWeights): number {
  if (kind === "max") return DAMOS_MAX_SCORE;
  const i = scoreInputs(ctx, r);
  return kind === "hot" ? hotScore(i, w) : coldScore(i, w);
}
