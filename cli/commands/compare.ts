// `damon-sim compare`: runs one workload under several access check primitives (and a baseline
// without monitoring) on the identical access stream, on the local pool of worker threads that
// studies and checks use too (cli/jobs/local.ts) or, with --backend bullmq, on a Redis queue
// served by `damon-sim worker` (the same outputs, byte for byte), and reports which primitive tells DAMON the
// truth at what cost: a table on the terminal, results.json, results.csv, report.html
// (self-contained) and PNG plots in OUTDIR, and the host wall-clock seconds apart in timing.json.
// Everything is checked before any worker starts: the output folder, the experiment file, every
// variant's machine, workload and parameters (each variant is built once in the main thread),
// CPU numbers against the machine. The exit status is 0 when every variant ran, 1 when one failed
// (its error is printed and kept in results.json), 2 for bad input, 130 when interrupted.

import { join, resolve } from "node:path";
import { intOpt, stringOpt, type CommandSpec, type ParsedArgs } from "../args.ts";
import type { Command } from "../command.ts";
import { InputError, UsageError } from "../../sim/errors.ts";
import { parseDuration } from "../../sim/time.ts";
import { formatCpuList } from "../../damon/report-buffer/filters.ts";
import { OPS_SET_NAMES, parseOpsName } from "../../damon/ops-sets.ts";
import { PRIMITIVES } from "../../damon/primitives/index.ts";
import { EXIT, version } from "../version.ts";
import { prepareOutputDir, writeFileAtomic } from "../atomic-write.ts";
import { runVariants } from "../experiment/run-variants.ts";
import { BACKEND_OPTIONS, backendOf, INPUTS_STORE_OPTION, inputsFolderOf } from "../jobs/backend.ts";
import { csv, resultsJson, rowsOf, table, timingJson } from "../experiment/output.ts";
import { SCENARIOS, scenarioNames } from "../experiment/scenarios.ts";
import { scenarioMetrics, scenarioText } from "../experiment/scenario-metrics.ts";
import { isKernelVersion, KERNEL_VERSIONS } from "../../damon/kernel.ts";
import { BASELINE, defaultExperiment, experimentFromJson, isExperimentJson, paramList, readExperimentJson, variant, type ExperimentSpec, type VariantSpec } from "../experiment/spec.ts";
import { writeReport } from "../experiment/html-report.ts";
import { setupVariant, type VariantResult } from "../experiment/variant.ts";
import { machineConfig, parsePrimitiveList, parsePrimitiveParam, parsePrimitiveParams } from "../run-setup.ts";

const spec: CommandSpec = {
  name: "compare",
  summary: "Compare access check primitives on one workload: accuracy against the ground truth and overhead, with a table, results.json/csv, report.html and plots.",
  usage: "[WORKLOAD|TRACE|EXPERIMENT.json] [options]",
  positionals: { min: 0, max: 1 },
  options: {
    scenario: { type: "string", value: "NAME", description: "a built-in scenario (see --list-scenarios)" },
    "list-scenarios": { type: "boolean", description: "list the built-in scenarios" },
    // no declared defaults for the settings an experiment or scenario has its own of: a value the
    // user gave, even one equal to the usual default, must override the experiment's
    machine: { type: "string", value: "PRESET|FILE", description: "machine (default: cxl-tier, or the experiment's)" },
    primitives: { type: "string", value: "LIST", description: "one variant per primitive", default: PRIMITIVES.join(",") },
    param: { type: "string", value: "PRIM.KEY=V", description: "a primitive's parameter for every variant (repeatable)", multiple: true },
    ops: { type: "string", value: OPS_SET_NAMES.join("|"), description: "DAMON operations set (default: vaddr, or the experiment's)" },
    kernel: { type: "string", value: "VERSION", description: `DAMON as kernel VERSION does it, for every variant: ${KERNEL_VERSIONS.join(", ")} (default: the experiment's, or mainline with the report-access RFC)` },
    duration: { type: "string", value: "T", description: "simulated time per variant (default: 3s, or the experiment's)" },
    seed: { type: "string", value: "N", description: "seed of the workload, the same for every variant (default: 1, or the experiment's)" },
    sample: { type: "string", value: "T", description: "sampling interval (default: 5ms, or the experiment's)" },
    aggr: { type: "string", value: "T", description: "aggregation interval (default: 100ms, or the experiment's)" },
    jobs: { type: "string", value: "N", description: "local worker threads (default: one per core)" },
    ...BACKEND_OPTIONS,
    store: INPUTS_STORE_OPTION,
    "no-baseline": { type: "boolean", description: "skip the unmonitored baseline (no slowdown figures)" },
    output: { type: "string", short: "o", value: "OUTDIR", description: "output folder", default: "out" },
    quiet: { type: "boolean", short: "q", description: "print only the output folder" },
  },
  details: `Examples:
  damon-sim compare                                   (the built-in tiering scenario)
  damon-sim compare --scenario ksm-targets -o out/ksm
  damon-sim compare stairs --machine 2s-ddr5 --primitives pte,ibs --param ibs.period=2048
  damon-sim compare experiment.json -o out/sweep      (variants and parameter sweeps in JSON)
  damon-sim compare stairs --backend bullmq --redis redis://10.0.0.5:6379   (variants run by 'damon-sim worker's)`,
};

