// damo's scheme JSON to SchemeSpecs and back. Reads what damo's Damos.from_kvpairs reads
// (damonitor/damo@df6d55fa src/_damon.py): a list of schemes (damo -c/--schemes) or a whole
// {"kdamonds": [{"contexts": [{..., "intervals", "schemes"}]}]} (damo --kdamonds). As in damo,
// keys it does not read are ignored ("comments", "stats", "nr_accesses_unit", typos too), a
// missing key takes damo's default where damo has one (action "stat", the full access pattern,
// no quota, no watermarks, no filters) and is an error where damo has none (a quota without
// "weights", a filter without "matching"). Errors name file:line:column and the field.
// max_nr_snapshots is never read from JSON (damo reads no stats), so it is 0.
//
// schemeToDamoJson prints a SchemeSpec in this form with explicit, exact units ("4 KiB",
// "3 samples", "12 aggr_intervals", "1 s"), so damo (and parseDamosJson) read back the same scheme.
// Reference: ../shared/reference/damos.md section 8.

import { clip, InputError } from "../../sim/errors.ts";
import { Locator } from "../../sim/json-locate.ts";
import { parseJsonText } from "../../sim/json-text.ts";
import { damoBool, damoBytes, damoNumber, damoNumberUnit, damoPercent, damoUs, printBytes, printNumber, printTime } from "./damo-units.ts";
import {
  accessPatternOf,
  actionOf,
  bad,
  checkContext,
  DAMO_DEFAULT_INTERVALS,
  DAMO_GOAL_METRICS,
  defaultPatternWords,
  defaultQuota,
  defaultWmarks,
  filterOf,
  filterTypeOf,
  goalHasMemcg,
  goalHasNid,
  goalTunerOf,
  int32,
  plural,
  quotaGoalOf,
  quotaNumbersOf,
  splitFilters,
  u32,
  ulong,
  wmarksOf,
  type At,
  type Bounds,
  type DamoSchemeContext,
  type GoalWords,
} from "./damo-spelling.ts";
import type { DamosFilter, Quota, QuotaGoal, SchemeSpec } from "./types.ts";

/** The schemes of one DAMON context of a damo JSON input. */
export interface DamoContextSchemes {
  /** The kdamond and the context within it (0, 0 for a plain scheme list). */
  kdamondIdx: number;
  ctxIdx: number;
  /** The intervals percents and times were converted with: the context's own in a kdamonds file (damo's 5 ms / 100 ms when it gives none), else the caller's. */
  sampleUs: number;
  aggrUs: number;
  schemes: SchemeSpec[];
}

type Obj = Record<string, unknown>;

const has = (o: Obj, k: string): boolean => Object.hasOwn(o, k);
const given = (o: Obj, k: string): boolean => has(o, k) && o[k] !== null;
const kind = (v: unknown): string =>
  v === null ? "null" : Array.isArray(v) ? "a list" : typeof v === "object" ? "an object" : typeof v === "string" ? `'${clip(v)}'` : clip(JSON.stringify(v));

function join(base: string, field: string): string {
  if (base === "") return field;
  return field.startsWith("[") ? `${base}${field}` : `${base}.${field}`;
}

/** Reads one document: every error gets its field's file:line:column. */
class Reader {
  private readonly loc: Locator;
  constructor(readonly file: string, text: string) {
    this.loc = new Locator(file, text);
  }
  /** An At for the value at `base`. */
  at(base: string): At {
    return (field, f) => {
      try {
        return f();
      } catch (e) {
        if (e instanceof InputError && e.location.file === undefined) throw this.loc.error(e.detail, join(base, field));
        throw e;
      }
    };
  }
  obj(v: unknown, field: string): Obj {
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw this.loc.error(`must be an object, got ${kind(v)}`, field);
    return v as Obj;
  }
  list(v: unknown, field: string): unknown[] {
    if (!Array.isArray(v)) throw this.loc.error(`must be a list, got ${kind(v)}`, field);
    return v;
  }
  /** o[k], which damo requires. */
  req(o: Obj, k: string, base: string): unknown {
    if (!has(o, k)) throw this.loc.error(`'${k}' is required (damo reads it here)`, join(base, k));
    return o[k];
  }
  /** The object at `base` and the values of its keys `names`, all of which damo requires. */
  fields<const K extends readonly string[]>(v: unknown, base: string, names: K): { [I in keyof K]: unknown } {
    const o = this.obj(v, base);
    return names.map((k) => this.req(o, k, base)) as { [I in keyof K]: unknown };
  }
}

