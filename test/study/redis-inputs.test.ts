// The Redis input store (cli/jobs/redis-inputs.ts) against a redis-server started here: a file
// goes up in pieces (counted against the file's size by hand), comes down once into a worker's
// cache with the same bytes (a second ask, and two asks at once, download nothing more), a
// download whose bytes were damaged in Redis is rejected and leaves nothing in the cache, and an
// input Redis lacks is named as such. Skips (with a message) only without redis-server.

import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileDigest, refOf } from "../../cli/jobs/inputs.ts";
import { RedisInputs } from "../../cli/jobs/redis-inputs.ts";
import { connectReady } from "../../cli/jobs/redis.ts";
import { hasRedis, RedisServer, warnIfNoRedis } from "./redis-server.ts";

warnIfNoRedis("test/study/redis-inputs.test.ts");

const dir = mkdtempSync(join(tmpdir(), "damon-sim-redis-inputs-"));
const redis = new RedisServer();
let conn: Redis;

beforeAll(async () => {
  if (!hasRedis) return;
  await redis.start();
  conn = await connectReady(redis.url, "test", () => {});
});

afterAll(async () => {
  conn?.disconnect();
  await redis.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
});

/** A file of `n` random bytes. */
function file(name: string, n: number): string {
  const p = join(dir, name);
  writeFileSync(p, randomBytes(n));
  return p;
}

describe.skipIf(!hasRedis)("RedisInputs", () => {
  it("uploads in pieces, fetches once into the cache with the same bytes, and shares a download asked for twice at once", async () => {
    const path = file("trace.dst", 2500);
    const ref = refOf(path, false);
    const digest = fileDigest(path);
    expect(ref).toBe(`input:${digest}.dst`);
    const up = new RedisInputs(conn, { chunkBytes: 1000 });
    await up.put(ref, path);
    // 2500 bytes in pieces of 1000: 1000, 1000, 500
    expect(redis.cli("hget", `damon-sim:input:${digest}`, "chunks").trim()).toBe("3");
    expect(redis.cli("strlen", `damon-sim:input:${digest}:2`).trim()).toBe("500");
    const got: string[] = [];
    const cache = join(dir, "cache-1");
    const down = new RedisInputs(conn, { cacheDir: cache, onFetch: (r) => got.push(r) });
    const [a, b] = await Promise.all([down.localPath(ref), down.localPath(ref)]);
    expect(a).toBe(join(cache, `${digest}.dst`));
    expect(b).toBe(a);
    expect(readFileSync(a).equals(readFileSync(path))).toBe(true);
    expect(got).toEqual([ref]);
    await down.localPath(ref);
    expect(got).toHaveLength(1);
    // the same bytes under a name (a compare's input) go in a folder of their own
    const named = refOf(path, true);
    expect(await down.localPath(named)).toBe(join(cache, digest, "trace.dst"));
    // an empty file is one empty piece
    const empty = file("empty.cfg", 0);
    await up.put(refOf(empty, true), empty);
    expect(readFileSync(await down.localPath(refOf(empty, true))).length).toBe(0);
  });

  it("rejects a download whose bytes were damaged in Redis, leaving nothing in the cache; an upload then replaces the copy", async () => {
    const path = file("damaged.dst", 2500);
    const ref = refOf(path, false);
    const digest = fileDigest(path);
    const up = new RedisInputs(conn, { chunkBytes: 1000 });
    await up.put(ref, path);
    redis.cli("setrange", `damon-sim:input:${digest}:1`, "10", "X");
    const cache = join(dir, "cache-2");
    const down = new RedisInputs(conn, { cacheDir: cache });
    await expect(down.localPath(ref)).rejects.toThrow(/download from Redis has 2500 bytes and SHA-256 [0-9a-f]{12}, not 2500 bytes and [0-9a-f]{12}: rejected/);
    expect(readdirSync(cache)).toEqual([]);
    // the damaged copy was dropped, so the coordinator's next put sends the file again
    await up.put(ref, path);
    expect(readFileSync(await down.localPath(ref)).equals(readFileSync(path))).toBe(true);
  });

  it("names an input Redis does not hold", async () => {
    const down = new RedisInputs(conn, { cacheDir: join(dir, "cache-3") });
    await expect(down.localPath(`input:${"0".repeat(64)}.dst`)).rejects.toThrow(/input 000000000000 is not in Redis/);
  });
});
