// `damon-sim worker`: serves a BullMQ queue (every kind of task: study jobs, compare variants,
// check cases) on this machine until SIGINT or SIGTERM. Each job runs on a local pool of worker
// threads (local.ts, the scheduler --backend local uses; one thread per unit of --concurrency),
// so this thread only moves data and keeps renewing the jobs' locks: a worker that dies loses its
// locks and its jobs run elsewhere. A job is refused when this checkout's simulator is not the
// coordinator's. Before a task runs, its input files are found by reference: in the folder store
// the job names (as mounted here: --store), or fetched once from Redis into the local cache
// (redis-inputs.ts). A study job is looked up in its store first and run only if absent; its
// result is stored there and sent back. A task that throws is retried (BullMQ's attempts and
// backoff); on its last attempt its error goes back as the outcome, with its class name, as the
// local pool would report it. A timed-out task (a check case's limit) is not retried.

import { hostname } from "node:os";
import { join } from "node:path";
import { Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { SimError } from "../../sim/errors.ts";
import { jobKey, simulatorId, type JobResult } from "../study/job.ts";
import { RedisResults } from "../study/redis-results.ts";
import { ResultStore } from "../study/store.ts";
import { FolderInputs, parseRef, type InputStore } from "./inputs.ts";
import { LocalPool, type RunOneOptions, type Settled } from "./local.ts";
import { renamePaths, withPaths, WORKER_ENTRY, type JobData, type JobReply, type QueuedInput, type QueuedOutput, type StoreRef } from "./queued.ts";
import { RedisInputs } from "./redis-inputs.ts";
import { connectReady } from "./redis.ts";
import type { TaskKind } from "./tasks.ts";
import { fromWire, toWire } from "./wire.ts";

export interface WorkerOptions {
  redis: string;
  queue: string;
  concurrency: number;
  /** The folder store as mounted here, when the coordinator names one (another mount point here). */
  store?: string;
  /** Where inputs fetched from Redis are kept. */
  cacheDir: string;
  lockDurationMs: number;
  quiet: boolean;
}

/** What a worker serves jobs with. */
interface Served {
  pool: LocalPool;
  redisInputs: RedisInputs;
  redisResults: RedisResults;
  /** Where redisInputs keeps what it fetched. */
  cacheDir: string;
  /** The folder a job's folder store is at here. */
  folder: (s: { dir: string }) => string;
  /** The result store in a folder (one per folder, so each cleans its stale temporary files once). */
  folderStore: (dir: string) => ResultStore;
}

const inputsOf = (sv: Served, store: StoreRef): InputStore => (store.kind === "redis" ? sv.redisInputs : new FolderInputs(join(sv.folder(store), "inputs")));

async function serveStudyJob(sv: Served, d: JobData, input: QueuedInput<"study-job">, run: RunOneOptions): Promise<Settled<QueuedOutput<"study-job">>> {
  const { key, spec } = input;
  const mine = jobKey(spec);
  if (mine !== key) {
    const s = simulatorId();
    throw new SimError(`this worker's simulator (version ${s.version}, source ${s.source.slice(0, 12)}) gives job ${key.slice(0, 12)} the key ${mine.slice(0, 12)}: run workers from the same damon-sim source as the coordinator`);
  }
  const folder = d.store.kind === "folder" ? sv.folderStore(sv.folder(d.store)) : null;
  let hit: { result: JobResult; wallSeconds: number } | null = null;
  if (folder) {
    const st = folder.get(key);
    if (st) hit = { result: st.result, wallSeconds: folder.wallSeconds(key) ?? 0 };
  } else {
    const f = await sv.redisResults.get(key);
    if (f) hit = { result: f.stored.result, wallSeconds: f.wallSeconds ?? 0 };
  }
  if (hit) return { status: "done", output: { ...hit, ran: false }, wallMs: 0 };
  const inputs = inputsOf(sv, d.store);
  for (const ref of [spec.workload, spec.machine]) if (parseRef(ref)) await inputs.localPath(ref);
  const inputsDir = folder ? folder.inputsDir : sv.cacheDir;
  const s = await sv.pool.run("study-job", { spec, inputsDir }, run);
  if (s.status !== "done") return s;
  const { result, wallSeconds } = s.output;
  if (folder) folder.put(key, spec, result, wallSeconds);
  else await sv.redisResults.put(key, spec, result, wallSeconds);
  return { ...s, output: { result, wallSeconds, ran: true } };
}

async function serve<K extends TaskKind>(sv: Served, d: JobData, run: RunOneOptions): Promise<Settled<QueuedOutput<K>>> {
  const input = fromWire<QueuedInput<K>>(d.input);
  if (d.kind === "study-job") return (await serveStudyJob(sv, d, input as QueuedInput<"study-job">, run)) as Settled<QueuedOutput<K>>;
  const kind = d.kind;
  const inputs = inputsOf(sv, d.store);
  const paths = new Map<string, string>();
  const local = await withPaths(kind, input as QueuedInput<typeof kind>, async (ref) => {
    const p = await inputs.localPath(ref);
    paths.set(p, ref);
    return p;
  });
  // an error names the input as its reference, which the coordinator turns back into its path there
  return renamePaths((await sv.pool.run(kind, local, run)) as Settled<QueuedOutput<K>>, paths);
}

/** Serves the queue until SIGINT/SIGTERM; resolves to the exit status. */
export async function runWorker(o: WorkerOptions): Promise<number> {
  const log = (m: string): void => {
    if (!o.quiet) process.stderr.write(`worker: ${m}\n`);
  };
  let lastErr = "";
  const onError = (m: string): void => {
    if (m !== lastErr) log(`Redis connection: ${m} (reconnecting)`);
    lastErr = m;
  };
  const conn = await connectReady(o.redis, "worker", onError);
  let storeConn: Redis;
  try {
    storeConn = await connectReady(o.redis, "worker", onError);
  } catch (e) {
    conn.disconnect();
    throw e;
  }
  const name = `${hostname()}:${process.pid}`;
  const mine = simulatorId(WORKER_ENTRY);
  const folderStores = new Map<string, ResultStore>();
  const sv: Served = {
    pool: new LocalPool(o.concurrency),
    redisInputs: new RedisInputs(storeConn, { cacheDir: o.cacheDir, onFetch: (ref, bytes) => log(`fetched input ${ref.slice(6, 18)} (${bytes} bytes) into ${o.cacheDir}`) }),
    redisResults: new RedisResults(storeConn),
    cacheDir: o.cacheDir,
    folder: (s) => o.store ?? s.dir,
    folderStore: (dir) => {
      let st = folderStores.get(dir);
      if (st === undefined) folderStores.set(dir, (st = new ResultStore(dir)));
      return st;
    },
  };
  const processor = async (job: Job<JobData, string>): Promise<string> => {
    const d = job.data;
    const id = String(job.id).slice(0, 12);
    const attempt = job.attemptsMade + 1, attempts = job.opts.attempts ?? 1;
    let outcome: JobReply<TaskKind>;
    try {
      if (d.simulator.source !== mine.source || d.simulator.version !== mine.version) throw new SimError(`this worker runs damon-sim ${mine.version} with source ${mine.source.slice(0, 12)}, the coordinator ${d.simulator.version} with ${d.simulator.source.slice(0, 12)}: run workers from the same damon-sim source as the coordinator`);
      let last = 0;
      outcome = await serve(sv, d, {
        ...(d.timeoutMs !== null ? { timeoutMs: d.timeoutMs } : {}),
        onStart: () => log(`job ${id} (${d.kind}) started`),
        onProgress: (f) => {
          if (!d.progress || f - last < 0.02) return;
          last = f;
          void job.updateProgress(f).catch(() => {});
        },
      });
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      outcome = { status: "failed", error: { name: err.name, message: err.message, stack: err.stack ?? "" }, wallMs: 0 };
    }
    if (outcome.status === "failed") {
      log(`job ${id} failed (attempt ${attempt} of ${attempts}): ${outcome.error.message}`);
      // retried while attempts remain; the last one's error goes back as the outcome
      if (attempt < attempts) throw new Error(outcome.error.message);
    } else if (outcome.status === "timeout") log(`job ${id} timed out after ${outcome.timeoutMs / 1000} s`);
    else {
      const ran = d.kind !== "study-job" || (outcome.output as QueuedOutput<"study-job">).ran;
      log(`job ${id} ${ran ? `done in ${(outcome.wallMs / 1000).toFixed(2)} s` : "was in the store already"}`);
    }
    return toWire(outcome);
  };
  const w = new Worker<JobData, string>(o.queue, processor, {
    connection: conn,
    concurrency: o.concurrency,
    name,
    lockDuration: o.lockDurationMs,
    stalledInterval: Math.max(500, Math.round(o.lockDurationMs / 2)),
    maxStalledCount: 2,
  });
  w.on("error", (e) => {
    if (e.message !== lastErr) log(`error: ${e.message}`);
    lastErr = e.message;
  });
  log(`${name} serving queue '${o.queue}' at ${o.redis} with ${o.concurrency} thread(s); inputs cached in ${o.cacheDir}`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  log("stopping (finishing jobs in flight)");
  await w.close();
  await sv.pool.destroy();
  conn.disconnect();
  storeConn.disconnect();
  return 0;
}
