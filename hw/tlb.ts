// A set-associative TLB with true LRU, keyed by a page key that folds the address space id and the
// virtual page number together (see tlbKey4k/tlbKey2m). Each entry caches the PTE slot it
// translates through and whether the entry is "dirty" (a write went through it, so the PTE Dirty
// bit is known to be set). Like the hardware, the TLB is not coherent with the page table:
// changing a PTE does not touch TLB entries until someone invalidates them.
// The entries live in a WaySets (hw/cache.ts): fingerprinted keys, a dirty bit and the PTE slot per
// entry, and a recency list per set, so lookups, inserts and evictions move nothing.

import { SimError } from "../sim/errors.ts";
import { isPowerOfTwo } from "../sim/units.ts";
import { EMPTY_FP, WaySets } from "./cache.ts";
import type { TlbConfig } from "./config.ts";

const EMPTY = -1;
const ASID_SHIFT = 2 ** 36;
const TWO_POW_MINUS_32 = 2 ** -32;

/** Key of a 4 KiB translation: (asid, vpn) -> even number < 2^53 (asid < 2^16, vpn < 2^36). */
export const tlbKey4k = (asid: number, vpn: number): number => (asid * ASID_SHIFT + vpn) * 2;
/**
 * Key of a 2 MiB translation: the 2 MiB-aligned vpn, odd so it never equals a 4 KiB key.
 * (Math.trunc(vpn / 512) * 512 equals vpn - vpn % 512 for every integer vpn below 2^53, since
 * scaling by a power of two is exact; it avoids a floating-point modulo.)
 */
export const tlbKey2m = (asid: number, vpn: number): number => (asid * ASID_SHIFT + Math.trunc(vpn * (1 / 512)) * 512) * 2 + 1;

/** 7-bit fingerprint of a key, mixing its low and high 32-bit halves (the asid is in the high half). */
const fingerprint = (key: number): number => Math.imul((key | 0) ^ ((key * TWO_POW_MINUS_32) | 0), 0x9e3779b1) >>> 25;

export class Tlb {
  readonly sets: number;
  readonly assoc: number;
  private readonly setMask: number;
  /** Keys, dirty bits, one extra word per entry (the PTE slot) and recency lists. */
  private readonly ways: WaySets;
  hits = 0;
  misses = 0;
  /** After a successful lookup(): the entry's PTE slot and dirty flag. */
  pte = -1;
  entryDirty = false;
  /** A key known to be absent: the last one lookup() missed, until it is inserted; its set and fingerprint. */
  private absentKey = -1;
  private absentSet = 0;
  private absentFp = 0;

  constructor(cfg: TlbConfig, readonly name = "tlb") {
    this.assoc = cfg.assoc;
    this.sets = cfg.entries / cfg.assoc;
    if (!Number.isInteger(this.sets) || !isPowerOfTwo(this.sets)) throw new SimError(`${name}: entries / assoc must be a power of two`);
    this.setMask = this.sets - 1;
    this.ways = new WaySets(this.sets, this.assoc, true, 1);
  }

  private setOf(key: number): number {
    // keys are (x * 2 [+ 1]): drop the kind bit so consecutive pages spread over sets
    // (key * 0.5 is key / 2 exactly)
    return (Math.floor(key * 0.5) >>> 0) & this.setMask;
  }

  /** Looks up a key; on a hit makes it the most recently used, fills pte/entryDirty and returns true. */
  lookup(key: number): boolean {
    const set = this.setOf(key);
    const ws = this.ways;
    const fp = fingerprint(key);
    const w = ws.lruLookup(set, key, fp);
    if (w < 0) {
      this.misses++;
      this.absentKey = key;
      this.absentSet = set;
      this.absentFp = fp;
      return false;
    }
    this.pte = ws.extraWord(set, w, 0);
    this.entryDirty = ws.dirty(set, w);
    this.hits++;
    return true;
  }

  /** Inserts a translation as the most recently used, evicting the least recently used entry of its set. */
  insert(key: number, pte: number, dirty: boolean): void {
    // an existing entry for the key (possible after a shootdown race in callers) is replaced;
    // a key that lookup() just missed cannot be there (nothing but insert adds keys)
    if (key === this.absentKey) {
      this.absentKey = -1;
      this.ways.lruInsert(this.absentSet, key, this.absentFp, dirty, pte, -1);
      return;
    }
    const set = this.setOf(key);
    const fp = fingerprint(key);
    this.ways.lruInsert(set, key, fp, dirty, pte, this.ways.find(set, key, fp));
  }

  /** Marks key's entry dirty if it is the most recently used of its set (called right after a hit or insert). */
  setDirtyMru(key: number): void {
    const set = this.setOf(key);
    const ws = this.ways;
    const w = ws.newest(set);
    if (ws.key(set, w) === key) ws.setDirty(set, w, true);
  }

  /** Drops one translation. Returns whether it was present. */
  invalidate(key: number): boolean {
    const set = this.setOf(key);
    const ws = this.ways;
    const w = ws.find(set, key, fingerprint(key));
    if (w < 0) return false;
    ws.setKey(set, w, EMPTY, EMPTY_FP);
    ws.setDirty(set, w, false);
    ws.demote(set, w);
    return true;
  }

  contains(key: number): boolean {
    return this.ways.find(this.setOf(key), key, fingerprint(key)) >= 0;
  }

  flush(): void {
    this.ways.clear();
  }
}
