// A .dst chunk payload: the six column streams of up to chunkSize accesses (columns.ts), each
// compressed on its own with raw DEFLATE from node:zlib (or stored when that does not shrink it),
// packed with msgpackr as the flat array
//   [n, codec0, rawLength0, bytes0, ..., codec5, rawLength5, bytes5]   (codec 0 stored, 1 deflate)
//
// Why these choices, measured on Lackey logs of real programs (qsort of 20,000 ints, 12.3 M
// accesses; `ls /usr/bin`, 4.7 M accesses; 64 Ki accesses a chunk), in bytes per access:
//
//                                               qsort   ls      compress speed, qsort (M acc/s)
//   Lackey text (14.3 bytes a line), gzip -1     0.873   1.140
//   Lackey text, zstd -3                         0.355   0.236
//   design steps (prototype, deflate level 1, streams deflated separately):
//     plain deltas per kind, kind and size bytes 0.359   0.244   103
//     + data address predicted per instruction   0.161   0.157   200
//     + kind and size in one byte (this format)  0.122   0.118   259
//     same, the six streams concatenated         0.128   0.123   316
//     16 Ki / 256 Ki accesses a chunk            0.188 / 0.153 (before the kind+size byte)
//   zlib choices on this format's streams (compress / decompress, M acc/s, qsort):
//     deflate 1                                  0.122   0.117   152 / 326
//     deflate 6                                  0.071   0.091    57 / 458
//     brotli 1 / 3 / 5                           0.127 / 0.100 / 0.073 (qsort)
//                                                0.105 / 0.093 / 0.082 (ls)
//                                                        207 / 101 / 47  compress, 207 / 291 / 267 decompress
//     auto (default, below)                      0.084   0.099
// Brotli gains nothing over DEFLATE at equal compression speed and decompresses slower, so
// DEFLATE it is (decompression is then a small part of decoding; the column decoder dominates).
// Level 6 is up to 12x slower than level 1 on poorly compressible streams (uniform random
// addresses: the read/write op stream costs 409 ms instead of 33 ms per 4 M accesses, for 3%),
// so the default "auto" deflates at level 1 and redoes at level 6 only the streams level 1
// already shrank below a tenth (Lackey's op and fetch streams); a pure function of the bytes,
// so files stay deterministic. The level is a writer option; readers do not need to know it.

import { deflateRawSync, inflateRawSync } from "node:zlib";
import { Packr } from "msgpackr";
import type { AccessBatch } from "../../hw/batch.ts";
import { ColumnDecoder, ColumnEncoder, STREAM_COUNT, STREAM_NAMES, maxStreamBytes, type UndeclaredThread } from "./columns.ts";

export const CODEC_STORED = 0;
export const CODEC_DEFLATE = 1;
/** Deflate level, or "auto": level 1, redone at level 6 when level 1 shrank the stream below 1/10. */
export type CompressionLevel = number | "auto";
export const DEFAULT_COMPRESSION: CompressionLevel = "auto";
const AUTO_RETRY_RATIO = 0.1;
const AUTO_HIGH_LEVEL = 6;

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export class ChunkEncoder {
  private readonly columns = new ColumnEncoder();
  constructor(private readonly level: CompressionLevel = DEFAULT_COMPRESSION) {}

  /** Encodes rows [from, from + n) of `batch` into a self-contained chunk payload. */
  encode(batch: AccessBatch, from: number, n: number): Uint8Array {
    this.columns.encode(batch, from, n);
    const parts: Array<number | Uint8Array> = [n];
    for (const sink of this.columns.streams) {
      const raw = sink.bytes();
      const z = raw.length > 16 ? this.compress(raw) : null;
      if (z !== null && z.length < raw.length) parts.push(CODEC_DEFLATE, raw.length, z);
      else parts.push(CODEC_STORED, raw.length, raw);
    }
    return packr.pack(parts);
  }

  private compress(raw: Uint8Array): Uint8Array {
    if (this.level !== "auto") return deflateRawSync(raw, { level: this.level });
    const fast = deflateRawSync(raw, { level: 1 });
    if (fast.length >= raw.length * AUTO_RETRY_RATIO) return fast;
    const small = deflateRawSync(raw, { level: AUTO_HIGH_LEVEL });
    return small.length < fast.length ? small : fast;
  }
}

/** Why a payload failed to decode: the part (a stream name or "payload") and what is wrong. */
export interface ChunkDecodeError {
  part: string;
  detail: string;
  /** For a row of an undeclared thread: which row of the chunk, and its thread. */
  undeclared?: UndeclaredThread;
}

export class ChunkDecoder {
  private readonly columns = new ColumnDecoder();

  /**
   * Decodes a payload that should hold `expected` rows into out[0, expected). Returns null on
   * success, or what is wrong (the caller turns it into an InputError with file and offset). With
   * `threads`, a row of any other thread is an error.
   */
  decode(payload: Uint8Array, expected: number, out: AccessBatch, threads: ReadonlySet<number> | null = null): ChunkDecodeError | null {
    let parts: unknown;
    try {
      parts = packr.unpack(payload);
    } catch (e) {
      return { part: "payload", detail: `not a msgpack chunk payload (${(e as Error).message})` };
    }
    if (!Array.isArray(parts) || parts.length !== 1 + 3 * STREAM_COUNT) return { part: "payload", detail: "wrong payload shape" };
    if (parts[0] !== expected) return { part: "payload", detail: `holds ${String(parts[0])} accesses, the frame says ${expected}` };
    const limit = maxStreamBytes(expected);
    const streams: Uint8Array[] = [];
    for (let s = 0; s < STREAM_COUNT; s++) {
      const name = STREAM_NAMES[s]!;
      const codec: unknown = parts[1 + 3 * s];
      const rawLength: unknown = parts[2 + 3 * s];
      const bytes: unknown = parts[3 + 3 * s];
      if (!(bytes instanceof Uint8Array) || typeof rawLength !== "number" || !Number.isInteger(rawLength) || rawLength < 0 || rawLength > limit) {
        return { part: name, detail: "bad stream header" };
      }
      if (codec === CODEC_STORED) {
        if (bytes.length !== rawLength) return { part: name, detail: "stored stream length mismatch" };
        streams.push(bytes);
      } else if (codec === CODEC_DEFLATE) {
        let raw: Uint8Array;
        try {
          raw = inflateRawSync(bytes, { maxOutputLength: Math.max(1, rawLength) });
        } catch (e) {
          return { part: name, detail: `cannot inflate (${(e as Error).message})` };
        }
        if (raw.length !== rawLength) return { part: name, detail: `inflates to ${raw.length} bytes, expected ${rawLength}` };
        streams.push(raw);
      } else {
        return { part: name, detail: `unknown codec ${String(codec)}` };
      }
    }
    const broken = this.columns.decode(streams, expected, out, threads);
    if (broken === null) return null;
    const u = this.columns.undeclared;
    if (u !== null) return { part: broken, detail: `its access ${u.row} belongs to thread ${u.tid}, which the trace does not declare`, undeclared: u };
    return { part: broken, detail: "inconsistent column stream" };
  }
}
