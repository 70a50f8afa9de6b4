// Shared by `run` and `check`: the options that describe one simulation (machine, workload, DAMON
// attributes and operations set, duration, seed) and the code that turns parsed options into a
// ready machine with the workload loaded and a kdamond created (not started), through the one
// simulation builder (simulation.ts) compare and stat use too.
// Without --duration a workload with an end runs to it; one without an end stops at
// DEFAULT_ENDLESS_DURATION.
// Interval options take damo's spelling: a bare number is microseconds; "5ms", "1s" also work.

import { existsSync } from "node:fs";
import { intOpt, stringOpt, type CommandSpec, type OptionSpec, type ParsedArgs } from "./args.ts";
import { didYouMean, InputError, UsageError } from "../sim/errors.ts";
import type { Scheduler } from "../sim/scheduler.ts";
import { parseDuration, SEC, US } from "../sim/time.ts";
import { loadMachineConfig, type MachineConfig } from "../hw/config.ts";
import type { Machine } from "../hw/machine.ts";
import { buildSimulation } from "./simulation.ts";
import { damoSchemeContext, schemesFromArgs } from "./damos-options.ts";
import { schemeToDamoJson } from "../damon/schemes/damo-json.ts";
import type { DamonContext } from "../damon/context.ts";
import { preset, presetNames } from "../hw/presets.ts";
import type { Workload } from "../hw/program.ts";
import { defaultAttrs, validateAttrs, type DamonAttrs, type IntervalsGoal } from "../damon/attrs.ts";
import { KERNEL_VERSIONS, parseKernel, type KernelRules } from "../damon/kernel.ts";
import { createMonitor, type Monitor, type MonitorOptions } from "../damon/monitor.ts";
import { OPS_SET_NAMES, parseOpsName } from "../damon/ops-sets.ts";
import { parseProbe, type Probe } from "../damon/probes.ts";
import { NumaRecorder, numaProbes } from "../damon/numa.ts";
import { AttributeScorer } from "../damon/attribute-truth.ts";
import { checkParamValue, orList, PRIMITIVE_DEFS, PRIMITIVES, REPORTING_PRIMITIVES, isPrimitiveName, primitiveDef, primitiveOfEvidence, type ParamSpec, type PrimitiveName, type PrimitiveParams } from "../damon/primitives/index.ts";
import { parseCpuList, parseTidList, type SampleFilter } from "../damon/report-buffer/filters.ts";
import { resolveWorkloadEnd, type WorkloadEnd } from "../workloads/registry.ts";

export const DEFAULT_WORKLOAD = "tiering-hotcold";
/** Simulated time limit of a run of a workload without an end when --duration is not given. */
export const DEFAULT_ENDLESS_DURATION = "30s";