/**
 * The schemes of a damo scheme JSON text: a list of schemes (damo -c), converted with ctx's
 * intervals, or a kdamonds document (damo --kdamonds), each context with its own intervals. ctx
 * also resolves cgroup paths.
 */
export function parseDamosJson(text: string, file: string, ctx: DamoSchemeContext): DamoContextSchemes[] {
  const root = parseJsonText(text, file);
  const r = new Reader(file, text);
  if (Array.isArray(root)) {
    if (root.length > 0) r.at("")("(root)", () => checkContext(ctx));
    return [{ kdamondIdx: 0, ctxIdx: 0, sampleUs: ctx.sampleUs, aggrUs: ctx.aggrUs, schemes: root.map((s, i) => schemeOf(r, s, `[${i}]`, ctx)) }];
  }
  if (typeof root !== "object" || root === null || !has(root as Obj, "kdamonds")) {
    throw r.at("")("(root)", () => bad('must be a list of schemes (damo -c) or { "kdamonds": [...] } (damo --kdamonds)'));
  }
  const out: DamoContextSchemes[] = [];
  r.list((root as Obj).kdamonds, "kdamonds").forEach((kd, k) => {
    const kdBase = `kdamonds[${k}]`;
    const kdo = r.obj(kd, kdBase);
    r.list(r.req(kdo, "contexts", kdBase), `${kdBase}.contexts`).forEach((c, ci) => {
      const base = `${kdBase}.contexts[${ci}]`;
      const co = r.obj(c, base);
      let intervals: { sampleUs: number; aggrUs: number } = DAMO_DEFAULT_INTERVALS;
      if (has(co, "intervals")) {
        const ib = `${base}.intervals`;
        const [sample, aggr, update] = r.fields(co.intervals, ib, ["sample_us", "aggr_us", "ops_update_us"]);
        const at = r.at(ib);
        intervals = { sampleUs: at("sample_us", () => damoUs(sample)), aggrUs: at("aggr_us", () => damoUs(aggr)) };
        at("ops_update_us", () => damoUs(update)); // unused here, but damo refuses a bad one
      }
      const cctx = { ...ctx, ...intervals };
      const schemes = has(co, "schemes") ? r.list(co.schemes, `${base}.schemes`) : [];
      if (schemes.length > 0) r.at(base)("intervals", () => checkContext(cctx));
      out.push({ kdamondIdx: k, ctxIdx: ci, ...intervals, schemes: schemes.map((s, i) => schemeOf(r, s, `${base}.schemes[${i}]`, cctx)) });
    });
  });
  return out;
}

/** damo Damos.from_kvpairs, then what damo writes to sysfs. */
function schemeOf(r: Reader, v: unknown, base: string, ctx: DamoSchemeContext): SchemeSpec {
  const o = r.obj(v, base);
  const at = r.at(base);
  const action = has(o, "action") ? at("action", () => actionOf(o.action)) : "stat";
  const targetNid = given(o, "target_nid") ? at("target_nid", () => nidOf(o.target_nid)) : -1;
  const dests = has(o, "dests")
    ? r.list(o.dests, `${base}.dests`).map((d, i) => {
        const db = `${base}.dests[${i}]`;
        const [id, weight] = r.fields(d, db, ["id", "weight"]);
        const dat = r.at(db);
        return { nid: dat("id", () => u32(damoNumber(id))), weight: dat("weight", () => u32(damoNumber(weight))) };
      })
    : [];
  const applyIntervalUs = given(o, "apply_interval_us") ? at("apply_interval_us", () => ulong(damoUs(o.apply_interval_us))) : 0;
  const pattern = has(o, "access_pattern") ? patternOf(r, o.access_pattern, `${base}.access_pattern`, ctx) : accessPatternOf(defaultPatternWords(), ctx, at);
  const quota = has(o, "quotas") ? quotaOf(r, o.quotas, `${base}.quotas`, ctx) : defaultQuota();
  let wmarks = defaultWmarks();
  if (has(o, "watermarks")) {
    const wb = `${base}.watermarks`;
    wmarks = wmarksOf(r.fields(o.watermarks, wb, ["metric", "interval_us", "high_permil", "mid_permil", "low_permil"]), r.at(wb));
  }
  const filters = has(o, "filters") ? r.list(o.filters, `${base}.filters`).map((f, i) => filterOfJson(r, f, `${base}.filters[${i}]`, ctx)) : [];
  return { action, pattern, applyIntervalUs, quota, wmarks, ...splitFilters(filters), targetNid, dests, maxNrSnapshots: 0 };
}

