// For the BullMQ tests: a redis-server of their own on a random loopback port with no persistence
// (started, restarted and stopped by its PID), `damon-sim worker` processes they can stop or
// kill, whether redis-server is installed at all (the tests skip, saying so, when it is not), and
// the fixture a test file sets up with them (redisSuite).

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { BIN } from "../cli/helpers.ts";

export const hasRedis = spawnSync("sh", ["-c", "command -v redis-server"]).status === 0;

export function warnIfNoRedis(file: string): void {
  if (!hasRedis) console.warn(`${file}: redis-server is not installed (apt-get install -y redis-server): skipping the BullMQ backend tests`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `ok()` holds, polling every 50 ms, at most `ms`. */
export async function until(ok: () => boolean, ms = 10_000): Promise<void> {
  for (let t = 0; t < ms && !ok(); t += 50) await sleep(50);
}

export class RedisServer {
  port = 0;
  url = "";
  private proc: ChildProcess | null = null;
  async start(): Promise<void> {
    if (this.port === 0) {
      this.port = await freePort();
      this.url = `redis://127.0.0.1:${this.port}`;
    }
    this.proc = spawn("redis-server", ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    for (let i = 0; i < 50; i++) {
      if (spawnSync("redis-cli", ["-p", String(this.port), "ping"], { encoding: "utf8" }).stdout.trim() === "PONG") return;
      await sleep(100);
    }
    throw new Error("redis-server did not start");
  }
  /** Stops it (SIGKILL: no goodbye to the clients, as a crash) and waits until it is gone. */
  async kill(sig: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const gone = new Promise((r) => p.once("exit", r));
    p.kill(sig);
    await gone;
  }
  /** redis-cli against this server; its output. */
  cli(...args: string[]): string {
    return spawnSync("redis-cli", ["-p", String(this.port), ...args], { encoding: "utf8" }).stdout;
  }
}

export interface Running {
  proc: ChildProcess;
  log: () => string;
}

/** `damon-sim worker` on `queue` with 1 thread and a 1 s lock; `all` collects it for the final cleanup. */
export function worker(url: string, queue: string, extra: string[], all: Running[]): Running {
  const proc = spawn(process.execPath, [BIN, "worker", "--redis", url, "--queue", queue, "--concurrency", "1", "--lock-duration", "1000", ...extra], { stdio: ["ignore", "ignore", "pipe"] });
  let text = "";
  proc.stderr!.on("data", (d: Buffer) => (text += d.toString()));
  const w = { proc, log: () => text };
  all.push(w);
  return w;
}

/** Waits until every worker says it is serving. */
export const serving = (ws: Running[]): Promise<void> => until(() => ws.every((w) => w.log().includes("serving")));

export async function stop(w: Running): Promise<void> {
  if (w.proc.exitCode !== null) return;
  const done = new Promise((r) => w.proc.once("exit", r));
  w.proc.kill("SIGTERM");
  await done;
}

/** Kills whatever is still running (by PID): the workers, then the server. */
export async function cleanup(ws: Running[], server: RedisServer): Promise<void> {
  for (const w of ws) if (w.proc.exitCode === null) w.proc.kill("SIGKILL");
  await server.kill("SIGTERM");
}

/** A damon-sim command run as a child process, resolved with its status and output when it exits. */
export function cli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    p.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("exit", (code) => resolve({ status: code ?? -1, stdout, stderr }));
  });
}

/**
 * A test file's Redis fixture: warns when redis-server is missing, makes a temporary folder, starts
 * a server before the file's tests and stops it and every worker after them.
 */
export function redisSuite(file: string, prefix: string): { dir: string; redis: RedisServer; workers: Running[] } {
  warnIfNoRedis(file);
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const redis = new RedisServer();
  const workers: Running[] = [];
  beforeAll(async () => {
    if (hasRedis) await redis.start();
  });
  afterAll(async () => {
    await cleanup(workers, redis);
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, redis, workers };
}
