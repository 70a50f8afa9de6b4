// Inputs in Redis, for a fleet without a shared filesystem. The coordinator uploads each input
// once under its digest: the bytes in pieces of 1 MiB (damon-sim:input:<sha256>:<i>, read from
// the file one piece at a time, so a large trace is never in memory whole), then a hash
// damon-sim:input:<sha256> { size, chunks } that says the upload is complete (an input whose
// hash exists is not sent again). A worker that lacks an input fetches it once into its local
// cache folder: piece by piece into a temporary file there, hashing as it goes; a download whose
// digest or size is not the one asked for is rejected (the temporary file removed, and the damaged
// copy's hash deleted so the coordinator's next upload replaces it), a good one renamed into place
// atomically. Later jobs find it in the cache; two jobs of this process asking at once share one
// download.

import { createHash } from "node:crypto";
import { existsSync, renameSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Redis } from "ioredis";
import { cleanStaleTemps, ensureOutputDir, tempPath, trackTemp, untrackTemp } from "../atomic-write.ts";
import { SimError } from "../../sim/errors.ts";
import { CHUNK_BYTES, parseRef, type InputStore, type ParsedRef } from "./inputs.ts";
import { KEY_PREFIX } from "./redis.ts";

const metaKey = (digest: string): string => `${KEY_PREFIX}input:${digest}`;
const chunkKey = (digest: string, i: number): string => `${KEY_PREFIX}input:${digest}:${i}`;

export interface RedisInputsOptions {
  /** Where fetched inputs are kept (worker side); none on a coordinator that only uploads. */
  cacheDir?: string;
  /** Bytes per piece (default 1 MiB). */
  chunkBytes?: number;
  /** Told of every download that completed: the reference, its bytes. */
  onFetch?: (ref: string, bytes: number) => void;
}

function refOrThrow(ref: string): ParsedRef {
  const r = parseRef(ref);
  if (!r) throw new SimError(`not an input reference: '${ref}'`);
  return r;
}

export class RedisInputs implements InputStore {
  private readonly chunkBytes: number;
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly prepared = new Set<string>();
  constructor(private readonly redis: Redis, private readonly o: RedisInputsOptions = {}) {
    this.chunkBytes = o.chunkBytes ?? CHUNK_BYTES;
  }

  async put(ref: string, path: string): Promise<void> {
    const { digest } = refOrThrow(ref);
    if ((await this.redis.exists(metaKey(digest))) === 1) return;
    const fh = await open(path, "r");
    let size = 0;
    let chunks = 0;
    try {
      for (;;) {
        // a fresh buffer per piece: ioredis may hold it until the connection takes it
        const buf = Buffer.allocUnsafe(this.chunkBytes);
        let n = 0;
        while (n < buf.length) {
          const { bytesRead } = await fh.read(buf, n, buf.length - n, size + n);
          if (bytesRead === 0) break;
          n += bytesRead;
        }
        if (n === 0 && chunks > 0) break;
        await this.redis.set(chunkKey(digest, chunks), buf.subarray(0, n));
        size += n;
        chunks++;
        if (n < buf.length) break;
      }
    } finally {
      await fh.close();
    }
    await this.redis.hset(metaKey(digest), { size: String(size), chunks: String(chunks) });
  }

  async localPath(ref: string): Promise<string> {
    const r = refOrThrow(ref);
    if (this.o.cacheDir === undefined) throw new SimError("this input store has no cache folder to fetch into");
    const dest = join(this.o.cacheDir, r.rel);
    if (existsSync(dest)) return dest;
    let p = this.inflight.get(dest);
    if (p === undefined) {
      p = this.fetch(ref, r.digest, dest).finally(() => this.inflight.delete(dest));
      this.inflight.set(dest, p);
    }
    await p;
    return dest;
  }

  private async fetch(ref: string, digest: string, dest: string): Promise<void> {
    const meta = await this.redis.hgetall(metaKey(digest));
    const size = Number(meta.size), chunks = Number(meta.chunks);
    if (!Number.isSafeInteger(size) || !Number.isSafeInteger(chunks)) throw new SimError(`input ${digest.slice(0, 12)} is not in Redis (restarted since the coordinator uploaded it? the coordinator uploads its inputs again when it queues a lost job)`);
    const dir = dirname(dest);
    if (!this.prepared.has(dir)) {
      ensureOutputDir(dir);
      cleanStaleTemps(dir);
      this.prepared.add(dir);
    }
    const tmp = tempPath(dest);
    trackTemp(tmp);
    try {
      const h = createHash("sha256");
      let got = 0;
      const fh = await open(tmp, "w");
      try {
        for (let i = 0; i < chunks; i++) {
          const b = await this.redis.getBuffer(chunkKey(digest, i));
          if (b === null) throw new SimError(`input ${digest.slice(0, 12)}: piece ${i} of ${chunks} is missing in Redis`);
          h.update(b);
          got += b.length;
          for (let off = 0; off < b.length; ) off += (await fh.write(b, off, b.length - off)).bytesWritten;
        }
      } finally {
        await fh.close();
      }
      const d = h.digest("hex");
      if (d !== digest || got !== size) {
        await this.redis.del(metaKey(digest));
        throw new SimError(`input ${digest.slice(0, 12)}: the download from Redis has ${got} bytes and SHA-256 ${d.slice(0, 12)}, not ${size} bytes and ${digest.slice(0, 12)}: rejected (its damaged copy is dropped; the coordinator's next run uploads it again)`);
      }
      renameSync(tmp, dest);
      this.o.onFetch?.(ref, got);
    } finally {
      rmSync(tmp, { force: true });
      untrackTemp(tmp);
    }
  }
}
