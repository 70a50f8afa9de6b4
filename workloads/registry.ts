// Turns a workload argument into a Workload: a built-in generator name (see listWorkloads()), the
// name of a config shipped in workloads/configs/, a JSON workload spec (*.json), or a masim
// configuration file (*.cfg, or any other text file in masim format), or a recorded trace (*.dst).
// resolveWorkloadEnd() also says how the workload ends by itself (if it does), so `run` can go to
// the end of a finite workload and bound an endless one.

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Workload } from "../hw/program.ts";
import { InputError } from "../sim/errors.ts";
import { BUILTINS, builtinSpec, type BuiltinOptions } from "./builtins.ts";
import { loadMasimConfig, MasimWorkload, type MasimConfig, type MasimOptions } from "./masim.ts";
import { checkedTraceWorkload } from "./trace-rows.ts";
import { parseWorkloadSpec, readWorkloadSpec, specLengthNs, specWorkload, type ParsedWorkloadSpec } from "./spec.ts";
import { MS } from "../sim/time.ts";

export type WorkloadOptions = BuiltinOptions & MasimOptions;

export interface WorkloadInfo {
  name: string;
  kind: "builtin" | "masim-config" | "spec";
  description: string;
  /** Shipped configs: where the file is. */
  path?: string;
}

/** The folder of configs shipped with damon-sim. */
export const CONFIGS_DIR = fileURLToPath(new URL("./configs/", import.meta.url));

function shippedConfigs(): WorkloadInfo[] {
  if (!existsSync(CONFIGS_DIR)) return [];
  const out: WorkloadInfo[] = [];
  for (const f of readdirSync(CONFIGS_DIR).sort()) {
    const path = join(CONFIGS_DIR, f);
    const ext = extname(f);
    if (ext === ".cfg") {
      const first = readFileSync(path, "utf8").split("\n").find((l) => l.startsWith("#")) ?? "# masim config";
      out.push({ name: basename(f, ext), kind: "masim-config", description: first.replace(/^#\s*/, ""), path });
    } else if (ext === ".json") {
      let description = "JSON workload spec";
      try {
        const d = (JSON.parse(readFileSync(path, "utf8")) as { description?: unknown }).description;
        if (typeof d === "string" && d) description = d;
      } catch {
        // listed anyway; resolving it reports the error
      }
      out.push({ name: basename(f, ext), kind: "spec", description, path });
    }
  }
  return out;
}

/** Every workload that can be named without a path: built-in generators, then shipped configs. */
export function listWorkloads(): WorkloadInfo[] {
  return [
    ...Object.entries(BUILTINS).map(([name, b]) => ({ name, kind: "builtin" as const, description: b.description })),
    ...shippedConfigs().filter((c) => !Object.hasOwn(BUILTINS, c.name)),
  ];
}

/** How a workload ends by itself. */
export interface WorkloadEnd {
  /** False when it runs until stopped (a generator or spec thread without an end). */
  finite: boolean;
  /**
   * Simulated ns it runs for, when known in advance (masim phases, spec threads with a duration
   * or repeated phases); approximate, since phase clocks are checked between bursts. Null for
   * endless workloads and traces (whose simulated length depends on the machine).
   */
  lengthNs: number | null;
  /** Accesses it makes, when known in advance (a trace's count); null otherwise. */
  accesses: number | null;
}

export interface ResolvedWorkload {
  workload: Workload;
  end: WorkloadEnd;
}

const ENDLESS: WorkloadEnd = { finite: false, lengthNs: null, accesses: null };

function lengthEnd(ns: number): WorkloadEnd {
  return Number.isFinite(ns) ? { finite: true, lengthNs: ns, accesses: null } : ENDLESS;
}

function masimEnd(cfg: MasimConfig, options: MasimOptions): WorkloadEnd {
  const pass = cfg.phases.reduce((a, p) => a + p.durationMs * MS, 0);
  return lengthEnd(Math.min(pass * (options.repeat ?? 1), options.duration ?? Infinity));
}

function specResolved(spec: ParsedWorkloadSpec, options: WorkloadOptions): ResolvedWorkload {
  const cap = options.duration !== undefined ? { duration: options.duration } : {};
  return { workload: specWorkload(spec, cap), end: lengthEnd(specLengthNs(spec, options.duration)) };
}

function fromFile(path: string, options: WorkloadOptions): ResolvedWorkload {
  const ext = extname(path).toLowerCase();
  // Recorded traces replay as one merged stream whose layout comes from the trace itself (each
  // row checked against it, so a bad row is named by file, chunk and byte offset).
  if (ext === ".dst") {
    const workload = checkedTraceWorkload(path);
    return { workload, end: { finite: true, lengthNs: null, accesses: workload.header.accesses } };
  }
  if (ext === ".json") return specResolved(readWorkloadSpec(path), options);
  const cfg = loadMasimConfig(path);
  return { workload: new MasimWorkload(cfg, options), end: masimEnd(cfg, options) };
}

/**
 * Resolves `arg`: a built-in name, a shipped config name, or a path to a .json spec, a .dst trace
 * or a masim config. Options scale and tune built-ins and set masim's run options.
 */
export function resolveWorkload(arg: string, options: WorkloadOptions = {}): Workload {
  return resolveWorkloadEnd(arg, options).workload;
}

/** resolveWorkload(), and how the workload ends by itself. */
export function resolveWorkloadEnd(arg: string, options: WorkloadOptions = {}): ResolvedWorkload {
  if (arg === "") throw new InputError("empty workload name (see the list of built-in workloads)");
  const isPath = arg.includes("/") || arg.includes("\\") || extname(arg) !== "";
  if (!isPath) {
    const spec = builtinSpec(arg, options);
    if (spec !== undefined) return specResolved(parseWorkloadSpec(spec, { name: arg }), {});
    const shipped = shippedConfigs().find((c) => c.name === arg);
    if (shipped?.path) return fromFile(shipped.path, options);
  }
  if (existsSync(arg) && statSync(arg).isFile()) return fromFile(arg, options);
  if (isPath) throw new InputError("no such workload file", { file: arg });
  const names = listWorkloads().map((w) => w.name);
  throw new InputError(`unknown workload '${arg}': not a built-in (${names.join(", ")}) and no such file`);
}
