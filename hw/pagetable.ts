// Page tables. Every mapping (a 4 KiB PTE or a 2 MiB PMD entry) lives in one machine-wide PTE store
// (struct of arrays); its slot number is the page's dense id, used by TLB entries, ground truth and
// DAMON. Each address space has a PageTable: an open-addressing hash from page key to PTE slot
// (keys: vpn*2 for 4 KiB pages, alignedVpn*2+1 for huge pages, so a walk probes the 4 KiB key then
// the huge key).

import { SimError } from "../sim/errors.ts";

export const PteFlag = {
  PRESENT: 1,
  /** Accessed bit: set by the page walker, cleared by mkold (DAMON, reclaim scans). */
  ACCESSED: 2,
  /** Dirty bit: set on the first write through the mapping. */
  DIRTY: 4,
  /** PROT_NONE trap armed (NUMA hinting or DAMON fault sampling): the next walk faults. */
  TRAP: 8,
  HUGE: 16,
  WRITABLE: 32,
} as const;

/** Which subsystem armed a trap (PteStore.trapOwners bits). */
export const TrapOwner = {
  NUMA_HINT: 1,
  DAMON: 2,
} as const;

export class PteStore {
  size = 0;
  vpn: Float64Array;
  frame: Int32Array;
  flags: Uint8Array;
  trapOwners: Uint8Array;
  asid: Int32Array;
  vma: Int32Array;
  rmapNext: Int32Array;

  constructor(capacity = 4096) {
    this.vpn = new Float64Array(capacity);
    this.frame = new Int32Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.trapOwners = new Uint8Array(capacity);
    this.asid = new Int32Array(capacity);
    this.vma = new Int32Array(capacity);
    this.rmapNext = new Int32Array(capacity);
  }

  get capacity(): number {
    return this.vpn.length;
  }

  /** Adds a mapping and returns its slot. */
  add(asid: number, vpn: number, frame: number, flags: number, vma: number): number {
    if (this.size === this.vpn.length) this.grow();
    const s = this.size++;
    this.vpn[s] = vpn;
    this.frame[s] = frame;
    this.flags[s] = flags;
    this.trapOwners[s] = 0;
    this.asid[s] = asid;
    this.vma[s] = vma;
    this.rmapNext[s] = -1;
    return s;
  }

  isHuge(slot: number): boolean {
    return (this.flags[slot]! & PteFlag.HUGE) !== 0;
  }

  /** Bytes covered by the mapping. */
  bytes(slot: number): number {
    return (this.flags[slot]! & PteFlag.HUGE) !== 0 ? 2 * 1024 * 1024 : 4096;
  }

  allocatedBytes(): number {
    return this.vpn.length * (8 + 4 + 1 + 1 + 4 + 4 + 4);
  }

  private grow(): void {
    const cap = this.vpn.length * 2;
    const f64 = (a: Float64Array): Float64Array => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    const i32 = (a: Int32Array): Int32Array => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    const u8 = (a: Uint8Array): Uint8Array => {
      const b = new Uint8Array(cap);
      b.set(a);
      return b;
    };
    this.vpn = f64(this.vpn);
    this.frame = i32(this.frame);
    this.flags = u8(this.flags);
    this.trapOwners = u8(this.trapOwners);
    this.asid = i32(this.asid);
    this.vma = i32(this.vma);
    this.rmapNext = i32(this.rmapNext);
  }
}

const EMPTY = -1;

export const pageKey4k = (vpn: number): number => vpn * 2;
/** (Math.trunc(vpn / 512) * 512 is vpn - vpn % 512 for every integer vpn: scaling by 2^9 is exact.) */
export const pageKey2m = (vpn: number): number => Math.trunc(vpn * (1 / 512)) * 512 * 2 + 1;

/** One address space's map from page key to PTE slot. */
export class PageTable {
  private keys: Float64Array;
  private slots: Int32Array;
  private mask: number;
  count = 0;

  constructor(capacity = 1024) {
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.keys = new Float64Array(cap).fill(EMPTY);
    this.slots = new Int32Array(cap);
    this.mask = cap - 1;
  }

  /** PTE slot for a page key, or -1. */
  get(key: number): number {
    const keys = this.keys;
    let i = hashKey(key) & this.mask;
    for (;;) {
      const k = keys[i]!;
      if (k === key) return this.slots[i]!;
      if (k === EMPTY) return -1;
      i = (i + 1) & this.mask;
    }
  }

  set(key: number, slot: number): void {
    if ((this.count + 1) * 2 > this.keys.length) this.rehash(this.keys.length * 2);
    const keys = this.keys;
    let i = hashKey(key) & this.mask;
    for (;;) {
      const k = keys[i]!;
      if (k === key) {
        this.slots[i] = slot;
        return;
      }
      if (k === EMPTY) {
        keys[i] = key;
        this.slots[i] = slot;
        this.count++;
        return;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** Calls fn(key, slot) for every entry, in table order. */
  forEach(fn: (key: number, slot: number) => void): void {
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] !== EMPTY) fn(this.keys[i]!, this.slots[i]!);
  }

  private rehash(cap: number): void {
    if (cap > 2 ** 30) throw new SimError("page table too large");
    const oldKeys = this.keys, oldSlots = this.slots;
    this.keys = new Float64Array(cap).fill(EMPTY);
    this.slots = new Int32Array(cap);
    this.mask = cap - 1;
    this.count = 0;
    for (let i = 0; i < oldKeys.length; i++) if (oldKeys[i] !== EMPTY) this.set(oldKeys[i]!, oldSlots[i]!);
  }
}

function hashKey(key: number): number {
  const lo = key >>> 0;
  const hi = Math.floor(key * 2 ** -32) >>> 0; // key / 2^32 exactly
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
