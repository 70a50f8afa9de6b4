// openTrace: a synchronous, streaming reader of .dst files (format.ts), version 2 and, read-only
// with a notice, version 1. Opening checks the header, the trailer and the end marker, then walks
// the chunk heads (a few bytes each, one positioned read per chunk), so a truncated file and
// missing, duplicated or reordered chunks fail at once, each named by sequence number and byte
// offset, and the layout is known before the first access. next() then reads one chunk at a time,
// checks its CRC before decoding it, checks the decoded columns and that every row belongs to a
// declared thread, and that its CRC is the one the footer lists, and, after the last chunk, the
// whole-file SHA-256; memory stays bounded by one
// chunk and a damaged chunk raises an InputError (file, byte offset, chunk and part) instead of
// yielding rows. Rows handed out before a damaged chunk are exactly the recorded ones.

import { createHash, type Hash } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { crc32 } from "node:zlib";
import { InputError, SimError } from "../../sim/errors.ts";
import { AccessBatch, type AccessSource } from "../../hw/batch.ts";
import { ChunkDecoder } from "./chunk-codec.ts";
import {
  CHUNK_FRAME_HEAD, CHUNK_FRAME_HEAD_V1, CHUNK_TAG, CRC_BYTES, END_FRAME_HEAD, END_MAGIC, END_TAG, FORMAT_MAJOR, FORMAT_MAJOR_V1,
  HEADER_PREFIX, MAGIC, MAX_RECORD_BYTES, TRAILER_BYTES, checkFooterRecord, checkHeaderRecord, recordPackr,
  type FooterRecord, type TraceHeader, type TraceHeaderRecord,
} from "./format.ts";

/** One chunk's place in the file, as `trace info --json` lists it. */
export interface ChunkInfo {
  /** Sequence number (version 1 files have none: the position is used). */
  seq: number;
  /** Byte offset of the chunk's tag. */
  offset: number;
  /** Bytes of the whole frame: head, payload and CRC. */
  bytes: number;
  accesses: number;
}

export interface OpenTraceOptions {
  /** Receives the notice that a file is version 1 (default: stderr, once per file and process). */
  notice?: (text: string) => void;
  /** Called with each chunk's payload once it is verified and decoded (`trace upgrade`). */
  onChunk?: (accesses: number, payload: Uint8Array) => void;
}

export interface TraceReader extends AccessSource {
  readonly path: string;
  readonly header: TraceHeader;
  /** The records as stored (for `trace upgrade`). */
  readonly headerRecord: TraceHeaderRecord;
  readonly footerRecord: FooterRecord;
  /** Size of the file in bytes. */
  readonly fileBytes: number;
  /** Every chunk, in file order (found when the file was opened). */
  readonly chunkList: readonly ChunkInfo[];
  /** Chunks and accesses decoded so far. */
  readonly chunksRead: number;
  readonly accessesRead: number;
  /** Clears `out` and fills it with the next rows; 0 at the end (after checking the digest). */
  next(out: AccessBatch): number;
  /** Releases the file; safe to call more than once. The reader also closes itself at the end. */
  close(): void;
}

/** Opens a .dst trace; throws an InputError naming the file and byte offset if it is not a valid one. */
export function openTrace(path: string, opts: OpenTraceOptions = {}): TraceReader {
  return new DstReader(path, opts);
}

const noticed = new Set<string>();

function stderrNotice(path: string, text: string): void {
  if (noticed.has(path)) return;
  noticed.add(path);
  process.stderr.write(`damon-sim: note: ${text}\n`);
}

