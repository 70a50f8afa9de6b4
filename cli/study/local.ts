// The study's local backend: runs a study's missing jobs on this machine's cores through the
// local pool (cli/jobs/local.ts, piscina threads). Each job stores its own result as it finishes
// (cli/study/task.ts), so a killed study loses only the jobs in flight. Ctrl-C stops the pool.

import { runTasks } from "../jobs/local.ts";
import type { PlannedJob } from "./spec.ts";

export interface JobFailure {
  key: string;
  error: string;
}

export interface BackendOutcome {
  failures: JobFailure[];
  interrupted: boolean;
}

export async function runLocal(jobs: PlannedJob[], storeDir: string, o: { workers?: number; onDone: (key: string, ok: boolean) => void }): Promise<BackendOutcome> {
  const run = await runTasks(
    "study-job",
    jobs.map((j) => ({ key: j.key, spec: j.spec, store: storeDir })),
    {
      ...(o.workers !== undefined ? { workers: o.workers } : {}),
      onDone: (i, outcome) => o.onDone(jobs[i]!.key, outcome.status === "done"),
    },
  );
  // in plan order, whatever order the jobs failed in
  const failures = run.outcomes.flatMap((r, i) => (r?.status === "failed" ? [{ key: jobs[i]!.key, error: r.error.message }] : []));
  return { failures, interrupted: run.interrupted };
}
