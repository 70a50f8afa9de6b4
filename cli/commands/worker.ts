// `damon-sim worker --redis URL --concurrency N`: serves a BullMQ queue on this machine (study
// jobs, compare variants and check cases; cli/jobs/worker.ts) until SIGINT or SIGTERM, fetching
// input files it lacks into a local cache and storing study results in the store the job names.

import { homedir } from "node:os";
import { join } from "node:path";
import type { CommandSpec } from "../args.ts";
import { intOpt, requireOpt, stringOpt } from "../args.ts";
import type { Command } from "../command.ts";
import { DEFAULT_QUEUE } from "../jobs/backend.ts";

/** Where fetched inputs are kept unless --cache says: $XDG_CACHE_HOME/damon-sim/inputs, or ~/.cache/damon-sim/inputs. */
export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "damon-sim", "inputs");
}

const spec: CommandSpec = {
  name: "worker",
  summary: "Serve a BullMQ queue: run study jobs, compare variants and check cases in worker threads and send their results back.",
  usage: "--redis URL [options]",
  positionals: { min: 0, max: 0 },
  options: {
    redis: { type: "string", value: "URL", description: "the Redis the coordinator uses, e.g. redis://10.0.0.5:6379 (required)" },
    concurrency: { type: "string", short: "c", value: "N", default: "1", description: "tasks run at once (one worker thread each)" },
    queue: { type: "string", value: "NAME", default: DEFAULT_QUEUE, description: "queue name (as the coordinator's --queue)" },
    store: { type: "string", value: "DIR", description: "a folder store as mounted here (default: the path the coordinator gave)" },
    cache: { type: "string", value: "DIR", description: "where input files fetched from Redis are kept (default: $XDG_CACHE_HOME/damon-sim/inputs or ~/.cache/damon-sim/inputs)" },
    "lock-duration": { type: "string", value: "MS", default: "30000", description: "job lock time: a worker that dies gives its job back after about this long" },
    quiet: { type: "boolean", short: "q", description: "no log lines" },
  },
};

export const command: Command = {
  spec,
  async run(args) {
    const redis = requireOpt(spec, args, "redis");
    const concurrency = intOpt(spec, args, "concurrency", 1, 256) ?? 1;
    const lockDurationMs = intOpt(spec, args, "lock-duration", 200, 3_600_000) ?? 30_000;
    const store = stringOpt(args, "store");
    const { runWorker } = await import("../jobs/worker.ts");
    return runWorker({
      redis,
      queue: stringOpt(args, "queue") ?? DEFAULT_QUEUE,
      concurrency,
      lockDurationMs,
      cacheDir: stringOpt(args, "cache") ?? defaultCacheDir(),
      quiet: args.values.quiet === true,
      ...(store !== undefined ? { store } : {}),
    });
  },
};
