// What a task is on the queue (the BullMQ backend, queue.ts and worker.ts): the job's data (its
// kind, its input in the wire format, the simulator that must run it, where its inputs and results
// are kept) and, per kind, the input as queued and the output that comes back. A study job is
// queued as its key and spec (the worker looks the result up in the shared store, or runs it and
// stores it) and comes back with its result; a compare variant and a check case are queued whole,
// their input files named by reference (inputs.ts) instead of by path, and come back as the local
// pool would give them. withRefs() makes those references on the coordinator, withPaths() turns
// them back into local paths on a worker, and renamePaths() puts names back into an error (a
// worker's paths as references, the references as the coordinator's paths), so a failure reads
// the same as on the local pool.

import { existsSync, statSync } from "node:fs";
import { extname } from "node:path";
import { preset } from "../../hw/presets.ts";
import { listWorkloads } from "../../workloads/registry.ts";
import type { JobResult, JobSpec } from "../study/job.ts";
import { parseRef } from "./inputs.ts";
import type { Settled } from "./local.ts";
import type { TaskKind, Tasks } from "./tasks.ts";

export interface Queued {
  "study-job": { input: { key: string; spec: JobSpec }; output: { result: JobResult; wallSeconds: number; ran: boolean } };
  "compare-variant": Tasks["compare-variant"];
  "check-case": Tasks["check-case"];
}
export type QueuedInput<K extends TaskKind> = Queued[K]["input"];
export type QueuedOutput<K extends TaskKind> = Queued[K]["output"];

/** Where a job's inputs (and a study job's result) are kept: a folder as the coordinator names it, or the queue's Redis. */
export type StoreRef = { kind: "folder"; dir: string } | { kind: "redis" };

/** A BullMQ job's data. */
export interface JobData {
  kind: TaskKind;
  /** The QueuedInput in the wire format (wire.ts). */
  input: string;
  /** simulatorId("cli/jobs/thread.ts") of the coordinator: a worker with other source refuses the job. */
  simulator: { version: string; source: string };
  store: StoreRef;
  /** Wall-time limit once a thread takes the task up (check cases), ms. */
  timeoutMs: number | null;
  /** Whether the coordinator shows the task's progress (a worker then reports it). */
  progress: boolean;
}

/** A finished job's return value, in the wire format: the task settled as done, timed out, or failed on its last attempt. */
export type JobReply<K extends TaskKind> = Settled<QueuedOutput<K>>;

/** The module whose imports, followed, are everything a worker runs: its simulator id must match. */
export const WORKER_ENTRY = "cli/jobs/thread.ts";

const isFile = (p: string): boolean => existsSync(p) && statSync(p).isFile();

/** Whether a workload argument names a file (as workloads/registry.ts resolves it: built-in and shipped names win unless it looks like a path). */
function isWorkloadFile(w: string): boolean {
  const pathLike = w.includes("/") || w.includes("\\") || extname(w) !== "";
  return isFile(w) && (pathLike || !listWorkloads().some((x) => x.name === w));
}

/** Whether a machine argument names a file (presets win, as run-setup.ts's machineConfig()). */
const isMachineFile = (m: string): boolean => preset(m) === undefined && isFile(m);

type FileKind = "compare-variant" | "check-case";

/** A field of a task input that may name a file. */
interface FileField<I> {
  workload: boolean;
  get: (i: I) => string | undefined;
  set: (i: I, v: string) => I;
}

const FILE_FIELDS: { [K in FileKind]: Array<FileField<QueuedInput<K>>> } = {
  "compare-variant": [
    { workload: true, get: (i) => i.experiment.workload, set: (i, v) => ({ ...i, experiment: { ...i.experiment, workload: v } }) },
    { workload: false, get: (i) => i.experiment.machine, set: (i, v) => ({ ...i, experiment: { ...i.experiment, machine: v } }) },
  ],
  "check-case": [
    { workload: true, get: (c) => c.workloadArg, set: (c, v) => ({ ...c, workloadArg: v }) },
    { workload: false, get: (c) => (typeof c.run.machine === "string" ? c.run.machine : undefined), set: (c, v) => ({ ...c, run: { ...c.run, machine: v } }) },
  ],
};

/** `input` with each file field `f` gives a value for replaced by it. */
async function mapFiles<K extends FileKind>(kind: K, input: QueuedInput<K>, f: (value: string, workload: boolean) => Promise<string | null>): Promise<QueuedInput<K>> {
  let out = input;
  for (const field of FILE_FIELDS[kind] as Array<FileField<QueuedInput<K>>>) {
    const v = field.get(out);
    const r = v === undefined ? null : await f(v, field.workload);
    if (r !== null) out = field.set(out, r);
  }
  return out;
}

/** Fields that name files on this machine replaced by `ref(path)` (the file's reference, which the caller uploads). */
export function withRefs<K extends FileKind>(kind: K, input: QueuedInput<K>, ref: (path: string) => string): Promise<QueuedInput<K>> {
  return mapFiles(kind, input, async (v, workload) => ((workload ? isWorkloadFile(v) : isMachineFile(v)) ? ref(v) : null));
}

/** References (parseRef) replaced by the local paths `path(ref)` gives, fetching what is missing. */
export function withPaths<K extends FileKind>(kind: K, input: QueuedInput<K>, path: (ref: string) => Promise<string>): Promise<QueuedInput<K>> {
  return mapFiles(kind, input, async (v) => (parseRef(v) ? path(v) : null));
}

/** A failed outcome with every occurrence of each key of `names` in its error replaced by the value. */
export function renamePaths<O>(s: Settled<O>, names: ReadonlyMap<string, string>): Settled<O> {
  if (s.status !== "failed" || names.size === 0) return s;
  const swap = (t: string): string => [...names].reduce((acc, [from, to]) => acc.split(from).join(to), t);
  return { ...s, error: { ...s.error, message: swap(s.error.message), stack: swap(s.error.stack) } };
}
