// Fuzzing the .dst reader (fast-check): random sequences of damage to real version 2 files, at
// the frame level (chunks swapped, duplicated, dropped or taken from another recording, chunk
// payloads flipped, sequence numbers and counts rewritten, header and footer records edited, with
// or without every CRC and the digest recomputed afterwards) and then at the byte level (bytes
// flipped or overwritten in the header, a chunk head, a payload, the footer or the trailer; cuts,
// insertions and deletions). Whatever the damage, reading must end in one of two ways: an
// InputError naming the file and a byte offset, after handing out only rows of the original (a
// prefix of them), or the original rows exactly. Never another exception, never a hang, never a
// different row or count. Two traces: layout in the header, and layout inferred (in the footer).
// A third property aims at the decoders behind the checksums: chunk payloads overwritten and the
// file resealed (so every CRC and the digest pass) must give a located InputError or exactly as
// many rows as the chunks declare, and never another exception.

import { describe, expect } from "vitest";
import { fc, it } from "@fast-check/vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AccessBatch } from "../../../hw/batch.ts";
import { InputError } from "../../../sim/errors.ts";
import { openTrace } from "../../../workloads/trace/reader.ts";
import { TraceWriter } from "../../../workloads/trace/writer.ts";
import type { TraceHeaderInput } from "../../../workloads/trace/format.ts";
import { joinFrames, reseal, splitFrames, type Frames, type RecordEdit } from "./frames.ts";
import { HEADER, batchOf, lackeyLikeRows, randomRows, rowsOf, tempDir, type Row } from "./helpers.ts";

const dir = tempDir("dst-fuzz-");
const CHUNK = 40;

function build(name: string, header: TraceHeaderInput, rows: Row[]): Buffer {
  const path = join(dir, name);
  const w = TraceWriter.create(path, header, { chunkSize: CHUNK });
  w.write(batchOf(rows));
  w.close();
  return readFileSync(path);
}

const { layout: _drop, ...NO_LAYOUT } = HEADER;
const lackey = (n: number, seed: number): Row[] => lackeyLikeRows(n, seed).map((r, i) => ({ ...r, addr: r.addr % 2 ** 40, tid: i % 90 < 60 ? 1 : 2 }));
const BASES = [
  { name: "layout in the header", rows: randomRows(300, 21), bytes: build("a.dst", HEADER, randomRows(300, 21)), foreign: build("a2.dst", HEADER, randomRows(300, 22)) },
  { name: "layout in the footer", rows: lackey(300, 23), bytes: build("b.dst", NO_LAYOUT, lackey(300, 23)), foreign: build("b2.dst", NO_LAYOUT, lackey(300, 24)) },
];

type Layout = { processes: Array<{ threads: Array<{ tid: number }>; vmas: Array<Record<string, unknown>> }> };
const layoutOf = (x: unknown): Layout => structuredClone(x) as Layout;

/** Header record edits (applied with every check value recomputed). */
const HEADER_EDITS: RecordEdit[] = [
  (h) => ({ ...h, source: "edited" }),
  (h) => ({ ...h, chunkSize: 4096 }),
  (h) => ({ ...h, chunkSize: 10 }),
  (h) => ({ ...h, threads: Array.isArray(h.threads) ? [...(h.threads as number[]), 99] : [1, 99] }),
  (h) => ({ ...h, threads: Array.isArray(h.threads) ? (h.threads as number[]).slice(1) : null }),
  (h) => {
    if (!h.layout) return { ...h, threads: [2] };
    const l = layoutOf(h.layout);
    l.processes[0]!.threads = l.processes[0]!.threads.slice(1);
    return { ...h, layout: l, threads: l.processes[0]!.threads.map((t) => t.tid) };
  },
  (h) => {
    if (!h.layout) return { ...h, layout: HEADER.layout };
    const l = layoutOf(h.layout);
    l.processes[0]!.vmas[0]!.kind = "bogus";
    return { ...h, layout: l };
  },
  (h) => ({ ...h, layout: null }),
  (h) => ({ ...h, meta: 5 }),
  (h) => ({ ...h, seed: 1.5 }),
  () => ({ not: "a header" }),
];