/** CPUs of a machine by name (null when it is not a preset or a readable file: that error comes later, from the machine itself). */
function cpuCount(machine: string): number | null {
  try {
    return machineConfig(machine).cpus.length;
  } catch {
    return null;
  }
}

function fromArgs(args: ParsedArgs): ExperimentSpec {
  const positional = args.positionals[0];
  const scen = stringOpt(args, "scenario");
  if (scen !== undefined) {
    const s = SCENARIOS[scen];
    if (!s) throw new UsageError(`compare: unknown scenario '${scen}' (known: ${scenarioNames().join(", ")})`);
    if (positional !== undefined) throw new UsageError("compare: give either a workload or --scenario, not both");
    return s.build();
  }
  if (positional !== undefined && positional.endsWith(".json") && !positional.includes("configs")) {
    // a workload spec is JSON too: a file with variants or a sweep is an experiment, any other a workload
    const raw = readExperimentJson(positional);
    if (isExperimentJson(raw)) {
      const given = stringOpt(args, "machine");
      const x = experimentFromJson(raw, positional, { ...(given !== undefined ? { machine: given } : {}), cpuCount });
      x.variants = [BASELINE, ...x.variants];
      return x;
    }
  }
  if (positional === undefined) return SCENARIOS.tiering!.build();
  const x = defaultExperiment();
  x.workload = positional;
  x.machine = stringOpt(args, "machine") ?? "cxl-tier";
  const prims = parsePrimitiveList(stringOpt(args, "primitives") ?? "", "compare");
  if (prims.length === 0) throw new UsageError(`compare: --primitives is empty: nothing to compare (e.g. --primitives pte,fault; known: ${PRIMITIVES.join(", ")})`);
  x.variants = [BASELINE, ...prims.map((p) => variant(p, [p]))];
  return x;
}

function applyOverrides(x: ExperimentSpec, args: ParsedArgs): void {
  const given = (k: string): boolean => args.values[k] !== undefined;
  if (given("machine")) x.machine = stringOpt(args, "machine")!;
  if (given("duration")) x.durationNs = parseDuration(stringOpt(args, "duration")!, "s", "--duration");
  if (given("seed")) x.seed = intOpt(spec, args, "seed")!;
  if (given("sample")) x.sampleUs = Math.round(parseDuration(stringOpt(args, "sample")!, "us", "--sample") / 1000);
  if (given("aggr")) x.aggrUs = Math.round(parseDuration(stringOpt(args, "aggr")!, "us", "--aggr") / 1000);
  if (given("kernel")) {
    const k = stringOpt(args, "kernel")!;
    if (!isKernelVersion(k)) throw new UsageError(`compare: unknown kernel '${k}': one of ${KERNEL_VERSIONS.join(", ")}`);
    x.kernel = k;
  }
  if (given("ops")) {
    x.ops = parseOpsName(stringOpt(args, "ops"), (m) => new UsageError(`compare: --ops ${m}`));
  }
  for (const p of (args.values.param as string[] | undefined) ?? []) {
    const { prim, rawKey, value } = parsePrimitiveParam(p);
    for (const vr of x.variants) vr.params[`${prim}.${rawKey}`] = value;
  }
  if (args.values["no-baseline"] === true) x.variants = x.variants.filter((v) => v.monitor);
  if (!x.variants.some((v) => v.monitor)) throw new UsageError("compare: no variant with monitoring to compare");
  // check every variant's parameters (an experiment file's too) here, so a typo fails at once
  // rather than in each worker
  for (const v of x.variants) {
    try {
      parsePrimitiveParams(paramList(v));
    } catch (e) {
      if (e instanceof UsageError) throw new UsageError(`compare: variant '${v.name}': ${e.message}`);
      throw e;
    }
  }
  if (x.sampleUs <= 0 || x.aggrUs < x.sampleUs) throw new UsageError("compare: need 0 < --sample <= --aggr");
}

/** The key of `v.params` (as written: "perf-mem.period") that an error's field ("perf-mem.loadPeriod") names. */
function paramKeyOf(v: VariantSpec, field: string | undefined): string | undefined {
  if (field === undefined) return undefined;
  return Object.keys(v.params).find((k) => {
    if (k === field) return true;
    const q = parsePrimitiveParam(`${k}=${String(v.params[k])}`);
    return `${q.prim}.${q.key}` === field;
  });
}

/** Where a variant's setting `key` comes from, for a message: the experiment file's field, or the command line. */
function origin(x: ExperimentSpec, v: VariantSpec, key: string | undefined, cliParams: ReadonlySet<string>): { file?: string; field?: string; cli?: string } {
  if (key !== undefined && cliParams.has(key)) return { cli: `--param ${key}=${String(v.params[key])}` };
  if (x.sourceFile === undefined || v.sourceField === undefined) return {};
  if (key === undefined) return { file: x.sourceFile, field: v.sourceField };
  return { file: x.sourceFile, field: v.sourceField.startsWith("sweep") ? v.sourceField : `${v.sourceField}.params.${key}` };
}

