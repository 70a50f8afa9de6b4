// The BullMQ backend against a real redis-server started here (random loopback port, no
// persistence, stopped by its PID): 2 workers give tables byte-identical to local; a worker
// SIGKILLed mid-job loses nothing; a job that throws (a damaged trace) is retried, then
// reported, exit 1; a half-done study reruns only what is missing. Skips (with a message) only without redis-server.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, damagedTrace, runCli } from "../cli/helpers.ts";

const hasRedis = spawnSync("sh", ["-c", "command -v redis-server"]).status === 0;
if (!hasRedis) console.warn("test/study/bullmq.test.ts: redis-server is not installed (apt-get install -y redis-server): skipping the BullMQ backend tests");

const dir = mkdtempSync(join(tmpdir(), "damon-sim-bullmq-"));
let redis: ChildProcess | null = null;
let url = "";
let port = 0;

function startRedis(): ChildProcess {
  return spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
}

async function redisUp(): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (spawnSync("redis-cli", ["-p", String(port), "ping"], { encoding: "utf8" }).stdout.trim() === "PONG") return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("redis-server did not start");
}
const workers: ChildProcess[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

beforeAll(async () => {
  if (!hasRedis) return;
  port = await freePort();
  redis = startRedis();
  url = `redis://127.0.0.1:${port}`;
  await redisUp();
});

afterAll(() => {
  const kill = (pid: number | undefined, sig: NodeJS.Signals): void => {
    try {
      if (pid) process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  for (const w of workers) if (w.exitCode === null) kill(w.pid, "SIGKILL");
  kill(redis?.pid, "SIGTERM");
  rmSync(dir, { recursive: true, force: true });
});

interface Running {
  proc: ChildProcess;
  log: () => string;
}

function worker(queue: string, extra: string[] = []): Running {
  const proc = spawn(process.execPath, [BIN, "worker", "--redis", url, "--queue", queue, "--concurrency", "1", "--lock-duration", "1000", ...extra], { stdio: ["ignore", "ignore", "pipe"] });
  let text = "";
  proc.stderr!.on("data", (d: Buffer) => (text += d.toString()));
  workers.push(proc);
  return { proc, log: () => text };
}

async function stop(w: Running): Promise<void> {
  if (w.proc.exitCode !== null) return;
  const done = new Promise((r) => w.proc.once("exit", r));
  w.proc.kill("SIGTERM");
  await done;
}

function coordinator(file: string, out: string, queue: string, extra: string[] = []): Promise<{ status: number; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, "study", "run", file, "-o", out, "--backend", "bullmq", "--redis", url, "--queue", queue, ...extra], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    p.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("exit", (code) => resolve({ status: code ?? -1, stderr }));
  });
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
    for (let i = 0; i < 200 && !ws.every((w) => w.log().includes("serving")); i++) await new Promise((r) => setTimeout(r, 50));
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
    for (let i = 0; i < 200 && !a.log().includes("started"); i++) await new Promise((r) => setTimeout(r, 50));
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
    for (let i = 0; i < 400 && !w.log().includes("done in"); i++) await new Promise((r) => setTimeout(r, 50));
    const old = redis!;
    const gone = new Promise((r) => old.once("exit", r));
    old.kill("SIGKILL");
    await gone;
    await new Promise((r) => setTimeout(r, 500));
    redis = startRedis();
    await redisUp();
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
