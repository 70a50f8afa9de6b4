// Shared helpers for the .dst trace tests: batch builders (random, Lackey-like, extreme values),
// row comparison and temporary directories.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { AccessBatch, AccessKind } from "../../../hw/batch.ts";
import { RngRoot } from "../../../sim/rng.ts";
import type { TraceHeaderInput } from "../../../workloads/trace/format.ts";
import { openTrace } from "../../../workloads/trace/reader.ts";

export const MAX_ADDR = 2 ** 53 - 1;

/** A temporary directory removed after the test file. */
export function tempDir(prefix = "dst-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Row {
  addr: number;
  size: number;
  kind: number;
  tid: number;
  gap: number;
}

export function batchOf(rows: readonly Row[]): AccessBatch {
  const b = new AccessBatch(Math.max(1, rows.length));
  for (const r of rows) b.push(r.addr, r.size, r.kind, r.tid, r.gap);
  return b;
}

export function rowsOf(b: AccessBatch): Row[] {
  const out: Row[] = [];
  for (let i = 0; i < b.length; i++) out.push({ addr: b.addr[i]!, size: b.size[i]!, kind: b.kind[i]!, tid: b.tid[i]!, gap: b.gap[i]! });
  return out;
}

/** The threads HEADER declares: every tid randomRows and lackeyLikeRows use. */
export const TEST_TIDS = [1, 2, 3, 4, 5, 6, 7, 8, 65_536, 2 ** 31 - 1];

/**
 * Random rows mixing every kind, wide and narrow address ranges, repeated and varying tids/gaps.
 * Tids come from TEST_TIDS, or with `anyTid` from all of int32 (for the column codec alone).
 */
export function randomRows(n: number, seed: number, anyTid = false): Row[] {
  const r = new RngRoot(seed).stream("test.rows");
  const rows: Row[] = [];
  let tid = 1;
  let gap = 0;
  let base = r.int(2 ** 47);
  for (let i = 0; i < n; i++) {
    if (r.chance(0.01)) tid = r.chance(0.5) ? 1 + r.int(8) : anyTid ? r.int(2 ** 32) - 2 ** 31 : TEST_TIDS[r.int(TEST_TIDS.length)]!;
    if (r.chance(0.2)) gap = r.chance(0.5) ? 0 : r.chance(0.5) ? 2 ** 32 - 1 : r.int(1000);
    const pick = r.int(6);
    let addr: number;
    if (pick === 0) addr = r.int(2 ** 53);
    else if (pick === 1) addr = MAX_ADDR - r.int(300);
    else if (pick === 2) addr = r.int(300);
    else if (pick === 3) addr = (base += 8 * (r.int(5) - 2)) >= 0 && base <= MAX_ADDR ? base : (base = 4096);
    else addr = 0x7ff000000000 + r.int(1 << 20);
    rows.push({ addr, size: r.chance(0.9) ? 1 + r.int(16) : r.int(256), kind: r.int(4), tid, gap });
  }
  return rows;
}

/** Lackey-like rows: instruction fetches walking loops, each followed by 0-3 data accesses. */
export function lackeyLikeRows(n: number, seed: number): Row[] {
  const r = new RngRoot(seed).stream("test.lackey");
  const rows: Row[] = [];
  let pc = 0x108000;
  let i = 0;
  let heap = 0x4a14000;
  while (rows.length < n) {
    const len = 1 + r.int(8);
    rows.push({ addr: pc, size: len, kind: AccessKind.IFETCH, tid: 1, gap: 0 });
    const nd = r.int(4);
    for (let k = 0; k < nd && rows.length < n; k++) {
      const stack = r.chance(0.5);
      rows.push({ addr: stack ? 0x1fff000760 - 8 * r.int(8) : heap + 4 * (i % 20000), size: stack ? 8 : 4, kind: r.int(4) === 2 ? AccessKind.MODIFY : r.int(2), tid: 1, gap: 0 });
    }
    i++;
    pc = r.chance(0.1) ? 0x108000 + 16 * r.int(64) : pc + len;
  }
  return rows;
}

export const HEADER: TraceHeaderInput = {
  source: "unit test",
  tool: { name: "damon-sim-test", version: "0" },
  layout: { processes: [{ pid: 1, name: "t", vmas: [{ start: 0, end: 4096, name: "x", kind: "heap", backing: "anon" }], threads: TEST_TIDS.map((tid) => ({ tid })) }] },
  seed: 7,
  meta: { purpose: "test" },
};

/** Reads every row of a trace with batches of `batchSize`. */
export function readAll(path: string, batchSize = 1000): Row[] {
  const r = openTrace(path);
  const b = new AccessBatch(batchSize);
  const rows: Row[] = [];
  while (r.next(b) > 0) rows.push(...rowsOf(b));
  r.close();
  return rows;
}
