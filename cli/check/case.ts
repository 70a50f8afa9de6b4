// Regression cases for `damon-sim check`: finding case folders and reading their case.json.
// A case is a folder holding case.json (the workload, the run configuration, optional accuracy,
// cachegrind and tolerance settings) and expected.json (the blessed results, see results.ts).
//
// {
//   "description": "free text",
//   "workload": "sort.dst",           a file in the case folder (.dst trace, .json spec, .cfg masim
//                                      config; any relative path is taken from the case folder), or
//                                      a built-in generator / shipped config name (damon-sim workloads)
//   "run": {                          options of `damon-sim run`, by their long names (dashes or
//     "duration": "2ms",              damo's underscores: "exp_ops_write_only": "y"); duration is
//     "machine": "2s-ddr5",           required; list options (param, probe) take arrays; values may
//     "ops": "vaddr", "seed": 3,      be strings, numbers or booleans
//     "sample": "20us", "aggr": "400us",
//     "primitives": "pte,ibs", "param": ["ibs.period=4096"], "probe": ["anon:anon"]
//   },
//   "accuracy": { "theta": 0.5, "warmup": 0 },     hot threshold; windows left out of the means
//   "cachegrind": { "I1": "32768,8,64", "D1": "49152,12,64", "LL": "2097152,16,64" },
//                                      also replay the .dst trace through the cachegrind model
//   "tolerances": { "accuracy.*": { "abs": 1e-6 }, "overhead.cpuTimeNs.user": { "rel": 1e-4 } },
//                                      per floating metric (exact name or '*' pattern)
//   "timeout": "60s"                   overrides `check --timeout` for this case
// }
// Everything is validated here, in the main thread, so a bad case is reported with the file and
// field before any simulation starts.

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { intOpt, stringOpt, type CommandSpec, type ParsedArgs } from "../args.ts";
import { primitiveDef } from "../../damon/primitives/index.ts";
import { parseOpsName } from "../../damon/ops-sets.ts";
import { parseKernel } from "../../damon/kernel.ts";
import { attrsFromArgs, machineConfig, monitorOptionsFromArgs, RUN_OPTIONS } from "../run-setup.ts";
import { InputError, UsageError } from "../../sim/errors.ts";
import { parseDuration } from "../../sim/time.ts";
import { parseCacheGeometry, type CachegrindConfig } from "../../hw/cachegrind.ts";
import { parseJsonText } from "../../sim/json-text.ts";
import type { Tolerance } from "./compare.ts";
import { isInlineJson } from "../damos-options.ts";

export const CASE_FILE = "case.json";
export const EXPECTED_FILE = "expected.json";

/** `run` options a case may not set (they change nothing compared, or need outputs check has not). */
const REFUSED_RUN_OPTIONS = new Set(["quiet", "numa"]);

export interface CaseSpec {
  /** Display name: the folder relative to the working directory, with '/' separators. */
  name: string;
  /** Absolute path of the case folder. */
  dir: string;
  description: string;
  /** The workload as written in case.json. */
  workload: string;
  /** What resolveWorkload() gets: an absolute path for files, else the built-in/shipped name. */
  workloadArg: string;
  /** `run` option values by their dashed names (defaults not filled in). */
  run: Record<string, string | boolean | string[]>;
  accuracy: { theta: number; warmup: number };
  cachegrind: CachegrindConfig | null;
  tolerances: Record<string, Tolerance>;
  /** Per-case timeout, ms (undefined: the command's). */
  timeoutMs?: number;
}

const KNOWN_KEYS = ["description", "workload", "run", "accuracy", "cachegrind", "tolerances", "timeout"];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The case folders under `paths`: each path is a case folder or a folder of them (searched recursively, sorted). */
export function findCases(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string, top: boolean): void => {
    if (existsSync(join(dir, CASE_FILE))) {
      out.push(resolve(dir));
      return;
    }
    const subs = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    const before = out.length;
    for (const s of subs) walk(join(dir, s), false);
    if (top && out.length === before) throw new InputError(`no ${CASE_FILE} in this folder or below it`, { file: dir });
  };
  for (const p of paths) {
    if (!existsSync(p)) throw new InputError("no such case folder", { file: p });
    if (!statSync(p).isDirectory()) throw new InputError(`a case is a folder holding ${CASE_FILE}`, { file: p });
    walk(p, true);
  }
  return [...new Set(out)];
}

/** Display name of a case folder: relative to the working directory when inside it. */
export function caseName(dir: string): string {
  const rel = relative(process.cwd(), dir);
  const name = rel === "" ? "." : rel.startsWith("..") || isAbsolute(rel) ? dir : rel;
  return name.split(sep).join("/");
}

