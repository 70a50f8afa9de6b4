// `damon-sim study plan FILE` and `damon-sim study run FILE -o DIR`: multi-axis studies of
// content-addressed jobs (cli/study/). plan prints the job count, how many are cached in the
// result store, and a rough host-time estimate; run computes the missing jobs on a backend (local
// piscina threads, or a BullMQ queue served by `damon-sim worker`) and writes results.csv/.json,
// summary.csv/.json and report.html. The tables come from the plan and the store only, so they
// are the same bytes whatever the backend, worker count or completion order, and a killed study
// resumes where it stopped.

import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { CommandSpec, ParsedArgs } from "../args.ts";
import { intOpt, stringOpt } from "../args.ts";
import type { Command } from "../command.ts";
import { prepareOutputDir, writeFileAtomic } from "../atomic-write.ts";
import { UsageError } from "../../sim/errors.ts";
import { loadStudy, type PlannedJob, type StudyPlan } from "../study/spec.ts";
import { ResultStore } from "../study/store.ts";
import { resultRows, summaryRows, toCsv, toJson } from "../study/tables.ts";
import { reportHtml } from "../study/report.ts";
import { StudyProgress } from "../study/progress.ts";
import type { BackendOutcome } from "../study/local.ts";

/**
 * Rule of thumb for the estimate: host seconds one busy simulated CPU costs per simulated second.
 * `npm run bench -- hw.path` prints this figure per access pattern (0.05 sequential to 0.6 random
 * over 64 MiB on the 2-core development machine, before DAMON's cost); 300 ms of stairs and zigzag
 * on 2s-ddr5 (16 CPUs) with pte or ibs measured 0.3-1.0. 0.5 is taken: rough, often off by 2-3x;
 * plan prefers the rate measured on the cached jobs.
 */
export const HOST_SECONDS_PER_SIM_CPU_SECOND = 0.5;
/** Host seconds every job costs whatever its length (building the machine, loading the workload). */
export const HOST_SECONDS_PER_JOB = 0.3;

const spec: CommandSpec = {
  name: "study",
  summary: "Plan or run a multi-axis study of content-addressed jobs (workloads x machines x primitives x parameters x seeds).",
  usage: "plan|run FILE [options]",
  positionals: { min: 2, max: 2 },
  options: {
    output: { type: "string", short: "o", value: "DIR", description: "output folder for the tables and report.html (run: required)" },
    store: { type: "string", value: "DIR", description: "result store folder, shared by every worker (default: DIR/store)" },
    backend: { type: "string", value: "NAME", default: "local", description: "where jobs run: local (this machine's cores) or bullmq (a Redis queue served by 'damon-sim worker')" },
    redis: { type: "string", value: "URL", description: "Redis URL for --backend bullmq, e.g. redis://127.0.0.1:6379" },
    queue: { type: "string", value: "NAME", default: "damon-sim-study", description: "BullMQ queue name (bullmq backend)" },
    jobs: { type: "string", short: "j", value: "N", description: "local worker threads (default: one per core)" },
    attempts: { type: "string", value: "N", default: "3", description: "bullmq: tries per job before it is reported failed" },
    "redis-timeout": { type: "string", value: "S", default: "60", description: "bullmq: give up (exit 1, results kept) when Redis stays unreachable this many seconds" },
    quiet: { type: "boolean", short: "q", description: "no progress line" },
  },
  details: `Study files are described in README ("Running a study on many machines"). Examples:
  damon-sim study plan study.json -o out
  damon-sim study run study.json -o out
  damon-sim study run study.json -o out --backend bullmq --redis redis://10.0.0.5:6379`,
};

function storeOf(args: ParsedArgs, out: string | undefined, readOnly: boolean): ResultStore {
  const s = stringOpt(args, "store") ?? (out !== undefined ? join(out, "store") : undefined);
  if (s === undefined) throw new UsageError("study: give -o DIR (the store is DIR/store) or --store DIR");
  return new ResultStore(s, readOnly);
}

/** Host-time estimate of the jobs not yet cached. */
export function estimate(plan: StudyPlan, store: ResultStore, workers: number): { cached: number; missing: number; cpuSeconds: number; hostSeconds: number; measuredRate: number | null; rate: number } {
  let cached = 0, missing = 0, simCpuMissing = 0, simCpuCached = 0, hostCached = 0, timed = 0;
  for (const j of plan.jobs) {
    const simCpu = (j.spec.durationNs / 1e9) * (plan.cpus[j.axes.machine !== undefined && j.axes.machine !== null ? String(j.axes.machine) : Object.keys(plan.cpus)[0]!] ?? 1);
    if (store.has(j.key)) {
      cached++;
      const w = store.wallSeconds(j.key);
      if (w !== null) {
        hostCached += w;
        simCpuCached += simCpu;
        timed++;
      }
    } else {
      missing++;
      simCpuMissing += simCpu;
    }
  }
  const measuredRate = simCpuCached > 0 ? Math.max(0, hostCached - timed * HOST_SECONDS_PER_JOB) / simCpuCached : null;
  const rate = measuredRate ?? HOST_SECONDS_PER_SIM_CPU_SECOND;
  const cpuSeconds = missing * HOST_SECONDS_PER_JOB + simCpuMissing * rate;
  return { cached, missing, cpuSeconds, hostSeconds: cpuSeconds / Math.max(1, Math.min(workers, missing)), measuredRate, rate };
}

