// The BullMQ backend's coordinator (bullmq 6 on ioredis), for every kind of task: puts each item
// on the queue under its id (content-addressed, so a job is queued once however many coordinators
// ask, and a finished one still on the queue is taken as it is), with retries and exponential
// backoff, and waits until every item has come back (done, timed out, or failed for good) as
// `damon-sim worker` (worker.ts) processes them. Outcomes are handed back indexed like the items,
// exactly as the local pool (local.ts) would give them, whatever order they finished in. It prints
// the fleet: workers that joined, jobs in flight (on a terminal) and failed attempts (callers
// print each final failure with its error, as they do for the local pool). A job that leaves the queue without a result (a Redis restarted without
// persistence) is queued again, after the inputs are uploaded again (`uploadInputs`); Redis
// unreachable for `redisTimeoutMs` ends the run with a clear message (what finished is kept by
// the caller as it comes in). Ctrl-C stops waiting; queued jobs stay for the workers.

import { Job, Queue, QueueEvents, type JobsOptions } from "bullmq";
import type { Redis } from "ioredis";
import { SimError } from "../../sim/errors.ts";
import { simulatorId } from "../study/job.ts";
import type { LocalRun, Settled } from "./local.ts";
import { WORKER_ENTRY, type JobData, type JobReply, type QueuedInput, type QueuedOutput, type StoreRef } from "./queued.ts";
import { connectReady } from "./redis.ts";
import type { TaskKind } from "./tasks.ts";
import { fromWire, toWire } from "./wire.ts";

export interface QueueItem<K extends TaskKind> {
  /** The job id: a digest of everything that decides the outcome (items with one id share a job). */
  id: string;
  input: QueuedInput<K>;
  /** Wall-time limit on the worker once a thread takes it up, ms. */
  timeoutMs?: number;
}

export interface QueueOptions<O> {
  redis: string;
  queue: string;
  attempts: number;
  quiet: boolean;
  /** Give up when Redis stays unreachable this long (ms). */
  redisTimeoutMs: number;
  /** The command, for messages ("study", "compare", "check"). */
  what: string;
  store: StoreRef;
  /** Puts the items' input files where workers fetch them; run first, and again before lost jobs are queued again. */
  uploadInputs?: () => Promise<void>;
  /** Names item `index` in messages (default: its id's first 12 digits). */
  describe?: (index: number) => string;
  onDone?: (index: number, outcome: Settled<O>) => void | Promise<void>;
  onProgress?: (index: number, fraction: number) => void;
  /** The caller's progress line, redrawn on a terminal with the jobs in flight and workers seen. */
  progressLine?: () => string;
}

/** Seconds between full looks at every pending job's state (events bring most news sooner). */
const POLL_MS = 2000;
const TICK_MS = 500;

