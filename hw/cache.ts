// A set-associative, write-back, write-allocate cache of physical line numbers, with true LRU or
// tree pseudo-LRU replacement, on typed arrays.
//   * The ways of every set live in a WaySets (also used by the TLBs): each way's key (here the
//     line number, -1 when empty) and a 7-bit fingerprint of it, four to an Int32 word, so a set is
//     searched a word (four ways) at a time without a branch per way; a fingerprint match is
//     confirmed against the key.
//   * True LRU keeps each set's ways on a doubly linked list, most recently used first: a hit
//     moves the way to the front, a miss refills the way at the back. Empty ways sit at the back
//     (an invalidated way is moved there), so they are filled first, as with an MRU-first array.
//   * Tree-PLRU keeps assoc-1 direction bits per set; a hit or fill points the bits away from the
//     way; the victim is the first invalid way, else the way the bits lead to.
// access() reports a hit or a miss; after a miss that evicted a line, victimLine/victimDirty
// describe it so the caller can write a dirty victim back to the next level. A "same line as last
// time" fast path is exact: the last line accessed is always the most recent of its set (LRU) and
// its PLRU bits already point away from it.

import { SimError } from "../sim/errors.ts";
import { isPowerOfTwo, log2Exact } from "../sim/units.ts";

export type ReplacementPolicy = "lru" | "plru";

/** One cache level of a machine config (config.ts re-exports it). */
export interface CacheConfig {
  size: number;
  assoc: number;
  line: number;
  /** Load-to-use latency of a hit, in ns. */
  latencyNs: number;
  /** "lru" (true LRU) or "plru" (tree pseudo-LRU; assoc must be a power of two). */
  policy?: ReplacementPolicy;
}

const EMPTY = -1;
/** Fingerprint byte of an empty way (and of padding): fingerprints are 0..127, so it never matches. */
export const EMPTY_FP = 0xff;
const ONES = 0x01010101;
const HIGHS = 0x80808080 | 0;

/** 7-bit fingerprint of a non-negative integer key whose low 32 bits vary (cache lines). */
export const fingerprint32 = (key: number): number => Math.imul(key | 0, 0x9e3779b1) >>> 25;

/**
 * The ways of a set-associative structure, laid out so that one lookup touches as little host
 * memory as possible: each set is one contiguous block of
 *   Int32 words: the ways' 7-bit fingerprints (four per word, EMPTY_FP for empty ways and padding),
 *                a dirty bit per way, and `extra` Int32 words per way for the owner (a TLB's PTE);
 *   bytes:       (LRU only) a doubly linked recency list: next[assoc + 1], prev[assoc + 1], node
 *                `assoc` being the head; next goes from newer to older (16- or 32-bit nodes
 *                for associativities of 255 and more);
 *   Float64:     the ways' keys (non-negative integers below 2^53; -1 when empty).
 * Ways are numbered 0..assoc-1 within their set.
 */
/**
 * Byte layout of one set's block in a WaySets (see below): list element size, bytes of the Int32
 * head, where the keys start, and the whole block. A block larger than a host cache line is padded
 * to whole lines (typed array buffers this large are line-aligned), so a lookup touches the head
 * line (fingerprints, dirty bits, list) and the line of the one key it confirms, never a line
 * shared with the next set.
 */
function blockLayout(assoc: number, lru: boolean, extra: number): { listBytes: number; headBytes: number; keysByte: number; block: number } {
  // list nodes 0..assoc (the narrowest type that holds them; every preset takes bytes)
  const listBytes = assoc < 0xff ? 1 : assoc < 0xffff ? 2 : 4;
  const headBytes = 4 * (((assoc + 3) >> 2) + ((assoc + 31) >> 5) + extra * assoc);
  const keysByte = Math.ceil((headBytes + (lru ? 2 * (assoc + 1) * listBytes : 0)) / 8) * 8;
  const raw = keysByte + 8 * assoc;
  return { listBytes, headBytes, keysByte, block: raw > 64 ? Math.ceil(raw / 64) * 64 : raw };
}

/** Host bytes of the model state of `sets` sets of `assoc` ways (what the constructor allocates). */
export function waySetsBytes(sets: number, assoc: number, lru: boolean, extra = 0): number {
  return sets * blockLayout(assoc, lru, extra).block;
}

