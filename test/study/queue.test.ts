// compare, check and study through the BullMQ backend against a redis-server started here, with
// the inputs travelling by digest through Redis (no shared folder): a compare of a masim config
// file (whose name seeds its random streams) through 2 workers writes the same results.json,
// results.csv and report.html bytes as local; a check of two corpus cases and a crashing one gives
// the same report (verdicts, figures and error text) as local; a worker with an empty cache
// fetches a study's trace once for two jobs, and a rerun into an empty output folder takes every
// result from the Redis store and computes nothing; after a Redis restart that lost the inputs, a
// worker with an empty cache gets them again and the tables are still local's. Skips (with a message) only without redis-server.

import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, damagedTrace, runCli } from "../cli/helpers.ts";
import { fileDigest } from "../../cli/jobs/inputs.ts";
import { cli, hasRedis, redisSuite, serving, stop, until, worker as spawnWorker, type Running } from "./redis-server.ts";

const { dir, redis, workers } = redisSuite("test/study/queue.test.ts", "damon-sim-queue-");

// a long lock: no job is taken for stalled (and run twice) on a busy machine; nothing here kills a worker mid-job but with Redis gone too
const worker = (queue: string, cache: string): Running => spawnWorker(redis.url, queue, ["--cache", join(dir, cache), "--lock-duration", "15000"], workers);
const bull = (queue: string): string[] => ["--backend", "bullmq", "--redis", redis.url, "--queue", queue];
const fetches = (w: Running): number => (w.log().match(/fetched input/g) ?? []).length;
const starts = (w: Running): number => (w.log().match(/ started/g) ?? []).length;