function toleranceOf(v: unknown, file: string, field: string): Tolerance {
  if (!isObject(v)) throw new InputError('a tolerance is an object: { "abs": X } and/or { "rel": X }', { file, field });
  const t: Tolerance = {};
  for (const [k, x] of Object.entries(v)) {
    if (k !== "abs" && k !== "rel") throw new InputError(`unknown tolerance kind '${k}' (abs, rel)`, { file, field: `${field}.${k}` });
    if (typeof x !== "number" || !Number.isFinite(x) || x < 0) throw new InputError(`must be a non-negative number, got ${JSON.stringify(x)}`, { file, field: `${field}.${k}` });
    t[k] = x;
  }
  return t;
}

/** The case's `run` options as parsed command-line values (defaults filled in), for run-setup's helpers. */
export function runArgs(c: Pick<CaseSpec, "run">): ParsedArgs {
  const values: ParsedArgs["values"] = {};
  for (const [name, o] of Object.entries(RUN_OPTIONS)) values[name] = c.run[name] ?? o.default;
  return { values, positionals: [], help: false, damos: [] };
}

/** A CommandSpec naming the case file in run-setup's messages. */
export function runSpec(file: string): CommandSpec {
  return { name: file, summary: "", usage: "", options: RUN_OPTIONS };
}

function runOptions(v: unknown, file: string, dir: string): CaseSpec["run"] {
  if (!isObject(v)) throw new InputError("must be an object of `damon-sim run` options", { file, field: "run" });
  const out: CaseSpec["run"] = {};
  for (const [raw, x] of Object.entries(v)) {
    const name = raw.replace(/_/g, "-");
    const field = `run.${raw}`;
    const o = RUN_OPTIONS[name];
    if (o === undefined || REFUSED_RUN_OPTIONS.has(name)) {
      const known = Object.keys(RUN_OPTIONS).filter((k) => !REFUSED_RUN_OPTIONS.has(k)).join(", ");
      throw new InputError(`unknown or unsupported run option '${raw}' (known: ${known})`, { file, field });
    }
    if (name in out) throw new InputError(`option '${name}' given twice`, { file, field });
    const scalar = (y: unknown, f: string): string => {
      if (typeof y === "string") return y;
      if (typeof y === "number" && Number.isFinite(y)) return String(y);
      throw new InputError(`must be a string or a number, got ${JSON.stringify(y)}`, { file, field: f });
    };
    if (name === "schemes" && typeof x === "object" && x !== null) {
      // DAMOS schemes given as damo's JSON itself, which --schemes takes inline
      out[name] = JSON.stringify(x);
    } else if (o.type === "boolean") {
      if (typeof x !== "boolean") throw new InputError(`must be true or false, got ${JSON.stringify(x)}`, { file, field });
      out[name] = x;
    } else if (o.multiple) {
      out[name] = Array.isArray(x) ? x.map((y, i) => scalar(y, `${field}[${i}]`)) : [scalar(x, field)];
    } else {
      out[name] = scalar(x, field);
    }
  }
  if (out.duration === undefined) throw new InputError("a case must give its simulated duration (e.g. \"duration\": \"300ms\")", { file, field: "run.duration" });
  // a machine file is taken relative to the case folder
  const m = out.machine;
  if (typeof m === "string" && (m.includes("/") || m.endsWith(".json"))) out.machine = resolve(dir, m);
  // so is a scheme file
  const sc = out.schemes;
  if (typeof sc === "string" && !isInlineJson(sc)) out.schemes = resolve(dir, sc);
  return out;
}

/** Checks the run options the way `damon-sim run` would (cheap: no machine is built). */
function validateRun(c: CaseSpec, file: string): void {
  const args = runArgs(c);
  const spec = runSpec(file);
  try {
    const config = machineConfig(String(args.values.machine));
    parseOpsName(String(args.values.ops), (m) => new InputError(m, { field: "run.ops" }));
    const kernel = parseKernel(stringOpt(args, "kernel"), stringOpt(args, "variant"), "run.kernel");
    intOpt(spec, args, "seed");
    intOpt(spec, args, "kdamond-cpu", 0, config.cpus.length - 1);
    if (parseDuration(String(args.values.quantum), "ns", "run.quantum") <= 0) throw new InputError("must be positive", { field: "run.quantum" });
    attrsFromArgs(spec, args);
    const mon = monitorOptionsFromArgs(spec, args, config.cpus.length);
    const pushed = (mon.primitives ?? []).filter((p) => primitiveDef(p).reports);
    if (pushed.length > 0 && !kernel.reportAccess) throw new InputError(`${pushed.join(", ")} need damon_report_access(), which kernel ${kernel.name} lacks (damon/next only)`, { field: "run.primitives" });
    const d = parseDuration(String(args.values.duration), "s", "run.duration");
    if (d <= 0) throw new InputError("must be positive", { field: "run.duration" });
  } catch (e) {
    if (e instanceof UsageError) throw new InputError(e.message.startsWith(`${file}: `) ? e.message.slice(file.length + 2) : e.message, { file, field: "run" });
    if (e instanceof InputError) throw e.within({ file });
    throw e;
  }
}

