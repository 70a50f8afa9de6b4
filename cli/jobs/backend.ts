// The choice of backend that study run, compare and check share: their --backend, --redis,
// --queue, --attempts and --redis-timeout options, read into a Backend; and runOn(), which runs a
// compare's variants or a check's cases on it: the local pool (local.ts runTasks), or the BullMQ
// queue (queue.ts runQueued) with each input file uploaded once by digest (to Redis by default,
// or into a folder every worker mounts) and named in the job by reference. A queued task's id is
// the digest of its kind, its input (files by digest), its time limit and the simulator, so the
// same task asked for twice is one job. Outcomes come back the same either way.

import { join, resolve } from "node:path";
import { intOpt, stringOpt, type CommandSpec, type OptionSpec, type ParsedArgs } from "../args.ts";
import { UsageError } from "../../sim/errors.ts";
import { canonicalJson, sha256, simulatorId } from "../study/job.ts";
import { FolderInputs, refOf, type InputStore } from "./inputs.ts";
import { runTasks, type LocalOptions, type LocalRun, type Settled } from "./local.ts";
import { renamePaths, WORKER_ENTRY, withRefs, type StoreRef } from "./queued.ts";
import type { TaskInput, TaskOutput } from "./tasks.ts";

export const DEFAULT_QUEUE = "damon-sim";

export const BACKEND_OPTIONS: Record<string, OptionSpec> = {
  backend: { type: "string", value: "NAME", default: "local", description: "where tasks run: local (this machine's cores) or bullmq (a Redis queue served by 'damon-sim worker')" },
  redis: { type: "string", value: "URL", description: "Redis URL for --backend bullmq, e.g. redis://127.0.0.1:6379" },
  queue: { type: "string", value: "NAME", default: DEFAULT_QUEUE, description: "bullmq: queue name (as the workers' --queue)" },
  attempts: { type: "string", value: "N", default: "3", description: "bullmq: tries per task before it is reported failed" },
  "redis-timeout": { type: "string", value: "S", default: "60", description: "bullmq: give up (exit 1, what finished kept) when Redis stays unreachable this many seconds" },
};

/** compare's and check's --store: where a queued task's input files go. */
export const INPUTS_STORE_OPTION: OptionSpec = { type: "string", value: "redis|DIR", description: "bullmq: where input files (traces, configs, machine JSON) go for the workers: redis (the default: uploaded once by digest, fetched once per worker) or a folder every worker mounts" };

/** The folder --store names, or undefined for Redis (the default); --store is for the bullmq backend only. */
export function inputsFolderOf(spec: CommandSpec, args: ParsedArgs, backend: Backend): string | undefined {
  const s = stringOpt(args, "store");
  if (s !== undefined && backend.kind === "local") throw new UsageError(`${spec.name}: --store is where input files go for bullmq workers: give it with --backend bullmq`);
  return s === undefined || s === "redis" ? undefined : s;
}

export type Backend = { kind: "local" } | { kind: "bullmq"; redis: string; queue: string; attempts: number; redisTimeoutMs: number };

/** The backend options of a command that has BACKEND_OPTIONS. */
export function backendOf(spec: CommandSpec, args: ParsedArgs): Backend {
  const kind = stringOpt(args, "backend") ?? "local";
  if (kind === "local") return { kind };
  if (kind !== "bullmq") throw new UsageError(`${spec.name}: --backend must be local or bullmq, got '${kind}'`);
  const redis = stringOpt(args, "redis");
  if (redis === undefined) throw new UsageError(`${spec.name}: --backend bullmq needs --redis redis://HOST:PORT`);
  return {
    kind,
    redis,
    queue: stringOpt(args, "queue") ?? DEFAULT_QUEUE,
    attempts: intOpt(spec, args, "attempts", 1, 100) ?? 3,
    redisTimeoutMs: (intOpt(spec, args, "redis-timeout", 1, 86_400) ?? 60) * 1000,
  };
}

type FileKind = "compare-variant" | "check-case";

export interface RunOnOptions<O> extends LocalOptions<O> {
  backend: Backend;
  /** The command, for messages. */
  what: string;
  quiet: boolean;
  /** bullmq: a folder every worker mounts for the input files (default: Redis). */
  inputsFolder?: string;
  /** Names task `index` in messages. */
  describe?: (index: number) => string;
}

export async function runOn<K extends FileKind>(kind: K, inputs: ReadonlyArray<TaskInput<K>>, o: RunOnOptions<TaskOutput<K>>): Promise<LocalRun<TaskOutput<K>>> {
  if (o.backend.kind === "local") return runTasks(kind, inputs, o);
  const b = o.backend;
  const refs = new Map<string, string>();
  const uploads = new Map<string, string>();
  const refFor = (path: string): string => {
    let r = refs.get(path);
    if (r === undefined) {
      r = refOf(path, true);
      refs.set(path, r);
      uploads.set(r, path);
    }
    return r;
  };
  const simulator = simulatorId(WORKER_ENTRY);
  const items = await Promise.all(
    inputs.map(async (input, i) => {
      const queued = await withRefs(kind, input, refFor);
      const timeoutMs = o.timeoutMs?.(i);
      return { id: sha256(canonicalJson({ kind, input: queued, timeoutMs, simulator })), input: queued, ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
    }),
  );
  const { runQueued } = await import("./queue.ts");
  let store: StoreRef;
  let inputStore: InputStore;
  let close = (): void => {};
  if (o.inputsFolder !== undefined) {
    const dir = resolve(o.inputsFolder);
    store = { kind: "folder", dir };
    inputStore = new FolderInputs(join(dir, "inputs"));
  } else {
    const { connectReady } = await import("./redis.ts");
    const { RedisInputs } = await import("./redis-inputs.ts");
    const conn = await connectReady(b.redis, o.what, () => {});
    store = { kind: "redis" };
    inputStore = new RedisInputs(conn);
    close = () => conn.disconnect();
  }
  try {
    // an error names a worker's input by its reference: the path here again
    const r = await runQueued(kind, items, {
      ...b,
      quiet: o.quiet,
      what: o.what,
      store,
      uploadInputs: async () => {
        for (const [ref, path] of uploads) await inputStore.put(ref, path);
      },
      ...(o.describe ? { describe: o.describe } : {}),
      ...(o.onDone ? { onDone: (i: number, s: Settled<TaskOutput<K>>) => o.onDone!(i, renamePaths(s, uploads)) } : {}),
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    });
    return { ...r, outcomes: r.outcomes.map((s) => s && renamePaths(s, uploads)) };
  } finally {
    close();
  }
}
