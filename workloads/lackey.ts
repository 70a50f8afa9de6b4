// Valgrind Lackey `--trace-mem=yes` logs as AccessBatch rows, parsed as a byte stream.
//
// Line kinds (Valgrind 3.19, see docs/reference hardware.md 5.2 and 7.3):
//   "I  0401ab70,3"      instruction fetch  -> AccessKind.IFETCH
//   " L 1fff000758,8"    data load          -> AccessKind.READ
//   " S 1fff000758,8"    data store         -> AccessKind.WRITE
//   " M 04033e06,1"      modify (load+store of the same bytes by one instruction) -> MODIFY
//   "==1234== ..."       Valgrind banner/summary lines: skipped
//   ""                   blank (or whitespace-only) lines: skipped
// Addresses are hex (any number of digits, may exceed 2^32, must stay below 2^53), sizes decimal
// 1..255. A '\r' before the '\n' is tolerated. Anything else is an InputError naming the file,
// the line and the 1-based byte column of the first offending byte.
//
// The parser works on raw bytes: no regexes, no strings, no allocation per line. Lines split
// across chunks are carried over in a reusable buffer. Rows go to a sink in a single reused
// AccessBatch (the sink must consume it before returning). openLackeySource() wraps the parser
// as a synchronous, streaming AccessSource over a file or stdin.

import { closeSync, openSync, readSync } from "node:fs";
import { InputError } from "../sim/errors.ts";
import { AccessBatch, AccessKind, type AccessSource } from "../hw/batch.ts";

const NL = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const COMMA = 44;
const EQ = 61;
const CH_I = 73;
const CH_L = 76;
const CH_S = 83;
const CH_M = 77;
const ZERO = 48;

/** Largest address + size the rows can carry exactly (f64 integers). */
const ADDR_LIMIT = 2 ** 53;
/** A partial line longer than this is rejected rather than buffered without bound. */
const MAX_LINE = 1 << 20;

/** Hex digit values by byte, -1 for non-digits. */
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[ZERO + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[65 + c] = 10 + c;
  HEX[97 + c] = 10 + c;
}

const KIND_BY_LETTER = new Int8Array(256).fill(-1);
KIND_BY_LETTER[CH_L] = AccessKind.READ;
KIND_BY_LETTER[CH_S] = AccessKind.WRITE;
KIND_BY_LETTER[CH_M] = AccessKind.MODIFY;

export interface LackeyParserOptions {
  /** Name used in error messages (default "<lackey>"). */
  file?: string;
  /** Rows per batch handed to the sink (default 4096). */
  batchSize?: number;
  /** Thread id given to every row (default 1; Lackey logs carry none). */
  tid?: number;
}

export class LackeyParser {
  private readonly batch: AccessBatch;
  private readonly file: string;
  private readonly tid: number;
  /** The partial last line of the previous chunk, plus room for a '\n' sentinel. */
  private carry = new Uint8Array(256);
  private carryLen = 0;
  private ended = false;
  private _lines = 0;
  private _records = 0;

