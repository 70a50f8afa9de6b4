// A cache simulator that reproduces Valgrind cachegrind's (3.19, --cache-sim=yes) counts exactly,
// so replayed Lackey traces can be checked against the real tool (reference: hardware.md 7.4).
//
// The model, as cachegrind defines it:
//   * three caches: I1, D1 and a unified LL; LL is looked up only after an L1 miss, with the same
//     address and size; no write-backs, dirty state, prefetching or inclusion enforcement;
//   * set index = line number mod set count (a power of two); the tag is the whole line number;
//   * true LRU per set; write-allocate (writes are looked up exactly like reads);
//   * one access is ONE reference and at most ONE miss even when it spans two lines: every line
//     it touches is looked up (each one's LRU state updated) and it misses if any of them missed;
//   * MODIFY counts as one data read; instruction fetches go I1 then LL;
//   * tag arrays start zeroed, so line 0 (addresses below the line size) initially looks cached in
//     set 0, as in cachegrind (harmless for real traces, which never touch page 0).
// Counters are cachegrind's nine events: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw.
// Accesses spanning more than two lines (which cachegrind refuses to simulate by requiring lines
// of at least 32 bytes) are handled the same way: every line looked up, at most one miss.
//
// Speed: each set's ways are kept MRU-first in a Float64Array; a reference to the same line as the
// previous reference of the same cache is a hit with no state change (that line is necessarily
// MRU in its set), which skips the set scan for most instruction fetches and stack accesses.

import { InputError } from "../sim/errors.ts";
import { isPowerOfTwo } from "../sim/units.ts";
import { AccessKind, type AccessBatch } from "./batch.ts";

export interface CacheGeometry {
  /** Total bytes. */
  size: number;
  /** Ways per set. */
  assoc: number;
  /** Line size in bytes. */
  line: number;
}

export interface CachegrindConfig {
  I1: CacheGeometry;
  D1: CacheGeometry;
  LL: CacheGeometry;
}

/** cachegrind's event names, in the order of its `events:` and `summary:` lines. */
export const CACHEGRIND_EVENTS = ["Ir", "I1mr", "ILmr", "Dr", "D1mr", "DLmr", "Dw", "D1mw", "DLmw"] as const;
export type CachegrindEvent = (typeof CACHEGRIND_EVENTS)[number];
export type CachegrindCounters = Record<CachegrindEvent, number>;

const MAX_PARAM = 2 ** 31 - 1;
const MIN_LINE = 16;

const isPow2 = isPowerOfTwo;

/** Checks a geometry the way cachegrind does; throws an InputError naming `field`. */
export function checkCacheGeometry(g: CacheGeometry, field = "cache"): void {
  const where = { field };
  for (const k of ["size", "assoc", "line"] as const) {
    const v = g[k];
    if (!Number.isSafeInteger(v) || v < 1) throw new InputError(`${k} must be a positive integer, got ${v}`, where);
    if (v > MAX_PARAM) throw new InputError(`${k} ${v} is too large (at most ${MAX_PARAM})`, where);
  }
  const sets = g.size / (g.assoc * g.line);
  if (!Number.isInteger(sets) || !isPow2(sets)) {
    throw new InputError(`Cache set count is not a power of two: ${g.size} B / (${g.assoc}-way x ${g.line} B lines) = ${Number.isInteger(sets) ? sets : sets.toFixed(3)} sets`, where);
  }
  if (!isPow2(g.line)) throw new InputError(`Cache line size is not a power of two: ${g.line} B`, where);
  if (g.line < MIN_LINE) throw new InputError(`Cache line size is too small: ${g.line} B (at least ${MIN_LINE} B)`, where);
  if (g.size <= g.line) throw new InputError(`Cache size <= line size: ${g.size} B <= ${g.line} B`, where);
}

