// The .dst trace file format (version 2.0; version 1.0 files are still read): byte layout, header
// and footer records, and their validation. Writers and readers share these definitions; see
// columns.ts and chunk-codec.ts for what a chunk payload holds. All integers are little-endian;
// checksums are CRC-32 (IEEE, Node's zlib.crc32), the whole-file digest is SHA-256 (node:crypto).
//
//   header   magic          8 bytes  89 'D' 'S' 'T' 0D 0A 1A 0A  (PNG-style: catches text-mode
//                                    mangling and files that are not traces)
//            major, minor   u16, u16 format version (2.0); readers accept any minor of a major
//                                    they know
//            length         u32      msgpack header record (TraceHeaderRecord)
//            record         length bytes
//            crc            u32      CRC-32 of every header byte before it (magic included)
//   chunks   'C'            u8
//            sequence       u32      0, 1, 2, ... in file order
//            count          u32      accesses, 1..chunkSize
//            length         u32      payload bytes
//            payload        length bytes (chunk-codec.ts)
//            crc            u32      CRC-32 of the tag, sequence, count, length and payload,
//                                    continuing the previous chunk's CRC (the header's for chunk
//                                    0): the CRC of every byte so far but the CRC fields, so a
//                                    chunk out of place or from another trace fails its check
//   end      'E'            u8
//            length         u32      msgpack footer record (FooterRecord: chunk count, total
//                                    accesses, SHA-256 of every byte before the 'E' tag, each
//                                    chunk's CRC in order, and the layout when it was inferred)
//            record         length bytes
//            crc            u32      CRC-32 of tag, length and record
//   trailer  footer offset  u32 lo, u32 hi   where the 'E' tag is
//            end magic      8 bytes  'D' 'S' 'T' 'E' 'N' 'D' 1A 0A
//
// Every byte is covered by a magic, a version check or a CRC, and the file size must equal the
// end of the trailer: a flipped byte or a truncation anywhere is always detected. A reader checks
// the header, trailer and footer and walks the chunk heads when it opens a file (a few bytes per
// chunk), so a truncated file, or missing, duplicated or reordered chunks, fail before the first
// access, even for a replay that stops early. Each chunk's CRC is checked when it is read, against
// its bytes and against the footer's list (so a chunk of another recording with the same header,
// whose CRC chain matches, is still refused before its rows are handed out), and the digest once
// the last chunk has been read.
//
// Version 1.0 differs only in its chunk frames (tag, count, length, payload, and the CRC of those
// alone: no sequence number, no chaining) and its footer (no digest). Readers still
// read it; `damon-sim trace upgrade` rewrites it as 2.0 with the same payloads.
//
// Where the layout lives: a trace recorded from a workload knows its layout up front and puts it
// in the header. A Lackey import only knows it at the end (it is inferred from the addresses), so
// the header says `layout: null` and the footer carries it; readers find the footer through the
// fixed-size trailer before streaming chunks. Nothing is buffered or rewritten, and a reader always
// learns the whole layout before the first access.
//
// Threads: the thread list (header, or footer when inferred) names every thread a row may belong
// to, each one a thread of the layout; readers reject a row of any other thread.

import { Packr } from "msgpackr";
import { InputError } from "../../sim/errors.ts";
import { validateLayout, type VmaKind, type WorkloadLayout } from "../../hw/layout.ts";

export const MAGIC = Uint8Array.of(0x89, 0x44, 0x53, 0x54, 0x0d, 0x0a, 0x1a, 0x0a);
export const END_MAGIC = Uint8Array.of(0x44, 0x53, 0x54, 0x45, 0x4e, 0x44, 0x1a, 0x0a);
export const FORMAT_MAJOR = 2;
export const FORMAT_MINOR = 0;
export const FORMAT_VERSION = `${FORMAT_MAJOR}.${FORMAT_MINOR}`;
/** The older major version readers still accept (read-only; `trace upgrade` converts it). */
export const FORMAT_MAJOR_V1 = 1;
export const FILE_EXTENSION = ".dst";

/** Bytes before the header record: magic, major, minor, length. */
export const HEADER_PREFIX = 16;
export const CRC_BYTES = 4;
export const CHUNK_TAG = 0x43;
export const END_TAG = 0x45;
/** Tag, sequence, count, length (version 2). */
export const CHUNK_FRAME_HEAD = 13;
/** Tag, count, length (version 1). */
export const CHUNK_FRAME_HEAD_V1 = 9;
/** Tag, length. */
export const END_FRAME_HEAD = 5;
export const TRAILER_BYTES = 16;
/** Header and footer records above this size are rejected as corrupt (layouts are small). */
export const MAX_RECORD_BYTES = 64 << 20;

