// damon-sim's entry point: global flags (--version, --help), subcommand dispatch and the mapping of
// errors to exit statuses (README, "What we guarantee"): 0 ok; 1 the run or check failed (a
// simulation error, a failed variant or case, an internal error); 2 usage or input error (a bad
// option, config, spec, trace or output path); 130 interrupted. Subcommand modules are loaded
// lazily so that `damon-sim --help` starts fast.

import { formatHelp, parseCommandArgs } from "./args.ts";
import type { Command } from "./command.ts";
import { clipQuoted, InputError, OutputFailure, SimError, UsageError } from "../sim/errors.ts";

import { EXIT, version } from "./version.ts";

export { EXIT, version };

interface Entry {
  summary: string;
  load: () => Promise<Command>;
}

/** Every subcommand, in the order `damon-sim --help` lists them. */
export const COMMANDS: Record<string, Entry> = {
  demo: { summary: "run a tiny demo simulation and print its statistics", load: async () => (await import("./commands/demo.ts")).command },
  cachegrind: { summary: "replay a Valgrind Lackey trace through an exact model of cachegrind and print its counts", load: async () => (await import("./commands/cachegrind.ts")).command },
  machines: { summary: "list the built-in machines or print one as JSON", load: async () => (await import("./commands/machines.ts")).command },
  primitives: { summary: "list the access check primitives and their parameters", load: async () => (await import("./commands/primitives.ts")).command },
  trace: { summary: "inspect .dst trace files (trace info FILE.dst)", load: async () => (await import("./commands/trace.ts")).command },
  import: { summary: "convert a Valgrind Lackey log into a .dst trace", load: async () => (await import("./commands/import.ts")).command },
  record: { summary: "record a workload's accesses into a .dst trace on a nominal clock", load: async () => (await import("./commands/record.ts")).command },
  workloads: { summary: "list the built-in workloads and shipped configs", load: async () => (await import("./commands/workloads.ts")).command },
  run: { summary: "simulate a workload with DAMON monitoring it; write a damo record", load: async () => (await import("./commands/run.ts")).command },
  report: { summary: "report access|wss|heatmap|numa of a run's record, as damo does", load: async () => (await import("./commands/report.ts")).command },
  stat: { summary: "run a workload under DAMON_STAT and print its bandwidth estimate and idle percentiles", load: async () => (await import("./commands/stat.ts")).command },
  compare: { summary: "compare access check primitives: accuracy vs ground truth and overhead, with a report", load: async () => (await import("./commands/compare.ts")).command },
  check: { summary: "run regression cases over recorded traces and report what moved (--bless to accept)", load: async () => (await import("./commands/check.ts")).command },
  study: { summary: "plan or run a multi-axis study of content-addressed jobs, locally or on a BullMQ worker fleet", load: async () => (await import("./commands/study.ts")).command },
  worker: { summary: "serve a study's BullMQ queue (damon-sim study run --backend bullmq) on this machine", load: async () => (await import("./commands/worker.ts")).command },
  // @commands-end (add new subcommands just above this line)
};

function generalHelp(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length)) + 2;
  return [
    "usage: damon-sim <command> [options]",
    "",
    "Simulates a NUMA machine running a workload or a replayed trace, with Linux DAMON watching it",
    "through pull (PTE Accessed bit) and push (faults, perf mem, IBS) access check primitives.",
    "",
    "commands:",
    ...names.map((n) => `  ${n.padEnd(width)}${COMMANDS[n]!.summary}`),
    "",
    "global options:",
    "  -h, --help     show this help (or 'damon-sim <command> --help')",
    "  -V, --version  print the version",
    "",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  try {
    const first = argv[0];
    if (first === undefined || first === "--help" || first === "-h" || first === "help") {
      if (first === "help" && argv[1] !== undefined) return await main([argv[1], "--help"]);
      process.stdout.write(generalHelp());
      return first === undefined ? 2 : 0;
    }
    if (first === "--version" || first === "-V") {
      process.stdout.write(`damon-sim ${version()}\n`);
      return 0;
    }
    if (first.startsWith("-")) throw new UsageError(`unknown option '${first}' (see 'damon-sim --help')`);
    const entry = COMMANDS[first];
    if (entry === undefined) {
      const near = Object.keys(COMMANDS).filter((n) => n.startsWith(first.slice(0, 2)));
      throw new UsageError(`unknown command '${first}'${near.length ? ` (did you mean ${near.join(", ")}?)` : ""}; see 'damon-sim --help'`);
    }
    const cmd = await entry.load();
    const args = parseCommandArgs(cmd.spec, argv.slice(1));
    if (args.help) {
      process.stdout.write(formatHelp(cmd.spec));
      return 0;
    }
    return await cmd.run(args);
  } catch (e) {
    return reportError(e);
  }
}

export function reportError(e: unknown): number {
  if (e instanceof UsageError) {
    process.stderr.write(`damon-sim: ${clipQuoted(e.message)}\n`);
    return EXIT.USAGE;
  }
  if (e instanceof InputError) {
    process.stderr.write(`damon-sim: error: ${e.message}\n`);
    return EXIT.USAGE;
  }
  if (e instanceof SimError || e instanceof OutputFailure) {
    process.stderr.write(`damon-sim: error: ${clipQuoted(e.message)}\n`);
    return EXIT.FAILED;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  process.stderr.write(`damon-sim: internal error: ${clipQuoted(err.message)}\n`);
  if (process.env.DAMON_SIM_DEBUG) process.stderr.write(`${err.stack}\n`);
  return EXIT.FAILED;
}
