// A study job: one simulation (a workload on a machine with one seed, DAMON attributes and a set
// of primitives with their parameters, or unmonitored), as plain data. Its key is the SHA-256 of
// the canonical JSON of {spec, simulator, inputs}: the spec with sorted keys, the simulator's
// version (package.json) and the digest of the source that decides results (the *.ts, *.mjs,
// *.cfg and *.json files of sim/, hw/, damon/, workloads/ and cli/experiment/, and every module
// this file imports, directly or not: cli/simulation.ts, cli/run-setup.ts, ...), and the digests of
// its input files (a trace, a masim config, a workload spec, a machine JSON). Input files are
// named in the spec by digest ("input:<sha256>.<ext>", cli/jobs/inputs.ts) and read from a folder
// that holds them under that name (a folder store's inputs/, or a worker's cache of the Redis
// store), so a job's result never depends on where a file was on the machine that planned it.
// runJob() executes a job through the single-run machinery (experimentFromJson + runVariant).

import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { AccuracySummary } from "../../damon/accuracy.ts";
import { BASELINE, experimentFromJson } from "../experiment/spec.ts";
import { runVariant } from "../experiment/variant.ts";
import { reportsDropped, reportsMade } from "../metrics.ts";
import { parseRef, refPath } from "../jobs/inputs.ts";

export interface JobSpec {
  /** A built-in or shipped workload name, or "input:<sha256><ext>" for a file. */
  workload: string;
  /** A machine preset name, or "input:<sha256>.json". */
  machine: string;
  seed: number;
  ops: string;
  /** DAMON kernel version rules (damon/kernel.ts); absent: the default. */
  kernel?: string;
  durationNs: number;
  sampleUs: number;
  aggrUs: number;
  opsUpdateUs: number;
  minNrRegions: number;
  maxNrRegions: number;
  theta: number;
  warmupWindows: number;
  monitor: boolean;
  primitives: string[];
  /** "prim.key" -> value. */
  params: Record<string, number | boolean>;
  /** DAMOS schemes (damo's JSON list) the monitored run carries out; absent: none. */
  schemes?: unknown[];
}

/** What a finished job stores: deterministic figures only (host time is kept beside it). */
export interface JobResult extends Pick<AccuracySummary, "precision" | "recall" | "f1" | "rateError" | "spearman" | "wssError" | "windows"> {
  finished: boolean;
  simulatedNs: number;
  finishNs: number | null;
  accesses: number;
  overheadPercent: number;
  totalCpuNs: number;
  /** Reports made and dropped, as compare counts them (cli/metrics.ts reportsMade, reportsDropped). */
  reportsMade: number | null;
  reportsDropped: number | null;
}

/** JSON with object keys sorted at every level: the same data always gives the same bytes. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(",")}}`;
}

export const sha256 = (data: string | Uint8Array): string => createHash("sha256").update(data).digest("hex");

const ROOT = resolve(fileURLToPath(new URL("../../", import.meta.url)));
/**
 * What decides a job's result, relative to the repository root: these folders whole (they also
 * hold configs read at run time), and every module the job path imports (importClosure()).
 */
const SOURCE_DIRS = ["sim", "hw", "damon", "workloads", "cli/experiment"];
/** The module whose imports, followed transitively, are the job path. */
const JOB_ENTRY = "cli/study/job.ts";

/** Files whose bytes can decide a result: source and configs (a stray file does not change keys). */
export function isSourceFile(name: string): boolean {
  return /\.(?:ts|mjs|cfg|json)$/.test(name) && !name.startsWith(".") && !name.includes(".damon-sim-");
}