/** Parses cachegrind's `SIZE,ASSOC,LINE` option value (decimal bytes, ways, bytes), e.g. "32768,8,64". */
export function parseCacheGeometry(text: string, field = "cache"): CacheGeometry {
  const parts = text.split(",");
  if (parts.length !== 3) throw new InputError(`expected SIZE,ASSOC,LINE (three decimal integers, e.g. 32768,8,64), got '${text}'`, { field });
  const nums = parts.map((p, i) => {
    const t = p.trim();
    if (!/^[0-9]+$/.test(t)) throw new InputError(`${["SIZE", "ASSOC", "LINE"][i]} must be a decimal integer, got '${p}' in '${text}'`, { field });
    return Number(t);
  });
  const g: CacheGeometry = { size: nums[0]!, assoc: nums[1]!, line: nums[2]! };
  checkCacheGeometry(g, field);
  return g;
}

/** cachegrind's `desc:` wording: "32768 B, 64 B, 8-way associative" or "..., direct-mapped". */
export function describeCacheGeometry(g: CacheGeometry): string {
  const sets = g.size / (g.assoc * g.line);
  const org = g.assoc === 1 ? "direct-mapped" : sets === 1 ? "fully associative" : `${g.assoc}-way associative`;
  return `${g.size} B, ${g.line} B, ${org}`;
}

/** Finds the `summary: n n n ...` line of a cachegrind.out file and returns its nine numbers. */
export function parseCachegrindSummary(text: string, file = "cachegrind.out"): number[] {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (!l.startsWith("summary:")) continue;
    const nums = l.slice(8).trim().split(/\s+/).map(Number);
    if (nums.length !== CACHEGRIND_EVENTS.length || nums.some((n) => !Number.isSafeInteger(n) || n < 0)) {
      throw new InputError(`expected ${CACHEGRIND_EVENTS.length} counts on the summary line, got '${l}'`, { file, line: i + 1 });
    }
    return nums;
  }
  throw new InputError("no 'summary:' line", { file });
}

/** One cache level: MRU-first tags per set, plus the last line referenced. */
export class CgCache {
  readonly sets: number;
  readonly assoc: number;
  readonly line: number;
  /** 1 / line (exact: line is a power of two), so a line number is floor(addr * invLine). */
  readonly invLine: number;
  readonly setMask: number;
  /** sets * assoc line numbers, set-major, MRU first. Starts zeroed, as cachegrind's does. */
  readonly tags: Float64Array;
  /** Line number of the previous reference (always MRU in its set), -1 before any. */
  last = -1;

  constructor(readonly geometry: CacheGeometry) {
    this.assoc = geometry.assoc;
    this.line = geometry.line;
    this.sets = geometry.size / (geometry.assoc * geometry.line);
    this.invLine = 1 / geometry.line;
    this.setMask = this.sets - 1;
    this.tags = new Float64Array(this.sets * this.assoc);
  }

  reset(): void {
    this.tags.fill(0);
    this.last = -1;
  }

  /** One reference of `size` bytes at `addr`: true if it missed (any line it touches missed). */
  ref(addr: number, size: number): boolean {
    const inv = this.invLine;
    const b1 = Math.floor(addr * inv);
    const b2 = Math.floor((addr + size - 1) * inv);
    if (b1 === b2) {
      if (b1 === this.last) return false;
      this.last = b1;
      return this.lookup(b1);
    }
    let miss = this.lookup(b1);
    for (let b = b1 + 1; b <= b2; b++) if (this.lookup(b)) miss = true;
    this.last = b2;
    return miss;
  }

  /** Looks line `b` up in its set, updating LRU order; true on a miss (the line is filled). */
  lookup(b: number): boolean {
    const tags = this.tags;
    const assoc = this.assoc;
    const base = (b & this.setMask) * assoc;
    if (tags[base] === b) return false;
    for (let w = 1; w < assoc; w++) {
      if (tags[base + w] === b) {
        for (let j = base + w; j > base; j--) tags[j] = tags[j - 1]!;
        tags[base] = b;
        return false;
      }
    }
    for (let j = base + assoc - 1; j > base; j--) tags[j] = tags[j - 1]!;
    tags[base] = b;
    return true;
  }
}