export const RUN_OPTIONS: Record<string, OptionSpec> = {
  machine: { type: "string", value: "PRESET|FILE", description: "machine preset (damon-sim machines) or JSON file", default: "2s-ddr5" },
  ops: { type: "string", value: OPS_SET_NAMES.join("|"), description: "DAMON operations set", default: "vaddr" },
  sample: { type: "string", value: "T", description: "sampling interval (bare number: us)", default: "5ms" },
  aggr: { type: "string", value: "T", description: "aggregation interval", default: "100ms" },
  update: { type: "string", value: "T", description: "operations update interval (damo's default)", default: "1s" },
  "min-regions": { type: "string", value: "N", description: "minimum number of regions", default: "10" },
  "max-regions": { type: "string", value: "N", description: "maximum number of regions", default: "1000" },
  "intervals-goal": { type: "string", value: "BP,AGGRS,MIN,MAX", description: "intervals auto-tuning goal, e.g. 4%,3,5ms,10s (off by default)" },
  duration: { type: "string", value: "T", description: `cut the run short after this much simulated time (default: a workload with an end runs to it; one without an end, like the built-in generators, stops at ${DEFAULT_ENDLESS_DURATION})` },
  seed: { type: "string", value: "N", description: "root random seed", default: "1" },
  kernel: { type: "string", value: "VERSION", description: `DAMON as kernel VERSION does it: ${KERNEL_VERSIONS.join(", ")} (sets the age rule, min regions at start, intervals tuning and damon_report_access() availability)` },
  variant: { type: "string", value: "mainline|next", description: "older switch: DAMON core semantics, mainline (with the report-access RFC, the default) or damon/next; --kernel next = --variant next" },
  "kdamond-cpu": { type: "string", value: "N", description: "CPU kdamond runs on (default: the last CPU)" },
  "flush-tlb-on-mkold": { type: "boolean", description: "flush a page's TLB entries whenever DAMON clears its Accessed bit" },
  quantum: { type: "string", value: "T", description: "CPU quantum: longest run between scheduler events", default: "10us" },
  quiet: { type: "boolean", short: "q", description: "print nothing but errors" },
  primitives: { type: "string", value: "LIST", description: `access check primitives: ${PRIMITIVES.join(", ")} (comma list; damon-sim primitives describes each)`, default: "pte" },
  param: { type: "string", value: "PRIM.KEY=V", description: "a primitive's parameter, e.g. ibs.period=4096, perf-mem.period=1000 (repeatable)", multiple: true },
  "report-buffer": { type: "string", value: "rings|array", description: "damon_report_access() buffer: per-CPU rings or SJ's shared array", default: "rings" },
  "filter-semantics": { type: "string", value: "intended|next-quirk", description: "sample filter semantics", default: "intended" },
  hz: { type: "string", value: "N", description: "kernel HZ (report timestamps are jiffies)", default: "250" },
  "numa-balancing": { type: "boolean", description: "run Linux NUMA balancing (its faults reach DAMON only with the numa-hint primitive)" },
  "exp-ops-use-reports": { type: "string", value: "y|n", description: "damo: use access reports (the page-fault primitive) instead of page tables" },
  "exp-ops-write-only": { type: "string", value: "y|n", description: "damo: monitor writes only (a write filter)" },
  "exp-ops-cpus": { type: "string", value: "CPULIST", description: "damo: monitor accesses from these CPUs only (e.g. 0-3,5-7,9; 'all' = no filter)" },
  "exp-ops-tids": { type: "string", value: "LIST", description: "damo: monitor accesses from these threads only" },
  "sample-primitives": { type: "string", value: "page_table|page_fault", description: "damo: the sampling primitive (page_fault = use reports)" },
  probe: { type: "string", value: "NAME:FILTERS[@W]", description: "a data-attribute probe, e.g. anon:anon, cg2:memcg=2, ibs:ibs-reported (repeatable)", multiple: true },
  "max-probes": { type: "string", value: "N", description: "probe limit per context", default: "4" },
  schemes: { type: "string", short: "c", value: "FILE|JSON", description: "DAMOS schemes as damo's JSON (a list of schemes, or damo's --kdamonds form with one context), a file or the JSON itself; or damo's --damos_* options (below)" },
  numa: { type: "boolean", description: "NUMA hit/miss monitoring: local/remote probes per CPU node and the truth (numa.json; see 'report numa')" },
};

export interface RunSetup {
  sched: Scheduler;
  machine: Machine;
  workload: Workload;
  monitor: Monitor;
  /** Simulated time limit: Infinity when a finite workload runs to its end. */
  durationNs: number;
  /** Where the limit comes from: --duration, the default for endless workloads, or none (run to the workload's end). */
  durationLimit: DurationLimit;
  /** How the workload ends by itself. */
  workloadEnd: WorkloadEnd;
  seed: number;
  /** Number of data-attribute probes (0 without attributes). */
  probes: number;
  /** NUMA hit/miss recorder (--numa). */
  numa: NumaRecorder | null;
  /** Scores probe estimates against the exact bytes with each attribute (when probes are set). */
  attributes: AttributeScorer | null;
  options: Record<string, unknown>;
}

export type DurationLimit = "option" | "default" | "none";

/** Why a run stopped. */
export type RunEnd = "workload finished" | "cut at --duration" | "cut at the default limit";

/** How the run ended (call after it stopped). */
export function runEnd(s: Pick<RunSetup, "machine" | "durationLimit">): RunEnd {
  if (s.machine.finished) return "workload finished";
  return s.durationLimit === "default" ? "cut at the default limit" : "cut at --duration";
}

