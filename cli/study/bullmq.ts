// The BullMQ backend (bullmq 6 on ioredis): the coordinator (`study run --backend bullmq`) puts
// each missing job on a queue under its key as the job id (so a job is queued once however many
// coordinators ask), with retries and exponential backoff, then waits for every key to be in the
// result store or to fail for good. It prints the fleet: workers that joined, jobs in flight,
// each final failure with its error. `damon-sim worker` (runWorker) serves the queue: every job
// runs in a sandboxed worker thread (bull-processor.mjs), so the main thread keeps renewing its
// lock; a worker that dies loses its lock and the job is moved back and run elsewhere (stalled
// jobs). Jobs are pure and idempotent, so a job run twice stores the same bytes.

import { hostname } from "node:os";
import { fileURLToPath } from "node:url";
import { Job, Queue, QueueEvents, Worker, type JobsOptions } from "bullmq";
import { Redis } from "ioredis";
import { OutputFailure, SimError, UsageError } from "../../sim/errors.ts";
import type { BackendOutcome, JobFailure } from "./local.ts";
import type { PlannedJob } from "./spec.ts";
import { ResultStore } from "./store.ts";
import type { JobTask, TaskOutcome } from "./task.ts";

function connect(url: string, what: string, onError: (m: string) => void): Redis {
  if (!/^rediss?:\/\//.test(url)) throw new UsageError(`${what}: --redis must be a redis://HOST:PORT URL, got '${url}'`);
  const r = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
  r.on("error", (e: Error) => onError(e.message));
  return r;
}

/** Waits for a connection, or fails with a clear message after `ms`. */
async function ready(r: Redis, url: string, ms: number): Promise<void> {
  if (r.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new OutputFailure(`cannot reach Redis at ${url} within ${ms / 1000} s (is redis-server running there, and reachable from this machine?)`)), ms);
    r.once("ready", () => {
      clearTimeout(t);
      resolve();
    });
  });
}

export interface BullmqOptions {
  redis: string;
  queue: string;
  attempts: number;
  quiet: boolean;
  /** Give up when Redis stays unreachable this long (ms). */
  redisTimeoutMs: number;
  onDone: (key: string, ok: boolean) => void;
  progressLine: () => string;
}

export async function runBullmq(jobs: PlannedJob[], storeDir: string, o: BullmqOptions): Promise<BackendOutcome> {
  let lastErr = "";
  const note = (m: string): void => {
    if (!o.quiet) process.stderr.write(`${process.stderr.isTTY ? "\r\x1b[K" : ""}study: ${m}\n`);
  };
  const onError = (m: string): void => {
    if (m !== lastErr) note(`Redis connection: ${m} (reconnecting)`);
    lastErr = m;
  };
  const conn = connect(o.redis, "study", onError);
  try {
    await ready(conn, o.redis, 10_000);
  } catch (e) {
    conn.disconnect();
    throw e;
  }
  const evConn = connect(o.redis, "study", onError);
  const queue = new Queue<JobTask, TaskOutcome>(o.queue, { connection: conn });
  const events = new QueueEvents(o.queue, { connection: evConn });
  queue.on("error", (e: Error) => onError(e.message));
  events.on("error", (e: Error) => onError(e.message));
  const store = new ResultStore(storeDir);
  const pending = new Map(jobs.map((j) => [j.key, j]));
  const failures: JobFailure[] = [];
  const seen = new Set<string>();
  let interrupted = false;
  let wake: () => void = () => {};
  const finish = (key: string, error: string | null): void => {
    if (!pending.has(key)) return;
    pending.delete(key);
    if (error !== null) failures.push({ key, error });
    o.onDone(key, error === null);
    if (pending.size === 0) wake();
  };
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
    events.on("completed", ({ jobId }) => {
      if (store.has(jobId)) finish(jobId, null);
    });
    events.on("failed", ({ jobId, failedReason }) => {
      void (async () => {
        const job = await Job.fromId(queue, jobId);
        const state = job ? await job.getState() : "failed";
        if (state === "failed") finish(jobId, failedReason);
        else note(`job ${jobId.slice(0, 12)} attempt failed: ${failedReason} (retrying)`);
      })().catch(() => {});
    });
    // a job failed for good in an earlier study stays in the queue under its id: clear it first
    for (const j of jobs) {
      const old = await Job.fromId(queue, j.key);
      if (old && (await old.isFailed())) await old.remove();
    }
    const entry = (j: PlannedJob): { name: string; data: JobTask; opts: JobsOptions } => ({
      name: "study-job",
      data: { key: j.key, spec: j.spec, store: storeDir },
      opts: { jobId: j.key, attempts: o.attempts, backoff: { type: "exponential", delay: 500 }, removeOnComplete: true, removeOnFail: { age: 24 * 3600 } },
    });
    await queue.addBulk(jobs.map(entry));
    note(`${jobs.length} jobs on queue '${o.queue}' at ${o.redis}; waiting for workers ('damon-sim worker --redis ${o.redis}')`);
    // poll: the fleet, jobs in flight, and results that landed while an event was missed
    let inFlight = 0;
    const requeued = new Map<string, number>();
    let downSince: number | null = null;
    let giveUp: (e: Error) => void = () => {};
    const lost = new Promise<never>((_, reject) => (giveUp = reject));
    lost.catch(() => {});
    const watchdog = setInterval(() => {
      if (conn.status === "ready") downSince = null;
      else if (downSince === null) downSince = Date.now();
      else if (Date.now() - downSince > o.redisTimeoutMs) giveUp(new SimError(`lost Redis at ${o.redis} for ${Math.round(o.redisTimeoutMs / 1000)} s (${jobs.length - pending.size} of ${jobs.length} jobs finished; their results are in the store ${storeDir}): start Redis again and rerun the same command to resume`));
    }, 250);
    try {
      while (pending.size > 0 && !interrupted) {
        await Promise.race([lost, pollOnce()]);
        if (!o.quiet && process.stderr.isTTY) process.stderr.write(`\r${o.progressLine()}, ${inFlight} in flight, ${seen.size} workers\x1b[K`);
        if (pending.size === 0) break;
        await Promise.race([
          lost,
          new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, 500);
          }),
        ]);
      }
    } finally {
      clearInterval(watchdog);
    }
    note(`workers seen: ${[...seen].sort().join(", ") || "none"}`);
    async function pollOnce(): Promise<void> {
      for (const k of [...pending.keys()]) if (store.has(k)) finish(k, null);
      for (const k of [...pending.keys()]) {
        const job = await Job.fromId(queue, k);
        if (job && (await job.getState()) === "failed") finish(k, job.failedReason || "failed");
        if (!job && !store.has(k)) {
          // gone without a result: Redis restarted without persistence, or someone removed it
          const n = (requeued.get(k) ?? 0) + 1;
          requeued.set(k, n);
          if (n > 3) finish(k, "the job left the queue without a result 3 times (Redis restarted, or removed by someone else?)");
          else {
            note(`job ${k.slice(0, 12)} is no longer on the queue and has no result (Redis restarted?): queued again`);
            await queue.add(entry(pending.get(k)!).name, entry(pending.get(k)!).data, entry(pending.get(k)!).opts);
          }
        }
      }
      try {
        for (const w of await queue.getWorkers()) {
          // the client name is bull:<queue in base64>:w:<worker name>
          const raw = w.rawname ?? w.name ?? "?";
          const name = raw.includes(":w:") ? raw.slice(raw.indexOf(":w:") + 3) : raw;
          if (!seen.has(name)) {
            seen.add(name);
            note(`worker ${name} joined (${seen.size} seen)`);
          }
        }
        inFlight = await queue.getActiveCount();
      } catch {
        // reported through the connection's error handler
      }
    }
  } finally {
    process.removeListener("SIGINT", onSigint);
    const within = (p: Promise<void>): Promise<void> => Promise.race([p.catch(() => {}), new Promise<void>((r) => setTimeout(r, 2000).unref())]);
    await within(events.close());
    await within(queue.close());
    conn.disconnect();
    evConn.disconnect();
  }
  return { failures, interrupted };
}

