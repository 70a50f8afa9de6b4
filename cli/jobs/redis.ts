// Connections to Redis for the BullMQ backend, the Redis input store and the Redis result store:
// a redis:// (or rediss://) URL checked first, ioredis reconnecting on its own (commands wait
// while it does, as BullMQ needs), every connection error handed to `onError` (callers print a
// changed message once), and ready() that waits for the first connection or fails with a clear
// message naming the URL.

import { Redis } from "ioredis";
import { OutputFailure, UsageError } from "../../sim/errors.ts";

export function connect(url: string, what: string, onError: (message: string) => void): Redis {
  if (!/^rediss?:\/\//.test(url)) throw new UsageError(`${what}: --redis must be a redis://HOST:PORT URL, got '${url}'`);
  const r = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
  r.on("error", (e: Error) => onError(e.message));
  return r;
}

/** Waits for a connection, or fails with a clear message after `ms`. */
export async function ready(r: Redis, url: string, ms: number): Promise<void> {
  if (r.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new OutputFailure(`cannot reach Redis at ${url} within ${ms / 1000} s (is redis-server running there, and reachable from this machine?)`)), ms);
    r.once("ready", () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** connect() and ready(): a connection that is up, or an error (the connection closed). */
export async function connectReady(url: string, what: string, onError: (message: string) => void, ms = 10_000): Promise<Redis> {
  const r = connect(url, what, onError);
  try {
    await ready(r, url, ms);
  } catch (e) {
    r.disconnect();
    throw e;
  }
  return r;
}

/** Prefix of every key damon-sim keeps in Redis outside BullMQ's queues (inputs, results). */
export const KEY_PREFIX = "damon-sim:";
