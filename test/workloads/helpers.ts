// Shared helpers for the workload tests: drain a pattern or program into plain arrays, check
// addresses against a layout by brute force, and a chi-square bound computed independently.

import { AccessBatch } from "../../hw/batch.ts";
import type { WorkloadLayout } from "../../hw/layout.ts";
import type { ThreadProgram, Workload } from "../../hw/program.ts";
import { RngRoot } from "../../sim/rng.ts";
import type { Pattern, PatternContext } from "../../workloads/pattern.ts";

export interface Rows {
  addr: number[];
  size: number[];
  kind: number[];
  tid: number[];
  gap: number[];
}

export function ctx(seed = 1, tid = 7): PatternContext {
  return { tid, rng: new RngRoot(seed).stream(`test.t${tid}`), memo: new Map() };
}

/** Runs `pattern.fill` until `n` rows were produced (batches of `batch`), at time `now`. */
export function drain(pattern: Pattern, n: number, now = 0, batch = 1000): Rows {
  const out = new AccessBatch(batch);
  const rows: Rows = { addr: [], size: [], kind: [], tid: [], gap: [] };
  while (rows.addr.length < n) {
    out.clear();
    pattern.fill(out, Math.min(batch, n - rows.addr.length), now);
    for (let i = 0; i < out.length; i++) {
      rows.addr.push(out.addr[i]!);
      rows.size.push(out.size[i]!);
      rows.kind.push(out.kind[i]!);
      rows.tid.push(out.tid[i]!);
      rows.gap.push(out.gap[i]!);
    }
  }
  return rows;
}

/** Copies a batch's used rows (for equality checks across runs). */
export function snapshot(b: AccessBatch): number[][] {
  const r: number[][] = [];
  for (let i = 0; i < b.length; i++) r.push([b.addr[i]!, b.size[i]!, b.kind[i]!, b.tid[i]!, b.gap[i]!]);
  return r;
}

/** The first `batches` batches of every thread of a fresh run, advancing each clock by `step` ns. */
export function runBatches(w: Workload, seed: number, batches: number, step = 50_000, capacity = 1024): number[][][] {
  const run = w.start(new RngRoot(seed));
  if (run.kind !== "threads") throw new Error("expected thread programs");
  const all: number[][][] = [];
  for (const t of run.threads) {
    const b = new AccessBatch(capacity);
    for (let i = 0; i < batches; i++) {
      t.next(b, i * step);
      all.push(snapshot(b));
    }
  }
  return all;
}

/** Rows of a program until it ends or `maxBatches`, with a clock advancing `nsPerRow` per row. */
export function runProgram(p: ThreadProgram, capacity: number, nsPerRow: number, maxBatches: number, start = 0): { rows: Rows; starts: number[]; lengths: number[] } {
  const out = new AccessBatch(capacity);
  const rows: Rows = { addr: [], size: [], kind: [], tid: [], gap: [] };
  const starts: number[] = [];
  const lengths: number[] = [];
  let now = start;
  for (let i = 0; i < maxBatches; i++) {
    const n = p.next(out, now);
    if (n === 0) break;
    starts.push(now);
    lengths.push(n);
    for (let j = 0; j < n; j++) {
      rows.addr.push(out.addr[j]!);
      rows.size.push(out.size[j]!);
      rows.kind.push(out.kind[j]!);
      rows.tid.push(out.tid[j]!);
      rows.gap.push(out.gap[j]!);
    }
    now += n * nsPerRow;
  }
  return { rows, starts, lengths };
}

/** True when [addr, addr + size) lies inside one VMA of the layout (linear scan, no cleverness). */
export function insideLayout(layout: WorkloadLayout, addr: number, size: number): boolean {
  for (const p of layout.processes) for (const v of p.vmas) if (addr >= v.start && addr + size <= v.end) return true;
  return false;
}

/**
 * Upper critical value of the chi-square distribution with `df` degrees of freedom for a normal
 * deviate z (Wilson-Hilferty); z = 5 is a tail probability of about 3e-7.
 */
export function chiSquareBound(df: number, z = 5): number {
  const a = 2 / (9 * df);
  return df * (1 - a + z * Math.sqrt(a)) ** 3;
}

export function chiSquare(observed: ArrayLike<number>, expected: ArrayLike<number>): number {
  let x = 0;
  for (let i = 0; i < observed.length; i++) {
    const e = expected[i]!;
    x += (observed[i]! - e) ** 2 / e;
  }
  return x;
}

/** |observed - n p| within `sigmas` binomial standard deviations. */
export function withinBinomial(observed: number, n: number, p: number, sigmas = 5): boolean {
  return Math.abs(observed - n * p) <= sigmas * Math.sqrt(n * p * (1 - p)) + 1e-9;
}
