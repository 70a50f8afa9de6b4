// The part of damo's scheme handling both of its spellings share (the --damos_* options in
// damo-args.ts and the scheme JSON in damo-json.ts): what damo's Damos object turns into once
// damo's sysfs writer and the kernel's sysfs-schemes.c have read it, i.e. a SchemeSpec. That
// covers the percent/time to samples/aggregation-interval conversion with the context's initial
// intervals, Python's '%d' truncation, the kernel's unsigned-long and u32 fields (nr_accesses and
// age ranges are read as unsigned long and stored in u32 fields, so they wrap), damo's quota goal
// metrics and their per-metric value units, the filter types and their arguments, and damo's
// defaults. Behaviour follows damonitor/damo@df6d55fa (src/_damon.py, src/_damon_args.py,
// src/_damon_sysfs.py); reference: ../shared/reference/damos.md section 8.
//
// Builders take an `At` that runs a part of the work and relocates its InputError (the JSON
// reader names file:line:column and the field; the option reader names the option and scheme).

import { clip, didYouMean, InputError } from "../../sim/errors.ts";
import { pyInt as truncate } from "../damo/format.ts";
import { damoBp, damoBytes, damoMs, damoNumber, damoPercent, damoPermil, damoUs, ULONG_MAX } from "./damo-units.ts";
import {
  CORE_FILTER_TYPES,
  DAMOS_ACTIONS,
  OPS_FILTER_TYPES,
  QUOTA_GOAL_METRICS,
  type AccessPattern,
  type CoreFilterType,
  type DamosAction,
  type DamosFilter,
  type GoalTuner,
  type OpsFilterType,
  type Quota,
  type QuotaGoal,
  type QuotaGoalMetric,
  type SchemeSpec,
  type Watermarks,
} from "./types.ts";

/** What damo's conversions need from the DAMON context a scheme belongs to. */
export interface DamoSchemeContext {
  /** The context's initial sampling and aggregation intervals, us (damo converts percents and times with them). */
  sampleUs: number;
  aggrUs: number;
  /** memcg id of a cgroup path (memcg filters, node_memcg_* goals); undefined when there is no such memcg. */
  memcgIdOf?: (path: string) => number | undefined;
  /** cgroup path of a memcg id, for printing a scheme back. */
  memcgPathOf?: (id: number) => string | undefined;
}

/** Runs `f`, the part of the input named `field`, relocating its InputError. */
export type At = <T>(field: string, f: () => T) => T;

/** An At that leaves errors as they are (the caller relocates them once). */
export const here: At = (_field, f) => f();

/** damo's intervals when a context gives none (DamonIntervals defaults: 5 ms, 100 ms). */
export const DAMO_DEFAULT_INTERVALS = { sampleUs: 5_000, aggrUs: 100_000 } as const;

export function checkContext(ctx: DamoSchemeContext): void {
  for (const k of ["sampleUs", "aggrUs"] as const) {
    const v = ctx[k];
    if (!(Number.isFinite(v) && v > 0)) throw new InputError(`the context's ${k === "sampleUs" ? "sampling" : "aggregation"} interval is ${v} us: damo's percent and time conversions need it positive`);
  }
}

// ---- values as the kernel's sysfs files take them (after damo's '%d') ----

/** Python '%d' (-0.5 prints as 0: no -0 here). */
const pyInt = (x: number): number => truncate(x) + 0;
const shownNumber = (x: number): string => String(pyInt(x));

/** '%d' of `x` read by kstrtoul: an integer in [0, ULONG_MAX]. */
export function ulong(x: number): number {
  const v = pyInt(x);
  if (v < 0) throw new InputError(`${shownNumber(x)} is negative: the kernel reads an unsigned number here`);
  if (v > ULONG_MAX) throw new InputError(`${shownNumber(x)} is above the kernel's limit 2^64-1`);
  return v;
}

/** '%d' of `x` read by kstrtouint: an integer in [0, 2^32-1]. */
export function u32(x: number): number {
  const v = ulong(x);
  if (v > 0xffffffff) throw new InputError(`${shownNumber(x)} is above the kernel's limit 2^32-1 for this field`);
  return v;
}

/** '%d' of `x` read by kstrtoint: a (node or target) number in the int range. */
export function int32(x: number): number {
  const v = pyInt(x);
  if (!(v >= -(2 ** 31) && v < 2 ** 31)) throw new InputError(`${shownNumber(x)} is outside the kernel's int range`);
  return v;
}

