// A set-associative, write-back, write-allocate cache of physical line numbers, with true LRU or
// tree pseudo-LRU replacement, on typed arrays.
//   * True LRU keeps each set's ways in MRU-first order (a hit at way i shifts ways 0..i-1 down).
//   * Tree-PLRU keeps assoc-1 direction bits per set; a hit or fill points the bits away from the
//     way; the victim is the first invalid way, else the way the bits lead to.
// access() reports a hit or a miss; after a miss that evicted a line, victimLine/victimDirty
// describe it so the caller can write a dirty victim back to the next level. A "same line as last
// time" fast path is exact: the last line accessed is always MRU in its set (LRU) and its PLRU
// bits already point away from it.

import { SimError } from "../sim/errors.ts";
import { isPowerOfTwo, log2Exact } from "../sim/units.ts";
import type { CacheConfig, ReplacementPolicy } from "./config.ts";

const EMPTY = -1;

export class Cache {
  readonly sets: number;
  readonly assoc: number;
  readonly lineSize: number;
  readonly lineShift: number;
  readonly policy: ReplacementPolicy;
  private readonly setMask: number;
  private readonly tags: Float64Array;
  private readonly dirty: Uint8Array;
  /** PLRU direction bits, one word per set (bit i = node i of the tree). */
  private readonly plru: Uint32Array;
  private lastLine = -1;

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
    if (this.policy === "plru" && (!isPowerOfTwo(this.assoc) || this.assoc > 32)) throw new SimError(`${name}: tree-PLRU needs a power-of-two associativity <= 32`);
    this.tags = new Float64Array(this.sets * this.assoc).fill(EMPTY);
    this.dirty = new Uint8Array(this.sets * this.assoc);
    this.plru = new Uint32Array(this.policy === "plru" ? this.sets : 0);
  }

  /** Looks up `line` (a physical line number), allocating it on a miss. Returns true on a hit. */
  access(line: number, write: boolean): boolean {
    if (line === this.lastLine) {
      this.hits++;
      if (write) this.markDirtyMru(line);
      return true;
    }
    this.lastLine = line;
    return this.policy === "lru" ? this.accessLru(line, write) : this.accessPlru(line, write);
  }

  /** True if the line is cached (no state change). */
  contains(line: number): boolean {
    const base = ((line >>> 0) & this.setMask) * this.assoc;
    for (let w = 0; w < this.assoc; w++) if (this.tags[base + w] === line) return true;
    return false;
  }

  /** Drops a line (e.g. its frame was freed). Returns whether it was present. */
  invalidate(line: number): boolean {
    const base = ((line >>> 0) & this.setMask) * this.assoc;
    const a = this.assoc;
    for (let w = 0; w < a; w++) {
      if (this.tags[base + w] === line) {
        if (this.policy === "lru") {
          // keep MRU order: move the remaining ways up, the empty slot goes last
          for (let k = w; k < a - 1; k++) {
            this.tags[base + k] = this.tags[base + k + 1]!;
            this.dirty[base + k] = this.dirty[base + k + 1]!;
          }
          this.tags[base + a - 1] = EMPTY;
          this.dirty[base + a - 1] = 0;
        } else {
          this.tags[base + w] = EMPTY;
          this.dirty[base + w] = 0;
        }
        if (this.lastLine === line) this.lastLine = -1;
        return true;
      }
    }
    return false;
  }

  /** Empties the cache (counters are kept). */
  flush(): void {
    this.tags.fill(EMPTY);
    this.dirty.fill(0);
    this.plru.fill(0);
    this.lastLine = -1;
  }

  private markDirtyMru(line: number): void {
    const base = ((line >>> 0) & this.setMask) * this.assoc;
    if (this.policy === "lru") {
      this.dirty[base] = 1;
      return;
    }
    for (let w = 0; w < this.assoc; w++) {
      if (this.tags[base + w] === line) {
        this.dirty[base + w] = 1;
        return;
      }
    }
  }

  private accessLru(line: number, write: boolean): boolean {
    const a = this.assoc;
    const base = ((line >>> 0) & this.setMask) * a;
    const tags = this.tags, dirty = this.dirty;
    if (tags[base] === line) {
      this.hits++;
      if (write) dirty[base] = 1;
      return true;
    }
    for (let w = 1; w < a; w++) {
      if (tags[base + w] === line) {
        const d = dirty[base + w]!;
        for (let k = w; k > 0; k--) {
          tags[base + k] = tags[base + k - 1]!;
          dirty[base + k] = dirty[base + k - 1]!;
        }
        tags[base] = line;
        dirty[base] = write ? 1 : d;
        this.hits++;
        return true;
      }
    }
    this.misses++;
    const victim = tags[base + a - 1]!;
    this.victimLine = victim;
    this.victimDirty = victim !== EMPTY && dirty[base + a - 1] === 1;
    if (this.victimDirty) this.writebacks++;
    for (let k = a - 1; k > 0; k--) {
      tags[base + k] = tags[base + k - 1]!;
      dirty[base + k] = dirty[base + k - 1]!;
    }
    tags[base] = line;
    dirty[base] = write ? 1 : 0;
    return false;
  }

  private accessPlru(line: number, write: boolean): boolean {
    const a = this.assoc;
    const set = (line >>> 0) & this.setMask;
    const base = set * a;
    const tags = this.tags;
    for (let w = 0; w < a; w++) {
      if (tags[base + w] === line) {
        this.hits++;
        if (write) this.dirty[base + w] = 1;
        this.plru[set] = touchPlru(this.plru[set]!, w, a);
        return true;
      }
    }
    this.misses++;
    let way = -1;
    for (let w = 0; w < a; w++) {
      if (tags[base + w] === EMPTY) {
        way = w;
        break;
      }
    }
    if (way < 0) way = plruVictim(this.plru[set]!, a);
    const victim = tags[base + way]!;
    this.victimLine = victim;
    this.victimDirty = victim !== EMPTY && this.dirty[base + way] === 1;
    if (this.victimDirty) this.writebacks++;
    tags[base + way] = line;
    this.dirty[base + way] = write ? 1 : 0;
    this.plru[set] = touchPlru(this.plru[set]!, way, a);
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
