// The local backend: runs a study's missing jobs on this machine's cores through a piscina pool
// (worker threads that load TypeScript through tsx, see pool-worker.mjs). Each job stores its own
// result as it finishes, so a killed study loses only the jobs in flight. Ctrl-C stops the pool.

import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import type { PlannedJob } from "./spec.ts";
import type { JobTask, TaskOutcome } from "./task.ts";

export interface JobFailure {
  key: string;
  error: string;
}

export interface BackendOutcome {
  failures: JobFailure[];
  interrupted: boolean;
}

export async function runLocal(jobs: PlannedJob[], storeDir: string, o: { workers?: number; onDone: (key: string, ok: boolean) => void }): Promise<BackendOutcome> {
  const threads = Math.max(1, Math.min(o.workers ?? availableParallelism(), jobs.length));
  const pool = new Piscina<JobTask, TaskOutcome>({ filename: new URL("./pool-worker.mjs", import.meta.url).href, minThreads: threads, maxThreads: threads, idleTimeout: 1000 });
  const failures: JobFailure[] = [];
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
    void pool.destroy();
  };
  process.once("SIGINT", onSigint);
  try {
    await Promise.all(
      jobs.map(async (j) => {
        try {
          await pool.run({ key: j.key, spec: j.spec, store: storeDir });
          o.onDone(j.key, true);
        } catch (e) {
          if (interrupted) return;
          failures.push({ key: j.key, error: e instanceof Error ? e.message : String(e) });
          o.onDone(j.key, false);
        }
      }),
    );
  } finally {
    process.removeListener("SIGINT", onSigint);
    if (!interrupted) await pool.destroy();
  }
  return { failures, interrupted };
}
