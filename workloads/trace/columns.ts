// The column codec of a .dst chunk: turns rows of an AccessBatch into six byte streams that a
// general-purpose compressor then squeezes well, and back. Every chunk starts from a fresh state,
// so chunks decode independently. The streams:
//
//   OPS    one byte per access: kind << 6 | size (sizes of 63 and above are written as 63 and the
//          real size goes to SIZES)
//   SIZES  escaped sizes, one byte each
//   IADDR  instruction fetches: zigzag LEB128 of (addr - end of the previous fetch). Straight-line
//          code gives 0, loops give the same jump deltas again and again.
//   DADDR  data accesses: zigzag LEB128 of (addr - prediction). The prediction is the address the
//          same instruction (the last fetch address, "pc") touched last time at the same position
//          among its data accesses (0..3, later ones share 3), found in a small hash table; without
//          a table hit it is the previous data address. Loops then give small repeating strides
//          (Lackey logs put each instruction's data accesses right after its fetch); traces
//          without fetches (generators) reduce to deltas between consecutive data addresses.
//   TID    thread ids, run-length coded: LEB128 of zigzag(tid) * 2 + (run > 1), then run - 2 if
//          the flag is set
//   GAP    gaps, run-length coded the same way (value * 2 + flag)
//
// Addresses are integers in [0, 2^53). Deltas are taken modulo 2^53 and folded into
// [-2^52, 2^52), so their zigzag codes stay below 2^53 and every f64 step is exact; decoding
// reduces modulo 2^53 again, so any decoded address is a valid one. Decoding checks that every
// stream is consumed exactly and every value is in range, and reports the first broken stream by
// name, so a damaged chunk is rejected rather than turned into wrong rows. Given the set of
// threads a trace declares, decoding also rejects a row of any other thread (checked once per run
// of equal tids, so it costs nothing per row) and says which row it was.

import { SimError } from "../../sim/errors.ts";
import { AccessKind, type AccessBatch } from "../../hw/batch.ts";
import { ByteSink, ByteSource } from "./varint.ts";

export const STREAM_NAMES = ["ops", "sizes", "iaddr", "daddr", "tid", "gap"] as const;
export const STREAM_COUNT = STREAM_NAMES.length;
const OPS = 0;
const SIZES = 1;
const IADDR = 2;
const DADDR = 3;
const TID = 4;
const GAP = 5;

const ADDR_SPACE = 2 ** 53;
const HALF_SPACE = 2 ** 52;
const SIZE_ESCAPE = 63;
const IFETCH = AccessKind.IFETCH;
const TWO31 = 0x80000000;
const TWO32 = 0x100000000;

/** Per-instruction prediction table: 2^BUCKET_BITS instructions x 4 data-access positions. */
const BUCKET_BITS = 12;
const TABLE_SIZE = 4 << BUCKET_BITS;

/** Upper bound of a stream's raw size for n accesses (the decoder rejects anything larger). */
export function maxStreamBytes(n: number): number {
  return 16 * n + 16;
}

const bucketOf = (pc: number): number => (Math.imul(pc | 0, 0x9e3779b1) >>> (32 - BUCKET_BITS)) << 2;

class PcTable {
  readonly keys = new Float64Array(TABLE_SIZE);
  readonly vals = new Float64Array(TABLE_SIZE);
  reset(): void {
    this.keys.fill(-1);
  }
}

/** Encodes rows into the six streams. Reuse one encoder for every chunk of a trace. */
export class ColumnEncoder {
  readonly streams: ByteSink[] = STREAM_NAMES.map(() => new ByteSink(1 << 16));
  private readonly table = new PcTable();

