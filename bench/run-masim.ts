// run.masim: end-to-end speed of `damon-sim run` on masim's full public stairs config
// (workloads/configs/stairs-60s.cfg, 60 s of simulated time) on 2s-ddr5, vaddr, default DAMON
// attributes, for three access check setups: the PTE Accessed bit (pte), page fault traps
// (--exp_ops_use_reports y) and perf mem samples (--primitives perf-mem). Each run is built by
// run-setup's buildRun from a `damon-sim run` command line and goes through the command's own
// executeRun and writeRunOutputs (damo record, summary and stats written to a temporary folder),
// so the figure is what a user waits for: wall seconds from option parsing to the last file,
// accesses per wall second and host seconds per simulated second, one run per variant.
// BENCH_MASIM_SECONDS=N cuts each run at N simulated seconds (--duration) for a quick check; the
// default is the whole workload (about 8 minutes per variant before the hot-path work).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCommandArgs } from "../cli/args.ts";
import { command as runCommand, executeRun, hostTiming, writeRunOutputs } from "../cli/commands/run.ts";
import { buildRun, runEnd } from "../cli/run-setup.ts";
import { round, type Benchmark, type BenchResult } from "./harness.ts";

const WORKLOAD = "stairs-60s";
const MACHINE = "2s-ddr5";
const VARIANTS: ReadonlyArray<{ name: string; args: string[] }> = [
  { name: "pte", args: [] },
  { name: "fault (--exp_ops_use_reports y)", args: ["--exp_ops_use_reports", "y"] },
  { name: "perf-mem", args: ["--primitives", "perf-mem"] },
];

/** BENCH_MASIM_SECONDS as a --duration value, or null for the whole workload. */
export function masimSeconds(env: NodeJS.ProcessEnv = process.env): string | null {
  const v = env.BENCH_MASIM_SECONDS;
  if (v === undefined || v.trim() === "") return null;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`BENCH_MASIM_SECONDS must be a positive number of simulated seconds, got '${v}'`);
  return `${n}s`;
}

async function* runMasim(): AsyncIterable<BenchResult> {
  const cut = masimSeconds();
  for (const v of VARIANTS) {
    const out = mkdtempSync(join(tmpdir(), "damon-sim-bench-masim-"));
    try {
      const argv = [WORKLOAD, "--machine", MACHINE, "--ops", "vaddr", ...v.args, ...(cut !== null ? ["--duration", cut] : []), "-q", "-o", out];
      const t0 = performance.now();
      const args = parseCommandArgs(runCommand.spec, argv);
      const setup = buildRun(runCommand.spec, args);
      const res = await executeRun(setup, out, "json_compressed", true);
      if (res.interrupted) throw new Error("run.masim: interrupted");
      writeRunOutputs(setup, out);
      const host = hostTiming(setup, (performance.now() - t0) / 1000);
      yield {
        name: "run.masim",
        unit: "wall s",
        value: round(host.wallSeconds),
        variant: v.name,
        accessesPerSec: round(host.accessesPerSecond),
        hostSecondsPerSimSecond: round(host.hostSecondsPerSimulatedSecond),
        simulatedSeconds: round(host.simulatedSeconds, 4),
        accesses: host.accesses,
        ended: runEnd(setup),
        snapshots: setup.monitor.ctx.aggregations,
        command: `damon-sim run ${argv.slice(0, argv.indexOf("-q")).join(" ")}`,
      };
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
}

export const benchmarks: Benchmark[] = [
  {
    name: "run.masim",
    description: "damon-sim run of masim's full 60 s stairs on 2s-ddr5, vaddr: wall s, accesses/s and host s per simulated s with pte, fault traps, perf-mem (BENCH_MASIM_SECONDS=N cuts each run)",
    run: runMasim,
  },
];