class DstReader implements TraceReader {
  readonly header: TraceHeader;
  readonly headerRecord: TraceHeaderRecord;
  readonly footerRecord: FooterRecord;
  readonly fileBytes: number;
  readonly chunkList: ChunkInfo[] = [];
  chunksRead = 0;
  accessesRead = 0;
  private fd: number;
  private readonly major: number;
  private readonly headLength: number;
  /** Version 2: each chunk's CRC continues the previous one's (the header's for chunk 0), and the file is hashed as it is read. */
  private chain = 0;
  private readonly hash: Hash | null;
  private readonly footerOffset: number;
  private readonly declared: ReadonlySet<number>;
  private readonly decoded: AccessBatch;
  private decodedPos = 0;
  private readonly decoder = new ChunkDecoder();
  private frame = Buffer.alloc(1 << 16);
  private failure: InputError | null = null;
  private readonly onChunk: ((accesses: number, payload: Uint8Array) => void) | undefined;

  constructor(readonly path: string, opts: OpenTraceOptions) {
    this.onChunk = opts.onChunk;
    try {
      this.fd = openSync(path, "r");
    } catch (e) {
      throw new InputError(`cannot open trace: ${(e as Error).message}`, { file: path });
    }
    try {
      this.fileBytes = fstatSync(this.fd).size;
      const { record, end, major, minor, bytes } = this.readHeader();
      this.major = major;
      this.headLength = major === FORMAT_MAJOR_V1 ? CHUNK_FRAME_HEAD_V1 : CHUNK_FRAME_HEAD;
      this.hash = major === FORMAT_MAJOR_V1 ? null : createHash("sha256").update(bytes);
      this.headerRecord = record;
      this.footerOffset = this.readTrailer(end);
      this.footerRecord = this.readFooter(record);
      this.header = resolveHeader(record, this.footerRecord, `${major}.${minor}`);
      this.declared = new Set(this.header.threads);
      this.walkChunks(end);
      this.decoded = new AccessBatch(record.chunkSize);
    } catch (e) {
      this.close();
      throw e;
    }
    if (this.major === FORMAT_MAJOR_V1) {
      const text = `${path} is a version 1 .dst trace, read as is (no chunk sequence numbers or whole-file digest); 'damon-sim trace upgrade ${path} -o NEW.dst' converts it to version ${FORMAT_MAJOR}`;
      if (opts.notice) opts.notice(text);
      else stderrNotice(path, text);
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

  private readHeader(): { record: TraceHeaderRecord; end: number; major: number; minor: number; bytes: Buffer } {
    const pre = Buffer.alloc(HEADER_PREFIX);
    if (this.fileBytes < HEADER_PREFIX) this.fail(`not a .dst trace: only ${this.fileBytes} bytes`, 0, "header");
    this.readAt(pre, HEADER_PREFIX, 0, "the header");
    for (let i = 0; i < MAGIC.length; i++) if (pre[i] !== MAGIC[i]) this.fail("not a .dst trace (bad magic bytes)", i, "header.magic");
    const major = pre.readUInt16LE(8);
    const minor = pre.readUInt16LE(10);
    if (major !== FORMAT_MAJOR && major !== FORMAT_MAJOR_V1) this.fail(`unsupported .dst format version ${major}.${minor} (this damon-sim reads ${FORMAT_MAJOR}.x and ${FORMAT_MAJOR_V1}.x)`, 8, "header.version");
    const length = pre.readUInt32LE(12);
    if (length > MAX_RECORD_BYTES || HEADER_PREFIX + length + CRC_BYTES > this.fileBytes) this.fail(`header length ${length} does not fit in the file (truncated or corrupted)`, 12, "header.length");
    const buf = Buffer.alloc(HEADER_PREFIX + length + CRC_BYTES);
    pre.copy(buf);
    this.readAt(buf.subarray(HEADER_PREFIX), length + CRC_BYTES, HEADER_PREFIX, "the header");
    const crc = buf.readUInt32LE(HEADER_PREFIX + length);
    if (crc32(buf.subarray(0, HEADER_PREFIX + length)) !== crc) this.fail("header checksum mismatch (corrupted)", HEADER_PREFIX + length, "header.crc");
    this.chain = crc;
    const x = this.unpack(buf.subarray(HEADER_PREFIX, HEADER_PREFIX + length), HEADER_PREFIX, "header");
    const record = checkHeaderRecord(x, { file: this.path, offset: HEADER_PREFIX });
    return { record, end: buf.length, major, minor, bytes: buf };
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
    if (crc32(buf.subarray(0, END_FRAME_HEAD + length)) !== buf.readUInt32LE(END_FRAME_HEAD + length)) this.fail("end marker checksum mismatch (corrupted)", at + END_FRAME_HEAD + length, "footer.crc");
    const x = this.unpack(buf.subarray(END_FRAME_HEAD, END_FRAME_HEAD + length), at + END_FRAME_HEAD, "footer");
    return checkFooterRecord(x, header, this.major, { file: this.path, offset: at + END_FRAME_HEAD });
  }

  private unpack(bytes: Uint8Array, offset: number, what: string): unknown {
    try {
      return recordPackr.unpack(bytes);
    } catch (e) {
      return this.fail(`the ${what} record is not valid msgpack (${(e as Error).message})`, offset, what);
    }
  }

  /**
   * Reads every chunk head between the header and the end marker, then checks that the sequence
   * numbers run 0..n-1 in file order (n from the end marker) and the counts add up.
   */
  private walkChunks(start: number): void {
    const h = this.headLength;
    const v2 = this.major !== FORMAT_MAJOR_V1;
    const head = Buffer.alloc(h);
    const list = this.chunkList;
    const chunkSize = this.headerRecord.chunkSize;
    let pos = start;
    let accesses = 0;
    while (pos < this.footerOffset) {
      const i = list.length;
      const room = this.footerOffset - pos;
      if (room < h + CRC_BYTES) this.fail(`truncated or corrupted: ${room} bytes before the end marker cannot hold chunk ${i}`, pos, `chunk ${i}`);
      this.readAt(head, h, pos, `chunk ${i}`);
      if (head[0] !== CHUNK_TAG) this.fail(`expected a chunk tag (0x43), found 0x${head[0]!.toString(16)} (corrupted)`, pos, `chunk ${i} tag`);
      const seq = v2 ? head.readUInt32LE(1) : i;
      const count = head.readUInt32LE(h - 8);
      const length = head.readUInt32LE(h - 4);
      if (count < 1 || count > chunkSize) this.fail(`chunk holds ${count} accesses; chunks hold 1..${chunkSize} (corrupted)`, pos + h - 8, `chunk ${i} count`);
      if (length > room - h - CRC_BYTES) this.fail(`chunk length ${length} runs past the end marker (truncated or corrupted)`, pos + h - 4, `chunk ${i} length`);
      list.push({ seq, offset: pos, bytes: h + length + CRC_BYTES, accesses: count });
      accesses += count;
      pos += h + length + CRC_BYTES;
    }
    const f = this.footerRecord;
    if (v2) this.checkSequence(f.chunks);
    if (list.length !== f.chunks || accesses !== f.accesses) {
      this.fail(`the end marker counts ${f.chunks} chunks and ${f.accesses} accesses but the file holds ${list.length} and ${accesses}`, this.footerOffset, "footer");
    }
  }

  /** Names the first out-of-range, duplicated, missing or misplaced chunk. */
  private checkSequence(n: number): void {
    const list = this.chunkList;
    const at = new Map<number, number>();
    list.forEach((c, i) => {
      if (c.seq >= n) this.fail(`the chunk at byte offset ${c.offset} says it is chunk ${c.seq}, but the end marker counts ${n} chunks (corrupted, or a chunk of another trace)`, c.offset + 1, `chunk ${i} sequence`);
      const first = at.get(c.seq);
      if (first !== undefined) this.fail(`chunk ${c.seq} appears twice, at byte offsets ${list[first]!.offset} and ${c.offset} (duplicated)`, c.offset + 1, `chunk ${i} sequence`);
      at.set(c.seq, i);
    });
    for (let s = 0; s < n; s++) {
      if (at.has(s)) continue;
      const next = list.find((c) => c.seq > s);
      const where = next ? `chunk ${next.seq} is where it belongs` : "the end marker follows";
      this.fail(`chunk ${s} of ${n} is missing (${where}; the file holds ${list.length} chunks)`, next ? next.offset : this.footerOffset, `chunk ${s}`);
    }
    list.forEach((c, i) => {
      if (c.seq !== i) this.fail(`chunks out of order: chunk ${c.seq} is where chunk ${i} belongs (chunk ${i} is at byte offset ${list[at.get(i)!]!.offset})`, c.offset + 1, `chunk ${i} sequence`);
    });
  }

  /** Decodes the next chunk into `decoded`; false at the end marker. */
  private loadChunk(): boolean {
    if (this.failure !== null) throw this.failure;
    const index = this.chunksRead;
    const list = this.chunkList;
    if (this.fd < 0) {
      if (index === list.length) return false;
      throw new SimError(`trace reader ${this.path}: next() after close()`);
    }
    if (index === list.length) {
      if (this.hash !== null) {
        const digest = this.hash.digest("hex");
        if (digest !== this.footerRecord.sha256) {
          this.fail(`the file's SHA-256 is ${digest} but the end marker records ${this.footerRecord.sha256 ?? "none"}: a chunk is not the one written (e.g. taken from another trace)`, this.footerOffset, "footer.sha256");
        }
      }
      this.close();
      return false;
    }
    const c = list[index]!;
    const h = this.headLength;
    if (this.frame.length < c.bytes) this.frame = Buffer.alloc(Math.max(c.bytes, this.frame.length * 2));
    const frame = this.frame;
    this.readAt(frame, c.bytes, c.offset, `chunk ${index}`);
    const bodyEnd = c.bytes - CRC_BYTES;
    const v2 = this.hash !== null;
    if (frame[0] !== CHUNK_TAG || (v2 && frame.readUInt32LE(1) !== c.seq) || frame.readUInt32LE(h - 8) !== c.accesses || frame.readUInt32LE(h - 4) !== bodyEnd - h) {
      this.fail("the chunk head changed since the file was opened", c.offset, `chunk ${index}`);
    }
    const body = frame.subarray(0, bodyEnd);
    const crc = v2 ? crc32(body, this.chain) : crc32(body);
    if (crc !== frame.readUInt32LE(bodyEnd)) {
      this.fail(`chunk checksum mismatch (corrupted${v2 ? ", or a chunk of another trace" : ""})`, c.offset + bodyEnd, `chunk ${index} crc`);
    }
    const listed = this.footerRecord.chunkCrcs?.[index];
    if (v2 && crc !== listed) {
      this.fail(`chunk CRC 0x${crc.toString(16).padStart(8, "0")} is not the 0x${(listed ?? 0).toString(16).padStart(8, "0")} the end marker lists for chunk ${index}: a chunk of another trace`, c.offset + bodyEnd, `chunk ${index} crc`);
    }
    const payload = frame.subarray(h, bodyEnd);
    const err = this.decoder.decode(payload, c.accesses, this.decoded, this.declared);
    if (err !== null) {
      this.decoded.clear();
      if (err.undeclared) {
        const u = err.undeclared;
        this.fail(`access ${u.row} of chunk ${index} (access ${this.accessesRead + u.row} of the trace) belongs to thread ${u.tid}, which the trace does not declare (its threads: ${this.header.threads.join(", ")})`, c.offset, `chunk ${index} tid`);
      }
      this.fail(`chunk does not decode: ${err.detail}`, c.offset + h, `chunk ${index} ${err.part}`);
    }
    if (this.hash !== null) {
      this.hash.update(frame.subarray(0, c.bytes));
      this.chain = crc;
    }
    this.onChunk?.(c.accesses, payload);
    this.decodedPos = 0;
    this.chunksRead++;
    this.accessesRead += c.accesses;
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
    sha256: f.sha256 ?? null,
  };
}
