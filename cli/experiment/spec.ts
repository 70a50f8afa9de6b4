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
// A top-level "schemes" (damo's DAMOS scheme JSON list) is run by every monitoring variant unless
// the variant gives its own "schemes"; a "tiering" block (fastNode, slowNode, hotRegion {pid, vma},
// phaseChange, bucket, settled, oracleInterval, headroom, baselines) adds the all-DRAM and oracle
// baselines and the tiering outcome figures.
// theta is the hot threshold (a fraction of samples), warmup the aggregations left unscored; a
// filter's type is cpumask (cpus: a cpuset list or an array), threads (tids) or write; a variant's
// truthFilter (cpus, tids, writesOnly) says which accesses its accuracy is scored against.
// Everything is checked where it is read, naming the file and the field: unknown keys, primitive
// parameters (known keys, numeric or boolean values), variant names (unique: they name the rows
// and the heatmap files), CPU numbers against the machine the experiment runs on, an empty
// variant list. VariantSpec is plain data, so it can be sent to a worker thread.

import { clip, didYouMean, InputError, UsageError } from "../../sim/errors.ts";
import { readInputText } from "../../sim/input-text.ts";
import { parseJsonText } from "../../sim/json-text.ts";
import { parseDuration, US } from "../../sim/time.ts";
import { parseOpsName, type OpsName } from "../../damon/ops-sets.ts";
import { isPrimitiveName, PRIMITIVES, type PrimitiveName } from "../../damon/primitives/index.ts";
import { parseCpuList } from "../../damon/report-buffer/filters.ts";
import { parsePrimitiveParam } from "../run-setup.ts";
import { isKernelVersion, KERNEL_VERSIONS, type KernelVersion } from "../../damon/kernel.ts";
import { schemesOfList } from "../damos-options.ts";

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
  /** DAMOS schemes as damo's JSON list (default: the experiment's; [] for none). */
  schemes?: unknown[];
  /** A placement baseline instead of DAMON: "oracle" places the true hot set (experiment/oracle-tiering.ts). */
  placement?: "oracle";
  /** The reference run with every node as fast as the tiering fast node ("all memory in DRAM"). */
  allDram?: boolean;
  /** Where an experiment file defines the variant ("variants[2]", "sweep.values[1]"), for messages. */
  sourceField?: string;
}

export interface ExperimentSpec {
  name: string;
  workload: string;
  machine: string;
  ops: OpsName;
  /** --kernel VERSION for every variant (default: the --variant mainline rules). */
  kernel?: KernelVersion;
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
  /** DAMOS schemes (damo's JSON list) every monitoring variant runs unless it gives its own. */
  schemes?: unknown[];
  /** A tiering experiment: its nodes and hot region, for the outcome figures (experiment/tiering-observer.ts). */
  tiering?: TieringSpec;
  scenario?: string;
  /** The experiment file it was read from, for messages (never written to the results). */
  sourceFile?: string;
}

export interface TieringSpec {
  fastNode: number;
  slowNode: number;
  /** The region hot after the phase change (a process's VMA by name). */
  hotRegion: { pid: number; vma: string };
  phaseChangeNs: number;
  /** Width of the fast-tier fraction's time buckets, ns. */
  bucketNs: number;
  /** Fraction of the hot region on the fast node that counts as "in DRAM". */
  settled: number;
  /** The oracle's re-placement interval, ns, and the fast node's headroom it keeps free. */
  oracleIntervalNs: number;
  headroom: number;
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
    if (!isPrimitiveName(p)) throw new InputError(`unknown primitive '${String(p)}' (known: ${PRIMITIVES.join(", ")})`, { file, field: `${field}[${i}]` });
    return p;
  });
}

function intIn(v: unknown, lo: number, hi: number, field: string, file: string): number {
  if (!Number.isSafeInteger(v) || (v as number) < lo || (v as number) > hi) throw new InputError(`must be an integer in [${lo}, ${hi}]`, { file, field });
  return v as number;
}

/** The machine an experiment file's CPU numbers are checked against. */
export interface CpuLimit {
  machine: string;
  cpus: number;
}

/** A CPU list as a cpuset string ("0-3,8") or an array of CPU numbers, each below the machine's CPU count. */
function cpusOf(v: unknown, field: string, file: string, limit: CpuLimit | null): number[] {
  let cpus: number[];
  if (Array.isArray(v)) cpus = v.map((c, i) => intIn(c, 0, 4095, `${field}[${i}]`, file));
  else if (typeof v === "string") {
    try {
      cpus = [...parseCpuList(v, field)];
    } catch (e) {
      throw e instanceof InputError ? e.within({ file }) : e;
    }
  } else throw new InputError("must be a CPU list such as \"0-3,8\" or an array of CPU numbers", { file, field });
  const bad = limit ? cpus.find((c) => c >= limit.cpus) : undefined;
  if (limit && bad !== undefined) throw new InputError(`CPU ${bad} does not exist on machine '${limit.machine}', which has CPUs 0-${limit.cpus - 1}`, { file, field });
  return cpus;
}

