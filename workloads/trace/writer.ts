// TraceWriter: streams AccessBatches into a .dst file (format.ts). Rows are gathered into chunks of
// chunkSize accesses, each encoded and written as soon as it fills, so memory stays bounded by one
// chunk however long the trace. The file is written atomically (atomic-file.ts): it appears under
// its name only when close() succeeds; abort(), any error inside the writer, or an interrupt
// leave no file behind. When the header has no layout, the writer infers one from the addresses
// (infer-layout.ts) and stores it in the footer. Every row must belong to a thread the header
// declares (when it declares them). FrameWriter is the version 2 framing alone (sequence numbers,
// CRCs, the SHA-256 of the file computed as it is written), shared with `trace upgrade`.

import { createHash, type Hash } from "node:crypto";
import { crc32 } from "node:zlib";
import { InputError, SimError } from "../../sim/errors.ts";
import { AccessBatch } from "../../hw/batch.ts";
import { AtomicFile } from "./atomic-file.ts";
import { ChunkEncoder, DEFAULT_COMPRESSION, type CompressionLevel } from "./chunk-codec.ts";
import {
  CHUNK_FRAME_HEAD, CHUNK_TAG, CRC_BYTES, DEFAULT_CHUNK_SIZE, END_FRAME_HEAD, END_MAGIC, END_TAG, FORMAT_MAJOR, FORMAT_MINOR,
  HEADER_PREFIX, MAGIC, MAX_CHUNK_SIZE, TRAILER_BYTES, headerRecord, recordPackr,
  type FooterRecord, type TraceHeaderInput, type TraceHeaderRecord,
} from "./format.ts";
import { LayoutInferrer, type InferLayoutOptions } from "./infer-layout.ts";

/** Writes the frames of a version 2 file, in order: header(), chunk() per chunk, end(). */
export class FrameWriter {
  private readonly hash: Hash = createHash("sha256");
  /** The running CRC: the header's, then each chunk's (-1 before the header). */
  private chain = -1;
  private seq = 0;
  private total = 0;
  private readonly crcs: number[] = [];

  constructor(private readonly file: AtomicFile) {}

  /** Chunks and accesses written so far. */
  get chunks(): number {
    return this.seq;
  }

  get accesses(): number {
    return this.total;
  }

  header(record: TraceHeaderRecord): void {
    const body = recordPackr.pack(record);
    const buf = Buffer.alloc(HEADER_PREFIX + body.length + CRC_BYTES);
    buf.set(MAGIC, 0);
    buf.writeUInt16LE(FORMAT_MAJOR, 8);
    buf.writeUInt16LE(FORMAT_MINOR, 10);
    buf.writeUInt32LE(body.length, 12);
    buf.set(body, HEADER_PREFIX);
    this.chain = crc32(buf.subarray(0, HEADER_PREFIX + body.length));
    buf.writeUInt32LE(this.chain, HEADER_PREFIX + body.length);
    this.put(buf);
  }

  /** One chunk of `count` accesses whose encoded payload is `payload` (chunk-codec.ts). */
  chunk(count: number, payload: Uint8Array): void {
    if (this.chain < 0) throw new SimError("FrameWriter: chunk() before header()");
    const frame = Buffer.allocUnsafe(CHUNK_FRAME_HEAD + payload.length + CRC_BYTES);
    frame[0] = CHUNK_TAG;
    frame.writeUInt32LE(this.seq, 1);
    frame.writeUInt32LE(count, 5);
    frame.writeUInt32LE(payload.length, 9);
    frame.set(payload, CHUNK_FRAME_HEAD);
    this.chain = crc32(frame.subarray(0, CHUNK_FRAME_HEAD + payload.length), this.chain);
    frame.writeUInt32LE(this.chain, CHUNK_FRAME_HEAD + payload.length);
    this.crcs.push(this.chain);
    this.put(frame);
    this.seq++;
    this.total += count;
  }

