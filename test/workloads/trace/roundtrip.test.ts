// TraceWriter -> openTrace round trips: the rows come back identical whatever the chunk size and
// the writer's and reader's batch sizes, the header comes back as written, the file is a pure
// function of its input, and traceInfo's figures match counts computed from the rows themselves.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { AccessBatch } from "../../../hw/batch.ts";
import { SimError } from "../../../sim/errors.ts";
import { TraceWriter } from "../../../workloads/trace/writer.ts";
import { openTrace } from "../../../workloads/trace/reader.ts";
import { traceInfo } from "../../../workloads/trace/info.ts";
import { traceWorkload } from "../../../workloads/trace/workload.ts";
import { RngRoot } from "../../../sim/rng.ts";
import { HEADER, TEST_TIDS, batchOf, lackeyLikeRows, randomRows, readAll, rowsOf, tempDir, type Row } from "./helpers.ts";

const dir = tempDir();
let seq = 0;

/** Writes rows in pieces of `writeBatch` rows; returns the path. */
function writeRows(rows: Row[], chunkSize: number, writeBatch: number, level?: number): string {
  const path = join(dir, `t${++seq}.dst`);
  const w = TraceWriter.create(path, HEADER, { chunkSize, ...(level ? { level } : {}) });
  for (let i = 0; i < rows.length; i += writeBatch) w.write(batchOf(rows.slice(i, i + writeBatch)));
  const s = w.close();
  expect(s.accesses).toBe(rows.length);
  expect(s.chunks).toBe(Math.ceil(rows.length / chunkSize));
  expect(s.bytes).toBe(statSync(path).size);
  return path;
}

