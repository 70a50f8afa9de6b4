// Runs the damon-sim executable as a child process, the way a user would; makes a damaged trace
// (a run that fails part way) the same way.

import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../..");
export const BIN = resolve(ROOT, "cli/damon-sim.mjs");

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { cwd?: string; input?: string | Buffer; timeout?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    input: options.input,
    encoding: "utf8",
    timeout: options.timeout ?? 60_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Records a small trace (stairs, 2 ms, 4 KiB chunks) at `path` and flips one bit in the middle of
 * chunk `chunk`: a run fails (chunk checksum mismatch) only when it reads that far, so chunk 0
 * fails every run and a late chunk only the runs that get far enough.
 */
export function damagedTrace(path: string, chunk: number): string {
  const rec = runCli(["record", "stairs", "-o", path, "--duration", "2ms", "--chunk-size", "4096"]);
  if (rec.status !== 0) throw new Error(`damon-sim record failed: ${rec.stderr}`);
  const info = JSON.parse(runCli(["trace", "info", path, "--json"]).stdout) as { chunkList: Array<{ offset: number; bytes: number }> };
  const c = info.chunkList[chunk]!;
  const bytes = readFileSync(path);
  bytes[c.offset + (c.bytes >> 1)]! ^= 0x40;
  writeFileSync(path, bytes);
  return path;
}
