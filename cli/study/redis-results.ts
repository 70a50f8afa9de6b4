// Study results in Redis (study run --store redis), for a fleet without a shared filesystem: each
// finished job's stored text (store.ts storedText(), the same bytes as in a folder store) under
// damon-sim:result:<key>, its host time under damon-sim:timing:<key>. Workers look a job up
// before running it and put its result after; the coordinator copies every result its study
// needs into its own folder store (-o DIR/store), so its tables read from disk and nothing
// finished is lost if Redis is (a Redis without persistence forgets them when it restarts).

import type { Redis } from "ioredis";
import { KEY_PREFIX } from "../jobs/redis.ts";
import type { JobResult, JobSpec } from "./job.ts";
import { storedText, timingText, type StoredResult } from "./store.ts";

const resultKey = (key: string): string => `${KEY_PREFIX}result:${key}`;
const timingKey = (key: string): string => `${KEY_PREFIX}timing:${key}`;

/** Keys asked for in one MGET. */
const BATCH = 500;

export interface Fetched {
  stored: StoredResult;
  wallSeconds: number | null;
}

export class RedisResults {
  constructor(private readonly redis: Redis) {}

  async get(key: string): Promise<Fetched | null> {
    return (await this.getMany([key])).get(key) ?? null;
  }

  /** The results of those of `keys` that Redis holds (a text that is not this key's result counts as absent). */
  async getMany(keys: readonly string[]): Promise<Map<string, Fetched>> {
    const out = new Map<string, Fetched>();
    for (let i = 0; i < keys.length; i += BATCH) {
      const part = keys.slice(i, i + BATCH);
      const texts = await this.redis.mget(...part.flatMap((k) => [resultKey(k), timingKey(k)]));
      part.forEach((k, j) => {
        const text = texts[2 * j], timing = texts[2 * j + 1];
        if (text === null || text === undefined) return;
        let stored: StoredResult;
        try {
          stored = JSON.parse(text) as StoredResult;
        } catch {
          return;
        }
        if (stored.key !== k) return;
        let wallSeconds: number | null = null;
        try {
          if (timing) wallSeconds = (JSON.parse(timing) as { wallSeconds: number }).wallSeconds;
        } catch {
          wallSeconds = null;
        }
        out.set(k, { stored, wallSeconds });
      });
    }
    return out;
  }

  async put(key: string, spec: JobSpec, result: JobResult, wallSeconds: number): Promise<void> {
    await this.redis.multi().set(timingKey(key), timingText(wallSeconds)).set(resultKey(key), storedText(key, spec, result)).exec();
  }
}