/** damo write_ulong: min(x, ULONG_MAX), '%d', kstrtoul (the access pattern's sizes). */
export const patternUlong = (x: number): number => ulong(Math.min(x, ULONG_MAX));

/** The pattern's nr_accesses and age: written as unsigned long, stored in a u32 field, so it wraps modulo 2^32. */
export function patternU32(x: number): number {
  const v = patternUlong(x);
  if (v >= ULONG_MAX) return 0xffffffff; // damo wrote 2^64-1 exactly
  return Number(BigInt(v) & 0xffffffffn);
}

/** A pattern range as damo holds it, in damo's unit for it. */
export interface Bounds<U extends string> {
  unit: U;
  min: number;
  max: number;
}

/** The access pattern's parts as damo holds them: sizes as spelled, nr_accesses and age already in their unit. */
export interface PatternWords {
  sz: readonly [unknown, unknown];
  nrAccesses: Bounds<"percent" | "samples">;
  age: Bounds<"usec" | "aggr_intervals">;
}

/** damo add_unset_unit: samples = int(percent x (aggr / sample) / 100), then the u32 wrap. */
const samplesOf = (unit: PatternWords["nrAccesses"]["unit"], v: number, ctx: DamoSchemeContext): number =>
  patternU32(unit === "samples" ? v : pyInt((v * (ctx.aggrUs / ctx.sampleUs)) / 100));

/** damo add_unset_unit: aggregation intervals = int(us / aggr), then the u32 wrap. */
const aggrIntervalsOf = (unit: PatternWords["age"]["unit"], v: number, ctx: DamoSchemeContext): number =>
  patternU32(unit === "aggr_intervals" ? v : pyInt(v / ctx.aggrUs));

/** The pattern the kernel gets; `at` names sz_bytes.min/.max, nr_accesses.min/.max, age.min/.max. */
export function accessPatternOf(w: PatternWords, ctx: DamoSchemeContext, at: At): AccessPattern {
  const { nrAccesses: nr, age } = w;
  return {
    szRegion: { min: at("sz_bytes.min", () => patternUlong(damoBytes(w.sz[0]))), max: at("sz_bytes.max", () => patternUlong(damoBytes(w.sz[1]))) },
    nrAccesses: { min: at("nr_accesses.min", () => samplesOf(nr.unit, nr.min, ctx)), max: at("nr_accesses.max", () => samplesOf(nr.unit, nr.max, ctx)) },
    age: { min: at("age.min", () => aggrIntervalsOf(age.unit, age.min, ctx)), max: at("age.max", () => aggrIntervalsOf(age.unit, age.max, ctx)) },
  };
}

/** damo's DamosAccessPattern(): every size, access rate and age ("min" to "max" in percent and us). */
export const defaultPatternWords = (): PatternWords => ({
  sz: ["min", "max"],
  nrAccesses: { unit: "percent", min: damoPercent("min"), max: damoPercent("max") },
  age: { unit: "usec", min: damoUs("min"), max: damoUs("max") },
});

// ---- names ----

function oneOf<T extends string>(v: unknown, known: readonly T[], what: string): T {
  if (typeof v === "string" && (known as readonly string[]).includes(v)) return v as T;
  const word = typeof v === "string" ? `'${clip(v)}'` : clip(JSON.stringify(v) ?? String(v));
  throw new InputError(`${word} is not ${what}${typeof v === "string" ? didYouMean(v, known) : ""} (known: ${known.join(", ")})`);
}

export const isMigrateAction = (a: DamosAction): boolean => a === "migrate_hot" || a === "migrate_cold";

export const actionOf = (v: unknown): DamosAction => oneOf(v, DAMOS_ACTIONS, "a DAMOS action");

export const goalTunerOf = (v: unknown): GoalTuner => oneOf(v, ["consist", "temporal"] as const, "a quota goal tuner");

export const wmarkMetricOf = (v: unknown): Watermarks["metric"] => oneOf(v, ["none", "free_mem_rate"] as const, "a watermark metric");