export function machineConfig(name: string): MachineConfig {
  const p = preset(name);
  if (p) return p;
  if (existsSync(name)) return loadMachineConfig(name);
  throw new UsageError(`unknown machine '${name}' (presets: ${presetNames().join(", ")}; or a JSON file)`);
}

function us(spec: CommandSpec, args: ParsedArgs, name: string): number {
  const v = stringOpt(args, name)!;
  return Math.round(parseDuration(v, "us", `--${name}`) / US);
}

/** Parses "access_bp,aggrs,min_sample,max_sample" (access as bp or "4%", times as us or with units). */
export function parseIntervalsGoal(text: string): IntervalsGoal {
  const parts = text.split(",").map((p) => p.trim());
  if (parts.length !== 4) throw new UsageError(`--intervals-goal needs 4 comma-separated values (access_bp,aggrs,min_sample,max_sample), got '${text}'`);
  const [bp, aggrs, min, max] = parts as [string, string, string, string];
  const accessBp = bp.endsWith("%") ? Math.round(Number(bp.slice(0, -1)) * 100) : Number(bp);
  if (!Number.isInteger(accessBp) || accessBp < 0) throw new UsageError(`--intervals-goal: bad access_bp '${bp}'`);
  const nAggrs = Number(aggrs);
  if (!Number.isInteger(nAggrs) || nAggrs < 0) throw new UsageError(`--intervals-goal: bad aggrs '${aggrs}'`);
  const t = (x: string, f: string): number => Math.round(parseDuration(x, "us", `--intervals-goal ${f}`) / US);
  return { accessBp, aggrs: nAggrs, minSampleUs: t(min, "min_sample"), maxSampleUs: t(max, "max_sample") };
}

export function attrsFromArgs(spec: CommandSpec, args: ParsedArgs): DamonAttrs {
  const a = defaultAttrs();
  a.sampleUs = us(spec, args, "sample");
  a.aggrUs = us(spec, args, "aggr");
  a.opsUpdateUs = us(spec, args, "update");
  a.minNrRegions = intOpt(spec, args, "min-regions", 0) ?? 10;
  a.maxNrRegions = intOpt(spec, args, "max-regions", 0) ?? 1000;
  const goal = stringOpt(args, "intervals-goal");
  if (goal !== undefined) a.intervalsGoal = parseIntervalsGoal(goal);
  try {
    return validateAttrs(a);
  } catch (e) {
    if (e instanceof InputError) throw new UsageError(`${spec.name}: invalid DAMON attributes: ${e.message}`);
    throw e;
  }
}

const yes = (v: string, opt: string): boolean => {
  const t = v.trim().toLowerCase();
  if (["y", "yes", "true", "1", "on"].includes(t)) return true;
  if (["n", "no", "false", "0", "off"].includes(t)) return false;
  throw new UsageError(`--${opt} takes y or n, got '${v}'`);
};

/** The parameters each primitive that has any takes, for --param (from the registry, damon/primitives/). */
export const PRIMITIVE_PARAM_KEYS: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  PRIMITIVE_DEFS.map((d): [string, readonly string[]] => [d.name, Object.keys(d.params)]).filter(([, keys]) => keys.length > 0),
);

/** "prim.alias" -> key, from each parameter's aliases. */
const PARAM_ALIASES: Readonly<Record<string, string>> = Object.fromEntries(
  PRIMITIVE_DEFS.flatMap((d) => Object.entries(d.params as Readonly<Record<string, ParamSpec>>).flatMap(([k, p]) => (p.aliases ?? []).map((a): [string, string] => [`${d.name}.${a}`, k]))),
);