/** cachegrind's I1/D1/LL simulation over AccessBatch rows, keeping its nine counters. */
export class CachegrindSim {
  readonly I1: CgCache;
  readonly D1: CgCache;
  readonly LL: CgCache;
  readonly config: CachegrindConfig;
  private ir = 0;
  private i1mr = 0;
  private ilmr = 0;
  private dr = 0;
  private d1mr = 0;
  private dlmr = 0;
  private dw = 0;
  private d1mw = 0;
  private dlmw = 0;

  constructor(config: CachegrindConfig) {
    checkCacheGeometry(config.I1, "I1");
    checkCacheGeometry(config.D1, "D1");
    checkCacheGeometry(config.LL, "LL");
    this.config = { I1: { ...config.I1 }, D1: { ...config.D1 }, LL: { ...config.LL } };
    this.I1 = new CgCache(config.I1);
    this.D1 = new CgCache(config.D1);
    this.LL = new CgCache(config.LL);
  }

  /** Simulates every row of `batch` in order (tid and gap are ignored: one shared cache model). */
  run(batch: AccessBatch): void {
    const n = batch.length;
    const addr = batch.addr;
    const size = batch.size;
    const kind = batch.kind;
    const I1 = this.I1;
    const D1 = this.D1;
    const LL = this.LL;
    let ir = 0, i1mr = 0, ilmr = 0, dr = 0, d1mr = 0, dlmr = 0, dw = 0, d1mw = 0, dlmw = 0;
    for (let i = 0; i < n; i++) {
      const k = kind[i]!;
      const a = addr[i]!;
      const s = size[i]!;
      if (k === AccessKind.IFETCH) {
        ir++;
        if (I1.ref(a, s)) {
          i1mr++;
          if (LL.ref(a, s)) ilmr++;
        }
      } else if (k === AccessKind.WRITE) {
        dw++;
        if (D1.ref(a, s)) {
          d1mw++;
          if (LL.ref(a, s)) dlmw++;
        }
      } else {
        // READ, and MODIFY which cachegrind counts as just a read
        dr++;
        if (D1.ref(a, s)) {
          d1mr++;
          if (LL.ref(a, s)) dlmr++;
        }
      }
    }
    this.ir += ir;
    this.i1mr += i1mr;
    this.ilmr += ilmr;
    this.dr += dr;
    this.d1mr += d1mr;
    this.dlmr += dlmr;
    this.dw += dw;
    this.d1mw += d1mw;
    this.dlmw += dlmw;
  }

  /** The nine counters by name. */
  counters(): CachegrindCounters {
    return {
      Ir: this.ir,
      I1mr: this.i1mr,
      ILmr: this.ilmr,
      Dr: this.dr,
      D1mr: this.d1mr,
      DLmr: this.dlmr,
      Dw: this.dw,
      D1mw: this.d1mw,
      DLmw: this.dlmw,
    };
  }

  /** The nine counters in cachegrind's order (Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw). */
  values(): number[] {
    const c = this.counters();
    return CACHEGRIND_EVENTS.map((e) => c[e]);
  }

  /** cachegrind's `summary:` line, e.g. "summary: 6404214 1298 1278 1065319 8634 1002 745575 7793 2849". */
  summaryLine(): string {
    return `summary: ${this.values().join(" ")}`;
  }

  /** Empties the caches and zeroes the counters. */
  reset(): void {
    this.I1.reset();
    this.D1.reset();
    this.LL.reset();
    this.ir = this.i1mr = this.ilmr = this.dr = this.d1mr = this.dlmr = this.dw = this.d1mw = this.dlmw = 0;
  }
}