/** The quota goal metrics damo@df6d55fa knows (its qgoal_metrics): the kernel's but hugepage_mem_bp, in the kernel's order. */
export type DamoGoalMetric = Exclude<QuotaGoalMetric, "hugepage_mem_bp">;
export const DAMO_GOAL_METRICS: readonly DamoGoalMetric[] = QUOTA_GOAL_METRICS.filter((m): m is DamoGoalMetric => m !== "hugepage_mem_bp");

export const goalMetricOf = (v: unknown): DamoGoalMetric => oneOf(v, DAMO_GOAL_METRICS, "a quota goal metric damo knows");

/** Metrics whose nid damo writes to sysfs (metric_require_nid); the others leave the kernel's nid at 0. */
export const goalHasNid = (m: QuotaGoalMetric): boolean => m.startsWith("node_mem_") || m.startsWith("node_memcg_");
/** Metrics whose memcg path damo writes. */
export const goalHasMemcg = (m: QuotaGoalMetric): boolean => m.startsWith("node_memcg_");

/** A goal's target in the metric's unit: us for some_mem_psi_us, bp ("99.7%" = 9970) for the *_bp ratios, a plain number otherwise. */
export function goalTarget(metric: DamoGoalMetric, v: unknown): number {
  if (metric === "some_mem_psi_us") return ulong(damoUs(v));
  // node_eligible_mem_bp is not among damo's bp-parsed metrics: it takes a plain number
  if (metric.endsWith("_bp") && metric !== "node_eligible_mem_bp") return ulong(damoBp(v));
  return ulong(damoNumber(v));
}

/** memcg id of `path` through the caller's resolver. */
export function memcgIdOf(path: unknown, ctx: DamoSchemeContext): number {
  if (typeof path !== "string" || path === "") throw new InputError(`needs a cgroup path such as /workload, got ${clip(JSON.stringify(path) ?? String(path))}`);
  if (!ctx.memcgIdOf) throw new InputError(`cannot resolve the cgroup path '${clip(path)}': this run has no memcgs`);
  const id = ctx.memcgIdOf(path);
  if (id === undefined) throw new InputError(`no memcg has the cgroup path '${clip(path)}'`);
  return id;
}

/** A goal's parts as damo holds them; absent parts are undefined (JSON null counts as absent for nid and memcg_path). */
export interface GoalWords {
  metric: unknown;
  target: unknown;
  current: unknown;
  nid?: unknown;
  memcgPath?: unknown;
}

/** A QuotaGoal from damo's goal parts; `at` names the parts "metric", "target_value", "current_value", "nid", "memcg_path". */
export function quotaGoalOf(w: GoalWords, ctx: DamoSchemeContext, at: At): QuotaGoal {
  const metric = at("metric", () => goalMetricOf(w.metric));
  const targetValue = at("target_value", () => goalTarget(metric, w.target));
  const currentValue = at("current_value", () => ulong(damoNumber(w.current)));
  const given = (v: unknown): boolean => v !== undefined && v !== null;
  let nid = 0;
  if (goalHasNid(metric)) {
    nid = at("nid", () => (given(w.nid) ? int32(damoNumber(w.nid)) : bad(`${metric} needs a node id`)));
  } else if (given(w.nid)) {
    at("nid", () => bad(`damo does not pass a node id for ${metric} (it writes nid only for node_mem_* and node_memcg_* goals, so the kernel would see 0)`));
  }
  let memcgId = 0;
  if (goalHasMemcg(metric)) memcgId = at("memcg_path", () => (given(w.memcgPath) ? memcgIdOf(w.memcgPath, ctx) : bad(`${metric} needs a cgroup path`)));
  else if (given(w.memcgPath)) at("memcg_path", () => bad(`damo does not pass a cgroup path for ${metric}`));
  return { metric, targetValue, currentValue, nid, memcgId, complement: false };
}

/** Throws an InputError without a location (the caller's At adds it). */
export function bad(detail: string): never {
  throw new InputError(detail);
}

/** "1 time", "2 times". */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

// ---- quotas, watermarks ----

/** DamosQuotas() as damo fills it when a scheme sets no quota: everything 0, the reset interval "max". */
export function defaultQuota(): Quota {
  return { ms: 0, sz: 0, resetIntervalMs: ULONG_MAX, weightSz: 0, weightNrAccesses: 0, weightAge: 0, goals: [], goalTuner: "consist", failChargeNum: 0, failChargeDenom: 0 };
}