describe.skipIf(!hasRedis)("compare and check --backend bullmq, inputs by digest", () => {
  it("compares a masim config file through 2 workers with the same results.json, results.csv and report.html as local", async () => {
    const cfg = join(dir, "zz.cfg");
    copyFileSync(join(ROOT, "workloads/configs/zigzag.cfg"), cfg);
    const args = ["compare", cfg, "--machine", "tiny", "--primitives", "pte,ibs", "--duration", "20ms", "--sample", "1ms", "--aggr", "5ms"];
    const local = runCli([...args, "-q", "-o", join(dir, "cmp-local")]);
    expect(local.status, local.stderr).toBe(0);
    const ws = [worker("c1", "cache-a"), worker("c1", "cache-b")];
    await serving(ws);
    const r = await cli([...args, "-o", join(dir, "cmp-bull"), ...bull("c1")]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("workers seen:");
    for (const f of ["results.json", "results.csv", "report.html"]) expect(readFileSync(join(dir, "cmp-bull", f), "utf8"), f).toBe(readFileSync(join(dir, "cmp-local", f), "utf8"));
    // the config went through Redis: each worker that ran a variant fetched it once, under its own name
    const fetched = ws.filter((w) => fetches(w) > 0);
    expect(fetched.length).toBeGreaterThan(0);
    for (const w of fetched) expect(fetches(w)).toBe(1);
    expect(starts(ws[0]!) + starts(ws[1]!)).toBe(3);
    const digest = fileDigest(cfg);
    const cached = existsSync(join(dir, "cache-a", digest, "zz.cfg")) ? join(dir, "cache-a", digest, "zz.cfg") : join(dir, "cache-b", digest, "zz.cfg");
    expect(readFileSync(cached, "utf8")).toBe(readFileSync(cfg, "utf8"));
    await Promise.all(ws.map(stop));
  }, 120_000);

  it("checks two corpus cases and a crashing one with the same report as local", async () => {
    // a case whose trace is damaged in its first chunk: it crashes, naming the trace file
    const bad = join(dir, "cases", "damaged");
    mkdirSync(bad, { recursive: true });
    damagedTrace(join(bad, "bad.dst"), 0);
    writeFileSync(join(bad, "case.json"), JSON.stringify({ workload: "bad.dst", run: { duration: "2ms", machine: "tiny", sample: "100us", aggr: "1ms" } }));
    writeFileSync(join(bad, "expected.json"), "{}\n");
    const cases = [join(ROOT, "test/corpus/lackey-list-fault-writes"), join(ROOT, "test/corpus/lackey-sort-pte-cachegrind"), bad];
    const strip = (text: string): unknown => JSON.parse(text, (k, v: unknown) => (k === "wallSeconds" ? null : v));
    const local = runCli(["check", "--json", ...cases]);
    expect(local.status, local.stderr).toBe(1);
    const w = worker("k1", "cache-k");
    await serving([w]);
    const r = await cli(["check", "--json", ...cases, ...bull("k1"), "--attempts", "1"]);
    expect(r.status, r.stderr).toBe(1);
    const report = strip(r.stdout) as { cases: Array<{ status: string; error: string | null }> };
    expect(report.cases.map((c) => c.status)).toEqual(["pass", "pass", "crashed"]);
    expect(report.cases[2]!.error).toContain(join(bad, "bad.dst"));
    expect(report).toEqual(strip(local.stdout));
    // the two traces and the damaged one: three inputs, each fetched once
    expect(fetches(w)).toBe(3);
    await stop(w);
  }, 120_000);

  it("fetches a study's trace once for two jobs, and a rerun takes every result from the Redis store", async () => {
    const dst = join(dir, "s.dst");
    const rec = runCli(["record", "stairs", "-o", dst, "--duration", "3ms"]);
    expect(rec.status, rec.stderr).toBe(0);
    const file = join(dir, "redis-study.json");
    writeFileSync(file, JSON.stringify({ name: "r", machine: "tiny", duration: "5ms", attrs: { sample: "1ms", aggr: "2ms" }, warmup: 0, axes: { workload: [dst], primitives: ["pte", "ibs"] }, baseline: "none" }));
    const local = runCli(["study", "run", file, "-o", join(dir, "rs-local"), "-q"]);
    expect(local.status, local.stderr).toBe(0);
    const w = worker("s1", "cache-s");
    await serving([w]);
    const first = await cli(["study", "run", file, "-o", join(dir, "rs-1"), ...bull("s1"), "--store", "redis"]);
    expect(first.status, first.stderr).toBe(0);
    expect(starts(w)).toBe(2);
    expect(fetches(w)).toBe(1);
    const cache = readdirSync(join(dir, "cache-s"));
    expect(cache).toEqual([`${fileDigest(dst)}.dst`]);
    expect(readFileSync(join(dir, "cache-s", cache[0]!)).equals(readFileSync(dst))).toBe(true);
    const tables = ["results.csv", "results.json", "summary.csv", "summary.json", "report.html"];
    for (const f of tables) expect(readFileSync(join(dir, "rs-1", f), "utf8"), f).toBe(readFileSync(join(dir, "rs-local", f), "utf8"));
    // the results are in Redis (and copied into rs-1/store); a fresh output folder finds them there
    expect(redis.cli("--scan", "--pattern", "damon-sim:result:*").trim().split("\n")).toHaveLength(2);
    const again = await cli(["study", "run", file, "-o", join(dir, "rs-2"), ...bull("s1"), "--store", "redis"]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain("2 of 2 jobs already in the store (2 from Redis); running 0");
    expect(starts(w)).toBe(2);
    for (const f of tables) expect(readFileSync(join(dir, "rs-2", f), "utf8"), f).toBe(readFileSync(join(dir, "rs-local", f), "utf8"));
    await stop(w);
  }, 120_000);

  it("survives a Redis restart with the Redis store: the inputs go up again for a worker with an empty cache, and the tables are local's", async () => {
    const dst = join(dir, "long.dst");
    const rec = runCli(["record", "stairs", "-o", dst, "--duration", "60ms"]);
    expect(rec.status, rec.stderr).toBe(0);
    const file = join(dir, "restart-study.json");
    writeFileSync(file, JSON.stringify({ name: "rr", machine: "tiny", duration: "60ms", attrs: { sample: "1ms", aggr: "5ms" }, warmup: 0, axes: { workload: [dst], primitives: ["pte"], seed: [1, 2, 3, 4] }, baseline: "none" }));
    const local = runCli(["study", "run", file, "-o", join(dir, "rr-local"), "-q"]);
    expect(local.status, local.stderr).toBe(0);
    const a = worker("r1", "cache-ra");
    const run = cli(["study", "run", file, "-o", join(dir, "rr-fleet"), ...bull("r1"), "--store", "redis"]);
    await until(() => a.log().includes("done in"), 30_000);
    expect(a.log()).toContain("done in");
    // Redis forgets everything (no persistence), and the worker that had the trace is gone
    a.proc.kill("SIGKILL");
    await redis.kill();
    await redis.start();
    const b = worker("r1", "cache-rb");
    const r = await run;
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("queued again");
    expect(fetches(b)).toBe(1);
    for (const f of ["results.csv", "results.json", "summary.csv"]) expect(readFileSync(join(dir, "rr-fleet", f), "utf8"), f).toBe(readFileSync(join(dir, "rr-local", f), "utf8"));
    await stop(b);
  }, 120_000);
});
