// traceInfo: a summary of a .dst trace, computed by streaming every chunk (so it also verifies the
// whole file, digest included): access counts per kind, the address span, the threads seen, total
// gap ops and the file's bytes per access, next to the header, and every chunk's sequence number,
// byte offset, size and access count (as `zstd -lv` lists frames).

import { AccessBatch, AccessKind } from "../../hw/batch.ts";
import type { TraceHeader } from "./format.ts";
import { openTrace, type ChunkInfo, type OpenTraceOptions } from "./reader.ts";

export interface TraceInfo {
  path: string;
  header: TraceHeader;
  fileBytes: number;
  chunks: number;
  accesses: number;
  counts: { read: number; write: number; ifetch: number; modify: number };
  /** Lowest address touched and one past the highest byte touched; null for an empty trace. */
  addressSpan: { start: number; end: number } | null;
  /** Distinct thread ids in the accesses, ascending. */
  threads: number[];
  /** Sum of the gaps (non-memory ops) of every access. */
  gapOps: number;
  bytesPerAccess: number;
  /** Every chunk in file order. */
  chunkList: ChunkInfo[];
}

export function traceInfo(path: string, opts: Pick<OpenTraceOptions, "notice"> = {}): TraceInfo {
  const reader = openTrace(path, opts);
  const batch = new AccessBatch(1 << 16);
  const kinds = new Float64Array(4);
  let lo = Infinity;
  let hi = -Infinity;
  let gaps = 0;
  let lastTid = Number.NaN;
  const tids = new Set<number>();
  try {
    for (let n = reader.next(batch); n > 0; n = reader.next(batch)) {
      const { addr, size, kind, tid, gap } = batch;
      for (let i = 0; i < n; i++) {
        kinds[kind[i]!]!++;
        const a = addr[i]!;
        if (a < lo) lo = a;
        const e = a + size[i]!;
        if (e > hi) hi = e;
        gaps += gap[i]!;
        const t = tid[i]!;
        if (t !== lastTid) {
          tids.add(t);
          lastTid = t;
        }
      }
    }
  } finally {
    reader.close();
  }
  const accesses = reader.accessesRead;
  return {
    path,
    header: reader.header,
    fileBytes: reader.fileBytes,
    chunks: reader.chunksRead,
    accesses,
    counts: { read: kinds[AccessKind.READ]!, write: kinds[AccessKind.WRITE]!, ifetch: kinds[AccessKind.IFETCH]!, modify: kinds[AccessKind.MODIFY]! },
    addressSpan: accesses > 0 ? { start: lo, end: hi } : null,
    threads: [...tids].sort((a, b) => a - b),
    gapOps: gaps,
    bytesPerAccess: accesses > 0 ? reader.fileBytes / accesses : 0,
    chunkList: reader.chunkList.map((c) => ({ ...c })),
  };
}
