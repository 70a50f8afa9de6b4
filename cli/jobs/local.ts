// The local backend, the one scheduler of damon-sim's parallel work: a piscina pool of worker
// threads (pool-worker.mjs loads TypeScript through tsx; a thread runs task after task) that runs
// tasks of the kinds in tasks.ts (study jobs, compare variants, check cases) on this machine's
// cores. LocalPool runs one task at a time as asked (`damon-sim worker` serves a queue on one);
// runTasks() runs a list in list order, at most `workers` at once, and hands the outcomes back
// indexed like the inputs whatever order the threads finish in. A task may have a wall-time
// limit, counted from the moment a thread takes it up: past it the thread is stopped (and
// replaced) and the task is "timeout". Ctrl-C stops runTasks' pool: the outcomes of the tasks
// that finished are kept, and `started` tells which of the others had begun. Wall time is read
// only for limits and the informational time of each task, never to decide a result.

import { availableParallelism } from "node:os";
import { MessageChannel } from "node:worker_threads";
import { Piscina } from "piscina";
import { errorOf } from "./thread.ts";
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

/** What one task run on the pool may be told. */
export interface RunOneOptions {
  /** Wall-time limit from the moment a thread takes the task up, ms. */
  timeoutMs?: number;
  /** Called once, when a thread takes the task up. */
  onStart?: () => void;
  onProgress?: (fraction: number) => void;
}

/** A pool of `threads` worker threads kept until destroy(); tasks beyond that wait their turn. */
export class LocalPool {
  private readonly pool: Piscina<ThreadTask, ThreadReply>;
  private destroyed: Promise<void> | null = null;
  constructor(readonly threads: number) {
    this.pool = new Piscina<ThreadTask, ThreadReply>({ filename: new URL("./pool-worker.mjs", import.meta.url).href, minThreads: threads, maxThreads: threads, idleTimeout: 1000 });
  }

  /** Runs one task; never rejects (a task that throws, or whose thread dies, is "failed"). */
  async run<K extends TaskKind>(kind: K, input: TaskInput<K>, o: RunOneOptions = {}): Promise<Settled<TaskOutput<K>>> {
    const { port1, port2 } = new MessageChannel();
    const abort = new AbortController();
    let t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    let settled = false;
    port1.on("message", (m: PortMessage) => {
      if (settled) return;
      if (m.kind === "progress") {
        o.onProgress?.(m.fraction);
        return;
      }
      t0 = performance.now();
      o.onStart?.();
      if (o.timeoutMs !== undefined)
        timer = setTimeout(() => {
          timedOut = true;
          abort.abort();
        }, o.timeoutMs);
    });
    try {
      const r = (await this.pool.run({ kind, input, port: port2 }, { transferList: [port2], signal: abort.signal })) as ThreadReply<K>;
      return r.ok ? { status: "done", output: r.output, wallMs: r.wallMs } : { status: "failed", error: r.error, wallMs: r.wallMs };
    } catch (e) {
      const wallMs = performance.now() - t0;
      return timedOut ? { status: "timeout", timeoutMs: o.timeoutMs!, wallMs } : { status: "failed", error: errorOf(e), wallMs };
    } finally {
      settled = true;
      clearTimeout(timer);
      port1.close();
    }
  }

  /** Stops every thread (tasks in flight settle as failed); idempotent. */
  destroy(): Promise<void> {
    this.destroyed ??= this.pool.destroy();
    return this.destroyed;
  }
}

export async function runTasks<K extends TaskKind>(kind: K, inputs: ReadonlyArray<TaskInput<K>>, o: LocalOptions<TaskOutput<K>> = {}): Promise<LocalRun<TaskOutput<K>>> {
  type O = TaskOutput<K>;
  const outcomes: Array<Settled<O> | null> = inputs.map(() => null);
  const started = inputs.map(() => false);
  if (inputs.length === 0) return { outcomes, started, interrupted: false };
  const pool = new LocalPool(Math.max(1, Math.min(o.workers ?? availableParallelism(), inputs.length)));
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
    void pool.destroy();
  };
  const runOne = async (input: TaskInput<K>, i: number): Promise<void> => {
    const limit = o.timeoutMs?.(i);
    const out = await pool.run(kind, input, {
      ...(limit !== undefined ? { timeoutMs: limit } : {}),
      onStart: () => (started[i] = true),
      onProgress: (f) => o.onProgress?.(i, f),
    });
    if (interrupted) return;
    outcomes[i] = out;
    o.onDone?.(i, out);
  };
  process.once("SIGINT", onSigint);
  try {
    await Promise.all(inputs.map(runOne));
  } finally {
    process.removeListener("SIGINT", onSigint);
    await pool.destroy();
  }
  return { outcomes, started, interrupted };
}