function workloadArg(workload: string, dir: string, file: string): string {
  const isPath = workload.includes("/") || workload.includes("\\") || /\.[A-Za-z0-9]+$/.test(workload);
  if (!isPath) return workload;
  const p = resolve(dir, workload);
  if (!existsSync(p)) throw new InputError(`no such workload file '${workload}' (paths are relative to the case folder)`, { file, field: "workload" });
  return p;
}

/** Reads and validates `dir`/case.json. */
export function loadCase(dir: string): CaseSpec {
  const file = join(dir, CASE_FILE);
  const shown = join(caseName(dir), CASE_FILE);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new InputError(`cannot read: ${(e as Error).message}`, { file: shown });
  }
  const j = parseJsonText(text, shown);
  if (!isObject(j)) throw new InputError("case.json must hold a JSON object", { file: shown });
  for (const k of Object.keys(j)) if (!KNOWN_KEYS.includes(k)) throw new InputError(`unknown key '${k}' (known: ${KNOWN_KEYS.join(", ")})`, { file: shown, field: k });
  if (typeof j.workload !== "string" || j.workload === "") throw new InputError("must name the workload: a .dst/.json/.cfg file in the case folder or a built-in name", { file: shown, field: "workload" });
  if (j.description !== undefined && typeof j.description !== "string") throw new InputError("must be a string", { file: shown, field: "description" });
  const run = runOptions(j.run, shown, dir);
  const accuracy = { theta: 0.5, warmup: 0 };
  if (j.accuracy !== undefined) {
    if (!isObject(j.accuracy)) throw new InputError("must be an object { theta, warmup }", { file: shown, field: "accuracy" });
    for (const [k, v] of Object.entries(j.accuracy)) {
      if (k === "theta" && typeof v === "number" && v > 0 && v <= 1) accuracy.theta = v;
      else if (k === "warmup" && typeof v === "number" && Number.isInteger(v) && v >= 0) accuracy.warmup = v;
      else throw new InputError(k === "theta" ? "must be a number in (0, 1]" : k === "warmup" ? "must be a whole number of windows" : `unknown key '${k}' (theta, warmup)`, { file: shown, field: `accuracy.${k}` });
    }
  }
  let cachegrind: CachegrindConfig | null = null;
  if (j.cachegrind !== undefined) {
    const g = j.cachegrind;
    if (!isObject(g)) throw new InputError('must be an object { "I1": "S,A,L", "D1": ..., "LL": ... }', { file: shown, field: "cachegrind" });
    for (const k of Object.keys(g)) if (!["I1", "D1", "LL"].includes(k)) throw new InputError(`unknown cache '${k}' (I1, D1, LL)`, { file: shown, field: `cachegrind.${k}` });
    const geo = (k: "I1" | "D1" | "LL") => {
      const v = g[k];
      if (typeof v !== "string") throw new InputError("must be \"SIZE,ASSOC,LINE\"", { file: shown, field: `cachegrind.${k}` });
      try {
        return parseCacheGeometry(v, `cachegrind.${k}`);
      } catch (e) {
        throw e instanceof InputError ? e.within({ file: shown }) : e;
      }
    };
    cachegrind = { I1: geo("I1"), D1: geo("D1"), LL: geo("LL") };
    if (!j.workload.endsWith(".dst")) throw new InputError("a cachegrind replay needs a .dst trace workload", { file: shown, field: "cachegrind" });
  }
  const tolerances: Record<string, Tolerance> = {};
  if (j.tolerances !== undefined) {
    if (!isObject(j.tolerances)) throw new InputError("must be an object: metric (or pattern with '*') -> { abs, rel }", { file: shown, field: "tolerances" });
    for (const [k, v] of Object.entries(j.tolerances)) tolerances[k] = toleranceOf(v, shown, `tolerances.${k}`);
  }
  let timeoutMs: number | undefined;
  if (j.timeout !== undefined) {
    if (typeof j.timeout !== "string" && typeof j.timeout !== "number") throw new InputError('must be a duration such as "60s"', { file: shown, field: "timeout" });
    try {
      timeoutMs = parseDuration(String(j.timeout), "s", "timeout") / 1e6;
    } catch (e) {
      throw e instanceof InputError ? e.within({ file: shown }) : e;
    }
    if (!(timeoutMs > 0)) throw new InputError("must be positive", { file: shown, field: "timeout" });
  }
  const c: CaseSpec = {
    name: caseName(dir),
    dir,
    description: typeof j.description === "string" ? j.description : "",
    workload: j.workload,
    workloadArg: workloadArg(j.workload, dir, shown),
    run,
    accuracy,
    cachegrind,
    tolerances,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  };
  validateRun(c, shown);
  return c;
}