/** Footer record edits (after its digest is recomputed, so the edit wins). */
const FOOTER_EDITS: RecordEdit[] = [
  (f) => ({ ...f, chunks: (f.chunks as number) + 1 }),
  (f) => ({ ...f, chunks: (f.chunks as number) + 1, chunkCrcs: [...(f.chunkCrcs as number[]), 0] }),
  (f) => ({ ...f, chunks: (f.chunks as number) - 1, chunkCrcs: (f.chunkCrcs as number[]).slice(1) }),
  (f) => ({ ...f, chunkCrcs: (f.chunkCrcs as number[]).map((c, i) => (i === 1 ? (c ^ 1) >>> 0 : c)) }),
  (f) => ({ ...f, accesses: (f.accesses as number) - 1 }),
  (f) => ({ ...f, sha256: "0".repeat(64) }),
  (f) => ({ ...f, extra: 1 }),
  (f) => ({ ...f, threads: [] }),
  (f) => {
    if (!f.layout) return { ...f, sha256: undefined };
    const l = layoutOf(f.layout);
    l.processes[0]!.threads = [{ tid: 1 }];
    return { ...f, layout: l, threads: [1] };
  },
];

type FrameOp =
  | { op: "swap"; i: number; j: number }
  | { op: "dup"; i: number; to: number }
  | { op: "drop"; i: number }
  | { op: "foreign"; i: number }
  | { op: "payload"; i: number; at: number; xor: number }
  | { op: "seq" | "count"; i: number; value: number }
  | { op: "header"; edit: number }
  | { op: "footer"; edit: number };

type Region = "header" | "head" | "payload" | "footer" | "trailer" | "anywhere";
type ByteOp =
  | { op: "flip"; region: Region; at: number; xor: number }
  | { op: "set32"; region: Region; at: number; value: number }
  | { op: "cut"; at: number }
  | { op: "insert"; at: number; bytes: Uint8Array }
  | { op: "delete"; at: number; len: number };

// unbiased: fast-check otherwise favours 0, which would aim most damage at the magic bytes
const frac = fc.noBias(fc.integer({ min: 0, max: 999_999 })).map((n) => n / 1e6);
const idx = fc.nat(20);
const u32 = fc.oneof(fc.constantFrom(0, 1, 2, 7, 8, 39, 40, 41, 0x7fffffff, 0xffffffff), fc.nat({ max: 0xffffffff }));
const frameOp: fc.Arbitrary<FrameOp> = fc.oneof(
  fc.record({ op: fc.constant("swap" as const), i: idx, j: idx }),
  fc.record({ op: fc.constant("dup" as const), i: idx, to: idx }),
  fc.record({ op: fc.constant("drop" as const), i: idx }),
  fc.record({ op: fc.constant("foreign" as const), i: idx }),
  fc.record({ op: fc.constant("payload" as const), i: idx, at: frac, xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ op: fc.constantFrom("seq" as const, "count" as const), i: idx, value: u32 }),
  fc.record({ op: fc.constant("header" as const), edit: fc.nat(HEADER_EDITS.length - 1) }),
  fc.record({ op: fc.constant("footer" as const), edit: fc.nat(FOOTER_EDITS.length - 1) }),
);
const region = fc.constantFrom<Region>("header", "head", "payload", "footer", "trailer", "anywhere");
const byteOp: fc.Arbitrary<ByteOp> = fc.oneof(
  fc.record({ op: fc.constant("flip" as const), region, at: frac, xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ op: fc.constant("set32" as const), region, at: frac, value: u32 }),
  fc.record({ op: fc.constant("cut" as const), at: frac }),
  fc.record({ op: fc.constant("insert" as const), at: frac, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant("delete" as const), at: frac, len: fc.integer({ min: 1, max: 32 }) }),
);