  /**
   * Encodes rows [from, from + n) of `batch` as one chunk, replacing the previous streams. Throws a
   * SimError for a row no trace can hold (address not an integer in [0, 2^53), kind above 3).
   */
  encode(batch: AccessBatch, from: number, n: number): void {
    for (const s of this.streams) s.reset();
    this.table.reset();
    const ops = this.streams[OPS]!;
    ops.reserve(n);
    const obuf = ops.buf;
    const sizes = this.streams[SIZES]!;
    const ia = this.streams[IADDR]!;
    const da = this.streams[DADDR]!;
    const { keys, vals } = this.table;
    const addr = batch.addr;
    const size = batch.size;
    const kind = batch.kind;
    let predI = 0;
    let lastD = 0;
    let pc = 0;
    let slot = 0;
    let bucket = bucketOf(0);
    const end = from + n;
    for (let i = from; i < end; i++) {
      const k = kind[i]!;
      const s = size[i]!;
      const a = addr[i]!;
      if (k > 3 || !(a >= 0 && a < ADDR_SPACE) || a !== Math.floor(a)) badRow(batch, i);
      if (s < SIZE_ESCAPE) obuf[i - from] = (k << 6) | s;
      else {
        obuf[i - from] = (k << 6) | SIZE_ESCAPE;
        sizes.byte(s);
      }
      let d: number;
      let sink: ByteSink;
      if (k === IFETCH) {
        d = a - predI;
        predI = a < ADDR_SPACE - s ? a + s : a;
        pc = a;
        bucket = bucketOf(a);
        slot = 0;
        sink = ia;
      } else {
        const idx = bucket | slot;
        if (slot < 3) slot++;
        d = a - (keys[idx] === pc ? vals[idx]! : lastD);
        keys[idx] = pc;
        vals[idx] = a;
        lastD = a;
        sink = da;
      }
      if (d >= HALF_SPACE) d -= ADDR_SPACE;
      else if (d < -HALF_SPACE) d += ADDR_SPACE;
      sink.uvarint(d >= 0 ? 2 * d : -2 * d - 1);
    }
    ops.pos = n;
    encodeRuns(batch.tid, from, end, this.streams[TID]!, true);
    encodeRuns(batch.gap, from, end, this.streams[GAP]!, false);
  }
}

function badRow(batch: AccessBatch, i: number): never {
  throw new SimError(`trace writer: row ${i} has kind ${batch.kind[i]} and address ${batch.addr[i]}; a trace holds kinds 0..3 and integer addresses in [0, 2^53)`);
}

function encodeRuns(col: Int32Array | Uint32Array, from: number, end: number, sink: ByteSink, signed: boolean): void {
  let i = from;
  while (i < end) {
    const v = col[i]!;
    let j = i + 1;
    while (j < end && col[j] === v) j++;
    const code = signed ? (v >= 0 ? 2 * v : -2 * v - 1) : v;
    if (j - i > 1) {
      sink.uvarint(code * 2 + 1);
      sink.uvarint(j - i - 2);
    } else sink.uvarint(code * 2);
    i = j;
  }
}

/** A row whose thread the trace does not declare. */
export interface UndeclaredThread {
  row: number;
  tid: number;
}

/** Decodes streams back into rows. Reuse one decoder for every chunk of a trace. */
export class ColumnDecoder {
  private readonly table = new PcTable();
  /** Set when decode() returned "tid" because of a row of an undeclared thread. */
  undeclared: UndeclaredThread | null = null;

