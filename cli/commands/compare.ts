// `damon-sim compare`: runs one workload under several access check primitives (and a baseline
// without monitoring) on the identical access stream, in parallel worker threads, and reports
// which primitive tells DAMON the truth at what cost: a table on the terminal, results.json,
// results.csv, report.html (self-contained) and PNG plots in OUTDIR.

import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { intOpt, stringOpt, type CommandSpec, type ParsedArgs } from "../args.ts";
import type { Command } from "../command.ts";
import { UsageError } from "../../sim/errors.ts";
import { parseDuration } from "../../sim/time.ts";
import { PRIMITIVES, type PrimitiveName } from "../../damon/reports/buffer.ts";
import { version } from "../main.ts";
import { writeFileAtomic } from "../atomic-write.ts";
import { runPool } from "../experiment/pool.ts";
import { csv, resultsJson, rowsOf, table } from "../experiment/output.ts";
import { SCENARIOS, scenarioNames } from "../experiment/scenarios.ts";
import { scenarioMetrics, scenarioText } from "../experiment/scenario-metrics.ts";
import { BASELINE, defaultExperiment, loadExperiment, paramList, variant, type ExperimentSpec } from "../experiment/spec.ts";
import { writeReport } from "../experiment/report.ts";
import type { VariantResult } from "../experiment/variant.ts";
import { parsePrimitiveParam, parsePrimitiveParams } from "../run-setup.ts";

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
    primitives: { type: "string", value: "LIST", description: "one variant per primitive", default: "pte,fault,numa-hint,perf-mem,ibs" },
    param: { type: "string", value: "PRIM.KEY=V", description: "a primitive's parameter for every variant (repeatable)", multiple: true },
    ops: { type: "string", value: "vaddr|paddr", description: "DAMON operations set (default: vaddr, or the experiment's)" },
    duration: { type: "string", value: "T", description: "simulated time per variant (default: 3s, or the experiment's)" },
    seed: { type: "string", value: "N", description: "seed of the workload, the same for every variant (default: 1, or the experiment's)" },
    sample: { type: "string", value: "T", description: "sampling interval (default: 5ms, or the experiment's)" },
    aggr: { type: "string", value: "T", description: "aggregation interval (default: 100ms, or the experiment's)" },
    jobs: { type: "string", value: "N", description: "worker threads (default: one per core)" },
    "no-baseline": { type: "boolean", description: "skip the unmonitored baseline (no slowdown figures)" },
    output: { type: "string", short: "o", value: "OUTDIR", description: "output folder", default: "out" },
    quiet: { type: "boolean", short: "q", description: "print only the output folder" },
  },
  details: `Examples:
  damon-sim compare                                   (the built-in tiering scenario)
  damon-sim compare --scenario ksm-targets -o out/ksm
  damon-sim compare stairs --machine 2s-ddr5 --primitives pte,ibs --param ibs.period=2048
  damon-sim compare experiment.json -o out/sweep      (variants and parameter sweeps in JSON)`,
};

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
    try {
      const x = loadExperiment(positional);
      x.variants = [BASELINE, ...x.variants];
      return x;
    } catch (e) {
      // a workload spec is also JSON: fall back to treating it as a workload
      if (!(e instanceof Error) || !/variants or a sweep/.test(e.message)) throw e;
    }
  }
  if (positional === undefined) return SCENARIOS.tiering!.build();
  const x = defaultExperiment();
  x.workload = positional;
  x.machine = stringOpt(args, "machine") ?? "cxl-tier";
  const prims = (stringOpt(args, "primitives") ?? "").split(",").map((p) => p.trim()).filter(Boolean);
  for (const p of prims) if (!(PRIMITIVES as readonly string[]).includes(p)) throw new UsageError(`compare: unknown primitive '${p}' (known: ${PRIMITIVES.join(", ")})`);
  x.variants = [BASELINE, ...prims.map((p) => variant(p, [p as PrimitiveName]))];
  return x;
}

function applyOverrides(x: ExperimentSpec, args: ParsedArgs): void {
  const given = (k: string): boolean => args.values[k] !== undefined;
  if (given("machine")) x.machine = stringOpt(args, "machine")!;
  if (given("duration")) x.durationNs = parseDuration(stringOpt(args, "duration")!, "s", "--duration");
  if (given("seed")) x.seed = intOpt(spec, args, "seed")!;
  if (given("sample")) x.sampleUs = Math.round(parseDuration(stringOpt(args, "sample")!, "us", "--sample") / 1000);
  if (given("aggr")) x.aggrUs = Math.round(parseDuration(stringOpt(args, "aggr")!, "us", "--aggr") / 1000);
  if (given("ops")) {
    const ops = stringOpt(args, "ops")!;
    if (ops !== "vaddr" && ops !== "paddr") throw new UsageError("compare: --ops must be vaddr or paddr");
    x.ops = ops;
  }
  for (const p of (args.values.param as string[] | undefined) ?? []) {
    const { prim, rawKey, value } = parsePrimitiveParam(p);
    for (const vr of x.variants) vr.params[`${prim}.${rawKey}`] = value;
  }
  if (args.values["no-baseline"] === true) x.variants = x.variants.filter((v) => v.monitor);
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

export const command: Command = {
  spec,
  async run(args) {
    if (args.values["list-scenarios"] === true) {
      const width = Math.max(...scenarioNames().map((n) => n.length)) + 2;
      for (const s of Object.values(SCENARIOS)) process.stdout.write(`${s.name.padEnd(width)}${s.description}\n`);
      return 0;
    }
    const x = fromArgs(args);
    applyOverrides(x, args);
    const out = stringOpt(args, "output") ?? "out";
    const quiet = args.values.quiet === true;
    const jobs = intOpt(spec, args, "jobs", 1, 256);
    mkdirSync(out, { recursive: true });
    if (!quiet) process.stderr.write(`damon-sim compare: ${x.workload} on ${x.machine}, ${x.variants.length} variants, ${x.durationNs / 1e9} s simulated each, seed ${x.seed}\n`);
    const outcome = await runPool(x, x.variants, { ...(jobs !== undefined ? { jobs } : {}), quiet });
    const done = outcome.results.filter((r): r is VariantResult => r !== null);
    const rows = rowsOf(done);
    const sm = scenarioMetrics(x, done);
    writeFileAtomic(join(out, "results.json"), resultsJson(x, outcome.results, outcome.errors, outcome.interrupted, `damon-sim ${version()}`).replace(/\n}\n$/, `,\n  "scenarioMetrics": ${JSON.stringify(sm)}\n}\n`));
    writeFileAtomic(join(out, "results.csv"), csv(rows));
    await writeReport(out, x, done, rows, sm);
    if (!quiet) {
      process.stdout.write(table(rows));
      const text = scenarioText(sm, x);
      if (text) process.stdout.write("\n" + text);
      for (const [i, e] of outcome.errors.entries()) if (e && e !== "interrupted") process.stdout.write(`variant ${x.variants[i]!.name} failed: ${e}\n`);
      if (outcome.interrupted) process.stdout.write("interrupted: the table holds the variants that finished\n");
    }
    process.stdout.write(`${quiet ? "" : "\nreport: "}${resolve(join(out, "report.html"))}\n`);
    return outcome.interrupted ? 130 : 0;
  },
};