/** Applies frame-level damage; returns whether resealing would just re-encode a different valid trace. */
function applyFrameOp(f: Frames, op: FrameOp, foreign: Frames, edits: { header: RecordEdit[]; footer: RecordEdit[] }): boolean {
  const n = f.chunks.length;
  if (op.op === "header" || op.op === "footer") {
    if (op.op === "header") edits.header.push(HEADER_EDITS[op.edit]!);
    else edits.footer.push(FOOTER_EDITS[op.edit]!);
    return false;
  }
  if (n === 0) return false;
  const i = op.i % n;
  switch (op.op) {
    case "swap": {
      const j = op.j % n;
      [f.chunks[i], f.chunks[j]] = [f.chunks[j]!, f.chunks[i]!];
      return false;
    }
    case "dup":
      f.chunks.splice(op.to % (n + 1), 0, Buffer.from(f.chunks[i]!));
      return false;
    case "drop":
      f.chunks.splice(i, 1);
      return false;
    case "foreign":
      f.chunks[i] = Buffer.from(foreign.chunks[i % foreign.chunks.length]!);
      return true;
    case "payload": {
      const c = Buffer.from(f.chunks[i]!);
      const len = c.length - 17;
      c[13 + Math.floor(op.at * len)]! ^= op.xor;
      f.chunks[i] = c;
      return true;
    }
    case "seq":
    case "count": {
      const c = Buffer.from(f.chunks[i]!);
      c.writeUInt32LE(op.value, op.op === "seq" ? 1 : 5);
      f.chunks[i] = c;
      return false;
    }
  }
}

function regionRange(f: Frames, total: number, r: Region): [number, number] {
  const heads: Array<[number, number]> = [];
  const payloads: Array<[number, number]> = [];
  let p = f.header.length;
  for (const c of f.chunks) {
    heads.push([p, p + 13]);
    payloads.push([p + 13, p + c.length]);
    p += c.length;
  }
  switch (r) {
    case "header": return [0, f.header.length];
    case "head": return heads.length ? [heads[0]![0], heads[heads.length - 1]![1]] : [0, total];
    case "payload": return payloads.length ? [payloads[0]![0], payloads[payloads.length - 1]![1]] : [0, total];
    case "footer": return [p, p + f.footer.length];
    case "trailer": return [total - 16, total];
    case "anywhere": return [0, total];
  }
}

function applyByteOp(b: Buffer, op: ByteOp, ranges: (r: Region) => [number, number]): Buffer {
  const at = (x: number, lo = 0, hi = b.length): number => Math.min(b.length, lo + Math.floor(x * Math.max(0, Math.min(hi, b.length) - lo)));
  switch (op.op) {
    case "flip": {
      const [lo, hi] = ranges(op.region);
      const k = at(op.at, lo, hi);
      if (k >= b.length) return b;
      const c = Buffer.from(b);
      c[k]! ^= op.xor;
      return c;
    }
    case "set32": {
      const [lo, hi] = ranges(op.region);
      const k = at(op.at, lo, hi);
      const c = Buffer.from(b);
      if (k + 4 <= c.length) c.writeUInt32LE(op.value, k);
      return c;
    }
    case "cut": return b.subarray(0, at(op.at));
    case "insert": {
      const k = at(op.at);
      return Buffer.concat([b.subarray(0, k), op.bytes, b.subarray(k)]);
    }
    case "delete": {
      const k = at(op.at);
      return Buffer.concat([b.subarray(0, k), b.subarray(k + op.len)]);
    }
  }
}

