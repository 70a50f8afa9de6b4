// Study files: a matrix of runs. A study names fixed settings and axes, excludes combinations and
// says what each cell is measured against:
//   { "name": "periods", "duration": "20ms", "ops": "vaddr", "attrs": { "sample": "1ms", "aggr": "10ms" },
//     "theta": 0.5, "warmup": 0,
//     "axes": { "workload": ["stairs", "zigzag"], "machine": ["tiny"], "primitives": ["pte", "ibs", "pte+ibs"],
//               "ibs.period": [1024, 4096], "attrs.sample": ["1ms", "5ms"], "seed": [1, 2, 3] },
//     "exclude": [ { "primitives": "pte+ibs", "ibs.period": 1024 } ],
//     "baseline": "unmonitored" }
// Axes: workload, machine, seed, primitives ("a" or "a+b" or a list), ops, kernel, duration, theta,
// attrs.sample|aggr|update|minRegions|maxRegions, schemes (damo scheme JSON files, or "none"), and
// any primitive parameter "prim.key"; each
// one's values are a non-empty list. workload, machine, seed, primitives and schemes may also be
// fixed at the root. A primitive parameter axis only multiplies the cells whose primitives include that
// primitive (the others show it as empty). A cell is one combination of every axis but seed; its
// seeds are the repeats a confidence interval is taken over. "baseline" is "unmonitored" (the
// default: the cell's workload alone, for slowdown), "none", or { "primitives": ..., "params": {...} }
// (a monitored reference run). Every value is checked where it is read, and errors name
// file:line:column and the field.

import { existsSync, statSync } from "node:fs";
import { extname } from "node:path";
import { clip, didYouMean, InputError, UsageError } from "../../sim/errors.ts";
import { readInputText } from "../../sim/input-text.ts";
import { parseJsonText } from "../../sim/json-text.ts";
import { checkSchemesJson, experimentFromJson } from "../experiment/spec.ts";
import { machineConfig } from "../run-setup.ts";
import { resolveWorkloadEnd } from "../../workloads/registry.ts";
import { canonicalJson, jobKey, type JobSpec } from "./job.ts";
import { Locator } from "../../sim/json-locate.ts";
import type { ResultStore } from "./store.ts";

export type AxisValue = string | number | boolean;

export interface Axis {
  name: string;
  values: AxisValue[];
}

export interface PlannedJob {
  key: string;
  spec: JobSpec;
  role: "run" | "baseline";
  /** Every axis's value for this job (null: the axis does not apply). */
  axes: Record<string, AxisValue | null>;
  /** The cell: every axis but seed, as canonical JSON. */
  cell: string;
  /** Key of the job this one is compared with (slowdown), or null. */
  baselineKey: string | null;
}

export interface StudyPlan {
  name: string;
  file: string;
  axes: Axis[];
  /** Runs in canonical order (axis order, then value order as the file lists them), then baselines. */
  jobs: PlannedJob[];
  /** Machine CPU counts by machine axis value (for the host time estimate). */
  cpus: Record<string, number>;
  /** The input files the jobs name by reference, with where they are on this machine. */
  inputs: Array<{ ref: string; path: string }>;
}

const ROOT_KEYS = ["name", "description", "workload", "machine", "seed", "primitives", "ops", "kernel", "duration", "attrs", "theta", "warmup", "schemes", "axes", "exclude", "baseline"];
const ATTR_AXES = ["attrs.sample", "attrs.aggr", "attrs.update", "attrs.minRegions", "attrs.maxRegions"];
const NAMED_AXES = ["workload", "machine", "ops", "kernel", "duration", "theta", ...ATTR_AXES, "schemes", "primitives"];
const DEFAULTS: Record<string, AxisValue> = { workload: "tiering", machine: "cxl-tier", seed: 1, primitives: "pte", ops: "vaddr", duration: "3s", theta: 0.5 };
const ATTR_DEFAULTS: Record<string, AxisValue> = { "attrs.sample": "5ms", "attrs.aggr": "100ms", "attrs.update": "1s", "attrs.minRegions": 10, "attrs.maxRegions": 1000 };

function primitivesValue(v: unknown, field: string, loc: Locator): string {
  const list = Array.isArray(v) ? v : typeof v === "string" ? v.split("+") : null;
  if (list === null || list.length === 0 || list.some((p) => typeof p !== "string" || p === "")) throw loc.error("must be a primitive name, names joined by '+' (\"pte+ibs\") or a list of names", field);
  return (list as string[]).join("+");
}

