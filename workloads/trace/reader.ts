// openTrace: a synchronous, streaming reader of .dst files (format.ts). Opening checks the header,
// the trailer and the end marker (so a truncated file fails at once and the layout is known before
// the first access); next() then reads one chunk at a time with positioned reads, checks its CRC
// before decoding it and checks the decoded columns, so memory stays bounded by one chunk and a
// damaged chunk raises an InputError (file, byte offset of the chunk, chunk number and part)
// instead of yielding rows. Rows handed out before a damaged chunk are exactly the recorded ones.

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { InputError, SimError } from "../../sim/errors.ts";
import { AccessBatch, type AccessSource } from "../../hw/batch.ts";
import { ChunkDecoder } from "./chunk-codec.ts";
import { crc32 } from "./crc32.ts";
import {
  CHUNK_FRAME_HEAD, CHUNK_TAG, CRC_BYTES, END_FRAME_HEAD, END_MAGIC, END_TAG, FORMAT_MAJOR, FORMAT_VERSION, HEADER_PREFIX, MAGIC,
  MAX_RECORD_BYTES, TRAILER_BYTES, checkFooterRecord, checkHeaderRecord, recordPackr,
  type FooterRecord, type TraceHeader, type TraceHeaderRecord,
} from "./format.ts";

export interface TraceReader extends AccessSource {
  readonly path: string;
  readonly header: TraceHeader;
  /** Size of the file in bytes. */
  readonly fileBytes: number;
  /** Chunks and accesses decoded so far. */
  readonly chunksRead: number;
  readonly accessesRead: number;
  /** Clears `out` and fills it with the next rows; 0 at the end (after checking the totals). */
  next(out: AccessBatch): number;
  /** Releases the file; safe to call more than once. The reader also closes itself at the end. */
  close(): void;
}

/** Opens a .dst trace; throws an InputError naming the file and byte offset if it is not a valid one. */
export function openTrace(path: string): TraceReader {
  return new DstReader(path);
}