/** Everything a reader of `path` ends with: the rows handed out, and what stopped it. */
function readDamaged(path: string, batchSize: number): { rows: Row[]; error: unknown } {
  const rows: Row[] = [];
  try {
    const r = openTrace(path);
    const b = new AccessBatch(batchSize);
    for (let guard = 0; r.next(b) > 0; guard++) {
      rows.push(...rowsOf(b));
      if (guard > 100_000) throw new Error("reader does not end");
    }
    return { rows, error: null };
  } catch (e) {
    return { rows, error: e };
  }
}

let seq = 0;

describe("fuzzed .dst damage", () => {
  for (const base of BASES) {
    const original = splitFrames(base.bytes);
    const foreign = splitFrames(base.foreign);
    it.prop([fc.array(frameOp, { maxLength: 3 }), fc.boolean(), fc.array(byteOp, { maxLength: 2 }), fc.integer({ min: 1, max: 120 })], { numRuns: 600 })(
      `ends in a located InputError or the identical rows (${base.name})`,
      (frameOps, wantReseal, byteOps, batchSize) => {
        const f: Frames = { header: original.header, chunks: original.chunks.slice(), footer: original.footer };
        const edits = { header: [] as RecordEdit[], footer: [] as RecordEdit[] };
        let rewritesContent = false;
        for (const op of frameOps) rewritesContent = applyFrameOp(f, op, foreign, edits) || rewritesContent;
        const edited = edits.header.length + edits.footer.length > 0;
        // resealing payload changes or foreign chunks would just make another valid trace: not damage
        const doReseal = (wantReseal || edited) && !rewritesContent;
        let bytes: Buffer;
        let sealed = f;
        if (doReseal) {
          bytes = reseal(f, {
            header: (h) => edits.header.reduce((x, e) => e(x), h),
            footer: (x) => edits.footer.reduce((y, e) => e(y), x),
          });
          sealed = splitFrames(bytes);
        } else bytes = joinFrames(f);
        const total = bytes.length;
        for (const op of byteOps) bytes = applyByteOp(bytes, op, (r) => regionRange(sealed, total, r));

        const path = join(dir, `fuzz-${++seq % 8}.dst`);
        writeFileSync(path, bytes);
        const { rows, error } = readDamaged(path, batchSize);
        if (error === null) {
          expect(rows).toEqual(base.rows);
          return;
        }
        if (!(error instanceof InputError)) throw new Error(`not an InputError: ${error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error)}`);
        expect(error.location.file).toBe(path);
        expect(error.location.offset).toBeTypeOf("number");
        expect(error.location.offset).toBeGreaterThanOrEqual(0);
        expect(error.location.offset).toBeLessThanOrEqual(bytes.length);
        expect(error.message).toMatch(/byte offset \d+/);
        expect(rows).toEqual(base.rows.slice(0, rows.length));
      },
    );

    it.prop([fc.array(fc.record({ i: idx, at: frac, bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }), { minLength: 1, maxLength: 4 })], { numRuns: 300 })(
      `decodes resealed damaged payloads into a located InputError or the declared row count (${base.name})`,
      (edits) => {
        const f: Frames = { header: original.header, chunks: original.chunks.slice(), footer: original.footer };
        for (const e of edits) {
          const i = e.i % f.chunks.length;
          const c = Buffer.from(f.chunks[i]!);
          const start = 13 + Math.floor(e.at * (c.length - 17));
          c.set(e.bytes.subarray(0, Math.max(0, c.length - 4 - start)), start);
          f.chunks[i] = c;
        }
        const path = join(dir, `fuzz-payload-${++seq % 8}.dst`);
        writeFileSync(path, reseal(f));
        const { rows, error } = readDamaged(path, 64);
        if (error === null) {
          expect(rows.length).toBe(base.rows.length);
          return;
        }
        if (!(error instanceof InputError)) throw new Error(`not an InputError: ${error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error)}`);
        expect(error.location.file).toBe(path);
        expect(error.location.field).toMatch(/^chunk \d+ /);
        expect(error.message).toMatch(/byte offset \d+/);
      },
    );
  }
});