/**
 * Builds every variant once, in this thread, before any worker starts: a machine, workload or
 * parameter that cannot be built fails now (exit 2), naming the experiment file and the field, or
 * the option, instead of after the other variants have run. CPU numbers are checked against the
 * machine for built-in scenarios and command lines too.
 */
function preflight(x: ExperimentSpec, cliParams: ReadonlySet<string>): void {
  const nCpus = machineConfig(x.machine).cpus.length;
  for (const v of x.variants) {
    const cpus = [...v.filters.flatMap((f) => f.cpus ?? []), ...(v.truthFilter?.cpus ?? [])];
    const bad = cpus.find((c) => c >= nCpus);
    if (bad === undefined) continue;
    const where = origin(x, v, undefined, cliParams);
    const msg = `variant '${v.name}' names CPU ${bad} (CPUs ${formatCpuList(cpus)}), but machine '${x.machine}' has CPUs 0-${nCpus - 1}`;
    if (where.file !== undefined) throw new InputError(msg, { file: where.file, field: where.field! });
    throw new UsageError(`compare: ${msg}${x.scenario ? ` (scenario '${x.scenario}' is made for machine '${SCENARIOS[x.scenario]?.build().machine}')` : ""}`);
  }
  for (const v of x.variants) {
    try {
      setupVariant(x, v);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      // a primitive's parameter names itself as field 'prim.key'
      const key = e.location.file === undefined ? paramKeyOf(v, e.location.field) : undefined;
      const where = origin(x, v, key, cliParams);
      if (where.cli !== undefined) throw new UsageError(`compare: ${where.cli}: ${e.detail}`);
      if (key !== undefined && where.file !== undefined) throw new InputError(e.detail, { file: where.file, field: where.field! });
      if (key !== undefined) throw new UsageError(`compare: variant '${v.name}': ${e.message}`);
      throw e;
    }
  }
}

export const command: Command = {
  spec,
  async run(args) {
    if (args.values["list-scenarios"] === true) {
      const width = Math.max(...scenarioNames().map((n) => n.length)) + 2;
      for (const s of Object.values(SCENARIOS)) process.stdout.write(`${s.name.padEnd(width)}${s.description}\n`);
      return 0;
    }
    const t0 = performance.now();
    const x = fromArgs(args);
    applyOverrides(x, args);
    const cliParams = new Set(((args.values.param as string[] | undefined) ?? []).map((p) => { const q = parsePrimitiveParam(p); return `${q.prim}.${q.rawKey}`; }));
    const out = stringOpt(args, "output") ?? "out";
    const quiet = args.values.quiet === true;
    const jobs = intOpt(spec, args, "jobs", 1, 256);
    preflight(x, cliParams);
    prepareOutputDir(out);
    if (!quiet) process.stderr.write(`damon-sim compare: ${x.workload} on ${x.machine}, ${x.variants.length} variants, ${x.durationNs / 1e9} s simulated each, seed ${x.seed}\n`);
    const backend = backendOf(spec, args);
    const inputsFolder = inputsFolderOf(spec, args, backend);
    const outcome = await runVariants(x, x.variants, { ...(jobs !== undefined ? { jobs } : {}), quiet, backend, ...(inputsFolder !== undefined ? { inputsFolder } : {}) });
    const done = outcome.results.filter((r): r is VariantResult => r !== null);
    const rows = rowsOf(done);
    const sm = scenarioMetrics(x, done);
    writeFileAtomic(join(out, "results.json"), resultsJson(x, outcome.results, outcome.errors, outcome.interrupted, `damon-sim ${version()}`).replace(/\n}\n$/, `,\n  "scenarioMetrics": ${JSON.stringify(sm)}\n}\n`));
    writeFileAtomic(join(out, "results.csv"), csv(rows));
    writeFileAtomic(join(out, "timing.json"), timingJson(outcome.results, (performance.now() - t0) / 1000));
    await writeReport(out, x, done, rows, sm);
    const failed = outcome.errors.flatMap((e, i) => (e && e !== "interrupted" ? [`variant '${x.variants[i]!.name}' failed: ${e}`] : []));
    if (!quiet) {
      process.stdout.write(table(rows));
      const text = scenarioText(sm, x);
      if (text) process.stdout.write("\n" + text);
      if (outcome.interrupted) process.stdout.write("interrupted: the table holds the variants that finished\n");
    }
    // failures go to stderr even with -q: a script must see them (and the exit status says so)
    for (const f of failed) process.stderr.write(`damon-sim: compare: ${f}\n`);
    process.stdout.write(`${quiet ? "" : "\nreport: "}${resolve(join(out, "report.html"))}\n`);
    if (outcome.interrupted) return EXIT.INTERRUPTED;
    if (failed.length > 0) {
      process.stderr.write(`damon-sim: compare: ${failed.length} of ${x.variants.length} variants failed (their errors are in ${join(out, "results.json")}); exit status 1\n`);
      return EXIT.FAILED;
    }
    return EXIT.OK;
  },
};