export class WaySets {
  readonly sets: number;
  readonly assoc: number;
  private readonly words: number;
  private readonly dirtyWords: number;
  private readonly extra: number;
  private readonly lru: boolean;
  /** Block stride of a set in Int32 words, list elements and Float64 elements. */
  private readonly strideI32: number;
  private readonly strideList: number;
  private readonly strideF64: number;
  /** Offsets within a block, in the same units. */
  private readonly extraAt: number;
  private readonly listAt: number;
  private readonly keysAt: number;
  private readonly i32: Int32Array;
  private readonly list: Uint8Array | Uint16Array | Int32Array;
  private readonly f64: Float64Array;
  /** The whole buffer as bytes (for clear()). */
  private readonly u8: Uint8Array;
  /** After lruAccess() missed: the key evicted (-1 for an empty way) and whether it was dirty. */
  victimKey = -1;
  victimDirty = false;

  constructor(sets: number, assoc: number, lru: boolean, extra = 0) {
    this.sets = sets;
    this.assoc = assoc;
    this.lru = lru;
    this.extra = extra;
    this.words = (assoc + 3) >> 2;
    this.dirtyWords = (assoc + 31) >> 5;
    const { listBytes, headBytes, keysByte, block } = blockLayout(assoc, lru, extra);
    const listStart = headBytes / listBytes;
    this.strideI32 = block / 4;
    this.strideList = block / listBytes;
    this.strideF64 = block / 8;
    this.extraAt = this.words + this.dirtyWords;
    this.listAt = listStart;
    this.keysAt = keysByte / 8;
    const buf = new ArrayBuffer(block * sets);
    this.i32 = new Int32Array(buf);
    this.list = listBytes === 1 ? new Uint8Array(buf) : listBytes === 2 ? new Uint16Array(buf) : new Int32Array(buf);
    this.f64 = new Float64Array(buf);
    this.u8 = new Uint8Array(buf);
    this.clear();
  }

  /** Empties every way; recency lists in way order. */
  clear(): void {
    const a = this.assoc;
    // set 0 by hand, then copied over the others in doubling runs (a few memcpys, not a loop per way)
    for (let k = 0; k < this.words; k++) this.i32[k] = -1; // every byte EMPTY_FP
    for (let k = 0; k < this.dirtyWords + this.extra * a; k++) this.i32[this.words + k] = 0;
    for (let w = 0; w < a; w++) this.f64[this.keysAt + w] = EMPTY;
    if (this.lru) {
      const n = this.listAt;
      for (let k = 0; k <= a; k++) {
        this.list[n + k] = k === a ? 0 : k + 1; // next
        this.list[n + a + 1 + k] = k === 0 ? a : k - 1; // prev
      }
    }
    const block = 8 * this.strideF64;
    for (let done = 1; done < this.sets; done *= 2) this.u8.copyWithin(done * block, 0, Math.min(done, this.sets - done) * block);
  }

  /** Way of `set` holding `key` (whose fingerprint is fp), or -1. */
  find(set: number, key: number, fp: number): number {
    const i32 = this.i32, f64 = this.f64;
    const pat = Math.imul(fp, ONES);
    const w0 = set * this.strideI32;
    const w1 = w0 + this.words;
    const kb = set * this.strideF64 + this.keysAt;
    for (let k = w0; k < w1; k++) {
      const x = i32[k]! ^ pat;
      // flags the zero bytes of x: the lowest flagged byte is always a real match, higher ones
      // may be false positives from the borrow; every candidate is confirmed against its key
      let m = ((x - ONES) | 0) & ~x & HIGHS;
      while (m !== 0) {
        // m ^ (m - 1): the lowest flagged bit and every bit below it
        const w = ((k - w0) << 2) + ((31 - Math.clz32(m ^ ((m - 1) | 0))) >> 3);
        if (f64[kb + w] === key) return w;
        m &= (m - 1) | 0;
      }
    }
    return -1;
  }

