// Derived per-region values the way damo computes them from a record: access rate in percent
// (samples * 100 / (aggr/sample), truncated), access frequency in hz (samples per second of the
// aggregation interval damo infers for the snapshot), age in microseconds, and damo's
// "temperature" (a weighted sum of size, percent and age, negated for unaccessed regions).

import type { DamonRecord, RecordRegion, RecordSnapshot } from "./record-file.ts";

/** damo's infer_aggr_time_us: the aggregation interval a snapshot stands for. */
export function snapshotAggrUs(s: RecordSnapshot, rec: DamonRecord): number {
  const iv = rec.intervals;
  if (!iv) return (s.end_time - s.start_time) / 1000;
  if (s.sample_interval_us !== undefined) return (s.sample_interval_us * iv.aggr_us) / iv.sample_us;
  const dur = (s.end_time - s.start_time) / 1000;
  return Math.abs(dur - iv.aggr_us) / iv.aggr_us < 0.1 ? iv.aggr_us : dur;
}

export function samplesOf(r: RecordRegion, rec: DamonRecord): number {
  if (r.nr_accesses.samples !== null) return r.nr_accesses.samples;
  const iv = rec.intervals;
  const max = iv ? iv.aggr_us / iv.sample_us : 1;
  return Math.trunc(((r.nr_accesses.percent ?? 0) * max) / 100);
}

/** Access rate in percent, truncated to an integer as damo's add_unset_unit does. */
export function percentOf(r: RecordRegion, rec: DamonRecord): number {
  if (r.nr_accesses.percent !== null) return r.nr_accesses.percent;
  const iv = rec.intervals;
  const max = iv ? iv.aggr_us / iv.sample_us : 1;
  return Math.trunc((samplesOf(r, rec) * 100.0) / max);
}

export function hzOf(r: RecordRegion, s: RecordSnapshot, rec: DamonRecord): number {
  return samplesOf(r, rec) / (snapshotAggrUs(s, rec) / 1e6);
}

export function ageUsOf(r: RecordRegion, rec: DamonRecord): number {
  if (r.age.usec !== null) return r.age.usec;
  return (r.age.aggr_intervals ?? 0) * (rec.intervals?.aggr_us ?? 0);
}

export function ageAggrsOf(r: RecordRegion, rec: DamonRecord): number {
  if (r.age.aggr_intervals !== null) return r.age.aggr_intervals;
  const aggr = rec.intervals?.aggr_us ?? 1;
  return Math.trunc((r.age.usec ?? 0) / aggr);
}

export type TemperatureWeights = [number, number, number];
export const DEFAULT_TEMPERATURE_WEIGHTS: TemperatureWeights = [0, 100, 100];

/** damo's temperature_of: size*w0 + percent*w1 + age_us*w2, negated when the access rate is 0. */
export function temperatureOf(size: number, percent: number, ageUs: number, w: TemperatureWeights): number {
  const score = size * w[0] + percent * w[1] + ageUs * w[2];
  return percent > 0 ? score : -score;
}