/** target_nid, which damo writes as it is ('%s') to a kstrtoint file: an integer or integer string. */
function nidOf(v: unknown): number {
  if (typeof v === "number" && Number.isInteger(v)) return int32(v);
  if (typeof v === "string" && /^[+-]?\d+$/.test(v)) return int32(Number(v));
  return bad(`${kind(v)} is not a node id (an integer, or null for none)`);
}

/** damo DamosAccessPattern.from_kvpairs (each range in its natural unit, else "<n> <unit>"). */
function patternOf(r: Reader, v: unknown, base: string, ctx: DamoSchemeContext): SchemeSpec["pattern"] {
  const o = r.obj(v, base);
  const range = (k: string): [unknown, unknown, string] => {
    const b = `${base}.${k}`;
    const [mn, mx] = r.fields(r.req(o, k, base), b, ["min", "max"]);
    return [mn, mx, b];
  };
  const [szMin, szMax] = range("sz_bytes");
  const nrAccesses = bounds(r, range("nr_accesses"), damoPercent, ["samples", "percent"] as const, ["a percent (5 %, 5)", "percents"]);
  const age = bounds(r, range("age"), damoUs, ["aggr_intervals", "usec"] as const, ["a time (1 s, 100 ms)", "times"]);
  return accessPatternOf({ sz: [szMin, szMax], nrAccesses, age }, ctx, r.at(base));
}

/**
 * damo's reading of nr_accesses or age: both bounds in the natural unit (percent, time), else
 * both as "<n> <unit>" with one unit. units[0] is the counted unit (samples, aggr_intervals),
 * units[1] the natural one spelled as a word (percent, usec).
 */
function bounds<U extends string>(r: Reader, [mn, mx, base]: [unknown, unknown, string], natural: (v: unknown) => number, units: readonly [U, U], [what, plural]: [string, string]): Bounds<U> {
  const at = r.at(base);
  const tryNatural = (v: unknown): number | undefined => {
    try {
      return natural(v);
    } catch {
      return undefined;
    }
  };
  const a = tryNatural(mn), b = tryNatural(mx);
  if (a !== undefined && b !== undefined) return { unit: units[1], min: a, max: b };
  const ua = damoNumberUnit(mn), ub = damoNumberUnit(mx);
  if (a === undefined && ua === undefined) at("min", () => bad(`${kind(mn)} is neither ${what} nor '<n> ${units[0]}'`));
  if (b === undefined && ub === undefined) at("max", () => bad(`${kind(mx)} is neither ${what} nor '<n> ${units[0]}'`));
  if (ua === undefined || ub === undefined || ua.unit !== ub.unit) {
    return at("min", () => bad(`min ${kind(mn)} and max ${kind(mx)} mix units: damo reads both in one unit (both ${plural} or both '<n> ${units[0]}')`));
  }
  if (!(units as readonly string[]).includes(ua.unit)) at("min", () => bad(`unknown unit '${clip(ua.unit)}' (use ${units[0]} or ${units[1]})`));
  return { unit: ua.unit as U, min: ua.value, max: ub.value };
}

