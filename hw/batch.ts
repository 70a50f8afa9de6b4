// AccessBatch: the unit of work the machine executes, as parallel typed arrays (no per-access
// objects). Generators, trace readers and importers fill batches; CPUs consume them.
//
// One row is one memory reference made by one thread:
//   addr  virtual address (f64, exact to 2^53)
//   size  bytes touched (1..255)
//   kind  AccessKind: READ, WRITE, IFETCH, or MODIFY (a read and a write of the same bytes by one
//         instruction, Valgrind Lackey's 'M')
//   tid   the thread making it
//   gap   non-memory operations executed by that thread just before this reference; they cost
//         CPU time (ops x ns per op) and count as ops for op-based samplers (IBS)

export const AccessKind = {
  READ: 0,
  WRITE: 1,
  IFETCH: 2,
  MODIFY: 3,
} as const;
export type AccessKind = (typeof AccessKind)[keyof typeof AccessKind];

export const ACCESS_KIND_NAMES = ["read", "write", "ifetch", "modify"] as const;

/** True for kinds that write memory (WRITE and MODIFY). */
export const isWriteKind = (k: number): boolean => k === AccessKind.WRITE || k === AccessKind.MODIFY;

export class AccessBatch {
  length = 0;
  addr: Float64Array;
  size: Uint8Array;
  kind: Uint8Array;
  tid: Int32Array;
  gap: Uint32Array;

  constructor(readonly capacity = 4096) {
    this.addr = new Float64Array(capacity);
    this.size = new Uint8Array(capacity);
    this.kind = new Uint8Array(capacity);
    this.tid = new Int32Array(capacity);
    this.gap = new Uint32Array(capacity);
  }

  get full(): boolean {
    return this.length === this.capacity;
  }

  clear(): void {
    this.length = 0;
  }

  /** Appends one row; the caller checks `full` first. */
  push(addr: number, size: number, kind: number, tid: number, gap = 0): void {
    const i = this.length++;
    this.addr[i] = addr;
    this.size[i] = size;
    this.kind[i] = kind;
    this.tid[i] = tid;
    this.gap[i] = gap;
  }

  /** Copies rows [from, from + n) of `src` to the end of this batch. */
  append(src: AccessBatch, from: number, n: number): void {
    const i = this.length;
    this.addr.set(src.addr.subarray(from, from + n), i);
    this.size.set(src.size.subarray(from, from + n), i);
    this.kind.set(src.kind.subarray(from, from + n), i);
    this.tid.set(src.tid.subarray(from, from + n), i);
    this.gap.set(src.gap.subarray(from, from + n), i);
    this.length = i + n;
  }

  /** Row-by-row equality of the used part (for tests and round trips). */
  equals(other: AccessBatch): boolean {
    if (this.length !== other.length) return false;
    for (let i = 0; i < this.length; i++) {
      if (this.addr[i] !== other.addr[i] || this.size[i] !== other.size[i] || this.kind[i] !== other.kind[i] || this.tid[i] !== other.tid[i] || this.gap[i] !== other.gap[i]) return false;
    }
    return true;
  }
}

/**
 * A stream of accesses: fills `out` (after clearing it) with up to out.capacity rows and returns
 * the number of rows, 0 at the end. Sources are deterministic for a given seed.
 */
export interface AccessSource {
  next(out: AccessBatch): number;
}