/** Refuses keys of `o` not in `known`, naming the nearest known one. */
function knownKeys(o: Record<string, unknown>, known: readonly string[], prefix: string, file: string): void {
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) throw new InputError(`unknown key '${clip(k)}'${didYouMean(k, known)} (known: ${known.join(", ")})`, { file, field: prefix ? `${prefix}.${k}` : k });
  }
}

const ROOT_KEYS = ["name", "description", "workload", "machine", "ops", "kernel", "duration", "seed", "attrs", "theta", "warmup", "variants", "sweep", "schemes", "tiering"];
const ATTR_KEYS = ["sample", "aggr", "update", "minRegions", "maxRegions"];
const VARIANT_KEYS = ["name", "primitives", "params", "buffer", "filterSemantics", "filters", "truthFilter", "flushTlbOnMkold", "numaBalancing", "schemes"];
const TIERING_KEYS = ["fastNode", "slowNode", "hotRegion", "phaseChange", "bucket", "settled", "oracleInterval", "headroom", "baselines"];
const FILTER_KEYS = ["type", "matching", "allow", "cpus", "tids"];
const TRUTH_KEYS = ["cpus", "tids", "writesOnly"];
const SWEEP_KEYS = ["param", "values", "primitives"];

/** Checks one "prim.key" parameter and its value (a number or true/false), naming the field. */
function paramOf(key: string, value: unknown, field: string, file: string): number | boolean {
  if (typeof value !== "number" && typeof value !== "boolean") throw new InputError(`must be a number or true/false, got ${clip(JSON.stringify(value) ?? String(value))}`, { file, field });
  try {
    parsePrimitiveParam(`${key}=${value}`);
  } catch (e) {
    if (e instanceof UsageError) throw new InputError(e.message.replace(/^--param:? /, ""), { file, field });
    throw e;
  }
  return value;
}

function tidsOf(v: unknown, field: string, file: string): number[] {
  if (!Array.isArray(v)) throw new InputError("must be an array of thread ids", { file, field });
  return v.map((t, i) => intIn(t, 0, 2 ** 31, `${field}[${i}]`, file));
}

function filterOf(v: unknown, field: string, file: string, limit: CpuLimit | null): FilterSpec {
  const o = asObject(v, field, file);
  knownKeys(o, FILTER_KEYS, field, file);
  const bool = (k: "matching" | "allow"): boolean => {
    if (o[k] === undefined) return true;
    if (typeof o[k] !== "boolean") throw new InputError("must be true or false", { file, field: `${field}.${k}` });
    return o[k];
  };
  const f: FilterSpec = { type: "write", matching: bool("matching"), allow: bool("allow") };
  if (o.type === "cpumask") return { ...f, type: "cpumask", cpus: cpusOf(o.cpus, `${field}.cpus`, file, limit) };
  if (o.type === "threads") return { ...f, type: "threads", tids: tidsOf(o.tids, `${field}.tids`, file) };
  if (o.type === "write") return f;
  throw new InputError(`unknown filter type '${String(o.type)}' (known: cpumask, threads, write)`, { file, field: `${field}.type` });
}

function truthFilterOf(v: unknown, field: string, file: string, limit: CpuLimit | null): TruthFilterSpec {
  const o = asObject(v, field, file);
  knownKeys(o, TRUTH_KEYS, field, file);
  const t: TruthFilterSpec = {};
  if (o.cpus !== undefined) t.cpus = cpusOf(o.cpus, `${field}.cpus`, file, limit);
  if (o.tids !== undefined) t.tids = tidsOf(o.tids, `${field}.tids`, file);
  if (o.writesOnly !== undefined) {
    if (typeof o.writesOnly !== "boolean") throw new InputError("must be true or false", { file, field: `${field}.writesOnly` });
    t.writesOnly = o.writesOnly;
  }
  return t;
}

/** A damo scheme list, checked as damo's -c would read it (errors name the experiment file and the field). */
export function checkSchemesJson(v: unknown, intervals: { sampleUs: number; aggrUs: number }, file: string, field: string): void {
  if (!Array.isArray(v)) throw new InputError("must be a list of DAMOS schemes in damo's JSON", { file, field });
  try {
    schemesOfList(v, intervals, file);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    const inner = e.location.field;
    throw new InputError(e.detail, { file, field: inner === undefined ? field : `${field}${inner.startsWith("[") ? "" : "."}${inner}` });
  }
}

