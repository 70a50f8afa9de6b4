// Experiments: a workload on a machine run once per variant (a set of access check primitives
// with their parameters and filters), all on the identical access stream (same seed), plus a
// baseline without monitoring for slowdown. An experiment is given on the command line or as a
// JSON file:
//   { "workload": "tiering", "machine": "cxl-tier", "duration": "3s", "seed": 1, "ops": "vaddr",
//     "attrs": { "sample": "5ms", "aggr": "100ms", "update": "1s", "minRegions": 10, "maxRegions": 1000 },
//     "theta": 0.5, "warmup": 5,
//     "variants": [ { "name": "ibs-4k", "primitives": ["ibs"], "params": { "ibs.period": 4096 } },
//                   { "name": "perf-mem cpus 0-3", "primitives": ["perf-mem"],
//                     "filters": [ { "type": "cpumask", "cpus": "0-3", "matching": true, "allow": true } ],
//                     "truthFilter": { "cpus": "0-3" }, "buffer": "array",
//                     "filterSemantics": "intended", "flushTlbOnMkold": false, "numaBalancing": false } ],
//     "sweep": { "param": "ibs.period", "values": [1024, 4096, 16384], "primitives": ["ibs"] } }
// theta is the hot threshold (a fraction of samples), warmup the aggregations left unscored; a
// filter's type is cpumask (cpus: a cpuset list or an array), threads (tids) or write; a variant's
// truthFilter (cpus, tids, writesOnly) says which accesses its accuracy is scored against.
// VariantSpec is plain data, so it can be sent to a worker thread.

import { readFileSync } from "node:fs";
import { InputError } from "../../sim/errors.ts";
import { parseDuration, US } from "../../sim/time.ts";
import { PRIMITIVES, type PrimitiveName } from "../../damon/reports/buffer.ts";
import { parseCpuList } from "../../damon/reports/filters.ts";

export interface FilterSpec {
  type: "cpumask" | "threads" | "write";
  matching: boolean;
  allow: boolean;
  cpus?: number[];
  tids?: number[];
}

export interface TruthFilterSpec {
  cpus?: number[];
  tids?: number[];
  writesOnly?: boolean;
}

export interface VariantSpec {
  name: string;
  /** false for the baseline (the workload alone). */
  monitor: boolean;
  primitives: PrimitiveName[];
  /** "prim.key" -> value. */
  params: Record<string, number | boolean>;
  filters: FilterSpec[];
  buffer: "rings" | "array";
  filterSemantics: "intended" | "next-quirk";
  /** Which accesses the accuracy is scored against (filtered monitoring); default all. */
  truthFilter?: TruthFilterSpec;
  /** Also score "remote-hot" bytes (pages on other nodes than `localNode`) for NUMA scenarios. */
  localNode?: number;
  flushTlbOnMkold?: boolean;
  numaBalancing?: boolean;
}

export interface ExperimentSpec {
  name: string;
  workload: string;
  machine: string;
  ops: "vaddr" | "paddr";
  durationNs: number;
  seed: number;
  sampleUs: number;
  aggrUs: number;
  opsUpdateUs: number;
  minNrRegions: number;
  maxNrRegions: number;
  /** Hot threshold (fraction of samples per aggregation). */
  theta: number;
  /** Aggregations skipped at the start of scoring (DAMON's warm-up). */
  warmupWindows: number;
  variants: VariantSpec[];
  /** What the scenario's own metric is about (printed with the results). */
  question?: string;
  scenario?: string;
}

export function variant(name: string, primitives: PrimitiveName[], extra: Partial<VariantSpec> = {}): VariantSpec {
  return { name, monitor: true, primitives, params: {}, filters: [], buffer: "rings", filterSemantics: "intended", ...extra };
}

export const BASELINE: VariantSpec = { ...variant("baseline", []), monitor: false };

export function defaultExperiment(): ExperimentSpec {
  return {
    name: "compare",
    workload: "tiering",
    machine: "cxl-tier",
    ops: "vaddr",
    durationNs: 3_000_000_000,
    seed: 1,
    sampleUs: 5000,
    aggrUs: 100_000,
    opsUpdateUs: 1_000_000,
    minNrRegions: 10,
    maxNrRegions: 1000,
    theta: 0.5,
    warmupWindows: 5,
    variants: [],
  };
}

