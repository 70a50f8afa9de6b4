// The local backend, the one scheduler of damon-sim's parallel work: runs a list of tasks of one
// kind (tasks.ts: study jobs, compare variants, check cases) on this machine's cores through a
// piscina pool of worker threads (pool-worker.mjs loads TypeScript through tsx; a thread runs
// task after task), in list order, at most `workers` at once. Outcomes come back indexed like
// the inputs whatever order the threads finish in. A task may have a wall-time limit, counted
// from the moment a thread takes it up: past it the thread is stopped (and replaced) and the task
// is "timeout". Ctrl-C stops the pool: the outcomes of the tasks that finished are kept, and
// `started` tells which of the others had begun. Wall time is read only for limits and the
// informational time of each task, never to decide a result.

import { availableParallelism } from "node:os";
import { MessageChannel } from "node:worker_threads";
import { Piscina } from "piscina";
import type { PortMessage, TaskError, TaskInput, TaskKind, TaskOutput, ThreadReply, ThreadTask } from "./tasks.ts";

export type Settled<O> =
  | { status: "done"; output: O; wallMs: number }
  /** The task threw (error as the thread saw it), or its thread died. */
  | { status: "failed"; error: TaskError; wallMs: number }
  | { status: "timeout"; timeoutMs: number; wallMs: number };

export interface LocalOptions<O> {
  /** Worker threads (default: one per core; never more than there are tasks). */
  workers?: number;
  /** Wall-time limit of task `index`, ms (none when undefined). */
  timeoutMs?: (index: number) => number | undefined;
  /** The fraction of task `index` done, as its thread reports it (in steps of 1 %). */
  onProgress?: (index: number, fraction: number) => void;
  /** Called as each task settles, in completion order; not after Ctrl-C. */
  onDone?: (index: number, outcome: Settled<O>) => void;
}

export interface LocalRun<O> {
  /** By input index; null for the tasks that had not settled when Ctrl-C came. */
  outcomes: Array<Settled<O> | null>;
  /** Whether a thread had taken task `index` up. */
  started: boolean[];
  interrupted: boolean;
}

function errorOf(e: unknown): TaskError {
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: err.name, message: err.message, stack: err.stack ?? "" };
}

export async function runTasks<K extends TaskKind>(kind: K, inputs: ReadonlyArray<TaskInput<K>>, o: LocalOptions<TaskOutput<K>> = {}): Promise<LocalRun<TaskOutput<K>>> {
  type O = TaskOutput<K>;
  const outcomes: Array<Settled<O> | null> = inputs.map(() => null);
  const started = inputs.map(() => false);
  if (inputs.length === 0) return { outcomes, started, interrupted: false };
  const threads = Math.max(1, Math.min(o.workers ?? availableParallelism(), inputs.length));
  const pool = new Piscina<ThreadTask<K>, ThreadReply<K>>({ filename: new URL("./pool-worker.mjs", import.meta.url).href, minThreads: threads, maxThreads: threads, idleTimeout: 1000 });
  let interrupted = false;
  let destroyed: Promise<void> | null = null;
  const onSigint = (): void => {
    interrupted = true;
    destroyed = pool.destroy();
  };
  const runOne = async (input: TaskInput<K>, i: number): Promise<void> => {
    const { port1, port2 } = new MessageChannel();
    const abort = new AbortController();
    const limit = o.timeoutMs?.(i);
    let t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    let settled = false;
    port1.on("message", (m: PortMessage) => {
      if (settled) return;
      if (m.kind === "progress") {
        o.onProgress?.(i, m.fraction);
        return;
      }
      started[i] = true;
      t0 = performance.now();
      if (limit !== undefined)
        timer = setTimeout(() => {
          timedOut = true;
          abort.abort();
        }, limit);
    });
    let out: Settled<O>;
    try {
      const r = await pool.run({ kind, input, port: port2 }, { transferList: [port2], signal: abort.signal });
      out = r.ok ? { status: "done", output: r.output, wallMs: r.wallMs } : { status: "failed", error: r.error, wallMs: r.wallMs };
    } catch (e) {
      const wallMs = performance.now() - t0;
      out = timedOut ? { status: "timeout", timeoutMs: limit!, wallMs } : { status: "failed", error: errorOf(e), wallMs };
    } finally {
      settled = true;
      clearTimeout(timer);
      port1.close();
    }
    if (interrupted) return;
    outcomes[i] = out;
    o.onDone?.(i, out);
  };
  process.once("SIGINT", onSigint);
  try {
    await Promise.all(inputs.map(runOne));
  } finally {
    process.removeListener("SIGINT", onSigint);
    await (destroyed ?? pool.destroy());
  }
  return { outcomes, started, interrupted };
}