  /**
   * One LRU access (touch and find, hand-inlined for speed): looks `key` up in `set`; on a hit
   * makes its way the most recently used (setting its dirty bit on a write) and returns the way;
   * on a miss refills the least recently used way with `key` (dirty = write), sets
   * victimKey/victimDirty, and returns ~way (a negative number).
   */
  lruAccess(set: number, key: number, fp: number, write: boolean): number {
    const i32 = this.i32, f64 = this.f64, l = this.list;
    const a = this.assoc;
    const b = set * this.strideI32;
    const kb = set * this.strideF64 + this.keysAt;
    const next = set * this.strideList + this.listAt;
    const prev = next + a + 1;
    const first = l[next + a]!;
    let w = -1;
    const pat = Math.imul(fp, ONES);
    const end = b + this.words;
    search: for (let k = b; k < end; k++) {
      const x = i32[k]! ^ pat;
      let m = ((x - ONES) | 0) & ~x & HIGHS;
      while (m !== 0) {
        const c = ((k - b) << 2) + ((31 - Math.clz32(m ^ ((m - 1) | 0))) >> 3);
        if (f64[kb + c] === key) {
          w = c;
          break search;
        }
        m &= (m - 1) | 0;
      }
    }
    const hit = w >= 0;
    if (hit) {
      if (write) {
        const dk = b + this.words + (w >> 5);
        i32[dk] = i32[dk]! | (1 << (w & 31));
      }
    } else {
      w = l[prev + a]!;
      const victim = f64[kb + w]!;
      const dk = b + this.words + (w >> 5);
      const bit = 1 << (w & 31);
      const dword = i32[dk]!;
      this.victimKey = victim;
      this.victimDirty = victim !== EMPTY && (dword & bit) !== 0;
      i32[dk] = write ? dword | bit : dword & ~bit;
      f64[kb + w] = key;
      const fk = b + (w >> 2);
      const sh = (w & 3) << 3;
      i32[fk] = (i32[fk]! & ~(0xff << sh)) | (fp << sh);
    }
    if (first !== w) {
      const p = l[prev + w]!, q = l[next + w]!;
      l[next + p] = q;
      l[prev + q] = p;
      l[next + w] = first;
      l[prev + first] = w;
      l[prev + w] = a;
      l[next + a] = w;
    }
    return hit ? w : ~w;
  }

  /**
   * LRU lookup that does not fill on a miss (a TLB's): the way of `set` holding `key`, made the
   * most recently used, or -1. The most recent way is checked first (repeated keys hit there and
   * move nothing).
   */
  lruLookup(set: number, key: number, fp: number): number {
    const a = this.assoc;
    const next = set * this.strideList + this.listAt;
    const l = this.list;
    const first = l[next + a]!;
    if (this.f64[set * this.strideF64 + this.keysAt + first] === key) return first;
    const w = this.find(set, key, fp);
    if (w < 0) return -1;
    const prev = next + a + 1;
    const p = l[prev + w]!, q = l[next + w]!;
    l[next + p] = q;
    l[prev + q] = p;
    l[next + w] = first;
    l[prev + first] = w;
    l[prev + w] = a;
    l[next + a] = w;
    return w;
  }

  /**
   * LRU insert (a TLB's): puts `key` with its dirty bit and (when the sets have extra words) first
   * extra word in `set` as the most recently used, in the way already holding it if `present` (a
   * way index) is >= 0, else in the least recently used way. Returns the way.
   */
  lruInsert(set: number, key: number, fp: number, dirty: boolean, extra0: number, present: number): number {
    const a = this.assoc;
    const i32 = this.i32, l = this.list;
    const b = set * this.strideI32;
    const next = set * this.strideList + this.listAt;
    const prev = next + a + 1;
    let w = present;
    if (w < 0) {
      w = l[prev + a]!;
      this.f64[set * this.strideF64 + this.keysAt + w] = key;
      const fk = b + (w >> 2);
      const sh = (w & 3) << 3;
      i32[fk] = (i32[fk]! & ~(0xff << sh)) | (fp << sh);
    }
    const dk = b + this.words + (w >> 5);
    const bit = 1 << (w & 31);
    i32[dk] = dirty ? i32[dk]! | bit : i32[dk]! & ~bit;
    if (this.extra > 0) i32[b + this.extraAt + w * this.extra] = extra0;
    const first = l[next + a]!;
    if (first !== w) {
      const p = l[prev + w]!, q = l[next + w]!;
      l[next + p] = q;
      l[prev + q] = p;
      l[next + w] = first;
      l[prev + first] = w;
      l[prev + w] = a;
      l[next + a] = w;
    }
    return w;
  }

  key(set: number, w: number): number {
    return this.f64[set * this.strideF64 + this.keysAt + w]!;
  }