/** Parses one "prim.key=value" parameter: the primitive, the key as written and as the primitive's option, the value. */
export function parsePrimitiveParam(item: string): { prim: string; rawKey: string; key: string; value: number | boolean } {
  const m = /^([a-z-]+)\.([A-Za-z][A-Za-z0-9-]*)=(.+)$/.exec(item.trim());
  if (!m) throw new UsageError(`--param needs PRIMITIVE.KEY=VALUE (e.g. ibs.period=4096), got '${item}'`);
  const [, prim, rawKey, rawVal] = m as unknown as [string, string, string, string];
  const known = PRIMITIVE_PARAM_KEYS[prim];
  if (!known) throw new UsageError(`--param: unknown primitive '${prim}'${didYouMean(prim, Object.keys(PRIMITIVE_PARAM_KEYS))} (${Object.keys(PRIMITIVE_PARAM_KEYS).join(", ")})`);
  const key = PARAM_ALIASES[`${prim}.${rawKey}`] ?? rawKey.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  if (!known.includes(key)) throw new UsageError(`--param: ${prim} has no parameter '${rawKey}'${didYouMean(key, known)} (known: ${known.join(", ")})`);
  const value = rawVal === "true" ? true : rawVal === "false" ? false : Number(rawVal);
  if (typeof value === "number" && !Number.isFinite(value)) throw new UsageError(`--param ${prim}.${rawKey}: '${rawVal}' is not a number`);
  const bad = isPrimitiveName(prim) ? checkParamValue((primitiveDef(prim).params as Readonly<Record<string, ParamSpec>>)[key]!, value) : null;
  if (bad !== null) throw new UsageError(`--param ${prim}.${rawKey} ${bad}`);
  return { prim, rawKey, key, value };
}

/** Parses "prim.key=value" parameters into per-primitive option objects. */
export function parsePrimitiveParams(list: readonly string[]): PrimitiveParams {
  const out: Record<string, Record<string, number | boolean>> = {};
  for (const item of list) {
    const { prim, key, value } = parsePrimitiveParam(item);
    (out[prim] ??= {})[key] = value;
  }
  return out as PrimitiveParams;
}

/** A comma list of primitive names ("pte,ibs"), each checked against the registry. */
export function parsePrimitiveList(text: string, command: string): PrimitiveName[] {
  return text.split(",").map((p) => p.trim()).filter(Boolean).map((p) => {
    if (!isPrimitiveName(p)) throw new UsageError(`${command}: unknown primitive '${p}'${didYouMean(p, PRIMITIVES)} (known: ${PRIMITIVES.join(", ")})`);
    return p;
  });
}

