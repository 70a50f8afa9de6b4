// The BullMQ backend against a real redis-server started here (random loopback port, no
// persistence, stopped by its PID): 2 workers give tables byte-identical to local; a worker
// SIGKILLed mid-job loses nothing; a job that throws (a damaged trace) is retried, then
// reported, exit 1; a half-done study reruns only what is missing. Skips (with a message) only without redis-server.

import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BIN, damagedTrace, runCli } from "../cli/helpers.ts";
import { cli, hasRedis, redisSuite, serving, stop, until, worker as spawnWorker, type Running } from "./redis-server.ts";

const { dir, redis, workers } = redisSuite("test/study/bullmq.test.ts", "damon-sim-bullmq-");

const worker = (queue: string, extra: string[] = []): Running => spawnWorker(redis.url, queue, extra, workers);

function coordinator(file: string, out: string, queue: string, extra: string[] = []): Promise<{ status: number; stderr: string }> {
  return cli(["study", "run", file, "-o", out, "--backend", "bullmq", "--redis", redis.url, "--queue", queue, ...extra]);
}

function study(name: string, o: Record<string, unknown>): string {
  const p = join(dir, `${name}.json`);
  writeFileSync(p, JSON.stringify({ name, machine: "tiny", duration: "5ms", attrs: { sample: "1ms", aggr: "2ms" }, warmup: 0, ...o }, null, 2));
  return p;
}

const TABLES = ["results.csv", "results.json", "summary.csv", "summary.json", "report.html"];
const same = (a: string, b: string): void => {
  for (const f of TABLES) expect(readFileSync(join(b, f), "utf8"), f).toBe(readFileSync(join(a, f), "utf8"));
};
const resultFiles = (store: string): string[] =>
  readdirSync(join(store, "results"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".json") && !f.endsWith(".timing.json")).map((f) => join(store, "results", f)).sort();

describe.skipIf(!hasRedis)("study run --backend bullmq", () => {
  // 3 seeds x (pte, ibs 1024, ibs 4096) + 3 baselines = 12 jobs
  const axes = { workload: ["stairs"], primitives: ["pte", "ibs"], "ibs.period": [1024, 4096], seed: [1, 2, 3] };

  it("runs a 12-job study through 2 workers with tables identical to local; a half-done study reruns only what is missing", async () => {
    const file = study("fleet", { axes });
    const local = runCli(["study", "run", file, "-o", join(dir, "local"), "-q"]);
    expect(local.status, local.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "local", "results.json"), "utf8"))).toHaveLength(12);
    const ws = [worker("q1"), worker("q1")];
    await serving(ws);
    const r = await coordinator(file, join(dir, "fleet"), "q1");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("workers seen:");
    for (const w of ws) expect(w.log()).toContain("done in");
    same(join(dir, "local"), join(dir, "fleet"));

    // half of the results gone (a study stopped midway): the rerun computes those only
    const files = resultFiles(join(dir, "fleet", "store"));
    expect(files).toHaveLength(12);
    for (const f of files.slice(0, 6)) unlinkSync(f);
    const kept = new Map(files.slice(6).map((f) => [f, statSync(f).mtimeMs]));
    const before = ws.map((w) => (w.log().match(/ done in /g) ?? []).length);
    const again = await coordinator(file, join(dir, "fleet"), "q1");
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain("6 of 12 jobs already in the store; running 6");
    const after = ws.map((w) => (w.log().match(/ done in /g) ?? []).length);
    expect(after[0]! + after[1]! - before[0]! - before[1]!).toBe(6);
    for (const [f, t] of kept) expect(statSync(f).mtimeMs, f).toBe(t);
    same(join(dir, "local"), join(dir, "fleet"));
    await Promise.all(ws.map(stop));
  }, 120_000);

  it("finishes a study whose worker is SIGKILLed mid-job, with the same tables", async () => {
    // each job simulates 300 ms: most of a second of host time on the 2-core machine
    const file = study("kill", { duration: "300ms", axes: { workload: ["stairs"], primitives: ["pte"], seed: [1, 2] } });
    const env1 = spawnSync(process.execPath, [BIN, "study", "run", file, "-o", join(dir, "kill-local"), "-q"], { encoding: "utf8" });
    expect(env1.status, env1.stderr).toBe(0);
    const a = worker("q2");
    const run = coordinator(file, join(dir, "kill-fleet"), "q2");
    await until(() => a.log().includes("started"));
    expect(a.log()).toContain("started");
    a.proc.kill("SIGKILL");
    const b = worker("q2");
    const r = await run;
    expect(r.status, r.stderr).toBe(0);
    same(join(dir, "kill-local"), join(dir, "kill-fleet"));
    expect(b.log()).toMatch(/done in/);
    await stop(b);
  }, 120_000);

  it("survives a Redis restart mid-study (no persistence: lost jobs are queued again), with the same tables", async () => {
    const file = study("restart", { duration: "200ms", axes: { workload: ["stairs"], primitives: ["pte"], seed: [1, 2, 3] } });
    const local = spawnSync(process.execPath, [BIN, "study", "run", file, "-o", join(dir, "restart-local"), "-q"], { encoding: "utf8" });
    expect(local.status, local.stderr).toBe(0);
    const w = worker("q4");
    const run = coordinator(file, join(dir, "restart-fleet"), "q4");
    await until(() => w.log().includes("done in"), 20_000);
    await redis.kill();
    await new Promise((r) => setTimeout(r, 500));
    await redis.start();
    const r = await run;
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("reconnecting");
    same(join(dir, "restart-local"), join(dir, "restart-fleet"));
    await stop(w);
  }, 120_000);

  it("retries a job that throws, then reports it with its error and exits 1", async () => {
    // a trace whose first chunk is damaged: every run of it throws
    const dst = damagedTrace(join(dir, "damaged.dst"), 0);
    const file = study("fail", { axes: { workload: ["stairs", dst], primitives: ["pte"] }, baseline: "none" });
    const w = worker("q3");
    const r = await coordinator(file, join(dir, "fail"), "q3", ["--attempts", "2"]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain(`(workload=${dst} primitives=pte) failed: `);
    expect(r.stderr).toMatch(/failed: .*inputs\/[0-9a-f]{64}\.dst, byte offset \d+, field 'chunk 0 crc': chunk checksum mismatch/);
    expect((w.log().match(/failed \(attempt/g) ?? []).length).toBe(2);
    const rows = JSON.parse(readFileSync(join(dir, "fail", "results.json"), "utf8")) as Array<Record<string, unknown>>;
    expect(rows.map((x) => x.workload)).toEqual(["stairs"]);
    await stop(w);
  }, 60_000);
});