describe("trace round trip", () => {
  it("gives back identical rows across chunk boundaries and odd chunk and batch sizes", () => {
    const rows = [...randomRows(3000, 1), ...lackeyLikeRows(3000, 2)];
    for (const [chunkSize, writeBatch, readBatch] of [[1, 7, 3], [7, 1000, 13], [1000, 999, 1001], [4096, 6000, 4096], [65536, 6000, 1], [6000, 6000, 6000], [5999, 6000, 6001]] as const) {
      const path = writeRows(rows, chunkSize, writeBatch);
      expect(readAll(path, readBatch)).toEqual(rows);
    }
  });

  it("round-trips arbitrary row lists with arbitrary chunk sizes (property)", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 100 }), fc.integer(), (n, chunk, wb, rb, seed) => {
      const rows = randomRows(n, seed);
      expect(readAll(writeRows(rows, chunk, wb), rb)).toEqual(rows);
    }), { numRuns: 40 });
  });

  it("keeps the header, seed and metadata", () => {
    const path = writeRows(lackeyLikeRows(100, 3), 64, 100);
    const r = openTrace(path);
    expect(r.header.source).toBe(HEADER.source);
    expect(r.header.tool).toEqual(HEADER.tool);
    expect(r.header.layout).toEqual(HEADER.layout);
    expect(r.header.layoutInferred).toBe(false);
    expect(r.header.threads).toEqual(TEST_TIDS);
    expect(r.header.seed).toBe(7);
    expect(r.header.meta).toEqual({ purpose: "test" });
    expect(r.header.chunkSize).toBe(64);
    expect(r.header.formatVersion).toBe("2.0");
    expect(r.header.chunks).toBe(2);
    expect(r.header.accesses).toBe(100);
    r.close();
  });

  it("writes an empty trace that reads back empty", () => {
    const path = writeRows([], 16, 1);
    const r = openTrace(path);
    expect(r.next(new AccessBatch(8))).toBe(0);
    expect(r.header.accesses).toBe(0);
  });

  it("is deterministic: the same input gives a byte-identical file", () => {
    const rows = lackeyLikeRows(5000, 4);
    const a = readFileSync(writeRows(rows, 1000, 333));
    const b = readFileSync(writeRows(rows, 1000, 777));
    expect(a.equals(b)).toBe(true);
    // and the content does depend on the rows
    const c = readFileSync(writeRows(lackeyLikeRows(5000, 5), 1000, 333));
    expect(a.equals(c)).toBe(false);
  });

  it("reads the same rows at every compression level", () => {
    const rows = [...lackeyLikeRows(5000, 6), ...randomRows(2000, 6)];
    for (const level of [1, 6, 9]) expect(readAll(writeRows(rows, 1024, 5000, level))).toEqual(rows);
  });

  it("traceInfo counts what the rows hold", () => {
    const rows = randomRows(5000, 8);
    const path = writeRows(rows, 700, 1234);
    const info = traceInfo(path);
    const count = (k: number): number => rows.filter((r) => r.kind === k).length;
    expect(info.accesses).toBe(rows.length);
    expect(info.counts).toEqual({ read: count(0), write: count(1), ifetch: count(2), modify: count(3) });
    expect(info.chunks).toBe(Math.ceil(5000 / 700));
    expect(info.addressSpan).toEqual({ start: Math.min(...rows.map((r) => r.addr)), end: Math.max(...rows.map((r) => r.addr + r.size)) });
    expect(info.threads).toEqual([...new Set(rows.map((r) => r.tid))].sort((a, b) => a - b));
    expect(info.gapOps).toBe(rows.reduce((s, r) => s + r.gap, 0));
    expect(info.bytesPerAccess).toBeCloseTo(statSync(path).size / 5000, 10);
  });

  it("replays as a merged workload with the header's layout, from the start each time", () => {
    const rows = lackeyLikeRows(3000, 9);
    const path = writeRows(rows, 1000, 3000);
    const w = traceWorkload(path);
    expect(w.layout).toEqual(HEADER.layout);
    for (let k = 0; k < 2; k++) {
      const run = w.start(new RngRoot(1));
      expect(run.kind).toBe("merged");
      if (run.kind !== "merged") return;
      const b = new AccessBatch(512);
      const got: Row[] = [];
      while (run.source.next(b) > 0) got.push(...rowsOf(b));
      expect(got).toEqual(rows);
    }
  });

  it("refuses a bad header before creating any file", () => {
    const path = join(dir, "badheader.dst");
    const layout = { processes: [{ pid: 1, name: "p", vmas: [{ start: 4096, end: 4096, name: "v", kind: "heap" as const, backing: "anon" as const }], threads: [{ tid: 1 }] }] };
    expect(() => TraceWriter.create(path, { ...HEADER, layout })).toThrow(/badheader\.dst, field 'header\.layout\.processes\[0\]\.vmas\[0\]\.end'/);
    expect(() => TraceWriter.create(path, { ...HEADER, seed: 1.5 })).toThrow(/field 'header\.seed'/);
    expect(() => TraceWriter.create(path, HEADER, { chunkSize: 0 })).toThrow(SimError);
    expect(() => statSync(path)).toThrow();
  });

  it("refuses writes after close and rows no trace can hold, leaving no file", () => {
    const path = join(dir, "bad.dst");
    const w = TraceWriter.create(path, HEADER, { chunkSize: 4 });
    // rows are checked when their chunk is encoded: at the latest by close()
    w.write(batchOf([{ addr: -5, size: 1, kind: 0, tid: 1, gap: 0 }]));
    expect(() => w.close()).toThrow(SimError);
    expect(() => statSync(path)).toThrow();
    expect(() => w.write(batchOf([]))).toThrow(/closed or aborted/);
    const w2 = TraceWriter.create(path, HEADER, { chunkSize: 4 });
    expect(() => w2.write(batchOf(randomRows(3, 1).concat([{ addr: 2 ** 53, size: 1, kind: 0, tid: 1, gap: 0 }])))).toThrow(SimError);
    expect(() => statSync(path)).toThrow();
  });
});
