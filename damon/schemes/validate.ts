// Structural checks of a SchemeSpec before a scheme is built from it: every number is a
// non-negative integer (targetNid and goal nids may be -1 = NUMA_NO_NODE), names are known, ranges
// are ordered and each filter carries its type's argument. Each failure is an InputError naming the
// field (under the caller's prefix, e.g. "schemes[0].pattern.age.min"). Values the kernel takes as
// unsigned longs may be as large as 2^64 (damo's "max"); they are saturated later, not refused.
// The kernel-version gates are in features.ts.

import { InputError } from "../../sim/errors.ts";
import { CORE_FILTER_TYPES, DAMOS_ACTIONS, OPS_FILTER_TYPES, QUOTA_GOAL_METRICS, type DamosFilter, type Range, type SchemeSpec } from "./types.ts";

type Fail = (field: string, msg: string) => never;

function failer(prefix: string): Fail {
  return (field, msg) => {
    throw new InputError(msg, { field: prefix ? `${prefix}.${field}` : field });
  };
}

function count(fail: Fail, field: string, v: unknown, min = 0): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) fail(field, `must be an integer >= ${min}, got ${String(v)}`);
  return v as number;
}

function range(fail: Fail, field: string, r: Range | undefined): void {
  if (r === undefined || r === null) fail(field, "is missing");
  const min = count(fail, `${field}.min`, r!.min);
  const max = count(fail, `${field}.max`, r!.max);
  if (min > max) fail(field, `min (${min}) must not exceed max (${max})`);
}

function oneOf<T extends string>(fail: Fail, field: string, v: unknown, known: readonly T[]): T {
  if (typeof v !== "string" || !(known as readonly string[]).includes(v)) fail(field, `must be one of ${known.join(", ")}, got '${String(v)}'`);
  return v as T;
}

function flag(fail: Fail, field: string, v: unknown): void {
  if (typeof v !== "boolean") fail(field, `must be true or false, got ${String(v)}`);
}

function filter(fail: Fail, field: string, f: DamosFilter, types: readonly string[]): void {
  const type = oneOf(fail, `${field}.type`, f.type, types);
  flag(fail, `${field}.matching`, f.matching);
  flag(fail, `${field}.allow`, f.allow);
  const arg = (k: "addrStart" | "addrEnd" | "targetIdx" | "memcgId" | "min" | "max"): number => {
    if (f[k] === undefined) fail(`${field}.${k}`, `the ${type} filter needs ${k}`);
    return count(fail, `${field}.${k}`, f[k]);
  };
  if (type === "addr") {
    const s = arg("addrStart"), e = arg("addrEnd");
    if (s > e) fail(field, `addr filter start (${s}) must not exceed end (${e})`);
  } else if (type === "target") arg("targetIdx");
  else if (type === "memcg") arg("memcgId");
  else if (type === "hugepage_size") {
    const lo = arg("min"), hi = arg("max");
    if (lo > hi) fail(field, `hugepage_size min (${lo}) must not exceed max (${hi})`);
  }
}

/** Throws an InputError naming the first bad field of `spec` (under `prefix`). */
export function validateSchemeSpec(spec: SchemeSpec, prefix = ""): void {
  const fail = failer(prefix);
  oneOf(fail, "action", spec.action, DAMOS_ACTIONS);
  if (!spec.pattern) fail("pattern", "is missing");
  range(fail, "pattern.szRegion", spec.pattern.szRegion);
  range(fail, "pattern.nrAccesses", spec.pattern.nrAccesses);
  range(fail, "pattern.age", spec.pattern.age);
  count(fail, "applyIntervalUs", spec.applyIntervalUs);
  const q = spec.quota;
  if (!q) fail("quota", "is missing");
  for (const k of ["ms", "sz", "resetIntervalMs", "weightSz", "weightNrAccesses", "weightAge", "failChargeNum", "failChargeDenom"] as const) count(fail, `quota.${k}`, q[k]);
  oneOf(fail, "quota.goalTuner", q.goalTuner, ["consist", "temporal"] as const);
  if (!Array.isArray(q.goals)) fail("quota.goals", "must be a list");
  q.goals.forEach((g, i) => {
    const f = `quota.goals[${i}]`;
    oneOf(fail, `${f}.metric`, g.metric, QUOTA_GOAL_METRICS);
    count(fail, `${f}.targetValue`, g.targetValue);
    count(fail, `${f}.currentValue`, g.currentValue);
    count(fail, `${f}.nid`, g.nid, -1);
    count(fail, `${f}.memcgId`, g.memcgId);
    flag(fail, `${f}.complement`, g.complement);
  });
  const w = spec.wmarks;
  if (!w) fail("wmarks", "is missing");
  oneOf(fail, "wmarks.metric", w.metric, ["none", "free_mem_rate"] as const);
  for (const k of ["intervalUs", "high", "mid", "low"] as const) count(fail, `wmarks.${k}`, w[k]);
  if (!Array.isArray(spec.coreFilters)) fail("coreFilters", "must be a list");
  if (!Array.isArray(spec.opsFilters)) fail("opsFilters", "must be a list");
  spec.coreFilters.forEach((f, i) => filter(fail, `coreFilters[${i}]`, f, CORE_FILTER_TYPES));
  spec.opsFilters.forEach((f, i) => filter(fail, `opsFilters[${i}]`, f, OPS_FILTER_TYPES));
  count(fail, "targetNid", spec.targetNid, -1);
  if (!Array.isArray(spec.dests)) fail("dests", "must be a list");
  spec.dests.forEach((d, i) => {
    count(fail, `dests[${i}].nid`, d.nid);
    count(fail, `dests[${i}].weight`, d.weight);
  });
  count(fail, "maxNrSnapshots", spec.maxNrSnapshots);
}
