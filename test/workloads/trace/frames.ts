// Test-side surgery on version 2 .dst files, written from the format description in
// workloads/trace/format.ts rather than with the writer: split a file into its frames, put frames
// back together (with the trailer pointing at the footer again), and reseal a file whose records
// were edited (recomputing the header CRC, the chained chunk CRCs, and the SHA-256 and CRC list in
// the footer),
// which makes "consistent but lying" files that only the reader's deeper checks can catch.

import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { END_MAGIC, recordPackr } from "../../../workloads/trace/format.ts";

export interface Frames {
  /** Magic .. header CRC. */
  header: Buffer;
  /** Each chunk frame: tag .. CRC. */
  chunks: Buffer[];
  /** The end frame: 'E' .. its CRC (no trailer). */
  footer: Buffer;
}

/** Splits a well-formed version 2 file. */
export function splitFrames(b: Buffer): Frames {
  const headerEnd = 16 + b.readUInt32LE(12) + 4;
  const footerOffset = b.readUInt32LE(b.length - 16) + b.readUInt32LE(b.length - 12) * 2 ** 32;
  const chunks: Buffer[] = [];
  for (let p = headerEnd; p < footerOffset;) {
    const len = b.readUInt32LE(p + 9);
    chunks.push(Buffer.from(b.subarray(p, p + 13 + len + 4)));
    p += 13 + len + 4;
  }
  return { header: Buffer.from(b.subarray(0, headerEnd)), chunks, footer: Buffer.from(b.subarray(footerOffset, b.length - 16)) };
}

/** Concatenates frames and appends a trailer that points at the footer. */
export function joinFrames(f: Frames): Buffer {
  const body = Buffer.concat([f.header, ...f.chunks]);
  const trailer = Buffer.alloc(16);
  trailer.writeUInt32LE(body.length % 2 ** 32, 0);
  trailer.writeUInt32LE(Math.floor(body.length / 2 ** 32), 4);
  trailer.set(END_MAGIC, 8);
  return Buffer.concat([body, f.footer, trailer]);
}

/** Byte offset of chunk `i` (by position) in joinFrames(f). */
export function chunkOffset(f: Frames, i: number): number {
  return f.header.length + f.chunks.slice(0, i).reduce((a, c) => a + c.length, 0);
}

export type RecordEdit = (r: Record<string, unknown>) => Record<string, unknown>;

/**
 * Rebuilds a file from frames with every check value recomputed: the header record (edited),
 * the header CRC, each chunk's CRC chained from it, the footer record (edited after its sha256 is
 * set to the digest of everything before it) and its CRC. Chunk heads are kept as they are.
 */
export function reseal(f: Frames, edit: { header?: RecordEdit; footer?: RecordEdit } = {}): Buffer {
  const oldRecord = recordPackr.unpack(f.header.subarray(16, f.header.length - 4)) as Record<string, unknown>;
  const body = recordPackr.pack(edit.header ? edit.header(oldRecord) : oldRecord);
  const header = Buffer.alloc(16 + body.length + 4);
  f.header.copy(header, 0, 0, 12);
  header.writeUInt32LE(body.length, 12);
  body.copy(header, 16);
  let chain = crc32(header.subarray(0, 16 + body.length));
  header.writeUInt32LE(chain, 16 + body.length);
  const hash = createHash("sha256").update(header);
  const crcs: number[] = [];
  const chunks = f.chunks.map((c) => {
    const out = Buffer.from(c);
    chain = crc32(out.subarray(0, out.length - 4), chain);
    out.writeUInt32LE(chain, out.length - 4);
    crcs.push(chain);
    hash.update(out);
    return out;
  });
  const footerRecord = recordPackr.unpack(f.footer.subarray(5, f.footer.length - 4)) as Record<string, unknown>;
  footerRecord.sha256 = hash.digest("hex");
  footerRecord.chunkCrcs = crcs;
  const fbody = recordPackr.pack(edit.footer ? edit.footer(footerRecord) : footerRecord);
  const footer = Buffer.alloc(5 + fbody.length + 4);
  footer[0] = 0x45;
  footer.writeUInt32LE(fbody.length, 1);
  fbody.copy(footer, 5);
  footer.writeUInt32LE(crc32(footer.subarray(0, 5 + fbody.length)), 5 + fbody.length);
  return joinFrames({ header, chunks, footer });
}