  /** Stores a key and its fingerprint in a way (key -1 with EMPTY_FP empties it). */
  setKey(set: number, w: number, key: number, fp: number): void {
    this.f64[set * this.strideF64 + this.keysAt + w] = key;
    const k = set * this.strideI32 + (w >> 2);
    const sh = (w & 3) << 3;
    this.i32[k] = (this.i32[k]! & ~(0xff << sh)) | (fp << sh);
  }

  dirty(set: number, w: number): boolean {
    return ((this.i32[set * this.strideI32 + this.words + (w >> 5)]! >>> (w & 31)) & 1) === 1;
  }

  setDirty(set: number, w: number, dirty: boolean): void {
    const k = set * this.strideI32 + this.words + (w >> 5);
    const bit = 1 << (w & 31);
    this.i32[k] = dirty ? this.i32[k]! | bit : this.i32[k]! & ~bit;
  }

  /** The owner's Int32 word j of a way. */
  extraWord(set: number, w: number, j: number): number {
    return this.i32[set * this.strideI32 + this.extraAt + w * this.extra + j]!;
  }

  setExtraWord(set: number, w: number, j: number, v: number): void {
    this.i32[set * this.strideI32 + this.extraAt + w * this.extra + j] = v;
  }

  /** The least recently used way of `set` (LRU only). */
  oldest(set: number): number {
    const a = this.assoc;
    return this.list[set * this.strideList + this.listAt + a + 1 + a]!;
  }

  /** The most recently used way of `set` (LRU only). */
  newest(set: number): number {
    return this.list[set * this.strideList + this.listAt + this.assoc]!;
  }

  /** Makes way w of `set` the most recently used (LRU only). */
  touch(set: number, w: number): void {
    const a = this.assoc;
    const next = set * this.strideList + this.listAt;
    const prev = next + a + 1;
    const l = this.list;
    const first = l[next + a]!;
    if (first === w) return;
    const p = l[prev + w]!, q = l[next + w]!;
    l[next + p] = q;
    l[prev + q] = p;
    l[next + w] = first;
    l[prev + first] = w;
    l[prev + w] = a;
    l[next + a] = w;
  }

  /** Makes way w of `set` the least recently used (LRU only). */
  demote(set: number, w: number): void {
    const a = this.assoc;
    const next = set * this.strideList + this.listAt;
    const prev = next + a + 1;
    const l = this.list;
    const last = l[prev + a]!;
    if (last === w) return;
    const p = l[prev + w]!, q = l[next + w]!;
    l[next + p] = q;
    l[prev + q] = p;
    l[prev + w] = last;
    l[next + last] = w;
    l[next + w] = a;
    l[prev + a] = w;
  }
}

export class Cache {
  readonly sets: number;
  readonly assoc: number;
  readonly lineSize: number;
  readonly lineShift: number;
  readonly policy: ReplacementPolicy;
  private readonly setMask: number;
  private readonly ways: WaySets;
  /** PLRU direction bits, one word per set (bit i = node i of the tree). */
  private readonly plru: Uint32Array;
  private readonly lru: boolean;
  /**
   * Check the set's most recently used way before the fingerprints (small caches only: there the
   * extra key load is always in host cache, and programs often reuse a set's newest line).
   */
  private readonly mruFirst: boolean;
  private lastLine = -1;
  /** Set and way of lastLine. */
  private lastSet = 0;
  private lastWay = 0;

  hits = 0;
  misses = 0;
  writebacks = 0;
  /** Set by access() on a miss: the evicted line (or -1) and whether it was dirty. */
  victimLine = -1;
  victimDirty = false;

  constructor(cfg: CacheConfig, readonly name = "cache") {
    this.assoc = cfg.assoc;
    this.lineSize = cfg.line;
    this.lineShift = log2Exact(cfg.line);
    this.sets = cfg.size / (cfg.assoc * cfg.line);
    if (!isPowerOfTwo(this.sets)) throw new SimError(`${name}: set count ${this.sets} is not a power of two`);
    this.setMask = this.sets - 1;
    this.policy = cfg.policy ?? "lru";
    this.lru = this.policy === "lru";
    if (this.policy === "plru" && (!isPowerOfTwo(this.assoc) || this.assoc > 32)) throw new SimError(`${name}: tree-PLRU needs a power-of-two associativity <= 32`);
    this.ways = new WaySets(this.sets, this.assoc, this.lru);
    this.mruFirst = this.lru && this.sets * this.assoc <= 4096;
    this.plru = new Uint32Array(this.policy === "plru" ? this.sets : 0);
  }

