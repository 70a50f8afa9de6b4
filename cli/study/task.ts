// The body of one study job wherever it runs (a piscina thread, a BullMQ sandboxed thread, or in
// process): checks that this simulator computes the key the coordinator asked for (a worker with
// other source would store results under a key that does not describe them), skips a job whose
// result is already stored, else runs it and stores the result atomically.

import { SimError } from "../../sim/errors.ts";
import { jobKey, runJob, simulatorId, type JobSpec } from "./job.ts";
import { ResultStore } from "./store.ts";

export interface JobTask {
  key: string;
  spec: JobSpec;
  store: string;
}

export interface TaskOutcome {
  key: string;
  /** False when the result was in the store already. */
  ran: boolean;
  wallSeconds: number;
}

export function runTask(t: JobTask): TaskOutcome {
  const mine = jobKey(t.spec);
  if (mine !== t.key) {
    const s = simulatorId();
    throw new SimError(`this worker's simulator (version ${s.version}, source ${s.source.slice(0, 12)}) gives job ${t.key.slice(0, 12)} the key ${mine.slice(0, 12)}: run workers from the same damon-sim source as the coordinator`);
  }
  const store = new ResultStore(t.store);
  if (store.has(t.key)) return { key: t.key, ran: false, wallSeconds: 0 };
  const { result, wallSeconds } = runJob(t.spec, store.inputsDir);
  store.put(t.key, t.spec, result, wallSeconds);
  return { key: t.key, ran: true, wallSeconds };
}
