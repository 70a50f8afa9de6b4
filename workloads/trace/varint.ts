// Growable byte buffers with LEB128 unsigned varints, the building block of the .dst column
// streams. Values are non-negative integers up to 2^53 - 1 (exact f64 integers); values below
// 2^28 take the bit-operation fast path, larger ones fall back to float division. Readers never
// throw on short input: a read past the end yields zero bytes, and the caller checks `overrun`
// (or that `pos` landed exactly on the end) once per stream instead of once per value.

const TWO28 = 0x10000000;

/** An append-only byte buffer that doubles when full (capacity only grows, reuse with reset()). */
export class ByteSink {
  buf: Uint8Array;
  pos = 0;

  constructor(capacity = 1 << 16) {
    this.buf = new Uint8Array(Math.max(16, capacity));
  }

  reset(): void {
    this.pos = 0;
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const bigger = new Uint8Array(cap);
    bigger.set(this.buf.subarray(0, this.pos));
    this.buf = bigger;
  }

  /** The bytes written so far (a view, valid until the next write or reset). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  byte(v: number): void {
    if (this.pos === this.buf.length) this.reserve(1);
    this.buf[this.pos++] = v;
  }

  /** Unsigned LEB128 of an integer in [0, 2^53). At most 8 bytes. */
  uvarint(v: number): void {
    if (this.pos + 8 > this.buf.length) this.reserve(8);
    const b = this.buf;
    let p = this.pos;
    if (v < TWO28) {
      while (v >= 0x80) {
        b[p++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      b[p++] = v;
    } else {
      // Peel 28 bits with float arithmetic, then finish on the fast path.
      let hi = Math.floor(v / TWO28);
      const lo = v - hi * TWO28;
      b[p++] = (lo & 0x7f) | 0x80;
      b[p++] = ((lo >>> 7) & 0x7f) | 0x80;
      b[p++] = ((lo >>> 14) & 0x7f) | 0x80;
      b[p++] = ((lo >>> 21) & 0x7f) | 0x80;
      while (hi >= 0x80) {
        b[p++] = (hi & 0x7f) | 0x80;
        hi >>>= 7;
      }
      b[p++] = hi;
    }
    this.pos = p;
  }
}

/** Sequential reader of a byte range. */
export class ByteSource {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  get overrun(): boolean {
    return this.pos > this.buf.length;
  }

  get atEnd(): boolean {
    return this.pos === this.buf.length;
  }

  byte(): number {
    const v = this.buf[this.pos++];
    return v === undefined ? 0 : v;
  }

  /**
   * Reads an unsigned LEB128 value. A value of 2^53 or more (up to 2^56 in 8 bytes, Infinity for a
   * longer encoding) is returned as is for the caller to reject; past the end it reads zero bytes.
   */
  uvarint(): number {
    const b = this.buf;
    let p = this.pos;
    let c = b[p++]! | 0;
    if (c < 0x80) {
      this.pos = p;
      return c;
    }
    let v = c & 0x7f;
    c = b[p++]! | 0;
    v |= (c & 0x7f) << 7;
    if (c >= 0x80) {
      c = b[p++]! | 0;
      v |= (c & 0x7f) << 14;
      if (c >= 0x80) {
        c = b[p++]! | 0;
        v |= (c & 0x7f) << 21;
        if (c >= 0x80) {
          let scale = TWO28;
          for (let k = 0; k < 4; k++) {
            c = b[p++]! | 0;
            v += (c & 0x7f) * scale;
            if (c < 0x80) break;
            scale *= 128;
          }
          if (c >= 0x80) v = Infinity;
        }
      }
    }
    this.pos = p;
    return v;
  }
}
