// A recorded trace replayed with every row checked against the trace's own layout as it is read:
// a row whose address lies outside every VMA of its thread's process is an InputError naming the
// file, the chunk (sequence number and byte offset), the row in it and the access, instead of the
// machine's "touched 0x..., outside every VMA" naming neither the file nor the place. Only the
// reader's public API is used (openTrace, its chunk list); the check keeps the VMA of the
// previous row of each process, so a sequential stream costs two comparisons a row.

import type { AccessBatch } from "../hw/batch.ts";
import type { VmaSpec } from "../hw/layout.ts";
import type { Workload, WorkloadRun } from "../hw/program.ts";
import { InputError } from "../sim/errors.ts";
import type { TraceHeader } from "./trace/format.ts";
import { openTrace, type TraceReader } from "./trace/reader.ts";
import { traceWorkload } from "./trace/workload.ts";

interface ProcessVmas {
  pid: number;
  /** VMA starts and ends, sorted by start. */
  starts: Float64Array;
  ends: Float64Array;
  /** The VMA of the last row checked. */
  last: number;
}

class CheckedRows {
  private readonly byTid = new Map<number, ProcessVmas>();
  /** Accesses before each chunk (chunk i holds rows [before[i], before[i + 1])). */
  private readonly before: Float64Array;
  private delivered = 0;

  constructor(private readonly reader: TraceReader, private readonly file: string, header: TraceHeader) {
    for (const p of header.layout.processes) {
      const vmas = [...p.vmas].sort((a: VmaSpec, b: VmaSpec) => a.start - b.start);
      const pv: ProcessVmas = { pid: p.pid, starts: Float64Array.from(vmas, (v) => v.start), ends: Float64Array.from(vmas, (v) => v.end), last: 0 };
      for (const t of p.threads) this.byTid.set(t.tid, pv);
    }
    const chunks = reader.chunkList;
    this.before = new Float64Array(chunks.length + 1);
    for (let i = 0; i < chunks.length; i++) this.before[i + 1] = this.before[i]! + chunks[i]!.accesses;
  }

  next(out: AccessBatch): number {
    const n = this.reader.next(out);
    const addr = out.addr, tid = out.tid;
    let lastTid = -1;
    let p: ProcessVmas | undefined;
    for (let i = 0; i < n; i++) {
      const t = tid[i]!;
      if (t !== lastTid) {
        p = this.byTid.get(t);
        lastTid = t;
      }
      if (p === undefined) continue; // threads outside the layout are the reader's to refuse
      const a = addr[i]!;
      if (a >= p.starts[p.last]! && a < p.ends[p.last]!) continue;
      if (!this.find(p, a)) this.fail(this.delivered + i, t, p, a);
    }
    this.delivered += n;
    return n;
  }

  /** Finds the VMA holding `a` (and remembers it); false when none does. */
  private find(p: ProcessVmas, a: number): boolean {
    let lo = 0, hi = p.starts.length - 1, k = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (p.starts[mid]! <= a) {
        k = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (k < 0 || a >= p.ends[k]!) return false;
    p.last = k;
    return true;
  }

  private fail(row: number, tid: number, p: ProcessVmas, a: number): never {
    this.reader.close();
    let lo = 0, hi = this.before.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.before[mid]! <= row) lo = mid;
      else hi = mid - 1;
    }
    const chunk = this.reader.chunkList[lo];
    const inChunk = row - this.before[lo]!;
    const where = chunk ? `row ${inChunk} of chunk ${chunk.seq} (access ${row} of the trace)` : `access ${row} of the trace`;
    throw new InputError(
      `${where}: thread ${tid} (pid ${p.pid}) accesses 0x${a.toString(16)}, outside every VMA of its process in the trace's layout (${p.starts.length} VMAs); the trace's layout does not match its rows (re-record or re-import it)`,
      chunk ? { file: this.file, offset: chunk.offset, field: `chunk ${chunk.seq} row ${inChunk}` } : { file: this.file },
    );
  }
}

/** The trace at `path` as a Workload whose rows are checked against its layout as they replay. */
export function checkedTraceWorkload(path: string): Workload & { readonly header: TraceHeader } {
  const inner = traceWorkload(path);
  return {
    name: inner.name,
    layout: inner.layout,
    header: inner.header,
    start(): WorkloadRun {
      return { kind: "merged", source: new CheckedRows(openTrace(path), path, inner.header) };
    },
  };
}