  constructor(
    private readonly sink: (batch: AccessBatch) => void,
    opts: LackeyParserOptions = {},
  ) {
    const batchSize = opts.batchSize ?? 4096;
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`LackeyParser: batchSize must be a positive integer, got ${batchSize}`);
    this.batch = new AccessBatch(batchSize);
    this.file = opts.file ?? "<lackey>";
    this.tid = opts.tid ?? 1;
  }

  /** Lines seen so far (complete lines, including skipped ones). */
  get lines(): number {
    return this._lines;
  }

  /** Rows produced so far (including rows not yet flushed to the sink). */
  get records(): number {
    return this._records;
  }

  /** Parses every complete line of `chunk`; a partial last line waits for the next chunk or end(). */
  feed(chunk: Uint8Array): void {
    if (this.ended) throw new Error("LackeyParser: feed() after end()");
    const len = chunk.length;
    let pos = 0;
    if (this.carryLen > 0) {
      const nl = chunk.indexOf(NL);
      if (nl < 0) {
        this.appendCarry(chunk, 0, len);
        return;
      }
      this.appendCarry(chunk, 0, nl);
      this.parseCarry();
      pos = nl + 1;
    }
    while (pos < len) {
      const nl = chunk.indexOf(NL, pos);
      if (nl < 0) {
        this.appendCarry(chunk, pos, len);
        return;
      }
      this.parseLine(chunk, pos, nl);
      pos = nl + 1;
    }
  }

  /** Parses the final line (with or without a trailing newline) and flushes the last batch. */
  end(): void {
    if (this.ended) return;
    if (this.carryLen > 0) this.parseCarry();
    this.ended = true;
    this.flush();
  }

  private flush(): void {
    if (this.batch.length > 0) {
      this.sink(this.batch);
      this.batch.clear();
    }
  }

  private appendCarry(src: Uint8Array, from: number, to: number): void {
    const need = this.carryLen + (to - from) + 1;
    if (need > MAX_LINE) {
      throw new InputError(`line is longer than ${MAX_LINE} bytes; this is not a Lackey --trace-mem log`, { file: this.file, line: this._lines + 1 });
    }
    if (need > this.carry.length) {
      let cap = this.carry.length * 2;
      while (cap < need) cap *= 2;
      const bigger = new Uint8Array(cap);
      bigger.set(this.carry.subarray(0, this.carryLen));
      this.carry = bigger;
    }
    this.carry.set(src.subarray(from, to), this.carryLen);
    this.carryLen += to - from;
  }

  private parseCarry(): void {
    const n = this.carryLen;
    this.carry[n] = NL; // sentinel: every line the parser sees ends with '\n'
    this.carryLen = 0;
    this.parseLine(this.carry, 0, n);
  }

  /**
   * Parses the line buf[s, e); buf[e] is always '\n', which stops every scan below without a
   * bounds check (no valid token contains it).
   */
  private parseLine(buf: Uint8Array, s: number, e: number): void {
    const lineNo = ++this._lines;
    if (e > s && buf[e - 1] === CR) e--;
    const c0 = buf[s]!;
    let kind: number;
    if (c0 === CH_I) {
      if (buf[s + 1] !== SPACE) return this.fail(buf, s, e, s + 1, lineNo, "expected two spaces after 'I'");
      if (buf[s + 2] !== SPACE) return this.fail(buf, s, e, s + 2, lineNo, "expected two spaces after 'I'");
      kind = AccessKind.IFETCH;
    } else if (c0 === SPACE) {
      kind = KIND_BY_LETTER[buf[s + 1]!]!;
      if (kind < 0) return this.fail(buf, s, e, s + 1, lineNo, "expected 'L', 'S' or 'M' after the leading space");
      if (buf[s + 2] !== SPACE) return this.fail(buf, s, e, s + 2, lineNo, "expected a space after the access letter");
    } else if (c0 === EQ && buf[s + 1] === EQ) {
      return; // ==PID== banner or summary line
    } else {
      return this.fail(buf, s, e, s, lineNo, "expected 'I', ' L', ' S', ' M' or '==' at the start of the line");
    }
    // address: hex digits up to ','
    let p = s + 3;
    let addr = 0;
    let d = HEX[buf[p]!]!;
    if (d < 0) return this.fail(buf, s, e, p, lineNo, "expected a hexadecimal address");
    do {
      addr = addr * 16 + d;
      d = HEX[buf[++p]!]!;
    } while (d >= 0);
    if (buf[p] !== COMMA) return this.fail(buf, s, e, p, lineNo, "expected ',' after the address");
    if (addr >= ADDR_LIMIT) return this.fail(buf, s, e, s + 3, lineNo, "address is not below 2^53");
    // size: decimal digits up to the end of the line
    const sizeAt = ++p;
    let size = 0;
    let c = buf[p]! - ZERO;
    if (c < 0 || c > 9) return this.fail(buf, s, e, p, lineNo, "expected a decimal size after ','");
    do {
      size = size * 10 + c;
      if (size > 255) return this.fail(buf, s, e, sizeAt, lineNo, "size is larger than 255 bytes");
      c = buf[++p]! - ZERO;
    } while (c >= 0 && c <= 9);
    if (p !== e) return this.fail(buf, s, e, p, lineNo, "unexpected character after the size");
    if (size === 0) return this.fail(buf, s, e, sizeAt, lineNo, "size must be at least 1");
    if (addr > ADDR_LIMIT - size) return this.fail(buf, s, e, s + 3, lineNo, "address + size is above 2^53");
    const b = this.batch;
    const i = b.length++;
    b.addr[i] = addr;
    b.size[i] = size;
    b.kind[i] = kind;
    b.tid[i] = this.tid;
    b.gap[i] = 0;
    this._records++;
    if (b.length === b.capacity) this.flush();
  }

  /** Skips whitespace-only lines; otherwise throws an InputError at byte `at` of the line. */
  private fail(buf: Uint8Array, s: number, e: number, at: number, line: number, what: string): void {
    let blank = true;
    for (let q = s; q < e; q++) {
      const c = buf[q];
      if (c !== SPACE && c !== TAB && c !== CR) {
        blank = false;
        break;
      }
    }
    if (blank) return;
    const text = new TextDecoder().decode(buf.subarray(s, Math.min(e, s + 60)));
    const col = Math.min(at, e) - s + 1;
    throw new InputError(`${what} in Lackey line '${text}${e - s > 60 ? "..." : ""}'`, { file: this.file, line, column: col });
  }
}