  /** The footer (with the counts and digest filled in) and the trailer; the caller commits. */
  end(extra: Pick<FooterRecord, "layout" | "threads">): void {
    const footer: FooterRecord = { chunks: this.seq, accesses: this.total, sha256: this.hash.digest("hex"), chunkCrcs: this.crcs, ...extra };
    const body = recordPackr.pack(footer);
    const frame = Buffer.alloc(END_FRAME_HEAD + body.length + CRC_BYTES + TRAILER_BYTES);
    const footerOffset = this.file.bytesWritten;
    frame[0] = END_TAG;
    frame.writeUInt32LE(body.length, 1);
    frame.set(body, END_FRAME_HEAD);
    frame.writeUInt32LE(crc32(frame.subarray(0, END_FRAME_HEAD + body.length)), END_FRAME_HEAD + body.length);
    const t = END_FRAME_HEAD + body.length + CRC_BYTES;
    frame.writeUInt32LE(footerOffset % 0x100000000, t);
    frame.writeUInt32LE(Math.floor(footerOffset / 0x100000000), t + 4);
    frame.set(END_MAGIC, t + 8);
    this.file.write(frame);
  }

  private put(bytes: Uint8Array): void {
    this.file.write(bytes);
    this.hash.update(bytes);
  }
}

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
  private readonly frames: FrameWriter;
  private readonly record: TraceHeaderRecord;
  private readonly pending: AccessBatch;
  private readonly encoder: ChunkEncoder;
  private readonly inferrer: LayoutInferrer | null;
  private readonly inferOptions: InferLayoutOptions;
  private readonly declared: ReadonlySet<number> | null;

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
    this.declared = this.record.threads === null ? null : new Set(this.record.threads);
    this.file = AtomicFile.create(path);
    this.frames = new FrameWriter(this.file);
    try {
      this.frames.header(this.record);
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
    return this.frames.accesses + this.pending.length;
  }

  /** Bytes in the file so far (chunks still being gathered are not counted). */
  get bytesWritten(): number {
    return this.file.bytesWritten;
  }

  /** Appends the rows of `batch` (it can be reused as soon as this returns). */
  write(batch: AccessBatch): void {
    this.guard(() => {
      const n = batch.length;
      if (this.declared !== null) this.checkThreads(batch, n);
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
      const extra: Pick<FooterRecord, "layout" | "threads"> = {};
      let layoutInferred = false;
      if (this.inferrer !== null) {
        const layout = this.inferrer.layout(this.inferOptions);
        // threads the header declares but no row used still belong to the (single) process
        const p0 = layout.processes[0]!;
        for (const t of this.record.threads ?? []) if (!layout.processes.some((p) => p.threads.some((x) => x.tid === t))) p0.threads.push({ tid: t });
        extra.layout = layout;
        layoutInferred = true;
      }
      if (this.record.threads === null) extra.threads = extra.layout ? extra.layout.processes.flatMap((p) => p.threads.map((t) => t.tid)) : [];
      this.frames.end(extra);
      this.file.commit();
      const bytes = this.file.bytesWritten;
      const { chunks, accesses } = this.frames;
      return { path: this.path, chunks, accesses, bytes, bytesPerAccess: accesses > 0 ? bytes / accesses : 0, layoutInferred };
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

  /** Rows of threads the header does not declare would make an unreadable trace. */
  private checkThreads(batch: AccessBatch, n: number): void {
    const declared = this.declared!;
    const tid = batch.tid;
    let last = Number.NaN;
    for (let i = 0; i < n; i++) {
      const t = tid[i]!;
      if (t === last) continue;
      if (!declared.has(t)) throw new SimError(`trace writer: row ${i} of a batch belongs to thread ${t}, which the header does not declare (threads ${[...declared].join(", ")})`);
      last = t;
    }
  }

  private flushPending(): void {
    if (this.pending.length === 0) return;
    this.writeChunk(this.pending, 0, this.pending.length);
    this.pending.clear();
  }

  private writeChunk(batch: AccessBatch, from: number, n: number): void {
    this.frames.chunk(n, this.encoder.encode(batch, from, n));
  }
}
