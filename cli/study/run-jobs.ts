// Runs a study's missing jobs on a backend and stores each result in the study's folder store as
// it comes in, so a killed study loses only the jobs in flight. Local: the jobs run on this
// machine's pool (cli/jobs/local.ts), reading their inputs from the folder store. BullMQ: they go
// on the queue under their keys (cli/jobs/queue.ts); a `damon-sim worker` looks each up in the
// shared store (the folder, on a filesystem every worker mounts, or Redis), runs it if absent,
// stores it there and sends the result back. With the Redis store (`shared`), results computed
// here are put there too, and the inputs are uploaded to it for the workers.

import { resolve } from "node:path";
import type { Backend } from "../jobs/backend.ts";
import type { RedisInputs } from "../jobs/redis-inputs.ts";
import type { Settled } from "../jobs/local.ts";
import type { PlannedJob } from "./spec.ts";
import type { RedisResults } from "./redis-results.ts";
import type { ResultStore } from "./store.ts";
import type { JobResult } from "./job.ts";

export interface JobFailure {
  key: string;
  error: string;
}

export interface BackendOutcome {
  failures: JobFailure[];
  interrupted: boolean;
}

/** A Redis result store: the results, and the inputs the study's jobs need uploaded. */
export interface SharedStore {
  results: RedisResults;
  inputs: RedisInputs;
  uploads: Array<{ ref: string; path: string }>;
}

export interface RunJobsOptions {
  backend: Backend;
  /** Local worker threads (default: one per core). */
  workers?: number;
  quiet: boolean;
  store: ResultStore;
  shared: SharedStore | null;
  onDone: (key: string, ok: boolean) => void;
  progressLine: () => string;
  /** Names a job in messages. */
  describe: (job: PlannedJob) => string;
}

export async function runJobs(jobs: PlannedJob[], o: RunJobsOptions): Promise<BackendOutcome> {
  const writes: Array<Promise<void>> = [];
  const keep = (j: PlannedJob, s: Settled<{ result: JobResult; wallSeconds: number }>, toShared: boolean): void => {
    if (s.status === "done") {
      if (!o.store.has(j.key)) o.store.put(j.key, j.spec, s.output.result, s.output.wallSeconds);
      if (toShared && o.shared) writes.push(o.shared.results.put(j.key, j.spec, s.output.result, s.output.wallSeconds));
    }
    o.onDone(j.key, s.status === "done");
  };
  let run: { outcomes: Array<Settled<unknown> | null>; interrupted: boolean };
  if (o.backend.kind === "local") {
    const { runTasks } = await import("../jobs/local.ts");
    run = await runTasks(
      "study-job",
      jobs.map((j) => ({ spec: j.spec, inputsDir: o.store.inputsDir })),
      { ...(o.workers !== undefined ? { workers: o.workers } : {}), onDone: (i, s) => keep(jobs[i]!, s, true) },
    );
    await Promise.all(writes);
  } else {
    const { runQueued } = await import("../jobs/queue.ts");
    const shared = o.shared;
    run = await runQueued(
      "study-job",
      jobs.map((j) => ({ id: j.key, input: { key: j.key, spec: j.spec } })),
      {
        ...o.backend,
        quiet: o.quiet,
        what: "study",
        store: shared ? { kind: "redis" } : { kind: "folder", dir: resolve(o.store.dir) },
        ...(shared
          ? {
              uploadInputs: async () => {
                for (const u of shared.uploads) await shared.inputs.put(u.ref, u.path);
              },
            }
          : {}),
        describe: (i) => o.describe(jobs[i]!),
        onDone: (i, s) => keep(jobs[i]!, s, false),
        progressLine: o.progressLine,
      },
    );
  }
  // in plan order, whatever order the jobs failed in
  const failures = run.outcomes.flatMap((r, i) => (r?.status === "failed" ? [{ key: jobs[i]!.key, error: r.error.message }] : []));
  return { failures, interrupted: run.interrupted };
}