export interface LackeySourceOptions {
  batchSize?: number;
  tid?: number;
  /** Bytes read per read(2) call (default 1 MiB). */
  chunkSize?: number;
}

/** Synchronous streaming reader of a Lackey log file (or "-" for stdin via fd 0) as an AccessSource. */
export function openLackeySource(path: string, opts: LackeySourceOptions = {}): AccessSource & { close(): void } {
  const chunkSize = opts.chunkSize ?? 1 << 20;
  const batchSize = opts.batchSize ?? 4096;
  const stdin = path === "-";
  const file = stdin ? "<stdin>" : path;
  let fd: number;
  try {
    fd = stdin ? 0 : openSync(path, "r");
  } catch (e) {
    throw new InputError(`cannot open Lackey trace: ${(e as Error).message}`, { file });
  }
  let open = true;
  const chunk = new Uint8Array(chunkSize);
  // Every row needs at least 7 bytes ("I  0,1\n"); one feed() yields at most chunk/7 rows plus the
  // carried line, plus what the parser still held back (< batchSize). Staged rows are always
  // consumed before the next read, so this capacity is never exceeded.
  const staged = new AccessBatch(Math.ceil(chunkSize / 7) + batchSize + 2);
  let stagedPos = 0;
  const parser = new LackeyParser((b) => staged.append(b, 0, b.length), { file, batchSize, ...(opts.tid !== undefined ? { tid: opts.tid } : {}) });
  let eof = false;

  const close = (): void => {
    if (open && !stdin) closeSync(fd);
    open = false;
  };
  const readMore = (): void => {
    staged.clear();
    stagedPos = 0;
    if (!open) {
      eof = true;
      return;
    }
    let n: number;
    try {
      n = readChunk(fd, chunk);
    } catch (e) {
      close();
      throw new InputError(`cannot read Lackey trace: ${(e as Error).message}`, { file });
    }
    try {
      if (n === 0) {
        parser.end();
        eof = true;
        close();
      } else {
        parser.feed(n === chunk.length ? chunk : chunk.subarray(0, n));
      }
    } catch (e) {
      close();
      throw e;
    }
  };

  return {
    next(out: AccessBatch): number {
      out.clear();
      while (out.length < out.capacity) {
        if (stagedPos === staged.length) {
          if (eof) break;
          readMore();
          continue;
        }
        const take = Math.min(staged.length - stagedPos, out.capacity - out.length);
        out.append(staged, stagedPos, take);
        stagedPos += take;
      }
      return out.length;
    },
    close,
  };
}

/** read(2) into buf, retrying when a non-blocking stdin has no data yet. */
function readChunk(fd: number, buf: Uint8Array): number {
  for (;;) {
    try {
      return readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") {
        Atomics.wait(WAIT_CELL, 0, 0, 2);
        continue;
      }
      if (code === "EOF") return 0;
      throw e;
    }
  }
}

const WAIT_CELL = new Int32Array(new SharedArrayBuffer(4));