export interface WorkerOptions {
  redis: string;
  queue: string;
  concurrency: number;
  /** Overrides the store folder the coordinator named (a different mount point here). */
  store?: string;
  lockDurationMs: number;
  quiet: boolean;
}

/** Serves the queue until SIGINT/SIGTERM; resolves to the exit status. */
export async function runWorker(o: WorkerOptions): Promise<number> {
  const log = (m: string): void => {
    if (!o.quiet) process.stderr.write(`worker: ${m}\n`);
  };
  let lastErr = "";
  const conn = connect(o.redis, "worker", (m) => {
    if (m !== lastErr) log(`Redis connection: ${m} (reconnecting)`);
    lastErr = m;
  });
  try {
    await ready(conn, o.redis, 10_000);
  } catch (e) {
    conn.disconnect();
    throw e;
  }
  if (o.store !== undefined) process.env.DAMON_SIM_STUDY_STORE = o.store;
  const name = `${hostname()}:${process.pid}`;
  const processor = fileURLToPath(new URL("./bull-processor.mjs", import.meta.url));
  const w = new Worker<JobTask, TaskOutcome>(o.queue, processor, {
    connection: conn,
    concurrency: o.concurrency,
    useWorkerThreads: true,
    name,
    lockDuration: o.lockDurationMs,
    stalledInterval: Math.max(500, Math.round(o.lockDurationMs / 2)),
    maxStalledCount: 2,
  });
  w.on("active", (job) => log(`job ${String(job.id).slice(0, 12)} started`));
  w.on("completed", (job, r) => log(`job ${String(job.id).slice(0, 12)} ${r.ran ? `done in ${r.wallSeconds.toFixed(2)} s` : "was in the store already"}`));
  w.on("failed", (job, e) => log(`job ${String(job?.id).slice(0, 12)} failed (attempt ${job?.attemptsMade ?? "?"}): ${e.message}`));
  w.on("error", (e) => {
    if (e.message !== lastErr) log(`error: ${e.message}`);
    lastErr = e.message;
  });
  log(`${name} serving queue '${o.queue}' at ${o.redis} with ${o.concurrency} thread(s)`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  log("stopping (finishing jobs in flight)");
  await w.close();
  conn.disconnect();
  return 0;
}