export const DEFAULT_CHUNK_SIZE = 1 << 16;
export const MAX_CHUNK_SIZE = 1 << 22;

/** What the producer of a trace says about it. */
export interface TraceHeaderInput {
  /** What was traced, e.g. "valgrind lackey: ./sort 20000" or "record masim:zigzag". */
  source: string;
  tool: { name: string; version: string };
  /** The processes; omit it to have the writer infer one from the addresses (Lackey logs). */
  layout?: WorkloadLayout;
  /** Thread ids; defaults to the layout's threads (or, when inferred, the tids seen). */
  threads?: number[];
  /** The seed that produced the trace, if any. */
  seed?: number | null;
  /** Free-form facts (JSON-like values only). */
  meta?: Record<string, unknown>;
}

/** The header as stored (format 1.0). */
export interface TraceHeaderRecord {
  source: string;
  tool: { name: string; version: string };
  layout: WorkloadLayout | null;
  threads: number[] | null;
  seed: number | null;
  chunkSize: number;
  meta: Record<string, unknown>;
}

/** The footer as stored. */
export interface FooterRecord {
  chunks: number;
  accesses: number;
  /** SHA-256 (hex) of every byte before the footer frame; absent in version 1 files. */
  sha256?: string;
  /** Each chunk's CRC, in sequence order; absent in version 1 files. */
  chunkCrcs?: number[];
  /** Present when the header's layout/threads were null. */
  layout?: WorkloadLayout;
  threads?: number[];
}

/** What a reader hands out: the header with the layout resolved (from the header or footer). */
export interface TraceHeader {
  formatVersion: string;
  source: string;
  tool: { name: string; version: string };
  layout: WorkloadLayout;
  /** True when the layout was inferred from the addresses and stored in the footer. */
  layoutInferred: boolean;
  threads: number[];
  seed: number | null;
  chunkSize: number;
  meta: Record<string, unknown>;
  /** Chunks and accesses, from the end marker. */
  chunks: number;
  accesses: number;
  /** The whole-file SHA-256 the end marker records (hex); null for version 1 files. */
  sha256: string | null;
}

export const recordPackr = new Packr({ useRecords: false, mapsAsObjects: true });

/** Thread ids of a layout, in layout order. */
export function layoutThreads(layout: WorkloadLayout): number[] {
  return layout.processes.flatMap((p) => p.threads.map((t) => t.tid));
}

/** Builds the stored header from a writer's input (throws an InputError naming a bad field). */
export function headerRecord(input: TraceHeaderInput, chunkSize: number): TraceHeaderRecord {
  if (typeof input.source !== "string") throw new InputError("must be a string", { field: "header.source" });
  if (!input.tool || typeof input.tool.name !== "string" || typeof input.tool.version !== "string") throw new InputError("needs string name and version", { field: "header.tool" });
  if (input.layout !== undefined) checkTraceLayout(input.layout, "header.layout");
  const threads = input.threads ?? (input.layout ? layoutThreads(input.layout) : null);
  if (threads !== null) checkThreads(threads, "header.threads");
  if (threads !== null && input.layout !== undefined) checkThreadsInLayout(threads, input.layout, "header.threads");
  const seed = input.seed ?? null;
  if (seed !== null && !Number.isSafeInteger(seed)) throw new InputError(`must be an integer, got ${seed}`, { field: "header.seed" });
  return {
    source: input.source,
    tool: { name: input.tool.name, version: input.tool.version },
    layout: input.layout ?? null,
    threads,
    seed,
    chunkSize,
    meta: input.meta ?? {},
  };
}

const VMA_KINDS: readonly VmaKind[] = ["text", "data", "heap", "mmap", "stack"];

/** A layout as a trace may carry it: validateLayout's rules plus VMA kinds and names. */
export function checkTraceLayout(layout: WorkloadLayout, where: string): void {
  validateLayout(layout, where);
  layout.processes.forEach((p, pi) => {
    const pf = `${where}.processes[${pi}]`;
    if (typeof p.name !== "string") throw new InputError("must be a string", { field: `${pf}.name` });
    p.vmas.forEach((v, vi) => {
      const vf = `${pf}.vmas[${vi}]`;
      if (!VMA_KINDS.includes(v.kind)) throw new InputError(`kind must be one of ${VMA_KINDS.join(", ")}, got '${String(v.kind)}'`, { field: `${vf}.kind` });
      if (typeof v.name !== "string") throw new InputError("must be a string", { field: `${vf}.name` });
    });
  });
}

