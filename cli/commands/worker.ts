// `damon-sim worker --redis URL --concurrency N`: serves a study's BullMQ queue on this machine
// (cli/study/bullmq.ts), writing results into the shared result store, until SIGINT or SIGTERM.

import type { CommandSpec } from "../args.ts";
import { intOpt, requireOpt, stringOpt } from "../args.ts";
import type { Command } from "../command.ts";

const spec: CommandSpec = {
  name: "worker",
  summary: "Serve a study's BullMQ queue: run its jobs in sandboxed worker threads and store their results.",
  usage: "--redis URL [options]",
  positionals: { min: 0, max: 0 },
  options: {
    redis: { type: "string", value: "URL", description: "the Redis the coordinator uses, e.g. redis://10.0.0.5:6379 (required)" },
    concurrency: { type: "string", short: "c", value: "N", default: "1", description: "jobs run at once (one worker thread each)" },
    queue: { type: "string", value: "NAME", default: "damon-sim-study", description: "queue name (as study run --queue)" },
    store: { type: "string", value: "DIR", description: "the result store as mounted here (default: the path the coordinator gave)" },
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
    const { runWorker } = await import("../study/bullmq.ts");
    return runWorker({ redis, queue: stringOpt(args, "queue") ?? "damon-sim-study", concurrency, lockDurationMs, quiet: args.values.quiet === true, ...(store !== undefined ? { store } : {}) });
  },
};
