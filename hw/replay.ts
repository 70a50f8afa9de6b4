// Replaying a merged trace (one stream of every thread's accesses in recorded order) on per-thread
// CPUs: a demultiplexer reads the stream on demand and queues each row for its thread. A thread
// whose queue is empty pulls more of the stream; if another thread's queue is full (the bound keeps
// memory flat), it reports "not ready" and its CPU tries again later while the other thread
// drains. A single-thread trace skips the queues and reads the stream straight into the batch.

import { SimError } from "../sim/errors.ts";
import { AccessBatch, type AccessSource } from "./batch.ts";
import type { ThreadProgram } from "./program.ts";

/** Rows buffered across all threads before the demultiplexer stops reading ahead. */
const MAX_BUFFERED_ROWS = 1 << 20;

class RowQueue {
  addr = new Float64Array(1024);
  size = new Uint8Array(1024);
  kind = new Uint8Array(1024);
  gap = new Uint32Array(1024);
  head = 0;
  tail = 0;

  get length(): number {
    return this.tail - this.head;
  }

  push(b: AccessBatch, i: number): void {
    if (this.tail === this.addr.length) this.makeRoom();
    const t = this.tail++;
    this.addr[t] = b.addr[i]!;
    this.size[t] = b.size[i]!;
    this.kind[t] = b.kind[i]!;
    this.gap[t] = b.gap[i]!;
  }

  private makeRoom(): void {
    const n = this.length;
    if (n * 2 <= this.addr.length) {
      this.addr.copyWithin(0, this.head, this.tail);
      this.size.copyWithin(0, this.head, this.tail);
      this.kind.copyWithin(0, this.head, this.tail);
      this.gap.copyWithin(0, this.head, this.tail);
    } else {
      const cap = this.addr.length * 2;
      const a = new Float64Array(cap), s = new Uint8Array(cap), k = new Uint8Array(cap), g = new Uint32Array(cap);
      a.set(this.addr.subarray(this.head, this.tail));
      s.set(this.size.subarray(this.head, this.tail));
      k.set(this.kind.subarray(this.head, this.tail));
      g.set(this.gap.subarray(this.head, this.tail));
      this.addr = a;
      this.size = s;
      this.kind = k;
      this.gap = g;
    }
    this.head = 0;
    this.tail = n;
  }
}

class Demux {
  readonly queues = new Map<number, RowQueue>();
  ended = false;
  buffered = 0;
  private readonly inBatch: AccessBatch;

  constructor(private readonly source: AccessSource, tids: number[], batchSize: number) {
    for (const t of tids) this.queues.set(t, new RowQueue());
    this.inBatch = new AccessBatch(batchSize);
  }

  /** Reads the stream until `tid` has rows, the stream ends, or the buffer bound is reached. */
  pump(tid: number): void {
    const q = this.queues.get(tid)!;
    while (q.length === 0 && !this.ended && this.buffered < MAX_BUFFERED_ROWS) {
      const n = this.source.next(this.inBatch);
      if (n === 0) {
        this.ended = true;
        break;
      }
      const b = this.inBatch;
      for (let i = 0; i < n; i++) {
        const dest = this.queues.get(b.tid[i]!);
        if (dest === undefined) throw new SimError(`trace row for thread ${b.tid[i]}, which the trace's layout does not declare`);
        dest.push(b, i);
      }
      this.buffered += n;
    }
  }
}

class QueuedProgram implements ThreadProgram {
  constructor(readonly tid: number, private readonly demux: Demux) {}

  next(out: AccessBatch, _now: number): number {
    const q = this.demux.queues.get(this.tid)!;
    if (q.length === 0) this.demux.pump(this.tid);
    out.clear();
    const n = Math.min(q.length, out.capacity);
    if (n === 0) return this.demux.ended ? 0 : -1;
    const h = q.head;
    out.addr.set(q.addr.subarray(h, h + n));
    out.size.set(q.size.subarray(h, h + n));
    out.kind.set(q.kind.subarray(h, h + n));
    out.gap.set(q.gap.subarray(h, h + n));
    out.tid.fill(this.tid, 0, n);
    out.length = n;
    q.head += n;
    this.demux.buffered -= n;
    return n;
  }
}

class DirectProgram implements ThreadProgram {
  constructor(readonly tid: number, private readonly source: AccessSource) {}

  next(out: AccessBatch, _now: number): number {
    const n = this.source.next(out);
    for (let i = 0; i < n; i++) {
      if (out.tid[i] !== this.tid) throw new SimError(`trace row for thread ${out.tid[i]}, but the trace's layout declares only thread ${this.tid}`);
    }
    return n;
  }
}

/** Per-thread programs replaying a merged stream whose rows belong to the threads `tids`. */
export function demuxMerged(source: AccessSource, tids: number[], batchSize: number): ThreadProgram[] {
  if (tids.length === 1) return [new DirectProgram(tids[0]!, source)];
  const d = new Demux(source, tids, batchSize);
  return tids.map((t) => new QueuedProgram(t, d));
}