/** The primitives, report buffer, filters and probes asked for on the command line (damo spellings included). */
export function monitorOptionsFromArgs(spec: CommandSpec, args: ParsedArgs, nCpus: number): Partial<MonitorOptions> {
  let primitives = parsePrimitiveList(stringOpt(args, "primitives") ?? "pte", spec.name);
  const useReports = stringOpt(args, "exp-ops-use-reports");
  const samplePrim = stringOpt(args, "sample-primitives");
  if (useReports !== undefined && samplePrim !== undefined) throw new UsageError(`${spec.name}: --sample_primitives cannot be combined with --exp_ops_use_reports`);
  if (samplePrim !== undefined && samplePrim !== "page_table" && samplePrim !== "page_fault") throw new UsageError(`${spec.name}: --sample_primitives must be page_table or page_fault`);
  const reports = useReports !== undefined ? yes(useReports, "exp-ops-use-reports") : samplePrim === "page_fault";
  if (reports) primitives = ["fault"]; // use_reports=Y: page_table=N, page_fault=Y
  const filters: SampleFilter[] = [];
  const writeOnly = stringOpt(args, "exp-ops-write-only");
  const cpus = stringOpt(args, "exp-ops-cpus");
  const tids = stringOpt(args, "exp-ops-tids");
  if ((writeOnly !== undefined || cpus !== undefined || tids !== undefined) && !primitives.some((p) => primitiveDef(p).reports)) {
    throw new UsageError(`${spec.name}: --exp_ops_write_only/--exp_ops_cpus/--exp_ops_tids need --exp_ops_use_reports y (or a report-based primitive)`);
  }
  if (writeOnly !== undefined && yes(writeOnly, "exp-ops-write-only")) filters.push({ type: "write", matching: true, allow: true });
  if (cpus !== undefined && cpus !== "all") {
    try {
      filters.push({ type: "cpumask", matching: true, allow: true, cpus: parseCpuList(cpus, "--exp_ops_cpus", nCpus) });
    } catch (e) {
      throw new UsageError(`${spec.name}: ${(e as Error).message}`);
    }
  }
  if (tids !== undefined) {
    try {
      filters.push({ type: "threads", matching: true, allow: true, tids: parseTidList(tids, "--exp_ops_tids") });
    } catch (e) {
      throw new UsageError(`${spec.name}: ${(e as Error).message}`);
    }
  }
  const buffer = stringOpt(args, "report-buffer") ?? "rings";
  if (buffer !== "rings" && buffer !== "array") throw new UsageError(`${spec.name}: --report-buffer must be rings or array`);
  const semantics = stringOpt(args, "filter-semantics") ?? "intended";
  if (semantics !== "intended" && semantics !== "next-quirk") throw new UsageError(`${spec.name}: --filter-semantics must be intended or next-quirk`);
  const probes: Probe[] = ((args.values.probe as string[] | undefined) ?? []).map((p) => {
    try {
      return parseProbe(p, (x) => parseCpuList(x, "--probe", nCpus));
    } catch (e) {
      throw new UsageError(`${spec.name}: ${(e as Error).message}`);
    }
  });
  // a probe whose evidence no enabled primitive can give would read 0 for the whole run
  const reporting = primitives.filter((p) => primitiveDef(p).reports);
  for (const pr of probes) {
    for (const f of pr.filters) {
      const from = primitiveOfEvidence(f.type);
      if (from !== undefined && primitiveDef(from).reports && !primitives.includes(from)) throw new UsageError(`${spec.name}: probe '${pr.name}' uses '${f.type}', but ${from} is not among --primitives (${primitives.join(",")})`);
      if ((f.type === "written" || f.type === "cpus") && reporting.length === 0) throw new UsageError(`${spec.name}: probe '${pr.name}' uses '${f.type}', which only reports carry (${orList(REPORTING_PRIMITIVES)}): the Accessed bit tells neither who accessed nor whether it was a write`);
    }
  }
  return {
    primitives,
    buffer,
    filters,
    filterSemantics: semantics,
    hz: intOpt(spec, args, "hz", 1, 10000) ?? 250,
    params: parsePrimitiveParams((args.values.param as string[] | undefined) ?? []),
    numaBalancing: args.values["numa-balancing"] === true,
    probes,
    maxProbes: intOpt(spec, args, "max-probes", 1, 64) ?? 4,
  };
}

/**
 * Closes the machine's truth window at each aggregation, after every other listener has read it,
 * and keeps its sub-window equal to the sample interval (intervals auto-tuning changes it).
 */
export function followAggregations(machine: Machine, ctx: DamonContext): void {
  const truth = machine.truth;
  if (truth === null) return;
  ctx.onAggregation((c) => truth.closeWindow(c.now, c.sampleNs));
}

/** --kernel VERSION, or the older --variant mainline|next (a contradiction is a usage error). */
export function kernelFromArgs(spec: CommandSpec, args: ParsedArgs): KernelRules {
  try {
    return parseKernel(stringOpt(args, "kernel"), stringOpt(args, "variant"));
  } catch (e) {
    if (e instanceof InputError) throw new UsageError(`${spec.name}: ${e.message}`);
    throw e;
  }
}

/**
 * Builds the machine, loads the workload, and creates (without starting) the kdamond. The truth
 * window closes at each aggregation unless `closeTruth` is false (a caller's accuracy tracker
 * closes it instead).
 */