/** damo DamosQuotas.from_kvpairs. */
function quotaOf(r: Reader, v: unknown, base: string, ctx: DamoSchemeContext): Quota {
  const o = r.obj(v, base);
  const at = r.at(base);
  const [time, size, reset, w] = r.fields(o, base, ["time_ms", "sz_bytes", "reset_interval_ms", "weights"]);
  const weights = r.fields(w, `${base}.weights`, ["sz_permil", "nr_accesses_permil", "age_permil"]);
  const numbers = quotaNumbersOf({ time, size, reset, weights }, at);
  const goals: QuotaGoal[] = has(o, "goals")
    ? r.list(o.goals, `${base}.goals`).map((g, i) => {
        const gb = `${base}.goals[${i}]`;
        const go = r.obj(g, gb);
        // the old spelling: a user_input goal in target_value_bp / current_value_bp
        const words: GoalWords = has(go, "target_value_bp")
          ? { metric: "user_input", target: go.target_value_bp, current: r.req(go, "current_value_bp", gb) }
          : { metric: r.req(go, "metric", gb), target: r.req(go, "target_value", gb), current: r.req(go, "current_value", gb), nid: go.nid, memcgPath: go.memcg_path };
        const gat = r.at(gb);
        const oldAt: At = (f, fn) => gat(f === "target_value" ? "target_value_bp" : f === "current_value" ? "current_value_bp" : f, fn);
        return quotaGoalOf(words, ctx, has(go, "target_value_bp") ? oldAt : gat);
      })
    : [];
  return {
    ...numbers,
    goals,
    goalTuner: given(o, "goal_tuner") ? at("goal_tuner", () => goalTunerOf(o.goal_tuner)) : "consist",
    failChargeNum: has(o, "fail_charge_num") ? at("fail_charge_num", () => u32(damoNumber(o.fail_charge_num))) : 0,
    failChargeDenom: has(o, "fail_charge_denom") ? at("fail_charge_denom", () => u32(damoNumber(o.fail_charge_denom))) : 0,
  };
}

/** damo DamosFilter.from_kvpairs. */
function filterOfJson(r: Reader, v: unknown, base: string, ctx: DamoSchemeContext): DamosFilter {
  const o = r.obj(v, base);
  const at = r.at(base);
  const type = at("filter_type", () => filterTypeOf(r.req(o, "filter_type", base)));
  const matching = at("matching", () => damoBool(r.req(o, "matching", base)));
  // "filter_pass" is the old name of "allow"
  const allow = has(o, "allow") ? at("allow", () => damoBool(o.allow)) : has(o, "filter_pass") ? at("filter_pass", () => damoBool(o.filter_pass)) : false;
  let addr: readonly [unknown, unknown] | undefined;
  if (type === "addr") addr = r.fields(r.req(o, "address_range", base), `${base}.address_range`, ["start", "end"]);
  let hugepage: [unknown, unknown] | undefined;
  if (type === "hugepage_size" && given(o, "hugepage_size")) {
    const h = r.list(o.hugepage_size, `${base}.hugepage_size`);
    if (h.length !== 2) at("hugepage_size", () => bad(`must be [min, max], got ${plural(h.length, "value")}`));
    hugepage = [h[0], h[1]];
  }
  return filterOf(
    type,
    matching,
    allow,
    {
      ...(type === "memcg" ? { memcgPath: r.req(o, "memcg_path", base) } : {}),
      ...(addr ? { addr } : {}),
      ...(type === "target" ? { targetIdx: r.req(o, "damon_target_idx", base) } : {}),
      ...(hugepage ? { hugepage } : {}),
    },
    ctx,
    at,
  );
}

// ---- printing ----

export interface DamoMinMaxJson {
  min: string;
  max: string;
}

export interface DamoGoalJson {
  metric: string;
  nid: number | null;
  memcg_path: string | null;
  target_value: string;
  current_value: string;
}

export interface DamoFilterJson {
  filter_type: string;
  matching: boolean;
  allow: boolean;
  memcg_path: string | null;
  address_range: { start: string; end: string } | null;
  damon_target_idx: string | null;
  hugepage_size: [string, string] | null;
}

/** One scheme in damo's JSON form (the keys Damos.from_kvpairs reads). */
export interface DamoSchemeJson {
  action: string;
  target_nid: number | null;
  dests: { id: number; weight: number }[];
  apply_interval_us: string;
  access_pattern: { sz_bytes: DamoMinMaxJson; nr_accesses: DamoMinMaxJson; age: DamoMinMaxJson };
  quotas: {
    time_ms: string;
    sz_bytes: string;
    reset_interval_ms: string;
    goals: DamoGoalJson[];
    goal_tuner: string;
    fail_charge_num: string;
    fail_charge_denom: string;
    weights: { sz_permil: string; nr_accesses_permil: string; age_permil: string };
  };
  watermarks: { metric: string; interval_us: string; high_permil: string; mid_permil: string; low_permil: string };
  filters: DamoFilterJson[];
  /** Shown for information only: damo reads no stats from JSON, so max_nr_snapshots cannot be set this way. */
  stats?: { max_nr_snapshots: string };
}