const fmtS = (s: number): string => (s < 120 ? `${s.toFixed(1)} s` : s < 7200 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(1)} h`);

/** Writes the tables and the report from the plan and the store; returns the jobs still missing. */
export function writeOutputs(plan: StudyPlan, store: ResultStore, out: string): PlannedJob[] {
  const { rows, missing } = resultRows(plan, store);
  const summary = summaryRows(plan, rows);
  writeFileAtomic(join(out, "results.csv"), toCsv(rows));
  writeFileAtomic(join(out, "results.json"), toJson(rows));
  writeFileAtomic(join(out, "summary.csv"), toCsv(summary));
  writeFileAtomic(join(out, "summary.json"), toJson(summary));
  writeFileAtomic(join(out, "report.html"), reportHtml(plan, rows, summary));
  return missing;
}

export const command: Command = {
  spec,
  async run(args) {
    const [verb, file] = args.positionals as [string, string];
    if (verb !== "plan" && verb !== "run") throw new UsageError(`study: unknown action '${verb}' (plan or run)`);
    const out = stringOpt(args, "output");
    const backend = stringOpt(args, "backend") ?? "local";
    if (backend !== "local" && backend !== "bullmq") throw new UsageError(`study: --backend must be local or bullmq, got '${backend}'`);
    const redis = stringOpt(args, "redis");
    if (backend === "bullmq" && redis === undefined) throw new UsageError("study: --backend bullmq needs --redis redis://HOST:PORT");
    const workers = intOpt(spec, args, "jobs", 1, 1024);
    const attempts = intOpt(spec, args, "attempts", 1, 100) ?? 3;
    const quiet = args.values.quiet === true;
    if (verb === "run" && out === undefined) throw new UsageError("study run: -o DIR is required");
    const store = storeOf(args, out, verb === "plan");
    if (verb === "run") {
      prepareOutputDir(out!);
      prepareOutputDir(store.dir);
    }
    const plan = loadStudy(file, store);
    const runs = plan.jobs.filter((j) => j.role === "run").length;
    const est = estimate(plan, store, workers ?? availableParallelism());
    if (verb === "plan") {
      const lines = [
        `study ${plan.name}: ${plan.jobs.length} jobs (${runs} runs, ${plan.jobs.length - runs} baselines) over ${plan.axes.map((a) => `${a.name} (${a.values.length})`).join(" x ") || "no axes"}`,
        `cached: ${est.cached} of ${plan.jobs.length} in ${store.dir}; to run: ${est.missing}`,
        `host time to run them: about ${fmtS(est.cpuSeconds)} of CPU, ${fmtS(est.hostSeconds)} on ${workers ?? availableParallelism()} local worker(s)`,
        est.measuredRate !== null
          ? `  (${HOST_SECONDS_PER_JOB} s per job plus ${est.measuredRate.toFixed(3)} host s per simulated s per machine CPU, the rate measured on the cached jobs; rough)`
          : `  (rule of thumb: ${HOST_SECONDS_PER_JOB} s per job plus ${HOST_SECONDS_PER_SIM_CPU_SECOND} host s per simulated s per machine CPU, every CPU of the machine counted as busy; rough, often 2-3x off; 'npm run bench -- hw.path' prints the per-CPU figure by access pattern)`,
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
      return 0;
    }
    const todo = plan.jobs.filter((j) => !store.has(j.key));
    const progress = new StudyProgress(plan.jobs.length, plan.jobs.length - todo.length, quiet);
    if (!quiet && est.cached > 0) process.stderr.write(`study: ${est.cached} of ${plan.jobs.length} jobs already in the store; running ${todo.length}\n`);
    let outcome: BackendOutcome = { failures: [], interrupted: false };
    try {
      if (todo.length > 0) {
        if (backend === "local") {
          const { runLocal } = await import("../study/local.ts");
          outcome = await runLocal(todo, store.dir, { ...(workers !== undefined ? { workers } : {}), onDone: (_k, ok) => progress.finished(ok) });
        } else {
          const { runBullmq } = await import("../study/bullmq.ts");
          outcome = await runBullmq(todo, store.dir, { redis: redis!, queue: stringOpt(args, "queue") ?? "damon-sim-study", attempts, quiet, redisTimeoutMs: (intOpt(spec, args, "redis-timeout", 1, 86_400) ?? 60) * 1000, onDone: (_k, ok) => progress.finished(ok), progressLine: () => progress.line() });
        }
      }
    } finally {
      progress.finish();
    }
    const missing = writeOutputs(plan, store, out!);
    for (const f of outcome.failures) {
      const j = plan.jobs.find((x) => x.key === f.key)!;
      process.stderr.write(`study: job ${f.key.slice(0, 12)} (${Object.entries(j.axes).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`).join(" ")}) failed: ${f.error}\n`);
    }
    if (!quiet) process.stderr.write(`study: ${plan.jobs.length - missing.length}/${plan.jobs.length} jobs have results; tables in ${out}\n`);
    if (outcome.interrupted) return 130;
    return missing.length > 0 || outcome.failures.length > 0 ? 1 : 0;
  },
};
