// DAMON monitoring attributes (intervals in microseconds, region count bounds, the intervals
// auto-tuning goal) with the kernel's defaults and validation rules (damon_set_attrs), and the
// derived "samples per aggregation" (damon_max_nr_accesses / damon_nr_samples_per_aggr).
// Reference: ../shared/reference/damon.md section 1.2.

import { InputError } from "../sim/errors.ts";

export interface IntervalsGoal {
  /** Target ratio of observed to possible access events, in 1/10,000. */
  accessBp: number;
  /** Aggregations between tunings; 0 disables tuning. */
  aggrs: number;
  minSampleUs: number;
  maxSampleUs: number;
}

export interface DamonAttrs {
  sampleUs: number;
  aggrUs: number;
  opsUpdateUs: number;
  minNrRegions: number;
  maxNrRegions: number;
  intervalsGoal: IntervalsGoal;
}

export const UINT_MAX = 0xffffffff;

/** The kernel's damon_new_ctx defaults (ops update 60 s; damo's own default is 1 s). */
export function defaultAttrs(): DamonAttrs {
  return {
    sampleUs: 5_000,
    aggrUs: 100_000,
    opsUpdateUs: 60_000_000,
    minNrRegions: 10,
    maxNrRegions: 1000,
    intervalsGoal: { accessBp: 0, aggrs: 0, minSampleUs: 0, maxSampleUs: 0 },
  };
}

/** Samples per aggregation window: min(aggr / sample, UINT_MAX), a sample of 0 counting as 1, at least 1. */
export function nrSamplesPerAggr(a: Pick<DamonAttrs, "sampleUs" | "aggrUs">): number {
  const sample = a.sampleUs === 0 ? 1 : a.sampleUs;
  return Math.max(1, Math.min(Math.floor(a.aggrUs / sample), UINT_MAX));
}

/** Number of sample intervals in `us` (the sample interval 0 counts as 1), as the kernel divides. */
export function sisOf(us: number, sampleUs: number): number {
  return Math.floor(us / (sampleUs === 0 ? 1 : sampleUs));
}

/**
 * Validates attributes as damon_set_attrs does (-EINVAL cases), throwing an InputError naming the
 * field. Tuning is disabled when goal.aggrs is 0; otherwise min <= sample <= max is required.
 */
export function validateAttrs(a: DamonAttrs): DamonAttrs {
  const fail = (field: string, msg: string): never => {
    throw new InputError(msg, { field });
  };
  for (const k of ["sampleUs", "aggrUs", "opsUpdateUs", "minNrRegions", "maxNrRegions"] as const) {
    if (!Number.isSafeInteger(a[k]) || a[k] < 0) fail(k, `must be a non-negative integer, got ${a[k]}`);
  }
  if (a.minNrRegions < 3) fail("minNrRegions", `must be at least 3, got ${a.minNrRegions}`);
  if (a.minNrRegions > a.maxNrRegions) fail("maxNrRegions", `must be at least min_nr_regions (${a.minNrRegions}), got ${a.maxNrRegions}`);
  if (a.sampleUs > a.aggrUs) fail("aggrUs", `the aggregation interval (${a.aggrUs} us) must not be shorter than the sample interval (${a.sampleUs} us)`);
  const g = a.intervalsGoal;
  for (const k of ["accessBp", "aggrs", "minSampleUs", "maxSampleUs"] as const) {
    if (!Number.isSafeInteger(g[k]) || g[k] < 0) fail(`intervalsGoal.${k}`, `must be a non-negative integer, got ${g[k]}`);
  }
  if (g.aggrs !== 0) {
    if (g.minSampleUs > g.maxSampleUs) fail("intervalsGoal.minSampleUs", `must not exceed max_sample_us (${g.maxSampleUs}), got ${g.minSampleUs}`);
    if (a.sampleUs < g.minSampleUs || a.sampleUs > g.maxSampleUs) {
      fail("intervalsGoal", `the sample interval (${a.sampleUs} us) must be within [${g.minSampleUs}, ${g.maxSampleUs}] us`);
    }
  }
  return a;
}

export function cloneAttrs(a: DamonAttrs): DamonAttrs {
  return { ...a, intervalsGoal: { ...a.intervalsGoal } };
}