function memcgPath(id: number, ctx: DamoSchemeContext): string {
  const p = ctx.memcgPathOf?.(id);
  if (p === undefined) throw new InputError(`memcg ${id} has no cgroup path to print (the context gives no memcgPathOf for it)`);
  return p;
}

function goalJson(g: QuotaGoal, ctx: DamoSchemeContext): DamoGoalJson {
  if (!(DAMO_GOAL_METRICS as readonly string[]).includes(g.metric)) throw new InputError(`damo@df6d55fa has no quota goal metric '${g.metric}'`);
  if (g.complement) throw new InputError(`damo@df6d55fa cannot set a goal's complement flag (${g.metric})`);
  if (g.metric === "node_eligible_mem_bp" && g.nid !== 0) throw new InputError(`damo@df6d55fa does not pass a node id for node_eligible_mem_bp (the kernel sees 0, not ${g.nid})`);
  return {
    metric: g.metric,
    nid: goalHasNid(g.metric) ? g.nid : null,
    memcg_path: goalHasMemcg(g.metric) ? memcgPath(g.memcgId, ctx) : null,
    target_value: g.metric === "some_mem_psi_us" ? printTime(g.targetValue, 1) : printNumber(g.targetValue),
    current_value: printNumber(g.currentValue),
  };
}

function filterJson(f: DamosFilter, ctx: DamoSchemeContext): DamoFilterJson {
  return {
    filter_type: f.type,
    matching: f.matching,
    allow: f.allow,
    memcg_path: f.type === "memcg" ? memcgPath(f.memcgId ?? 0, ctx) : null,
    address_range: f.type === "addr" ? { start: printNumber(f.addrStart ?? 0), end: printNumber(f.addrEnd ?? 0) } : null,
    damon_target_idx: f.type === "target" ? printNumber(f.targetIdx ?? 0) : null,
    hugepage_size: f.type === "hugepage_size" ? [printBytes(f.min ?? 0), printBytes(f.max ?? 0)] : null,
  };
}

/**
 * A SchemeSpec in damo's scheme JSON, in the kernel's units spelled out (samples, aggregation
 * intervals, bytes, us/ms), so reading it back (parseDamosJson, or damo) gives the same scheme
 * whatever the intervals. ctx prints memcg ids as cgroup paths. Throws an InputError for what
 * damo cannot express (hugepage_mem_bp and complement goals, a node_eligible_mem_bp nid).
 */
export function schemeToDamoJson(spec: SchemeSpec, ctx: DamoSchemeContext): DamoSchemeJson {
  const q = spec.quota;
  const w = spec.wmarks;
  const p = spec.pattern;
  const out: DamoSchemeJson = {
    action: spec.action,
    target_nid: spec.targetNid === -1 ? null : spec.targetNid,
    dests: spec.dests.map((d) => ({ id: d.nid, weight: d.weight })),
    apply_interval_us: printTime(spec.applyIntervalUs, 1),
    access_pattern: {
      sz_bytes: { min: printBytes(p.szRegion.min), max: printBytes(p.szRegion.max) },
      nr_accesses: { min: `${printNumber(p.nrAccesses.min)} samples`, max: `${printNumber(p.nrAccesses.max)} samples` },
      age: { min: `${printNumber(p.age.min)} aggr_intervals`, max: `${printNumber(p.age.max)} aggr_intervals` },
    },
    quotas: {
      time_ms: printTime(q.ms, 1000),
      sz_bytes: printBytes(q.sz),
      reset_interval_ms: printTime(q.resetIntervalMs, 1000),
      goals: q.goals.map((g) => goalJson(g, ctx)),
      goal_tuner: q.goalTuner,
      fail_charge_num: printNumber(q.failChargeNum),
      fail_charge_denom: printNumber(q.failChargeDenom),
      weights: { sz_permil: printNumber(q.weightSz), nr_accesses_permil: printNumber(q.weightNrAccesses), age_permil: printNumber(q.weightAge) },
    },
    watermarks: { metric: w.metric, interval_us: printTime(w.intervalUs, 1), high_permil: printNumber(w.high), mid_permil: printNumber(w.mid), low_permil: printNumber(w.low) },
    filters: [...spec.coreFilters, ...spec.opsFilters].map((f) => filterJson(f, ctx)),
  };
  if (spec.maxNrSnapshots !== 0) out.stats = { max_nr_snapshots: printNumber(spec.maxNrSnapshots) };
  return out;
}