export function buildRun(spec: CommandSpec, args: ParsedArgs, extra: { workloadArg?: string; closeTruth?: boolean } = {}): RunSetup {
  const seed = intOpt(spec, args, "seed") ?? 1;
  const ops = parseOpsName(stringOpt(args, "ops") ?? "vaddr", (m) => new UsageError(`${spec.name}: --ops ${m}`));
  const kernel = kernelFromArgs(spec, args);
  const attrs = attrsFromArgs(spec, args);
  const durationOpt = stringOpt(args, "duration");
  const durationArg = durationOpt !== undefined ? parseDuration(durationOpt, "s", "--duration") : undefined;
  if (durationArg !== undefined && durationArg <= 0) throw new UsageError(`${spec.name}: --duration must be positive`);
  const quantumNs = parseDuration(stringOpt(args, "quantum") ?? "10us", "ns", "--quantum");
  if (quantumNs <= 0) throw new UsageError(`${spec.name}: --quantum must be positive`);
  const config = machineConfig(stringOpt(args, "machine") ?? "2s-ddr5");
  const { workload, end: workloadEnd } = resolveWorkloadEnd(extra.workloadArg ?? args.positionals[0] ?? DEFAULT_WORKLOAD);
  const durationLimit: DurationLimit = durationArg !== undefined ? "option" : workloadEnd.finite ? "none" : "default";
  const durationNs = durationArg ?? (workloadEnd.finite ? Infinity : parseDuration(DEFAULT_ENDLESS_DURATION, "s", "--duration"));
  const wantNuma = args.values.numa === true;
  let mon: Partial<MonitorOptions> = {};
  const sim = buildSimulation({
    config,
    workload,
    seed,
    quantumNs,
    flushTlbOnMkold: args.values["flush-tlb-on-mkold"] === true,
    truth: { subWindowNs: attrs.sampleUs * 1000, ops },
    monitor: (machine) => {
      const cpu = intOpt(spec, args, "kdamond-cpu", 0, config.cpus.length - 1);
      mon = monitorOptionsFromArgs(spec, args, config.cpus.length);
      if (wantNuma) {
        if (!mon.primitives!.some((p) => primitiveDef(p).reports)) throw new UsageError(`${spec.name}: --numa needs a report-based primitive (${orList(REPORTING_PRIMITIVES)}): the Accessed bit cannot tell which CPU accessed`);
        mon.probes = [...numaProbes(machine), ...(mon.probes ?? [])];
        mon.maxProbes = Math.max(mon.maxProbes ?? 4, mon.probes.length);
      }
      const schemes = schemesFromArgs(spec.name, args.damos, stringOpt(args, "schemes"), attrs);
      return createMonitor(machine, { ops, attrs, variant: kernel.core, kernel, ...(cpu !== undefined ? { cpu } : {}), ...mon, schemes });
    },
  });
  const { sched, machine } = sim;
  const monitor = sim.monitor!;
  const numa = wantNuma ? new NumaRecorder(machine, monitor.ctx, attrs.sampleUs * 1000) : null;
  const attributes = monitor.ctx.probes.length > 0 ? new AttributeScorer(machine, monitor.ctx) : null;
  if (extra.closeTruth !== false) followAggregations(machine, monitor.ctx);
  return {
    sched,
    machine,
    workload,
    monitor,
    durationNs,
    durationLimit,
    workloadEnd,
    seed,
    probes: mon.probes?.length ?? 0,
    numa,
    attributes,
    options: { ...args.values, workload: extra.workloadArg ?? args.positionals[0] ?? DEFAULT_WORKLOAD },
  };
}

/** The fully resolved configuration of a run (config.json). */
export function describeRun(s: RunSetup): Record<string, unknown> {
  return {
    seed: s.seed,
    durationLimitNs: Number.isFinite(s.durationNs) ? s.durationNs : null,
    durationLimitSeconds: Number.isFinite(s.durationNs) ? s.durationNs / SEC : null,
    durationLimit: s.durationLimit === "option" ? "--duration" : s.durationLimit === "default" ? `default for workloads without an end (${DEFAULT_ENDLESS_DURATION})` : "none: runs to the workload's end",
    workloadLengthNs: s.workloadEnd.lengthNs,
    workload: { name: s.workload.name, layout: s.workload.layout },
    machine: s.machine.config,
    damon: {
      ops: s.monitor.ops.name,
      primitives: s.monitor.primitives,
      kernel: s.monitor.ctx.kernel.name,
      variant: s.monitor.ctx.variant,
      attrs: s.monitor.ctx.attrs,
      kdamondCpu: s.monitor.kdamond.cpu,
      costs: s.monitor.ctx.costs,
      minRegionSz: s.monitor.ctx.minRegionSz,
      // the schemes as damo's JSON (damo's -c takes it back)
      ...(s.monitor.ctx.damos ? { schemes: s.monitor.ctx.damos.schemes.map((sc) => schemeToDamoJson(sc.spec, damoSchemeContext(s.monitor.ctx.attrs))) } : {}),
    },
    options: s.options,
  };
}