function checkThreads(threads: unknown, field: string): asserts threads is number[] {
  if (!Array.isArray(threads) || !threads.every((t) => Number.isSafeInteger(t))) throw new InputError("must be a list of integer thread ids", { field });
  const seen = new Set<number>();
  threads.forEach((t: number, i) => {
    if (seen.has(t)) throw new InputError(`thread ${t} is listed twice`, { field: `${field}[${i}]` });
    seen.add(t);
  });
}

/** Every listed thread must be a thread of the layout (replay runs the layout's threads). */
function checkThreadsInLayout(threads: readonly number[], layout: WorkloadLayout, field: string): void {
  const known = new Set(layoutThreads(layout));
  threads.forEach((t, i) => {
    if (!known.has(t)) throw new InputError(`thread ${t} is not a thread of any process of the layout (its threads: ${[...known].join(", ")})`, { field: `${field}[${i}]` });
  });
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

/** Checks a decoded header record's shape; `at` locates it for errors. */
export function checkHeaderRecord(x: unknown, at: { file: string; offset: number }): TraceHeaderRecord {
  const fail = (field: string, what: string): never => {
    throw new InputError(what, { ...at, field: `header.${field}` });
  };
  if (!isObject(x)) return fail("(record)", "the header record is not a map");
  if (typeof x.source !== "string") fail("source", "must be a string");
  const tool = x.tool;
  if (!isObject(tool) || typeof tool.name !== "string" || typeof tool.version !== "string") fail("tool", "needs string name and version");
  if (x.layout !== null) wrapLayout(x.layout, "header.layout", at);
  if (x.threads !== null) {
    try {
      checkThreads(x.threads, "header.threads");
      if (x.layout !== null) checkThreadsInLayout(x.threads, x.layout as WorkloadLayout, "header.threads");
    } catch (e) {
      throw e instanceof InputError ? e.within(at) : e;
    }
  }
  if (x.seed !== null && !Number.isSafeInteger(x.seed)) fail("seed", "must be an integer or null");
  const cs = x.chunkSize;
  if (typeof cs !== "number" || !Number.isInteger(cs) || cs < 1 || cs > MAX_CHUNK_SIZE) fail("chunkSize", `must be an integer in [1, ${MAX_CHUNK_SIZE}]`);
  if (!isObject(x.meta)) fail("meta", "must be a map");
  return x as unknown as TraceHeaderRecord;
}

/** Checks a decoded footer record. */
export function checkFooterRecord(x: unknown, header: TraceHeaderRecord, version: number, at: { file: string; offset: number }): FooterRecord {
  const fail = (field: string, what: string): never => {
    throw new InputError(what, { ...at, field: `footer.${field}` });
  };
  if (!isObject(x)) return fail("(record)", "the footer record is not a map");
  for (const k of ["chunks", "accesses"] as const) {
    const v = x[k];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) fail(k, "must be a non-negative integer");
  }
  if (version >= FORMAT_MAJOR) {
    if (typeof x.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(x.sha256)) fail("sha256", "must be a SHA-256 digest (64 hex digits)");
    const crcs = x.chunkCrcs;
    if (!Array.isArray(crcs) || crcs.length !== x.chunks || !crcs.every((c) => Number.isInteger(c) && c >= 0 && c <= 0xffffffff)) {
      fail("chunkCrcs", `must list one CRC-32 per chunk (${String(x.chunks)})`);
    }
  }
  if (header.layout === null) {
    if (x.layout === undefined) fail("layout", "the header has no layout, so the footer must carry one");
    wrapLayout(x.layout, "footer.layout", at);
  }
  if (header.threads === null) {
    if (x.threads === undefined) fail("threads", "the header has no thread list, so the footer must carry one");
    try {
      checkThreads(x.threads, "footer.threads");
    } catch (e) {
      throw e instanceof InputError ? e.within(at) : e;
    }
  }
  if (header.layout === null || header.threads === null) {
    const layout = (header.layout ?? x.layout) as WorkloadLayout;
    const threads = (header.threads ?? x.threads) as number[];
    try {
      checkThreadsInLayout(threads, layout, header.threads === null ? "footer.threads" : "header.threads");
    } catch (e) {
      throw e instanceof InputError ? e.within(at) : e;
    }
  }
  return x as unknown as FooterRecord;
}

function wrapLayout(layout: unknown, where: string, at: { file: string; offset: number }): void {
  try {
    checkTraceLayout(layout as WorkloadLayout, where);
  } catch (e) {
    if (e instanceof InputError) throw e.within(at);
    throw new InputError(`malformed layout (${(e as Error).message})`, { ...at, field: where });
  }
}