  /** Looks up `line` (a physical line number), allocating it on a miss. Returns true on a hit. */
  access(line: number, write: boolean): boolean {
    if (line === this.lastLine) {
      this.hits++;
      if (write) this.ways.setDirty(this.lastSet, this.lastWay, true);
      return true;
    }
    this.lastLine = line;
    return this.lru ? this.accessLru(line, write) : this.accessPlru(line, write);
  }

  /** True if the line is cached (no state change). */
  contains(line: number): boolean {
    return this.ways.find((line >>> 0) & this.setMask, line, fingerprint32(line)) >= 0;
  }

  /** Drops a line (e.g. its frame was freed). Returns whether it was present. */
  invalidate(line: number): boolean {
    const set = (line >>> 0) & this.setMask;
    const ws = this.ways;
    const w = ws.find(set, line, fingerprint32(line));
    if (w < 0) return false;
    ws.setKey(set, w, EMPTY, EMPTY_FP);
    ws.setDirty(set, w, false);
    // LRU: the empty way goes last, so the next miss in the set fills it first
    if (this.lru) ws.demote(set, w);
    if (this.lastLine === line) this.lastLine = -1;
    return true;
  }

  /** Empties the cache (counters are kept). */
  flush(): void {
    this.ways.clear();
    this.plru.fill(0);
    this.lastLine = -1;
  }

  private accessLru(line: number, write: boolean): boolean {
    const ws = this.ways;
    const set = (line >>> 0) & this.setMask;
    this.lastSet = set;
    if (this.mruFirst) {
      const w = ws.newest(set);
      if (ws.key(set, w) === line) {
        this.hits++;
        if (write) ws.setDirty(set, w, true);
        this.lastWay = w;
        return true;
      }
    }
    const r = ws.lruAccess(set, line, fingerprint32(line), write);
    if (r >= 0) {
      this.hits++;
      this.lastWay = r;
      return true;
    }
    this.misses++;
    this.lastWay = ~r;
    this.victimLine = ws.victimKey;
    this.victimDirty = ws.victimDirty;
    if (this.victimDirty) this.writebacks++;
    return false;
  }

  private accessPlru(line: number, write: boolean): boolean {
    const a = this.assoc;
    const ws = this.ways;
    const set = (line >>> 0) & this.setMask;
    const fp = fingerprint32(line);
    this.lastSet = set;
    let w = ws.find(set, line, fp);
    if (w >= 0) {
      this.hits++;
      if (write) ws.setDirty(set, w, true);
      this.plru[set] = touchPlru(this.plru[set]!, w, a);
      this.lastWay = w;
      return true;
    }
    this.misses++;
    w = -1;
    for (let i = 0; i < a; i++) {
      if (ws.key(set, i) === EMPTY) {
        w = i;
        break;
      }
    }
    if (w < 0) w = plruVictim(this.plru[set]!, a);
    const victim = ws.key(set, w);
    this.victimLine = victim;
    this.victimDirty = victim !== EMPTY && ws.dirty(set, w);
    if (this.victimDirty) this.writebacks++;
    ws.setKey(set, w, line, fp);
    ws.setDirty(set, w, write);
    this.plru[set] = touchPlru(this.plru[set]!, w, a);
    this.lastWay = w;
    return false;
  }
}

/**
 * Tree-PLRU over `assoc` ways: node 0 is the root, node i has children 2i+1 and 2i+2; a bit of 0
 * means "the victim is on the left". Touching a way sets each node on its path to point away.
 */
export function touchPlru(bits: number, way: number, assoc: number): number {
  let node = 0;
  let lo = 0;
  let span = assoc;
  while (span > 1) {
    span >>= 1;
    if (way < lo + span) {
      bits |= 1 << node; // way is on the left: point right
      node = 2 * node + 1;
    } else {
      bits &= ~(1 << node); // way is on the right: point left
      lo += span;
      node = 2 * node + 2;
    }
  }
  return bits >>> 0;
}

export function plruVictim(bits: number, assoc: number): number {
  let node = 0;
  let lo = 0;
  let span = assoc;
  while (span > 1) {
    span >>= 1;
    if ((bits >>> node) & 1) {
      lo += span;
      node = 2 * node + 2;
    } else {
      node = 2 * node + 1;
    }
  }
  return lo;
}