  /**
   * Decodes `n` rows from the streams into out[0, n) (out.capacity >= n) and sets out.length.
   * Returns null on success or the name of the first stream that is inconsistent; with `threads`,
   * a row of a thread outside it makes the tid stream inconsistent and sets `undeclared`.
   */
  decode(streams: readonly Uint8Array[], n: number, out: AccessBatch, threads: ReadonlySet<number> | null = null): string | null {
    this.undeclared = null;
    if (streams.length !== STREAM_COUNT) return "streams";
    const ops = streams[OPS]!;
    if (ops.length !== n || n > out.capacity) return "ops";
    this.table.reset();
    const { keys, vals } = this.table;
    const sizes = new ByteSource(streams[SIZES]!);
    const ia = new ByteSource(streams[IADDR]!);
    const da = new ByteSource(streams[DADDR]!);
    const addr = out.addr;
    const size = out.size;
    const kind = out.kind;
    let predI = 0;
    let lastD = 0;
    let pc = 0;
    let slot = 0;
    let bucket = bucketOf(0);
    let bad = false;
    for (let i = 0; i < n; i++) {
      const op = ops[i]!;
      const k = op >> 6;
      let s = op & SIZE_ESCAPE;
      if (s === SIZE_ESCAPE) s = sizes.byte();
      const z = k === IFETCH ? ia.uvarint() : da.uvarint();
      let d: number;
      if (z < TWO31) d = (z >>> 1) ^ -(z & 1);
      else {
        if (!(z < ADDR_SPACE)) bad = true;
        const h = Math.floor(z / 2);
        d = z === 2 * h ? h : -h - 1;
      }
      let a: number;
      if (k === IFETCH) {
        a = addWrapped(predI, d);
        predI = a < ADDR_SPACE - s ? a + s : a;
        pc = a;
        bucket = bucketOf(a);
        slot = 0;
      } else {
        const idx = bucket | slot;
        if (slot < 3) slot++;
        a = addWrapped(keys[idx] === pc ? vals[idx]! : lastD, d);
        keys[idx] = pc;
        vals[idx] = a;
        lastD = a;
      }
      addr[i] = a;
      size[i] = s;
      kind[i] = k;
    }
    out.length = n;
    if (!sizes.atEnd) return "sizes";
    if (bad || !ia.atEnd) return "iaddr";
    if (!da.atEnd) return "daddr";
    const t = decodeRuns(streams[TID]!, n, out.tid, true, threads);
    if (t !== RUNS_OK) {
      if (t >= 0) this.undeclared = { row: t, tid: out.tid[t]! };
      return "tid";
    }
    if (decodeRuns(streams[GAP]!, n, out.gap, false, null) !== RUNS_OK) return "gap";
    return null;
  }
}

/** (p + d) mod 2^53 for p in [0, 2^53) and d in [-2^52, 2^52], without leaving exact f64 range. */
function addWrapped(p: number, d: number): number {
  if (d >= 0) return p >= ADDR_SPACE - d ? p - (ADDR_SPACE - d) : p + d;
  const a = p + d;
  return a < 0 ? a + ADDR_SPACE : a;
}

const RUNS_OK = -1;
const RUNS_BAD = -2;

/**
 * Decodes a run-length coded column into col[0, n). Returns RUNS_OK, RUNS_BAD for a malformed
 * stream, or the first row whose value is not in `allowed` (that row is written).
 */
function decodeRuns(bytes: Uint8Array, n: number, col: Int32Array | Uint32Array, signed: boolean, allowed: ReadonlySet<number> | null): number {
  const src = new ByteSource(bytes);
  let i = 0;
  let lastAllowed = Number.NaN;
  while (i < n) {
    const t = src.uvarint();
    if (!(t < ADDR_SPACE)) return RUNS_BAD;
    const code = Math.floor(t / 2);
    let run = 1;
    if (t % 2 === 1) {
      const r = src.uvarint();
      if (!(r <= n)) return RUNS_BAD;
      run = r + 2;
    }
    if (i + run > n) return RUNS_BAD;
    let v: number;
    if (signed) {
      v = code % 2 === 0 ? code / 2 : -(code + 1) / 2;
      if (v < -TWO31 || v >= TWO31) return RUNS_BAD;
    } else {
      v = code;
      if (v >= TWO32) return RUNS_BAD;
    }
    if (allowed !== null && v !== lastAllowed) {
      if (!allowed.has(v)) {
        col[i] = v;
        return i;
      }
      lastAllowed = v;
    }
    if (run === 1) col[i++] = v;
    else {
      col.fill(v, i, i + run);
      i += run;
    }
  }
  return src.atEnd ? RUNS_OK : RUNS_BAD;
}
