// Runs an experiment's variants in parallel worker threads (one per core by default), with a
// progress line per variant on a terminal, and stops cleanly on Ctrl-C: running workers are
// terminated and only the variants that finished are returned. Results come back in variant order
// whatever order the workers finish in, so the output never depends on scheduling.

import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { SimError } from "../../sim/errors.ts";
import type { ExperimentSpec, VariantSpec } from "./spec.ts";
import type { VariantResult } from "./variant.ts";
import { WorkerLanes } from "../lanes.ts";

export interface PoolOutcome {
  results: Array<VariantResult | null>;
  errors: Array<string | null>;
  interrupted: boolean;
}

class ProgressBoard {
  private readonly enabled: boolean;
  private readonly fractions: number[];
  private drawn = 0;
  private last = 0;
  constructor(private readonly names: string[], quiet: boolean) {
    this.enabled = !quiet && process.stderr.isTTY === true;
    this.fractions = names.map(() => 0);
  }
  set(i: number, f: number): void {
    this.fractions[i] = f;
    this.draw(false);
  }
  draw(force: boolean): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (!force && now - this.last < 150) return;
    this.last = now;
    if (this.drawn > 0) process.stderr.write(`\x1b[${this.drawn}A`);
    const width = Math.max(...this.names.map((n) => n.length));
    for (let i = 0; i < this.names.length; i++) {
      const f = this.fractions[i]!;
      const full = Math.round(f * 30);
      process.stderr.write(`\r${this.names[i]!.padEnd(width)} [${"#".repeat(full)}${"-".repeat(30 - full)}] ${(f * 100).toFixed(0).padStart(3)}%\x1b[K\n`);
    }
    this.drawn = this.names.length;
  }
  finish(): void {
    if (!this.enabled || this.drawn === 0) return;
    process.stderr.write(`\x1b[${this.drawn}A`);
    for (let i = 0; i < this.drawn; i++) process.stderr.write("\r\x1b[K\n");
    process.stderr.write(`\x1b[${this.drawn}A`);
  }
}

export async function runPool(x: ExperimentSpec, variants: VariantSpec[], o: { jobs?: number; quiet?: boolean } = {}): Promise<PoolOutcome> {
  const jobs = Math.max(1, Math.min(o.jobs ?? availableParallelism(), variants.length));
  const results: Array<VariantResult | null> = variants.map(() => null);
  const errors: Array<string | null> = variants.map(() => null);
  const board = new ProgressBoard(variants.map((v) => v.name), o.quiet ?? false);
  const lanes = new WorkerLanes();
  const entry = new URL("./worker-entry.mjs", import.meta.url);
  const runOne = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const w = lanes.track(new Worker(entry, { workerData: { experiment: x, variant: variants[i] } }));
      w.on("message", (msg: { kind: string; fraction?: number; result?: VariantResult; message?: string }) => {
        if (msg.kind === "progress") board.set(i, msg.fraction!);
        else if (msg.kind === "result") {
          results[i] = msg.result!;
          board.set(i, 1);
        } else if (msg.kind === "error") errors[i] = msg.message ?? "error";
      });
      w.on("error", (e) => {
        errors[i] = e.message;
      });
      w.on("exit", () => {
        if (results[i] === null && errors[i] === null) errors[i] = lanes.interrupted ? "interrupted" : "worker exited without a result";
        resolve();
      });
    });
  try {
    await lanes.run(variants.length, jobs, runOne);
  } finally {
    board.finish();
  }
  const interrupted = lanes.interrupted;
  if (!interrupted && results.every((r) => r === null)) {
    const first = errors.find((e) => e !== null);
    throw new SimError(`every variant failed: ${first}`);
  }
  return { results, errors, interrupted };
}
