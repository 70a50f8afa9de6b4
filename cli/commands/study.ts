// `damon-sim study plan FILE` and `damon-sim study run FILE -o DIR`: multi-axis studies of
// content-addressed jobs (cli/study/). plan prints the job count, how many are cached in the
// result store, and a rough host-time estimate; run computes the missing jobs on a backend (local
// piscina threads, or a BullMQ queue served by `damon-sim worker`; results and inputs in a folder
// store, or with --store redis in Redis with a copy in DIR/store) and writes results.csv/.json,
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
import { reportHtml } from "../study/study-report.ts";
import { StudyProgress } from "../study/progress.ts";
import { BACKEND_OPTIONS, backendOf } from "../jobs/backend.ts";
import { runJobs, type BackendOutcome, type SharedStore } from "../study/run-jobs.ts";
import type { Fetched } from "../study/redis-results.ts";

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
    store: { type: "string", value: "DIR|redis", description: "result store: a folder, shared by every worker (default: DIR/store), or redis: results and inputs in the --redis Redis, a copy of the results in DIR/store" },
    ...BACKEND_OPTIONS,
    jobs: { type: "string", short: "j", value: "N", description: "local worker threads (default: one per core)" },
    quiet: { type: "boolean", short: "q", description: "no progress line" },
  },
  details: `Study files are described in README ("Running a study on many machines"). Examples:
  damon-sim study plan study.json -o out
  damon-sim study run study.json -o out
  damon-sim study run study.json -o out --backend bullmq --redis redis://10.0.0.5:6379 --store redis`,
};

/** What estimate() reads of a store: whether a job is in it, and its host time. */
export interface StoreLookup {
  has(key: string): boolean;
  wallSeconds(key: string): number | null;
}

function folderOf(args: ParsedArgs, out: string | undefined): string {
  const s = stringOpt(args, "store");
  const dir = s !== undefined && s !== "redis" ? s : out !== undefined ? join(out, "store") : undefined;
  if (dir === undefined) throw new UsageError(`study: give -o DIR (the store is DIR/store) or --store DIR${s === "redis" ? " (with --store redis, DIR/store keeps a copy of the results)" : ""}`);
  return dir;
}

/** Host-time estimate of the jobs not yet cached. */
export function estimate(plan: StudyPlan, store: StoreLookup, workers: number): { cached: number; missing: number; cpuSeconds: number; hostSeconds: number; measuredRate: number | null; rate: number } {
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

/** Names a job in messages: its key's first digits and its axes. */
const describeJob = (j: PlannedJob): string => `job ${j.key.slice(0, 12)} (${Object.entries(j.axes).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`).join(" ")})`;

export const command: Command = {
  spec,
  async run(args) {
    const [verb, file] = args.positionals as [string, string];
    if (verb !== "plan" && verb !== "run") throw new UsageError(`study: unknown action '${verb}' (plan or run)`);
    const out = stringOpt(args, "output");
    const backend = backendOf(spec, args);
    const redisStore = stringOpt(args, "store") === "redis";
    const redisUrl = stringOpt(args, "redis");
    if (redisStore && redisUrl === undefined) throw new UsageError("study: --store redis needs --redis redis://HOST:PORT");
    const workers = intOpt(spec, args, "jobs", 1, 1024);
    const quiet = args.values.quiet === true;
    if (verb === "run" && out === undefined) throw new UsageError("study run: -o DIR is required");
    const store = new ResultStore(folderOf(args, out), verb === "plan");
    if (verb === "run") {
      prepareOutputDir(out!);
      prepareOutputDir(store.dir);
    }
    const plan = loadStudy(file, store);
    const runs = plan.jobs.filter((j) => j.role === "run").length;
    // with the Redis store: its connection, and the results it holds that the folder lacks
    let shared: (SharedStore & { close: () => void }) | null = null;
    let fromRedis = new Map<string, Fetched>();
    if (redisStore) {
      const { connectReady } = await import("../jobs/redis.ts");
      const { RedisInputs } = await import("../jobs/redis-inputs.ts");
      const { RedisResults } = await import("../study/redis-results.ts");
      const conn = await connectReady(redisUrl!, "study", () => {});
      const results = new RedisResults(conn);
      shared = { results, inputs: new RedisInputs(conn), uploads: plan.inputs, close: () => conn.disconnect() };
      try {
        fromRedis = await results.getMany(plan.jobs.filter((j) => !store.has(j.key)).map((j) => j.key));
      } catch (e) {
        shared.close();
        throw e;
      }
    }
    try {
      const lookup: StoreLookup = { has: (k) => store.has(k) || fromRedis.has(k), wallSeconds: (k) => store.wallSeconds(k) ?? fromRedis.get(k)?.wallSeconds ?? null };
      const est = estimate(plan, lookup, workers ?? availableParallelism());
      if (verb === "plan") {
        const lines = [
          `study ${plan.name}: ${plan.jobs.length} jobs (${runs} runs, ${plan.jobs.length - runs} baselines) over ${plan.axes.map((a) => `${a.name} (${a.values.length})`).join(" x ") || "no axes"}`,
          `cached: ${est.cached} of ${plan.jobs.length} in ${store.dir}${redisStore ? ` and Redis at ${redisUrl}` : ""}; to run: ${est.missing}`,
          `host time to run them: about ${fmtS(est.cpuSeconds)} of CPU, ${fmtS(est.hostSeconds)} on ${workers ?? availableParallelism()} local worker(s)`,
          est.measuredRate !== null
            ? `  (${HOST_SECONDS_PER_JOB} s per job plus ${est.measuredRate.toFixed(3)} host s per simulated s per machine CPU, the rate measured on the cached jobs; rough)`
            : `  (rule of thumb: ${HOST_SECONDS_PER_JOB} s per job plus ${HOST_SECONDS_PER_SIM_CPU_SECOND} host s per simulated s per machine CPU, every CPU of the machine counted as busy; rough, often 2-3x off; 'npm run bench -- hw.path' prints the per-CPU figure by access pattern)`,
        ];
        process.stdout.write(`${lines.join("\n")}\n`);
        return 0;
      }
      // results Redis has and the folder lacks: copied into the folder, the study's own record
      for (const [k, f] of fromRedis) store.put(k, f.stored.spec, f.stored.result, f.wallSeconds ?? 0);
      const todo = plan.jobs.filter((j) => !store.has(j.key));
      const progress = new StudyProgress(plan.jobs.length, plan.jobs.length - todo.length, quiet);
      if (!quiet && est.cached > 0) process.stderr.write(`study: ${est.cached} of ${plan.jobs.length} jobs already in the store${fromRedis.size > 0 ? ` (${fromRedis.size} from Redis)` : ""}; running ${todo.length}\n`);
      let outcome: BackendOutcome = { failures: [], interrupted: false };
      try {
        if (todo.length > 0)
          outcome = await runJobs(todo, { backend, ...(workers !== undefined ? { workers } : {}), quiet, store, shared, onDone: (_k, ok) => progress.finished(ok), progressLine: () => progress.line(), describe: describeJob });
      } finally {
        progress.finish();
      }
      const missing = writeOutputs(plan, store, out!);
      for (const f of outcome.failures) process.stderr.write(`study: ${describeJob(plan.jobs.find((x) => x.key === f.key)!)} failed: ${f.error}\n`);
      if (!quiet) process.stderr.write(`study: ${plan.jobs.length - missing.length}/${plan.jobs.length} jobs have results; tables in ${out}\n`);
      if (outcome.interrupted) return 130;
      return missing.length > 0 || outcome.failures.length > 0 ? 1 : 0;
    } finally {
      shared?.close();
    }
  },
};
