// `damon-sim check [--bless] [--json] [--jobs N] [--timeout T] CASES...`: regression testing over
// recorded traces. Each case folder (case.json + expected.json, see cli/check/case.ts) is run in a
// worker thread, here or (--backend bullmq) on a `damon-sim worker`, and its results compared with the blessed ones: exit 0 when every case passes, 1
// on any regression, crash, timeout or missing expectation. --bless rewrites expected.json and
// shows what changed. The pipeline lives in cli/check/.

import { intOpt, stringOpt, type CommandSpec } from "../args.ts";
import type { Command } from "../command.ts";
import { InputError, UsageError } from "../../sim/errors.ts";
import { parseDuration } from "../../sim/time.ts";
import { formatCase, formatSummary } from "../check/outcome.ts";
import { checkCases } from "../check/run-check.ts";
import { BACKEND_OPTIONS, backendOf, INPUTS_STORE_OPTION, inputsFolderOf } from "../jobs/backend.ts";

const spec: CommandSpec = {
  name: "check",
  summary: "Run regression cases (a trace or generator, a run configuration, blessed results) and report what moved.",
  usage: "[--bless] [--json] [--jobs N] [--timeout T] CASES...",
  positionals: { min: 1, max: 100_000 },
  options: {
    bless: { type: "boolean", description: "rewrite each case's expected.json with the current results and show what changed" },
    json: { type: "boolean", description: "print a machine-readable result (JSON) instead of text" },
    jobs: { type: "string", value: "N", description: "local worker threads (default: one per core)" },
    ...BACKEND_OPTIONS,
    store: INPUTS_STORE_OPTION,
    timeout: { type: "string", value: "T", description: "per-case time limit (wall time); a case may set its own", default: "120s" },
  },
  details: [
    "Each CASE is a folder holding case.json (or a folder of such folders, searched recursively).",
    "case.json names the workload (a .dst trace or a .json/.cfg file in the folder, or a built-in",
    "name), the `damon-sim run` options (duration required; damo's --exp_ops_* spellings accepted),",
    "optionally a cachegrind geometry to replay the trace through, and per-metric float tolerances.",
    "  damon-sim check test/corpus",
    "  damon-sim check --bless test/corpus/lackey-sort-pte-cachegrind",
    "  damon-sim check --json --jobs 1 my-cases/ > result.json",
    "  damon-sim check --backend bullmq --redis redis://10.0.0.5:6379 test/corpus   (cases run by 'damon-sim worker's)",
  ].join("\n"),
};

export const command: Command = {
  spec,
  async run(args) {
    const jobs = intOpt(spec, args, "jobs", 1, 1024);
    let timeoutMs: number;
    try {
      timeoutMs = parseDuration(stringOpt(args, "timeout") ?? "120s", "s", "--timeout") / 1e6;
    } catch (e) {
      throw new UsageError(`check: ${e instanceof InputError ? e.detail : String(e)}`);
    }
    if (!(timeoutMs > 0)) throw new UsageError("check: --timeout must be positive");
    const json = args.values.json === true;
    const backend = backendOf(spec, args);
    const inputsFolder = inputsFolderOf(spec, args, backend);
    const bless = args.values.bless === true;
    const report = await checkCases(args.positionals, {
      bless,
      timeoutMs,
      backend,
      ...(inputsFolder !== undefined ? { inputsFolder } : {}),
      ...(jobs !== undefined ? { jobs } : {}),
      ...(json ? {} : { onCase: (c) => process.stdout.write(formatCase(c)) }),
    });
    if (report.interrupted) {
      process.stderr.write("damon-sim: check interrupted\n");
      return 130;
    }
    const { interrupted: _ignored, ...out } = report;
    if (json) process.stdout.write(JSON.stringify(out, null, 2) + "\n");
    else process.stdout.write(formatSummary(out));
    return out.ok ? 0 : 1;
  },
};