export type TieringBaseline = "all-dram" | "oracle";
const TIERING_BASELINES: readonly TieringBaseline[] = ["all-dram", "oracle"];

/** The variant of a tiering baseline: all memory as fast as DRAM, or the oracle placement. */
export function tieringBaseline(b: TieringBaseline): VariantSpec {
  return b === "all-dram" ? { ...variant("all DRAM", []), monitor: false, allDram: true } : { ...variant("oracle", []), monitor: false, placement: "oracle" };
}

function tieringOf(v: unknown, path: string, dur: (v: unknown, field: string, unit: "s" | "us") => number): { spec: TieringSpec; baselines: TieringBaseline[] } {
  const o = asObject(v, "tiering", path);
  knownKeys(o, TIERING_KEYS, "tiering", path);
  const hr = asObject(o.hotRegion, "tiering.hotRegion", path);
  knownKeys(hr, ["pid", "vma"], "tiering.hotRegion", path);
  if (typeof hr.vma !== "string") throw new InputError("must be the name of a VMA of the workload", { file: path, field: "tiering.hotRegion.vma" });
  const frac = (k: string, d: number): number => {
    const x = o[k] ?? d;
    if (typeof x !== "number" || !(x >= 0 && x <= 1)) throw new InputError("must be a number in [0, 1]", { file: path, field: `tiering.${k}` });
    return x;
  };
  const baselines = o.baselines ?? [...TIERING_BASELINES];
  if (!Array.isArray(baselines) || baselines.some((b) => !TIERING_BASELINES.includes(b as TieringBaseline))) throw new InputError(`must be a list of ${TIERING_BASELINES.join(", ")}`, { file: path, field: "tiering.baselines" });
  return {
    spec: {
      fastNode: intIn(o.fastNode ?? 0, 0, 1023, "tiering.fastNode", path),
      slowNode: intIn(o.slowNode ?? 1, 0, 1023, "tiering.slowNode", path),
      hotRegion: { pid: intIn(hr.pid, 0, 2 ** 31, "tiering.hotRegion.pid", path), vma: hr.vma },
      phaseChangeNs: o.phaseChange === undefined ? 0 : dur(o.phaseChange, "tiering.phaseChange", "s"),
      bucketNs: o.bucket === undefined ? 50_000_000 : dur(o.bucket, "tiering.bucket", "s"),
      settled: frac("settled", 0.9),
      oracleIntervalNs: o.oracleInterval === undefined ? 100_000_000 : dur(o.oracleInterval, "tiering.oracleInterval", "s"),
      headroom: frac("headroom", 0.005),
    },
    baselines: baselines as TieringBaseline[],
  };
}

/** Reads an experiment file's JSON (size-capped, syntax errors at file:line:column). */
export function readExperimentJson(path: string): unknown {
  return parseJsonText(readInputText(path, "experiment"), path);
}

/** Whether parsed JSON is meant as an experiment (it has variants or a sweep) rather than a workload spec. */
export function isExperimentJson(raw: unknown): boolean {
  return typeof raw === "object" && raw !== null && !Array.isArray(raw) && ("variants" in raw || "sweep" in raw);
}

export interface ExperimentOptions {
  /** The machine given on the command line (it overrides the file's). */
  machine?: string;
  /** CPU count of a machine by name, or null when the name is unknown (then the CPUs go unchecked here). */
  cpuCount?: (machine: string) => number | null;
}

/** Reads a JSON experiment file (see the module header). */
export function loadExperiment(path: string, opts: ExperimentOptions = {}): ExperimentSpec {
  return experimentFromJson(readExperimentJson(path), path, opts);
}