class DstReader implements TraceReader {
  readonly header: TraceHeader;
  readonly fileBytes: number;
  chunksRead = 0;
  accessesRead = 0;
  private fd: number;
  private pos: number;
  private readonly footerOffset: number;
  private readonly footer: FooterRecord;
  private readonly decoded: AccessBatch;
  private decodedPos = 0;
  private readonly decoder = new ChunkDecoder();
  private readonly head = Buffer.alloc(CHUNK_FRAME_HEAD);
  private frame = Buffer.alloc(1 << 16);
  private failure: InputError | null = null;

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, "r");
    } catch (e) {
      throw new InputError(`cannot open trace: ${(e as Error).message}`, { file: path });
    }
    try {
      this.fileBytes = fstatSync(this.fd).size;
      const { record, end, version } = this.readHeader();
      this.pos = end;
      this.footerOffset = this.readTrailer(end);
      this.footer = this.readFooter(record);
      this.header = resolveHeader(record, this.footer, version);
      this.decoded = new AccessBatch(record.chunkSize);
    } catch (e) {
      this.close();
      throw e;
    }
  }

  next(out: AccessBatch): number {
    out.clear();
    while (out.length < out.capacity) {
      const avail = this.decoded.length - this.decodedPos;
      if (avail === 0) {
        if (!this.loadChunk()) break;
        continue;
      }
      const take = Math.min(avail, out.capacity - out.length);
      out.append(this.decoded, this.decodedPos, take);
      this.decodedPos += take;
    }
    return out.length;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private fail(detail: string, offset: number, field?: string): never {
    const err = new InputError(detail, field === undefined ? { file: this.path, offset } : { file: this.path, offset, field });
    this.failure = err;
    this.close();
    throw err;
  }

  /** Reads exactly `length` bytes at `offset` into buf[0, length). */
  private readAt(buf: Uint8Array, length: number, offset: number, what: string): void {
    if (offset + length > this.fileBytes) this.fail(`truncated: ${what} needs ${length} bytes but the file ends at byte ${this.fileBytes}`, offset);
    let got = 0;
    while (got < length) {
      let n: number;
      try {
        n = readSync(this.fd, buf, got, length - got, offset + got);
      } catch (e) {
        this.fail(`cannot read ${what}: ${(e as Error).message}`, offset + got);
      }
      if (n === 0) this.fail(`truncated while reading ${what}`, offset + got);
      got += n;
    }
  }

  private readHeader(): { record: TraceHeaderRecord; end: number; version: string } {
    const pre = Buffer.alloc(HEADER_PREFIX);
    if (this.fileBytes < HEADER_PREFIX) this.fail(`not a .dst trace: only ${this.fileBytes} bytes`, 0, "header");
    this.readAt(pre, HEADER_PREFIX, 0, "the header");
    for (let i = 0; i < MAGIC.length; i++) if (pre[i] !== MAGIC[i]) this.fail("not a .dst trace (bad magic bytes)", i, "header.magic");
    const major = pre.readUInt16LE(8);
    const minor = pre.readUInt16LE(10);
    if (major !== FORMAT_MAJOR) this.fail(`unsupported .dst format version ${major}.${minor} (this damon-sim reads ${FORMAT_VERSION} and other ${FORMAT_MAJOR}.x)`, 8, "header.version");
    const length = pre.readUInt32LE(12);
    if (length > MAX_RECORD_BYTES || HEADER_PREFIX + length + CRC_BYTES > this.fileBytes) this.fail(`header length ${length} does not fit in the file (truncated or corrupted)`, 12, "header.length");
    const buf = Buffer.alloc(HEADER_PREFIX + length + CRC_BYTES);
    pre.copy(buf);
    this.readAt(buf.subarray(HEADER_PREFIX), length + CRC_BYTES, HEADER_PREFIX, "the header");
    if (crc32(buf, 0, HEADER_PREFIX + length) !== buf.readUInt32LE(HEADER_PREFIX + length)) this.fail("header checksum mismatch (corrupted)", HEADER_PREFIX + length, "header.crc");
    const x = this.unpack(buf.subarray(HEADER_PREFIX, HEADER_PREFIX + length), HEADER_PREFIX, "header");
    const record = checkHeaderRecord(x, { file: this.path, offset: HEADER_PREFIX });
    return { record, end: HEADER_PREFIX + length + CRC_BYTES, version: `${major}.${minor}` };
  }

  private readTrailer(dataStart: number): number {
    const at = this.fileBytes - TRAILER_BYTES;
    if (at < dataStart + END_FRAME_HEAD + CRC_BYTES) this.fail("truncated: no end marker", Math.max(0, at), "trailer");
    const t = Buffer.alloc(TRAILER_BYTES);
    this.readAt(t, TRAILER_BYTES, at, "the trailer");
    for (let i = 0; i < END_MAGIC.length; i++) if (t[8 + i] !== END_MAGIC[i]) this.fail("truncated or corrupted: the file does not end with the .dst end marker", at + 8 + i, "trailer.magic");
    const offset = t.readUInt32LE(0) + t.readUInt32LE(4) * 0x100000000;
    if (offset < dataStart || offset > at - END_FRAME_HEAD - CRC_BYTES) this.fail(`end marker offset ${offset} is outside the file (corrupted)`, at, "trailer.offset");
    return offset;
  }

  private readFooter(header: TraceHeaderRecord): FooterRecord {
    const at = this.footerOffset;
    const length = this.fileBytes - TRAILER_BYTES - CRC_BYTES - END_FRAME_HEAD - at;
    const buf = Buffer.alloc(END_FRAME_HEAD + length + CRC_BYTES);
    this.readAt(buf, buf.length, at, "the end marker");
    if (buf[0] !== END_TAG) this.fail("no end marker where the trailer points (corrupted)", at, "footer.tag");
    if (buf.readUInt32LE(1) !== length || length > MAX_RECORD_BYTES) this.fail(`end marker length ${buf.readUInt32LE(1)} does not match the file size (truncated or corrupted)`, at + 1, "footer.length");
    if (crc32(buf, 0, END_FRAME_HEAD + length) !== buf.readUInt32LE(END_FRAME_HEAD + length)) this.fail("end marker checksum mismatch (corrupted)", at + END_FRAME_HEAD + length, "footer.crc");
    const x = this.unpack(buf.subarray(END_FRAME_HEAD, END_FRAME_HEAD + length), at + END_FRAME_HEAD, "footer");
    return checkFooterRecord(x, header, { file: this.path, offset: at + END_FRAME_HEAD });
  }

  private unpack(bytes: Uint8Array, offset: number, what: string): unknown {
    try {
      return recordPackr.unpack(bytes);
    } catch (e) {
      return this.fail(`the ${what} record is not valid msgpack (${(e as Error).message})`, offset, what);
    }
  }

  /** Decodes the next chunk into `decoded`; false at the end marker. */
  private loadChunk(): boolean {
    if (this.failure !== null) throw this.failure;
    if (this.fd < 0) {
      if (this.pos === this.footerOffset) return false;
      throw new SimError(`trace reader ${this.path}: next() after close()`);
    }
    const at = this.pos;
    const index = this.chunksRead;
    if (at === this.footerOffset) {
      if (this.chunksRead !== this.footer.chunks || this.accessesRead !== this.footer.accesses) {
        this.fail(`the end marker counts ${this.footer.chunks} chunks and ${this.footer.accesses} accesses but the file holds ${this.chunksRead} and ${this.accessesRead}`, at, "footer");
      }
      this.close();
      return false;
    }
    const room = this.footerOffset - at - CHUNK_FRAME_HEAD - CRC_BYTES;
    if (room < 0) this.fail(`truncated or corrupted: ${this.footerOffset - at} bytes before the end marker cannot hold chunk ${index}`, at, `chunk ${index}`);
    const head = this.head;
    this.readAt(head, CHUNK_FRAME_HEAD, at, `chunk ${index}`);
    if (head[0] !== CHUNK_TAG) this.fail(`expected a chunk tag (0x43), found 0x${head[0]!.toString(16)} (corrupted)`, at, `chunk ${index} tag`);
    const count = head.readUInt32LE(1);
    const length = head.readUInt32LE(5);
    if (count < 1 || count > this.header.chunkSize) this.fail(`chunk holds ${count} accesses; chunks hold 1..${this.header.chunkSize} (corrupted)`, at + 1, `chunk ${index} count`);
    if (length > room) this.fail(`chunk length ${length} runs past the end marker (corrupted)`, at + 5, `chunk ${index} length`);
    if (this.frame.length < length + CRC_BYTES) this.frame = Buffer.alloc(Math.max(length + CRC_BYTES, this.frame.length * 2));
    const frame = this.frame;
    this.readAt(frame, length + CRC_BYTES, at + CHUNK_FRAME_HEAD, `chunk ${index}`);
    const crc = crc32(frame, 0, length, crc32(head, 0, CHUNK_FRAME_HEAD));
    if (crc !== frame.readUInt32LE(length)) this.fail("chunk checksum mismatch (corrupted)", at + CHUNK_FRAME_HEAD + length, `chunk ${index} crc`);
    const err = this.decoder.decode(frame.subarray(0, length), count, this.decoded);
    if (err !== null) {
      this.decoded.clear();
      this.fail(`chunk does not decode: ${err.detail}`, at + CHUNK_FRAME_HEAD, `chunk ${index} ${err.part}`);
    }
    this.decodedPos = 0;
    this.pos = at + CHUNK_FRAME_HEAD + length + CRC_BYTES;
    this.chunksRead++;
    this.accessesRead += count;
    return true;
  }
}

function resolveHeader(r: TraceHeaderRecord, f: FooterRecord, version: string): TraceHeader {
  return {
    formatVersion: version,
    source: r.source,
    tool: r.tool,
    layout: r.layout ?? f.layout!,
    layoutInferred: r.layout === null,
    threads: r.threads ?? f.threads!,
    seed: r.seed,
    chunkSize: r.chunkSize,
    meta: r.meta,
    chunks: f.chunks,
    accesses: f.accesses,
  };
}