/** Reads and plans a study file. With a store, keys are computed the same way workers will. */
export function loadStudy(path: string, store: ResultStore): StudyPlan {
  const text = readInputText(path, "study");
  const raw = parseJsonText(text, path);
  const loc = new Locator(path, text);
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw loc.error("a study file is a JSON object", "(root)");
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!ROOT_KEYS.includes(k)) throw loc.error(`unknown key '${clip(k)}'${didYouMean(k, ROOT_KEYS)} (known: ${ROOT_KEYS.join(", ")})`, k);
  const name = o.name === undefined ? "study" : typeof o.name === "string" ? o.name : (() => { throw loc.error("must be a string", "name"); })();

  // fixed settings: checked through the experiment parser, errors moved to the study's place
  const probe = (json: Record<string, unknown>, field: string): void => {
    try {
      experimentFromJson({ variants: [{ name: "probe", primitives: ["pte"] }], ...json }, path);
    } catch (e) {
      if (e instanceof InputError) throw loc.error(e.detail, field);
      throw e;
    }
  };
  const fixed: Record<string, AxisValue> = { ...DEFAULTS, ...ATTR_DEFAULTS };
  for (const k of ["workload", "machine", "ops", "kernel", "duration", "schemes"] as const) {
    if (o[k] === undefined) continue;
    if (typeof o[k] !== "string") throw loc.error("must be a string", k);
    fixed[k] = o[k];
  }
  if (o.seed !== undefined) {
    if (!Number.isSafeInteger(o.seed)) throw loc.error("must be an integer", "seed");
    fixed.seed = o.seed as number;
  }
  if (o.theta !== undefined) {
    if (typeof o.theta !== "number") throw loc.error("must be a number in (0, 1]", "theta");
    fixed.theta = o.theta;
  }
  if (o.primitives !== undefined) fixed.primitives = primitivesValue(o.primitives, "primitives", loc);
  if (o.attrs !== undefined) {
    if (typeof o.attrs !== "object" || o.attrs === null || Array.isArray(o.attrs)) throw loc.error("must be an object", "attrs");
    for (const [k, v] of Object.entries(o.attrs)) {
      const axis = `attrs.${k}`;
      if (!ATTR_AXES.includes(axis)) throw loc.error(`unknown attribute '${clip(k)}'${didYouMean(k, ATTR_AXES.map((a) => a.slice(6)))} (known: ${ATTR_AXES.map((a) => a.slice(6)).join(", ")})`, axis);
      if (typeof v !== "string" && typeof v !== "number") throw loc.error("must be a duration or a number", axis);
      fixed[axis] = v;
    }
  }
  let warmup = 5;
  if (o.warmup !== undefined) {
    if (!Number.isSafeInteger(o.warmup) || (o.warmup as number) < 0) throw loc.error("must be an integer >= 0", "warmup");
    warmup = o.warmup as number;
  }

  // axes, in canonical order: the named ones, then parameters in file order, then seed
  const axesRaw = o.axes === undefined ? {} : o.axes;
  if (typeof axesRaw !== "object" || axesRaw === null || Array.isArray(axesRaw)) throw loc.error("must be an object of axis name -> list of values", "axes");
  const given = axesRaw as Record<string, unknown>;
  const isParam = (k: string): boolean => /^[a-z][a-z0-9-]*\.[A-Za-z][A-Za-z0-9_-]*$/.test(k) && !k.startsWith("attrs.");
  for (const k of Object.keys(given)) {
    if (k !== "seed" && !NAMED_AXES.includes(k) && !isParam(k)) throw loc.error(`unknown axis '${clip(k)}'${didYouMean(k, [...NAMED_AXES, "seed"])} (axes: ${[...NAMED_AXES, "seed"].join(", ")}, or a primitive parameter such as ibs.period)`, `axes.${k}`);
    if (!Array.isArray(given[k]) || (given[k] as unknown[]).length === 0) throw loc.error("must be a non-empty list of values", `axes.${k}`);
    if (["workload", "machine", "seed", "primitives", "schemes"].includes(k) && o[k] !== undefined) throw loc.error(`'${k}' is both fixed at the root and an axis: keep one`, `axes.${k}`);
  }
  const order = [...NAMED_AXES.filter((k) => k in given), ...Object.keys(given).filter(isParam), ...("seed" in given ? ["seed"] : [])];
  const axes: Axis[] = [];
  for (const k of order) {
    const list = given[k] as unknown[];
    const values: AxisValue[] = list.map((v, i) => {
      const field = `axes.${k}[${i}]`;
      if (k === "primitives") return primitivesValue(v, field, loc);
      if (k === "seed") {
        if (!Number.isSafeInteger(v)) throw loc.error("must be an integer", field);
        return v as number;
      }
      if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") throw loc.error("must be a string, a number or true/false", field);
      return v;
    });
    const seen = new Map<string, number>();
    values.forEach((v, i) => {
      const s = JSON.stringify(v);
      if (seen.has(s)) throw loc.error(`duplicate value ${clip(s)} (also axes.${k}[${seen.get(s)}])`, `axes.${k}[${i}]`);
      seen.set(s, i);
    });
    axes.push({ name: k, values });
  }
  const axisOf = new Map(axes.map((a) => [a.name, a]));
  const primSets = (axisOf.get("primitives")?.values ?? [fixed.primitives!]).map((p) => String(p).split("+"));
  for (const a of axes) {
    a.values.forEach((v, i) => {
      const field = `axes.${a.name}[${i}]`;
      if (a.name === "workload") return checkWorkload(String(v), field, loc);
      if (a.name === "schemes") return void schemesOf(String(v), field, loc);
      if (a.name === "machine") return checkMachine(String(v), field, loc);
      if (a.name === "primitives") return probe({ variants: [{ name: "p", primitives: String(v).split("+") }] }, field);
      if (a.name === "ops" || a.name === "kernel" || a.name === "duration" || a.name === "theta") return probe({ [a.name]: v }, field);
      if (a.name.startsWith("attrs.")) return probe({ attrs: { [a.name.slice(6)]: v } }, field);
      if (a.name === "seed") return;
      const prim = a.name.split(".")[0]!;
      probe({ variants: [{ name: "p", primitives: [prim], params: { [a.name]: v } }] }, field);
      if (!primSets.some((s) => s.includes(prim))) throw loc.error(`no primitives value of this study includes '${prim}', so axis '${a.name}' would never apply`, `axes.${a.name}`);
    });
  }
  for (const k of ["workload", "machine"] as const) if (!axisOf.has(k)) (k === "workload" ? checkWorkload : checkMachine)(String(fixed[k]), o[k] !== undefined ? k : "(root)", loc);
  if (!axisOf.has("schemes") && fixed.schemes !== undefined) schemesOf(String(fixed.schemes), "schemes", loc);
  for (const k of ["ops", "duration", "theta"]) if (!axisOf.has(k)) probe({ [k]: fixed[k] }, o[k] !== undefined ? k : "(root)");
  if (!axisOf.has("kernel") && fixed.kernel !== undefined) probe({ kernel: fixed.kernel }, "kernel");
  for (const k of ATTR_AXES) if (!axisOf.has(k)) probe({ attrs: { [k.slice(6)]: fixed[k] } }, o.attrs !== undefined ? k : "(root)");
  if (!axisOf.has("primitives")) probe({ variants: [{ name: "p", primitives: String(fixed.primitives).split("+") }] }, o.primitives !== undefined ? "primitives" : "(root)");

  // exclusions: objects of axis -> value or list of values; a job matching all of them is left out
  const excludes: Array<Record<string, AxisValue[]>> = [];
  if (o.exclude !== undefined) {
    if (!Array.isArray(o.exclude)) throw loc.error("must be a list of {axis: value or [values]} objects", "exclude");
    o.exclude.forEach((e, i) => {
      const field = `exclude[${i}]`;
      if (typeof e !== "object" || e === null || Array.isArray(e) || Object.keys(e).length === 0) throw loc.error("must be a non-empty object of axis -> value or list of values", field);
      const rule: Record<string, AxisValue[]> = {};
      for (const [k, v] of Object.entries(e as Record<string, unknown>)) {
        const a = axisOf.get(k);
        if (!a) throw loc.error(`'${clip(k)}' is not an axis of this study${didYouMean(k, axes.map((x) => x.name))} (axes: ${axes.map((x) => x.name).join(", ") || "none"})`, `${field}.${k}`);
        const list: unknown[] = Array.isArray(v) ? v : [v];
        rule[k] = list.map((x, j) => {
          const f = Array.isArray(v) ? `${field}.${k}[${j}]` : `${field}.${k}`;
          const val = k === "primitives" ? primitivesValue(x, f, loc) : (x as AxisValue);
          if (!a.values.some((y) => y === val)) throw loc.error(`${clip(JSON.stringify(val) ?? String(val))} is not a value of axis '${k}' (values: ${a.values.map((y) => JSON.stringify(y)).join(", ")})`, f);
          return val;
        });
      }
      excludes.push(rule);
    });
  }

  // the baseline of each cell
  let baseline: { primitives: string; params: Record<string, number | boolean> } | "unmonitored" | "none" = "unmonitored";
  if (o.baseline !== undefined) {
    if (o.baseline === "unmonitored" || o.baseline === "none") baseline = o.baseline;
    else if (typeof o.baseline === "object" && o.baseline !== null && !Array.isArray(o.baseline)) {
      const b = o.baseline as Record<string, unknown>;
      for (const k of Object.keys(b)) if (k !== "primitives" && k !== "params") throw loc.error(`unknown key '${clip(k)}' (known: primitives, params)`, `baseline.${k}`);
      const prims = primitivesValue(b.primitives, "baseline.primitives", loc);
      const params = (b.params ?? {}) as Record<string, number | boolean>;
      if (typeof params !== "object" || Array.isArray(params)) throw loc.error("must be an object of \"prim.key\": value", "baseline.params");
      probe({ variants: [{ name: "b", primitives: prims.split("+"), params }] }, "baseline");
      baseline = { primitives: prims, params };
    } else throw loc.error("must be \"unmonitored\", \"none\" or { \"primitives\": ..., \"params\": {...} }", "baseline");
  }

  // enumerate the cartesian product in canonical order
  const inputRefs = new Map<string, string>();
  const inputs: StudyPlan["inputs"] = [];
  const ref = (kind: "workload" | "machine", v: string): string => {
    const isFile = kind === "machine" ? existsSync(v) && !isPreset(v) : isWorkloadPath(v);
    if (!isFile) return v;
    let r = inputRefs.get(v);
    if (r === undefined) {
      inputRefs.set(v, (r = store.addInput(v)));
      inputs.push({ ref: r, path: v });
    }
    return r;
  };
  const cpus: Record<string, number> = {};
  const jobs: PlannedJob[] = [];
  const baselines = new Map<string, PlannedJob>();
  const seenRun = new Set<string>();
  const combos: Array<Record<string, AxisValue>> = [{}];
  for (const a of axes) {
    const next: Array<Record<string, AxisValue>> = [];
    for (const c of combos) for (const v of a.values) next.push({ ...c, [a.name]: v });
    combos.splice(0, combos.length, ...next);
  }
  for (const c of combos) {
    const prims = String(c.primitives ?? fixed.primitives).split("+");
    const axesValues: Record<string, AxisValue | null> = {};
    for (const a of axes) axesValues[a.name] = isParamAxis(a.name) && !prims.includes(a.name.split(".")[0]!) ? null : c[a.name]!;
    if (excludes.some((r) => Object.entries(r).every(([k, vs]) => vs.some((v) => v === axesValues[k])))) continue;
    const id = canonicalJson(axesValues);
    if (seenRun.has(id)) continue;
    seenRun.add(id);
    const get = (k: string): AxisValue => (c[k] !== undefined ? c[k]! : fixed[k]!);
    const getOpt = (k: string): AxisValue | undefined => (c[k] !== undefined ? c[k] : fixed[k]);
    const params: Record<string, number | boolean> = {};
    for (const a of axes) if (isParamAxis(a.name) && axesValues[a.name] !== null) params[a.name] = axesValues[a.name] as number | boolean;
    const machine = String(get("machine"));
    cpus[machine] ??= machineConfig(machine).cpus.length;
    const { schemes: cellSchemes, ...base } = makeSpec(getOpt, warmup, ref, loc);
    const spec: JobSpec = { ...base, ...(cellSchemes ? { schemes: cellSchemes } : {}), monitor: true, primitives: prims, params: sortKeys(params) };
    const cellAxes = Object.fromEntries(Object.entries(axesValues).filter(([k]) => k !== "seed"));
    let baselineKey: string | null = null;
    if (baseline !== "none") {
      const bspec: JobSpec = baseline === "unmonitored" ? { ...base, monitor: false, primitives: [], params: {} } : { ...base, monitor: true, primitives: baseline.primitives.split("+"), params: sortKeys(baseline.params) };
      baselineKey = jobKey(bspec);
      if (!baselines.has(baselineKey)) {
        const baxes: Record<string, AxisValue | null> = {};
        for (const a of axes) baxes[a.name] = a.name === "primitives" || a.name === "schemes" || isParamAxis(a.name) ? null : axesValues[a.name]!;
        baxes.primitives = baseline === "unmonitored" ? "baseline" : `baseline ${baseline.primitives}`;
        baselines.set(baselineKey, { key: baselineKey, spec: bspec, role: "baseline", axes: baxes, cell: canonicalJson(Object.fromEntries(Object.entries(baxes).filter(([k]) => k !== "seed"))), baselineKey: null });
      }
    }
    jobs.push({ key: jobKey(spec), spec, role: "run", axes: axesValues, cell: canonicalJson(cellAxes), baselineKey });
  }
  if (jobs.length === 0) throw loc.error("every combination is excluded: the study has no jobs", "exclude");
  // a baseline identical to a run (a monitored reference that is also a cell) is run once
  const runKeys = new Set(jobs.map((j) => j.key));
  for (const [k, b] of baselines) if (!runKeys.has(k)) jobs.push(b);
  return { name, file: path, axes, jobs, cpus, inputs };
}