export async function runQueued<K extends TaskKind>(kind: K, items: ReadonlyArray<QueueItem<K>>, o: QueueOptions<QueuedOutput<K>>): Promise<LocalRun<QueuedOutput<K>>> {
  type O = QueuedOutput<K>;
  const outcomes: Array<Settled<O> | null> = items.map(() => null);
  const started = items.map(() => false);
  if (items.length === 0) return { outcomes, started, interrupted: false };
  const byId = new Map<string, number[]>();
  items.forEach((it, i) => byId.set(it.id, [...(byId.get(it.id) ?? []), i]));
  const name = (id: string): string => (o.describe ? o.describe(byId.get(id)![0]!) : `job ${id.slice(0, 12)}`);
  let lastErr = "";
  const note = (m: string): void => {
    if (!o.quiet) process.stderr.write(`${process.stderr.isTTY ? "\r\x1b[K" : ""}${o.what}: ${m}\n`);
  };
  const onError = (m: string): void => {
    if (m !== lastErr) note(`Redis connection: ${m} (reconnecting)`);
    lastErr = m;
  };
  const conn = await connectReady(o.redis, o.what, onError);
  let evConn: Redis;
  try {
    evConn = await connectReady(o.redis, o.what, onError);
  } catch (e) {
    conn.disconnect();
    throw e;
  }
  const queue = new Queue(o.queue, { connection: conn });
  const events = new QueueEvents(o.queue, { connection: evConn });
  queue.on("error", (e: Error) => onError(e.message));
  events.on("error", (e: Error) => onError(e.message));
  const pending = new Set(byId.keys());
  const simulator = simulatorId(WORKER_ENTRY);
  let interrupted = false;
  let wake: () => void = () => {};
  const settle = async (id: string, outcome: Settled<O>): Promise<void> => {
    if (!pending.delete(id)) return;
    for (const i of byId.get(id)!) {
      outcomes[i] = outcome;
      await o.onDone?.(i, outcome);
    }
    if (pending.size === 0) wake();
  };
  /** Takes a completed job's return value (and removes the job); false if it is gone. */
  const collect = async (id: string): Promise<boolean> => {
    const job = await Job.fromId(queue, id);
    if (!job || typeof job.returnvalue !== "string") return false;
    await settle(id, fromWire<JobReply<K>>(job.returnvalue));
    await job.remove().catch(() => {});
    return true;
  };
  const failedForGood = (id: string, reason: string): Promise<void> => settle(id, { status: "failed", error: { name: "Error", message: reason, stack: "" }, wallMs: 0 });
  const onSigint = (): void => {
    interrupted = true;
    wake();
  };
  process.once("SIGINT", onSigint);
  try {
    conn.on("ready", () => {
      if (lastErr) note("Redis connection back");
      lastErr = "";
    });
    await events.waitUntilReady();
    const later = (p: Promise<unknown>): void => void p.catch(() => {});
    events.on("active", ({ jobId }) => {
      for (const i of byId.get(jobId) ?? []) started[i] = true;
    });
    events.on("progress", ({ jobId, data }) => {
      if (typeof data === "number") for (const i of byId.get(jobId) ?? []) o.onProgress?.(i, data);
    });
    events.on("completed", ({ jobId }) => {
      if (pending.has(jobId)) later(collect(jobId));
    });
    events.on("failed", ({ jobId, failedReason }) => {
      if (!pending.has(jobId)) return;
      later(
        (async () => {
          const state = await queue.getJobState(jobId);
          if (state === "failed") await failedForGood(jobId, failedReason);
          else note(`${name(jobId)}: an attempt failed: ${failedReason} (retrying)`);
        })(),
      );
    });
    await o.uploadInputs?.();
    const entry = (id: string): { name: string; data: JobData; opts: JobsOptions } => {
      const it = items[byId.get(id)![0]!]!;
      return {
        name: kind,
        data: { kind, input: toWire(it.input), simulator, store: o.store, timeoutMs: it.timeoutMs ?? null, progress: o.onProgress !== undefined },
        opts: { jobId: id, attempts: o.attempts, backoff: { type: "exponential", delay: 500 }, removeOnComplete: { age: 3600 }, removeOnFail: { age: 24 * 3600 } },
      };
    };
    // a job that failed for good earlier stays on the queue under its id: clear it first
    const ids = [...pending];
    await Promise.all(
      ids.map(async (id) => {
        if ((await queue.getJobState(id)) === "failed") await (await Job.fromId(queue, id))?.remove();
      }),
    );
    await queue.addBulk(ids.map(entry));
    note(`${ids.length} jobs on queue '${o.queue}' at ${o.redis}; waiting for workers ('damon-sim worker --redis ${o.redis}')`);
    let inFlight = 0;
    const seen = new Set<string>();
    const requeued = new Map<string, number>();
    let downSince: number | null = null;
    let giveUp: (e: Error) => void = () => {};
    const lost = new Promise<never>((_, reject) => (giveUp = reject));
    lost.catch(() => {});
    const watchdog = setInterval(() => {
      if (conn.status === "ready") downSince = null;
      else if (downSince === null) downSince = Date.now();
      else if (Date.now() - downSince > o.redisTimeoutMs) giveUp(new SimError(`lost Redis at ${o.redis} for ${Math.round(o.redisTimeoutMs / 1000)} s (${items.length - pending.size} of ${items.length} finished and kept): start Redis again and rerun the same command to resume`));
    }, 250);
    /** Every pending job's state: collect the finished, settle the failed, queue the lost again. */
    const poll = async (): Promise<void> => {
      const states = await Promise.all([...pending].map(async (id) => [id, await queue.getJobState(id)] as const));
      const gone: string[] = [];
      for (const [id, state] of states) {
        if (!pending.has(id)) continue;
        if (state === "completed") {
          if (!(await collect(id)) && pending.has(id)) gone.push(id);
        } else if (state === "failed") await failedForGood(id, (await Job.fromId(queue, id))?.failedReason || "failed");
        else if (state === "unknown") gone.push(id);
      }
      if (gone.length > 0) {
        // gone without a result: Redis restarted without persistence, or someone removed it
        await o.uploadInputs?.();
        for (const id of gone) {
          const n = (requeued.get(id) ?? 0) + 1;
          requeued.set(id, n);
          if (n > 3) await failedForGood(id, "the job left the queue without a result 3 times (Redis restarted, or removed by someone else?)");
          else {
            note(`${name(id)} is no longer on the queue and has no result (Redis restarted?): queued again`);
            const e = entry(id);
            await queue.add(e.name, e.data, e.opts);
          }
        }
      }
    };
    const fleet = async (): Promise<void> => {
      try {
        for (const w of await queue.getWorkers()) {
          // the client name is bull:<queue in base64>:w:<worker name>
          const raw = w.rawname ?? w.name ?? "?";
          const wname = raw.includes(":w:") ? raw.slice(raw.indexOf(":w:") + 3) : raw;
          if (!seen.has(wname)) {
            seen.add(wname);
            note(`worker ${wname} joined (${seen.size} seen)`);
          }
        }
        inFlight = await queue.getActiveCount();
      } catch {
        // reported through the connection's error handler
      }
    };
    try {
      let lastPoll = -Infinity;
      while (pending.size > 0 && !interrupted) {
        const now = performance.now();
        const work = now - lastPoll >= POLL_MS ? (async () => {
          lastPoll = now;
          await poll();
          await fleet();
        })() : Promise.resolve();
        await Promise.race([lost, work]);
        if (!o.quiet && process.stderr.isTTY && o.progressLine) process.stderr.write(`\r${o.progressLine()}, ${inFlight} in flight, ${seen.size} workers\x1b[K`);
        if (pending.size === 0) break;
        await Promise.race([
          lost,
          new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, TICK_MS);
          }),
        ]);
      }
    } finally {
      clearInterval(watchdog);
    }
    note(`workers seen: ${[...seen].sort().join(", ") || "none"}`);
  } finally {
    process.removeListener("SIGINT", onSigint);
    const within = (p: Promise<void>): Promise<void> => Promise.race([p.catch(() => {}), new Promise<void>((r) => setTimeout(r, 2000).unref())]);
    await within(events.close());
    await within(queue.close());
    conn.disconnect();
    evConn.disconnect();
  }
  return { outcomes, started, interrupted };
}
