// A set-associative TLB with true LRU (MRU-first ways), keyed by a page key that folds the address
// space id and the virtual page number together (see tlbKey4k/tlbKey2m). Each entry caches the PTE
// slot it translates through and whether the entry is "dirty" (a write went through it, so the PTE
// Dirty bit is known to be set). Like the hardware, the TLB is not coherent with the page table:
// changing a PTE does not touch TLB entries until someone invalidates them.

import { SimError } from "../sim/errors.ts";
import { isPowerOfTwo } from "../sim/units.ts";
import type { TlbConfig } from "./config.ts";

const EMPTY = -1;
const ASID_SHIFT = 2 ** 36;

/** Key of a 4 KiB translation: (asid, vpn) -> even number < 2^53 (asid < 2^16, vpn < 2^36). */
export const tlbKey4k = (asid: number, vpn: number): number => (asid * ASID_SHIFT + vpn) * 2;
/** Key of a 2 MiB translation: the 2 MiB-aligned vpn, odd so it never equals a 4 KiB key. */
export const tlbKey2m = (asid: number, vpn: number): number => (asid * ASID_SHIFT + (vpn - (vpn % 512))) * 2 + 1;

export class Tlb {
  readonly sets: number;
  readonly assoc: number;
  private readonly setMask: number;
  private readonly keys: Float64Array;
  private readonly ptes: Int32Array;
  private readonly dirty: Uint8Array;
  hits = 0;
  misses = 0;
  /** After a successful lookup(): the entry's PTE slot and dirty flag. */
  pte = -1;
  entryDirty = false;

  constructor(cfg: TlbConfig, readonly name = "tlb") {
    this.assoc = cfg.assoc;
    this.sets = cfg.entries / cfg.assoc;
    if (!Number.isInteger(this.sets) || !isPowerOfTwo(this.sets)) throw new SimError(`${name}: entries / assoc must be a power of two`);
    this.setMask = this.sets - 1;
    this.keys = new Float64Array(cfg.entries).fill(EMPTY);
    this.ptes = new Int32Array(cfg.entries);
    this.dirty = new Uint8Array(cfg.entries);
  }

  private setBase(key: number): number {
    // keys are (x * 2 [+ 1]): drop the kind bit so consecutive pages spread over sets
    return ((Math.floor(key / 2) >>> 0) & this.setMask) * this.assoc;
  }

  /** Looks up a key; on a hit moves it to MRU, fills pte/entryDirty and returns true. */
  lookup(key: number): boolean {
    const base = this.setBase(key);
    const keys = this.keys;
    const a = this.assoc;
    for (let w = 0; w < a; w++) {
      if (keys[base + w] === key) {
        const p = this.ptes[base + w]!;
        const d = this.dirty[base + w]!;
        for (let k = w; k > 0; k--) {
          keys[base + k] = keys[base + k - 1]!;
          this.ptes[base + k] = this.ptes[base + k - 1]!;
          this.dirty[base + k] = this.dirty[base + k - 1]!;
        }
        keys[base] = key;
        this.ptes[base] = p;
        this.dirty[base] = d;
        this.pte = p;
        this.entryDirty = d === 1;
        this.hits++;
        return true;
      }
    }
    this.misses++;
    return false;
  }

  /** Inserts a translation as MRU, evicting the LRU entry of its set. */
  insert(key: number, pte: number, dirty: boolean): void {
    const base = this.setBase(key);
    const keys = this.keys;
    // an existing entry for the key (possible after a shootdown race in callers) is replaced
    let w = this.assoc - 1;
    for (let i = 0; i < this.assoc; i++) {
      if (keys[base + i] === key) {
        w = i;
        break;
      }
    }
    for (let k = w; k > 0; k--) {
      keys[base + k] = keys[base + k - 1]!;
      this.ptes[base + k] = this.ptes[base + k - 1]!;
      this.dirty[base + k] = this.dirty[base + k - 1]!;
    }
    keys[base] = key;
    this.ptes[base] = pte;
    this.dirty[base] = dirty ? 1 : 0;
  }

  /** Marks the MRU entry of key's set dirty if it is `key` (called right after a hit or insert). */
  setDirtyMru(key: number): void {
    const base = this.setBase(key);
    if (this.keys[base] === key) this.dirty[base] = 1;
  }

  /** Drops one translation. Returns whether it was present. */
  invalidate(key: number): boolean {
    const base = this.setBase(key);
    for (let w = 0; w < this.assoc; w++) {
      if (this.keys[base + w] === key) {
        for (let k = w; k < this.assoc - 1; k++) {
          this.keys[base + k] = this.keys[base + k + 1]!;
          this.ptes[base + k] = this.ptes[base + k + 1]!;
          this.dirty[base + k] = this.dirty[base + k + 1]!;
        }
        this.keys[base + this.assoc - 1] = EMPTY;
        return true;
      }
    }
    return false;
  }

  contains(key: number): boolean {
    const base = this.setBase(key);
    for (let w = 0; w < this.assoc; w++) if (this.keys[base + w] === key) return true;
    return false;
  }

  flush(): void {
    this.keys.fill(EMPTY);
  }
}