const isParamAxis = (k: string): boolean => k.includes(".") && !k.startsWith("attrs.");

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]!]));
}

function isPreset(name: string): boolean {
  try {
    machineConfig(name);
    return !existsSync(name) || !statSync(name).isFile();
  } catch {
    return false;
  }
}

function isWorkloadPath(w: string): boolean {
  return (w.includes("/") || w.includes("\\") || extname(w) !== "") && existsSync(w) && statSync(w).isFile();
}

function makeSpec(get: (k: string) => AxisValue | undefined, warmup: number, ref: (kind: "workload" | "machine", v: string) => string, loc: Locator): Omit<JobSpec, "monitor" | "primitives" | "params"> {
  // the experiment parser normalises durations and attributes the way a run reads them
  const x = experimentFromJson(
    {
      duration: String(get("duration")),
      ops: get("ops"),
      theta: get("theta"),
      attrs: { sample: get("attrs.sample"), aggr: get("attrs.aggr"), update: get("attrs.update"), minRegions: get("attrs.minRegions"), maxRegions: get("attrs.maxRegions") },
      variants: [{ name: "p", primitives: ["pte"] }],
    },
    "study",
  );
  const kernel = get("kernel");
  const schemes = get("schemes");
  const list = schemes === undefined ? null : schemesOf(String(schemes), "schemes", loc);
  return {
    // absent unless the study names one, so studies without it keep their keys
    ...(kernel !== undefined ? { kernel: String(kernel) } : {}),
    // the schemes themselves (not their file's name) are part of the job, so the key covers them
    ...(list !== null ? { schemes: list } : {}),
    workload: ref("workload", String(get("workload"))),
    machine: ref("machine", String(get("machine"))),
    seed: Number(get("seed")),
    ops: x.ops,
    durationNs: x.durationNs,
    sampleUs: x.sampleUs,
    aggrUs: x.aggrUs,
    opsUpdateUs: x.opsUpdateUs,
    minNrRegions: x.minNrRegions,
    maxNrRegions: x.maxNrRegions,
    theta: x.theta,
    warmupWindows: warmup,
  };
}

/** A schemes value: "none" (null), or a damo scheme JSON file, read and checked (its list). */
function schemesOf(v: string, field: string, loc: Locator): unknown[] | null {
  if (v === "none") return null;
  if (!existsSync(v) || !statSync(v).isFile()) throw loc.error(`no such DAMOS scheme file '${clip(v)}' (a damo scheme JSON list, or "none")`, field);
  const text = readInputText(v, "schemes");
  const list = parseJsonText(text, v);
  try {
    checkSchemesJson(list, { sampleUs: 5000, aggrUs: 100_000 }, v, "(root)");
  } catch (e) {
    if (e instanceof InputError) throw loc.error(`${v}: ${e.detail}`, field);
    throw e;
  }
  return list as unknown[];
}

function checkWorkload(w: string, field: string, loc: Locator): void {
  try {
    resolveWorkloadEnd(w);
  } catch (e) {
    if (e instanceof InputError || e instanceof UsageError) throw loc.error(e.message, field);
    throw e;
  }
}

function checkMachine(m: string, field: string, loc: Locator): void {
  try {
    machineConfig(m);
  } catch (e) {
    if (e instanceof InputError || e instanceof UsageError) throw loc.error(e.message, field);
    throw e;
  }
}
