// Sparse typed arrays for per-frame metadata: a machine may have 2^25 frames or more, but only the
// frames a workload touches need storage. Chunks of 2^16 entries are allocated on first write;
// reads of untouched chunks return the default value.

const CHUNK_BITS = 16;
const CHUNK = 1 << CHUNK_BITS;
const MASK = CHUNK - 1;
/** Index of an entry within its chunk: i & CHUNK_MASK. */
export const CHUNK_MASK = MASK;
/** Entries per chunk. */
export const CHUNK_ENTRIES = CHUNK;
/** i * 2^-16 is i / 2^16 exactly (a multiplication instead of a division). */
const INV_CHUNK = 1 / CHUNK;

type TypedCtor<T> = new (n: number) => T;

class Chunked<T extends Int32Array | Uint8Array | Float64Array> {
  private readonly chunks: (T | undefined)[] = [];
  constructor(private readonly ctor: TypedCtor<T>, private readonly initial: number) {}

  get(i: number): number {
    const c = this.chunks[Math.floor(i * INV_CHUNK)];
    return c === undefined ? this.initial : c[i & MASK]!;
  }

  set(i: number, v: number): void {
    this.chunk(i)[i & MASK] = v;
  }

  add(i: number, v: number): void {
    const c = this.chunk(i);
    c[i & MASK] = c[i & MASK]! + v;
  }

  /** The chunk holding index i, allocated if needed (for tight loops over a range). */
  chunk(i: number): T {
    const ci = Math.floor(i * INV_CHUNK);
    let c = this.chunks[ci];
    if (c === undefined) {
      c = new this.ctor(CHUNK);
      if (this.initial !== 0) c.fill(this.initial);
      this.chunks[ci] = c;
    }
    return c;
  }

  /** The chunk holding index i if it was ever written, else undefined (walks skip untouched chunks). */
  peekChunk(i: number): T | undefined {
    return this.chunks[Math.floor(i * INV_CHUNK)];
  }

  /** Resets every allocated entry to the initial value (keeps the storage). */
  reset(): void {
    for (const c of this.chunks) if (c !== undefined) c.fill(this.initial);
  }

  /** Calls fn(index, value) for every entry of every allocated chunk whose value differs from the initial one. */
  forEachSet(fn: (i: number, v: number) => void): void {
    this.chunks.forEach((c, ci) => {
      if (c === undefined) return;
      for (let j = 0; j < CHUNK; j++) if (c[j] !== this.initial) fn(ci * CHUNK + j, c[j]!);
    });
  }

  allocatedBytes(): number {
    let n = 0;
    for (const c of this.chunks) if (c !== undefined) n += c.byteLength;
    return n;
  }
}

export class ChunkedInt32 extends Chunked<Int32Array> {
  constructor(initial = 0) {
    super(Int32Array, initial);
  }
}

export class ChunkedUint8 extends Chunked<Uint8Array> {
  constructor(initial = 0) {
    super(Uint8Array, initial);
  }
}

export class ChunkedFloat64 extends Chunked<Float64Array> {
  constructor(initial = 0) {
    super(Float64Array, initial);
  }
}
