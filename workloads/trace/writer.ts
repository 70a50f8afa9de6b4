// TraceWriter: streams AccessBatches into a .dst file (format.ts). Rows are gathered into chunks of
// chunkSize accesses, each encoded and written as soon as it fills, so memory stays bounded by one
// chunk however long the trace. The file is written atomically (atomic-file.ts): it appears under
// its name only when close() succeeds; abort(), any error inside the writer, or an interrupt
// leave no file behind. When the header has no layout, the writer infers one from the addresses
// (infer-layout.ts) and stores it in the footer.

import { InputError, SimError } from "../../sim/errors.ts";
import { AccessBatch } from "../../hw/batch.ts";
import { AtomicFile } from "./atomic-file.ts";
import { ChunkEncoder, DEFAULT_COMPRESSION, type CompressionLevel } from "./chunk-codec.ts";
import { crc32 } from "./crc32.ts";
import {
  CHUNK_FRAME_HEAD, CHUNK_TAG, CRC_BYTES, DEFAULT_CHUNK_SIZE, END_FRAME_HEAD, END_MAGIC, END_TAG, FORMAT_MAJOR, FORMAT_MINOR,
  HEADER_PREFIX, MAGIC, MAX_CHUNK_SIZE, TRAILER_BYTES, headerRecord, recordPackr,
  type FooterRecord, type TraceHeaderInput, type TraceHeaderRecord,
} from "./format.ts";
import { LayoutInferrer, type InferLayoutOptions } from "./infer-layout.ts";

export interface TraceWriterOptions {
  /** Accesses per chunk (default 65536): the unit of compression, checksumming and memory. */
  chunkSize?: number;
  /** Deflate level 1..9 of the chunk streams, or "auto" (the default; see chunk-codec.ts). */
  level?: CompressionLevel;
  /** How to infer the layout when the header has none. */
  infer?: InferLayoutOptions;
}

export interface TraceSummary {
  path: string;
  chunks: number;
  accesses: number;
  /** File size in bytes. */
  bytes: number;
  bytesPerAccess: number;
  layoutInferred: boolean;
}

export class TraceWriter {
  private readonly file: AtomicFile;
  private readonly record: TraceHeaderRecord;
  private readonly pending: AccessBatch;
  private readonly encoder: ChunkEncoder;
  private readonly inferrer: LayoutInferrer | null;
  private readonly inferOptions: InferLayoutOptions;
  private chunks = 0;
  private total = 0;