/** Builds "prim.key=value" strings back from a variant's params (for the run options). */
export function paramList(v: VariantSpec): string[] {
  return Object.entries(v.params).map(([k, val]) => `${k}=${val}`);
}

function asObject(v: unknown, field: string, file: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new InputError("must be an object", { file, field });
  return v as Record<string, unknown>;
}

function primitivesOf(v: unknown, field: string, file: string): PrimitiveName[] {
  if (!Array.isArray(v) || v.length === 0) throw new InputError("must be a non-empty list of primitives", { file, field });
  return v.map((p, i) => {
    if (!(PRIMITIVES as readonly unknown[]).includes(p)) throw new InputError(`unknown primitive '${String(p)}' (known: ${PRIMITIVES.join(", ")})`, { file, field: `${field}[${i}]` });
    return p as PrimitiveName;
  });
}

function intIn(v: unknown, lo: number, hi: number, field: string, file: string): number {
  if (!Number.isSafeInteger(v) || (v as number) < lo || (v as number) > hi) throw new InputError(`must be an integer in [${lo}, ${hi}]`, { file, field });
  return v as number;
}

/** A CPU list as a cpuset string ("0-3,8") or an array of CPU numbers. */
function cpusOf(v: unknown, field: string, file: string): number[] {
  if (Array.isArray(v)) return v.map((c, i) => intIn(c, 0, 4095, `${field}[${i}]`, file));
  if (typeof v === "string") {
    try {
      return [...parseCpuList(v, field)];
    } catch (e) {
      throw e instanceof InputError ? e.within({ file }) : e;
    }
  }
  throw new InputError("must be a CPU list such as \"0-3,8\" or an array of CPU numbers", { file, field });
}

function tidsOf(v: unknown, field: string, file: string): number[] {
  if (!Array.isArray(v)) throw new InputError("must be an array of thread ids", { file, field });
  return v.map((t, i) => intIn(t, 0, 2 ** 31, `${field}[${i}]`, file));
}

function filterOf(v: unknown, field: string, file: string): FilterSpec {
  const o = asObject(v, field, file);
  const bool = (k: "matching" | "allow"): boolean => {
    if (o[k] === undefined) return true;
    if (typeof o[k] !== "boolean") throw new InputError("must be true or false", { file, field: `${field}.${k}` });
    return o[k];
  };
  const f: FilterSpec = { type: "write", matching: bool("matching"), allow: bool("allow") };
  if (o.type === "cpumask") return { ...f, type: "cpumask", cpus: cpusOf(o.cpus, `${field}.cpus`, file) };
  if (o.type === "threads") return { ...f, type: "threads", tids: tidsOf(o.tids, `${field}.tids`, file) };
  if (o.type === "write") return f;
  throw new InputError(`unknown filter type '${String(o.type)}' (known: cpumask, threads, write)`, { file, field: `${field}.type` });
}

function truthFilterOf(v: unknown, field: string, file: string): TruthFilterSpec {
  const o = asObject(v, field, file);
  const t: TruthFilterSpec = {};
  if (o.cpus !== undefined) t.cpus = cpusOf(o.cpus, `${field}.cpus`, file);
  if (o.tids !== undefined) t.tids = tidsOf(o.tids, `${field}.tids`, file);
  if (o.writesOnly !== undefined) {
    if (typeof o.writesOnly !== "boolean") throw new InputError("must be true or false", { file, field: `${field}.writesOnly` });
    t.writesOnly = o.writesOnly;
  }
  return t;
}