/** Builds an experiment from its parsed JSON, read from `path`. */
export function experimentFromJson(raw: unknown, path: string, opts: ExperimentOptions = {}): ExperimentSpec {
  const o = asObject(raw, "(root)", path);
  knownKeys(o, ROOT_KEYS, "", path);
  const x = defaultExperiment();
  x.sourceFile = path;
  x.name = typeof o.name === "string" ? o.name : "experiment";
  if (o.workload !== undefined) {
    if (typeof o.workload !== "string") throw new InputError("must be a workload name or path", { file: path, field: "workload" });
    x.workload = o.workload;
  }
  if (o.machine !== undefined) {
    if (typeof o.machine !== "string") throw new InputError("must be a machine preset name or a JSON file", { file: path, field: "machine" });
    x.machine = o.machine;
  }
  const machine = opts.machine ?? x.machine;
  const nCpus = opts.cpuCount ? opts.cpuCount(machine) : null;
  const limit: CpuLimit | null = nCpus === null ? null : { machine, cpus: nCpus };
  if (o.ops !== undefined) {
    x.ops = parseOpsName(o.ops, (m) => new InputError(m, { file: path, field: "ops" }));
  }
  if (o.kernel !== undefined) {
    if (typeof o.kernel !== "string" || !isKernelVersion(o.kernel)) throw new InputError(`must be one of ${KERNEL_VERSIONS.join(", ")}, got ${clip(JSON.stringify(o.kernel))}`, { file: path, field: "kernel" });
    x.kernel = o.kernel;
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
    knownKeys(a, ATTR_KEYS, "attrs", path);
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
  const checkSchemes = (v: unknown, field: string): unknown[] => {
    checkSchemesJson(v, { sampleUs: x.sampleUs, aggrUs: x.aggrUs }, path, field);
    return v as unknown[];
  };
  if (o.schemes !== undefined) x.schemes = checkSchemes(o.schemes, "schemes");
  const variants: VariantSpec[] = [];
  if (o.variants !== undefined) {
    if (!Array.isArray(o.variants)) throw new InputError("must be a list", { file: path, field: "variants" });
    if (o.variants.length === 0 && o.sweep === undefined) throw new InputError("is empty: list at least one variant, e.g. [{ \"name\": \"pte\", \"primitives\": [\"pte\"] }], or give a sweep", { file: path, field: "variants" });
    o.variants.forEach((vv, i) => {
      const f = `variants[${i}]`;
      const v = asObject(vv, f, path);
      knownKeys(v, VARIANT_KEYS, f, path);
      if (v.name !== undefined && (typeof v.name !== "string" || v.name.trim() === "")) throw new InputError("must be a non-empty string", { file: path, field: `${f}.name` });
      const name = typeof v.name === "string" ? v.name : `v${i}`;
      const params: Record<string, number | boolean> = {};
      if (v.params !== undefined) {
        for (const [k, val] of Object.entries(asObject(v.params, `${f}.params`, path))) params[k] = paramOf(k, val, `${f}.params.${k}`, path);
      }
      const extra: Partial<VariantSpec> = { params, sourceField: f };
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
        extra.filters = v.filters.map((ff, k) => filterOf(ff, `${f}.filters[${k}]`, path, limit));
      }
      if (v.truthFilter !== undefined) extra.truthFilter = truthFilterOf(v.truthFilter, `${f}.truthFilter`, path, limit);
      for (const k of ["flushTlbOnMkold", "numaBalancing"] as const) {
        if (v[k] === undefined) continue;
        if (typeof v[k] !== "boolean") throw new InputError("must be true or false", { file: path, field: `${f}.${k}` });
        extra[k] = v[k];
      }
      if (v.schemes !== undefined) extra.schemes = checkSchemes(v.schemes, `${f}.schemes`);
      variants.push(variant(name, primitivesOf(v.primitives, `${f}.primitives`, path), extra));
    });
  }
  if (o.sweep !== undefined) {
    const s = asObject(o.sweep, "sweep", path);
    knownKeys(s, SWEEP_KEYS, "sweep", path);
    if (typeof s.param !== "string" || !Array.isArray(s.values)) throw new InputError("needs 'param' and a 'values' list", { file: path, field: "sweep" });
    if (s.values.length === 0) throw new InputError("is empty: give the parameter values to sweep, e.g. [4096, 16384]", { file: path, field: "sweep.values" });
    const param = s.param;
    const prims = primitivesOf(s.primitives ?? [param.split(".")[0]], "sweep.primitives", path);
    s.values.forEach((val, k) => {
      const value = paramOf(param, val, `sweep.values[${k}]`, path);
      variants.push(variant(`${prims.join("+")} ${param}=${value}`, prims, { params: { [param]: value }, sourceField: `sweep.values[${k}]` }));
    });
  }
  if (o.tiering !== undefined) {
    const t = tieringOf(o.tiering, path, dur);
    x.tiering = t.spec;
    // the tiering baselines come first, after compare's unmonitored run
    variants.unshift(...t.baselines.map((b, i) => ({ ...tieringBaseline(b), sourceField: `tiering.baselines[${i}]` })));
  }
  if (variants.length === 0) throw new InputError("an experiment needs variants or a sweep", { file: path, field: "variants" });
  // names are the rows of the table and the heatmap files: two alike would overwrite each other
  const seen = new Map<string, string>();
  for (const v of variants) {
    const field = v.sourceField!.startsWith("sweep") ? v.sourceField! : `${v.sourceField}.name`;
    const first = seen.get(v.name);
    if (first !== undefined) throw new InputError(`duplicate variant name '${clip(v.name)}' (also ${first}): every variant needs its own name`, { file: path, field });
    if (v.name === BASELINE.name) throw new InputError(`'${BASELINE.name}' is the name of the unmonitored run compare adds: choose another name`, { file: path, field });
    seen.set(v.name, field);
  }
  x.variants = variants;
  return x;
}