/** DamosWatermarks(): metric none, all 0. */
export function defaultWmarks(): Watermarks {
  return { metric: "none", intervalUs: 0, high: 0, mid: 0, low: 0 };
}

/** The quota's time, size, reset interval and weights as damo spells them; `at` names time_ms, sz_bytes, reset_interval_ms, weights.*. */
export interface QuotaWords {
  time: unknown;
  size: unknown;
  reset: unknown;
  weights: readonly [unknown, unknown, unknown];
}

export function quotaNumbersOf(w: QuotaWords, at: At): Pick<Quota, "ms" | "sz" | "resetIntervalMs" | "weightSz" | "weightNrAccesses" | "weightAge"> {
  return {
    ms: at("time_ms", () => ulong(damoMs(w.time))),
    sz: at("sz_bytes", () => ulong(damoBytes(w.size))),
    resetIntervalMs: at("reset_interval_ms", () => ulong(damoMs(w.reset))),
    weightSz: at("weights.sz_permil", () => u32(damoPermil(w.weights[0]))),
    weightNrAccesses: at("weights.nr_accesses_permil", () => u32(damoPermil(w.weights[1]))),
    weightAge: at("weights.age_permil", () => u32(damoPermil(w.weights[2]))),
  };
}

/** Watermarks from damo's five values (metric, interval us, high, mid, low permil); `at` names the JSON keys. */
export function wmarksOf(w: readonly [unknown, unknown, unknown, unknown, unknown], at: At): Watermarks {
  return {
    metric: at("metric", () => wmarkMetricOf(w[0])),
    intervalUs: at("interval_us", () => ulong(damoUs(w[1]))),
    high: at("high_permil", () => ulong(damoPermil(w[2]))),
    mid: at("mid_permil", () => ulong(damoPermil(w[3]))),
    low: at("low_permil", () => ulong(damoPermil(w[4]))),
  };
}

// ---- filters ----

export const FILTER_TYPES = [...CORE_FILTER_TYPES, ...OPS_FILTER_TYPES] as const;
export type FilterType = CoreFilterType | OpsFilterType;
export const filterTypeOf = (v: unknown): FilterType => oneOf(v, FILTER_TYPES, "a DAMOS filter type");
const isCoreType = (t: FilterType): t is CoreFilterType => (CORE_FILTER_TYPES as readonly string[]).includes(t);

/** A filter's arguments as damo holds them (only the type's own ones are read). */
export interface FilterWords {
  memcgPath?: unknown;
  addr?: readonly [unknown, unknown];
  targetIdx?: unknown;
  /** hugepage_size [min, max]; absent leaves the kernel's 0, 0. */
  hugepage?: readonly [unknown, unknown];
}

/** A DamosFilter; `at` names memcg_path, address_range.start/.end, damon_target_idx, hugepage_size[0]/[1]. */
export function filterOf(type: FilterType, matching: boolean, allow: boolean, w: FilterWords, ctx: DamoSchemeContext, at: At): DamosFilter {
  const f: DamosFilter = { type, matching, allow };
  const need = <T>(v: T | undefined, what: string): T => v ?? bad(`a ${type} filter needs ${what}`);
  if (type === "memcg") f.memcgId = at("memcg_path", () => memcgIdOf(need(w.memcgPath, "a cgroup path"), ctx));
  if (type === "addr") {
    const [s, e] = at("address_range", () => need(w.addr, "an address range"));
    f.addrStart = at("address_range.start", () => ulong(damoBytes(s)));
    f.addrEnd = at("address_range.end", () => ulong(damoBytes(e)));
  }
  if (type === "target") f.targetIdx = at("damon_target_idx", () => ulong(damoNumber(need(w.targetIdx, "a target index"))));
  if (type === "hugepage_size") {
    const [lo, hi] = w.hugepage ?? [0, 0];
    f.min = at("hugepage_size[0]", () => ulong(damoBytes(lo)));
    f.max = at("hugepage_size[1]", () => ulong(damoBytes(hi)));
  }
  return f;
}

/** The kernel's split of a scheme's filters: addr and target are core filters, the rest ops filters, each keeping the user's order. */
export function splitFilters(filters: readonly DamosFilter[]): Pick<SchemeSpec, "coreFilters" | "opsFilters"> {
  return { coreFilters: filters.filter((f) => isCoreType(f.type)), opsFilters: filters.filter((f) => !isCoreType(f.type)) };
}
