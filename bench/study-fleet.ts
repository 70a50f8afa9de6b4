// study.fleet: a 12-job study (tiny machine, 100 ms simulated each) run through the CLI, each time
// into a fresh result store: local with 1 and 2 piscina threads (speed-up, and the pool's cost per
// job: wall time x threads minus the jobs' own host time, over the job count), then through BullMQ
// with 1 and 2 workers on a redis-server started here on a loopback port (speed-up, and the
// queue's cost per job over local with the same parallelism; target under 50 ms), and with 2
// workers and the Redis store (results in Redis; this study names no input files). Skipped
// without redis-server. Wall times include the CLI's start (about 1 s), the same for every row.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { round, type Benchmark, type BenchResult } from "./harness.ts";

const BIN = resolve(import.meta.dirname, "../cli/damon-sim.mjs");

const STUDY = { name: "fleet", workload: "stairs", machine: "tiny", duration: "100ms", attrs: { sample: "1ms", aggr: "10ms" }, warmup: 0, axes: { primitives: ["pte", "ibs"], "ibs.period": [1024, 4096], seed: [1, 2, 3] } };

function jobSeconds(store: string): number {
  let s = 0;
  for (const f of readdirSync(join(store, "results"), { recursive: true, encoding: "utf8" })) if (f.endsWith(".timing.json")) s += (JSON.parse(readFileSync(join(store, "results", f), "utf8")) as { wallSeconds: number }).wallSeconds;
  return s;
}

async function timed(args: string[]): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((ok, fail) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "ignore", "inherit"] });
    p.on("exit", (c) => (c === 0 ? ok() : fail(new Error(`study run exited ${c}`))));
  });
  return (performance.now() - t0) / 1000;
}

async function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => ok(p));
    });
  });
}

async function* fleet(): AsyncIterable<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), "damon-sim-bench-fleet-"));
  const file = join(dir, "study.json");
  writeFileSync(file, JSON.stringify(STUDY));
  const procs: ChildProcess[] = [];
  try {
    const local: Record<number, number> = {};
    for (const j of [1, 2]) {
      const out = join(dir, `local-${j}`);
      local[j] = await timed(["study", "run", file, "-o", out, "-j", String(j), "-q"]);
      const own = jobSeconds(join(out, "store"));
      yield { name: `study.fleet.local-${j}`, unit: "s", value: round(local[j]!), jobs: 12, jobSeconds: round(own), poolCostPerJobMs: round(((local[j]! * j - own) / 12) * 1000) };
    }
    yield { name: "study.fleet.local-speedup", unit: "x", value: round(local[1]! / local[2]!) };
    if (spawnSync("sh", ["-c", "command -v redis-server"]).status !== 0) {
      process.stderr.write("study.fleet: redis-server not installed: BullMQ rows skipped\n");
      return;
    }
    const port = await freePort();
    const redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    procs.push(redis);
    const url = `redis://127.0.0.1:${port}`;
    for (let i = 0; i < 50 && spawnSync("redis-cli", ["-p", String(port), "ping"], { encoding: "utf8" }).stdout.trim() !== "PONG"; i++) await new Promise((r) => setTimeout(r, 100));
    const bull: Record<string, number> = {};
    // 1 and 2 workers with the store folder; 2 with the Redis store (inputs fetched into each worker's cache)
    for (const [n, redisStore] of [[1, false], [2, false], [2, true]] as const) {
      const tag = `${n}${redisStore ? "-redis-store" : ""}`;
      const queue = `bench-${tag}`;
      const ws = Array.from({ length: n }, (_, i) => spawn(process.execPath, [BIN, "worker", "--redis", url, "--queue", queue, "--cache", join(dir, `cache-${tag}-${i}`), "-q"], { stdio: "ignore" }));
      procs.push(...ws);
      await new Promise((r) => setTimeout(r, 2500)); // workers up before the clock starts
      bull[tag] = await timed(["study", "run", file, "-o", join(dir, `bull-${tag}`), "--backend", "bullmq", "--redis", url, "--queue", queue, ...(redisStore ? ["--store", "redis"] : []), "-q"]);
      for (const w of ws) w.kill("SIGTERM");
      yield { name: `study.fleet.bullmq-${tag}`, unit: "s", value: round(bull[tag]!), workers: n, queueCostPerJobMs: round(((bull[tag]! - local[n]!) / 12) * 1000), targetMs: 50 };
    }
    yield { name: "study.fleet.bullmq-speedup", unit: "x", value: round(bull["1"]! / bull["2"]!) };
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

export const benchmarks: Benchmark[] = [{ name: "study.fleet", description: "12-job study: local 1 vs 2 threads, BullMQ 1 vs 2 workers; pool and queue cost per job", run: fleet }];