  private constructor(readonly path: string, header: TraceHeaderInput, opts: TraceWriterOptions) {
    const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) throw new SimError(`TraceWriter: chunkSize must be an integer in [1, ${MAX_CHUNK_SIZE}], got ${chunkSize}`);
    const level = opts.level ?? DEFAULT_COMPRESSION;
    if (level !== "auto" && (!Number.isInteger(level) || level < 1 || level > 9)) throw new SimError(`TraceWriter: level must be "auto" or an integer in [1, 9], got ${level}`);
    try {
      this.record = headerRecord(header, chunkSize);
    } catch (e) {
      throw e instanceof InputError ? e.within({ file: path }) : e;
    }
    this.pending = new AccessBatch(chunkSize);
    this.encoder = new ChunkEncoder(level);
    this.inferrer = this.record.layout === null ? new LayoutInferrer() : null;
    this.inferOptions = opts.infer ?? {};
    this.file = AtomicFile.create(path);
    try {
      this.writeHeader();
    } catch (e) {
      this.file.abort();
      throw e;
    }
  }

  /** Creates `path` (atomically: see the module comment) and writes the header. */
  static create(path: string, header: TraceHeaderInput, opts: TraceWriterOptions = {}): TraceWriter {
    return new TraceWriter(path, header, opts);
  }

  /** Accesses written so far. */
  get accesses(): number {
    return this.total + this.pending.length;
  }

  /** Bytes in the file so far (chunks still being gathered are not counted). */
  get bytesWritten(): number {
    return this.file.bytesWritten;
  }

  /** Appends the rows of `batch` (it can be reused as soon as this returns). */
  write(batch: AccessBatch): void {
    this.guard(() => {
      const n = batch.length;
      if (this.inferrer !== null) this.inferrer.observe(batch, 0, n);
      const pending = this.pending;
      const cap = pending.capacity;
      let from = 0;
      while (from < n) {
        if (pending.length === 0 && n - from >= cap) {
          this.writeChunk(batch, from, cap);
          from += cap;
          continue;
        }
        const take = Math.min(n - from, cap - pending.length);
        pending.append(batch, from, take);
        from += take;
        if (pending.full) this.flushPending();
      }
    });
  }

  /** Writes the last chunk and the end marker, and gives the file its name. */
  close(): TraceSummary {
    return this.guard(() => {
      this.flushPending();
      const footer: FooterRecord = { chunks: this.chunks, accesses: this.total };
      let layoutInferred = false;
      if (this.inferrer !== null) {
        footer.layout = this.inferrer.layout(this.inferOptions);
        layoutInferred = true;
      }
      if (this.record.threads === null) footer.threads = footer.layout ? footer.layout.processes.flatMap((p) => p.threads.map((t) => t.tid)) : [];
      const body = recordPackr.pack(footer);
      const frame = Buffer.alloc(END_FRAME_HEAD + body.length + CRC_BYTES + TRAILER_BYTES);
      const footerOffset = this.file.bytesWritten;
      frame[0] = END_TAG;
      frame.writeUInt32LE(body.length, 1);
      frame.set(body, END_FRAME_HEAD);
      frame.writeUInt32LE(crc32(frame, 0, END_FRAME_HEAD + body.length), END_FRAME_HEAD + body.length);
      const t = END_FRAME_HEAD + body.length + CRC_BYTES;
      frame.writeUInt32LE(footerOffset % 0x100000000, t);
      frame.writeUInt32LE(Math.floor(footerOffset / 0x100000000), t + 4);
      frame.set(END_MAGIC, t + 8);
      this.file.write(frame);
      this.file.commit();
      const bytes = this.file.bytesWritten;
      return { path: this.path, chunks: this.chunks, accesses: this.total, bytes, bytesPerAccess: this.total > 0 ? bytes / this.total : 0, layoutInferred };
    });
  }

  /** Discards everything: removes the temporary file; the final name is left untouched. */
  abort(): void {
    this.file.abort();
  }

  private guard<T>(fn: () => T): T {
    if (!this.file.isOpen) throw new SimError(`TraceWriter ${this.path}: already closed or aborted`);
    try {
      return fn();
    } catch (e) {
      this.file.abort();
      if (e instanceof InputError) throw e.within({ file: this.path });
      throw e;
    }
  }

  private writeHeader(): void {
    const body = recordPackr.pack(this.record);
    const buf = Buffer.alloc(HEADER_PREFIX + body.length + CRC_BYTES);
    buf.set(MAGIC, 0);
    buf.writeUInt16LE(FORMAT_MAJOR, 8);
    buf.writeUInt16LE(FORMAT_MINOR, 10);
    buf.writeUInt32LE(body.length, 12);
    buf.set(body, HEADER_PREFIX);
    buf.writeUInt32LE(crc32(buf, 0, HEADER_PREFIX + body.length), HEADER_PREFIX + body.length);
    this.file.write(buf);
  }

  private flushPending(): void {
    if (this.pending.length === 0) return;
    this.writeChunk(this.pending, 0, this.pending.length);
    this.pending.clear();
  }

  private writeChunk(batch: AccessBatch, from: number, n: number): void {
    const payload = this.encoder.encode(batch, from, n);
    const frame = Buffer.allocUnsafe(CHUNK_FRAME_HEAD + payload.length + CRC_BYTES);
    frame[0] = CHUNK_TAG;
    frame.writeUInt32LE(n, 1);
    frame.writeUInt32LE(payload.length, 5);
    frame.set(payload, CHUNK_FRAME_HEAD);
    frame.writeUInt32LE(crc32(frame, 0, CHUNK_FRAME_HEAD + payload.length), CHUNK_FRAME_HEAD + payload.length);
    this.file.write(frame);
    this.chunks++;
    this.total += n;
  }
}