/** Reads a JSON experiment file (see the module header). */
export function loadExperiment(path: string): ExperimentSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new InputError(`cannot read experiment: ${(e as Error).message}`, { file: path });
  }
  const o = asObject(raw, "(root)", path);
  const x = defaultExperiment();
  x.name = typeof o.name === "string" ? o.name : "experiment";
  if (o.workload !== undefined) {
    if (typeof o.workload !== "string") throw new InputError("must be a workload name or path", { file: path, field: "workload" });
    x.workload = o.workload;
  }
  if (o.machine !== undefined) x.machine = String(o.machine);
  if (o.ops !== undefined) {
    if (o.ops !== "vaddr" && o.ops !== "paddr") throw new InputError("must be vaddr or paddr", { file: path, field: "ops" });
    x.ops = o.ops;
  }
  const dur = (v: unknown, field: string, unit: "s" | "us"): number => {
    try {
      return parseDuration(String(v), unit, field);
    } catch (e) {
      throw (e as InputError).within({ file: path });
    }
  };
  if (o.duration !== undefined) x.durationNs = dur(o.duration, "duration", "s");
  if (o.seed !== undefined) {
    if (!Number.isSafeInteger(o.seed)) throw new InputError("must be an integer", { file: path, field: "seed" });
    x.seed = o.seed as number;
  }
  if (o.attrs !== undefined) {
    const a = asObject(o.attrs, "attrs", path);
    if (a.sample !== undefined) x.sampleUs = Math.round(dur(a.sample, "attrs.sample", "us") / US);
    if (a.aggr !== undefined) x.aggrUs = Math.round(dur(a.aggr, "attrs.aggr", "us") / US);
    if (a.update !== undefined) x.opsUpdateUs = Math.round(dur(a.update, "attrs.update", "us") / US);
    if (a.minRegions !== undefined) x.minNrRegions = intIn(a.minRegions, 1, 1e9, "attrs.minRegions", path);
    if (a.maxRegions !== undefined) x.maxNrRegions = intIn(a.maxRegions, 1, 1e9, "attrs.maxRegions", path);
  }
  if (o.theta !== undefined) {
    if (typeof o.theta !== "number" || !(o.theta > 0 && o.theta <= 1)) throw new InputError("must be a number in (0, 1]", { file: path, field: "theta" });
    x.theta = o.theta;
  }
  if (o.warmup !== undefined) x.warmupWindows = intIn(o.warmup, 0, 1e9, "warmup", path);
  const variants: VariantSpec[] = [];
  if (o.variants !== undefined) {
    if (!Array.isArray(o.variants)) throw new InputError("must be a list", { file: path, field: "variants" });
    o.variants.forEach((vv, i) => {
      const f = `variants[${i}]`;
      const v = asObject(vv, f, path);
      const name = typeof v.name === "string" ? v.name : `v${i}`;
      const params = v.params === undefined ? {} : (asObject(v.params, `${f}.params`, path) as Record<string, number | boolean>);
      const extra: Partial<VariantSpec> = { params };
      if (v.buffer !== undefined) {
        if (v.buffer !== "rings" && v.buffer !== "array") throw new InputError("must be rings or array", { file: path, field: `${f}.buffer` });
        extra.buffer = v.buffer;
      }
      if (v.filterSemantics !== undefined) {
        if (v.filterSemantics !== "intended" && v.filterSemantics !== "next-quirk") throw new InputError("must be intended or next-quirk", { file: path, field: `${f}.filterSemantics` });
        extra.filterSemantics = v.filterSemantics;
      }
      if (v.filters !== undefined) {
        if (!Array.isArray(v.filters)) throw new InputError("must be a list", { file: path, field: `${f}.filters` });
        extra.filters = v.filters.map((ff, k) => filterOf(ff, `${f}.filters[${k}]`, path));
      }
      if (v.truthFilter !== undefined) extra.truthFilter = truthFilterOf(v.truthFilter, `${f}.truthFilter`, path);
      for (const k of ["flushTlbOnMkold", "numaBalancing"] as const) {
        if (v[k] === undefined) continue;
        if (typeof v[k] !== "boolean") throw new InputError("must be true or false", { file: path, field: `${f}.${k}` });
        extra[k] = v[k];
      }
      variants.push(variant(name, primitivesOf(v.primitives, `${f}.primitives`, path), extra));
    });
  }
  if (o.sweep !== undefined) {
    const s = asObject(o.sweep, "sweep", path);
    if (typeof s.param !== "string" || !Array.isArray(s.values)) throw new InputError("needs 'param' and a 'values' list", { file: path, field: "sweep" });
    const prims = primitivesOf(s.primitives ?? [s.param.split(".")[0]], "sweep.primitives", path);
    for (const val of s.values) variants.push(variant(`${prims.join("+")} ${s.param}=${val}`, prims, { params: { [s.param]: val as number } }));
  }
  if (variants.length === 0) throw new InputError("an experiment needs variants or a sweep", { file: path, field: "variants" });
  x.variants = variants;
  return x;
}