const IMPORT = /\b(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;

/** `entry` and every relative module it imports, directly or not (static imports and import("...")). */
export function importClosure(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (p: string): void => {
    if (seen.has(p) || !existsSync(p) || !statSync(p).isFile()) return;
    seen.add(p);
    for (const m of readFileSync(p, "utf8").matchAll(IMPORT)) visit(resolve(dirname(p), m[1]!));
  };
  visit(resolve(entry));
  return [...seen];
}

/** The files whose digest goes into every job key (or, from another `entry`, into its id), relative to the repository root, sorted. */
export function sourceFiles(entry = JOB_ENTRY): string[] {
  const files = new Set<string>();
  const walk = (p: string): void => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const e of readdirSync(p)) if (e !== "node_modules" && !e.startsWith(".")) walk(join(p, e));
    } else if (st.isFile() && isSourceFile(basename(p))) files.add(relative(ROOT, p));
  };
  for (const s of SOURCE_DIRS) walk(join(ROOT, s));
  for (const f of importClosure(join(ROOT, entry))) files.add(relative(ROOT, f));
  return [...files].sort();
}

const simulatorCache = new Map<string, { version: string; source: string }>();

/**
 * The simulator's version and the digest of the source files that decide results: of a study job
 * by default, or of everything `entry` imports (the queue checks a worker's against
 * cli/jobs/thread.ts, which runs every kind of task).
 */
export function simulatorId(entry = JOB_ENTRY): { version: string; source: string } {
  const cached = simulatorCache.get(entry);
  if (cached) return cached;
  const version = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
  const h = createHash("sha256");
  for (const f of sourceFiles(entry)) h.update(`${f}\0`).update(readFileSync(join(ROOT, f))).update("\0");
  const id = { version, source: h.digest("hex") };
  simulatorCache.set(entry, id);
  return id;
}

/** The digests of a spec's input files (null for names). */
export function inputDigests(spec: JobSpec): { workload: string | null; machine: string | null } {
  return { workload: parseRef(spec.workload)?.digest ?? null, machine: parseRef(spec.machine)?.digest ?? null };
}

/** The job's key: SHA-256 of everything that decides its result. */
export function jobKey(spec: JobSpec): string {
  return sha256(canonicalJson({ spec, simulator: simulatorId(), inputs: inputDigests(spec) }));
}

/** The experiment JSON of one job (one variant), for experimentFromJson. */
export function experimentJson(spec: JobSpec, inputsDir: string): Record<string, unknown> {
  return {
    name: "study-job",
    workload: refPath(spec.workload, inputsDir),
    machine: refPath(spec.machine, inputsDir),
    ops: spec.ops,
    ...(spec.kernel !== undefined ? { kernel: spec.kernel } : {}),
    duration: `${spec.durationNs}ns`,
    seed: spec.seed,
    attrs: { sample: `${spec.sampleUs}us`, aggr: `${spec.aggrUs}us`, update: `${spec.opsUpdateUs}us`, minRegions: spec.minNrRegions, maxRegions: spec.maxNrRegions },
    theta: spec.theta,
    warmup: spec.warmupWindows,
    ...(spec.schemes !== undefined && spec.monitor ? { schemes: spec.schemes } : {}),
    variants: [{ name: "job", primitives: spec.monitor ? spec.primitives : ["pte"], params: spec.monitor ? spec.params : {} }],
  };
}

/** Runs one job with the existing single-run machinery and keeps its deterministic figures. */
export function runJob(spec: JobSpec, inputsDir: string): { result: JobResult; wallSeconds: number } {
  const x = experimentFromJson(experimentJson(spec, inputsDir), `job ${spec.workload}`);
  const v = spec.monitor ? x.variants[0]! : BASELINE;
  const r = runVariant(x, v);
  const acc = r.accuracy;
  return {
    wallSeconds: r.wallSeconds,
    result: {
      finished: r.finished,
      simulatedNs: r.simulatedNs,
      finishNs: r.finishNs,
      accesses: r.accesses,
      overheadPercent: r.overheadPercent,
      totalCpuNs: r.totalCpuNs,
      precision: acc?.precision ?? null,
      recall: acc?.recall ?? null,
      f1: acc?.f1 ?? null,
      rateError: acc?.rateError ?? null,
      spearman: acc?.spearman ?? null,
      wssError: acc?.wssError ?? null,
      windows: acc?.windows ?? 0,
      reportsMade: r.reports ? reportsMade(r.reports.delivered) : null,
      reportsDropped: r.reports ? reportsDropped(r.reports.dropped) : null,
    },
  };
}
