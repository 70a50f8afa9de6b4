// Page tables. Every mapping (a 4 KiB PTE or a 2 MiB PMD entry) lives in one machine-wide PTE store
// (struct of arrays); its slot number is the page's dense id, used by TLB entries, ground truth and
// DAMON. Each address space has a PageTable from page key to PTE slot (keys: vpn*2 for 4 KiB pages,
// alignedVpn*2+1 for huge pages, so a walk probes the 4 KiB key then the huge key), shaped like the
// hardware's last two levels: a directory from 2 MiB region number to a leaf of 512 PTE slots plus
// the region's huge-page (PMD) slot. Neighbouring pages share a leaf, so walks over nearby pages
// touch the same few host cache lines, and the last leaf used is remembered.

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
  /** Not present because the page was paged out (to swap, or back to its file): the next walk takes a major fault. */
  SWAPPED: 64,
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

  /** Physical address of `vaddr` through slot `slot` (within a huge page: its 4 KiB frame's). */
  physAddr(slot: number, vaddr: number): number {
    const vpn = Math.floor(vaddr / 4096);
    let frame = this.frame[slot]!;
    if ((this.flags[slot]! & PteFlag.HUGE) !== 0) frame += vpn - this.vpn[slot]!;
    return frame * 4096 + (vaddr % 4096);
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

/** Slots per leaf: 512 4 KiB pages, then the region's 2 MiB mapping. */
const LEAF = 513;
const HUGE_AT = 512;

/** One address space's map from page key to PTE slot. */
export class PageTable {
  /** Directory: open-addressing hash from 2 MiB region number to leaf index. */
  private dirKeys: Float64Array;
  private dirLeaf: Int32Array;
  private dirMask: number;
  private regions = 0;
  /** Leaves, LEAF slots each (-1 when unmapped), and the region each one covers. */
  private leaves: Int32Array;
  private leafRegion: Float64Array;
  /** The region and leaf of the last lookup that found a leaf. */
  private lastRegion = -1;
  private lastLeafAt = 0;
  count = 0;

  constructor(capacity = 1024) {
    let cap = 16;
    while (cap < (capacity / HUGE_AT) * 2) cap *= 2;
    this.dirKeys = new Float64Array(cap).fill(EMPTY);
    this.dirLeaf = new Int32Array(cap);
    this.dirMask = cap - 1;
    this.leaves = new Int32Array(LEAF * 8).fill(EMPTY);
    this.leafRegion = new Float64Array(8);
  }

  /** Offset of the leaf of 2 MiB region `region` in `leaves`, or -1. */
  private leafAt(region: number): number {
    if (region === this.lastRegion) return this.lastLeafAt;
    const keys = this.dirKeys;
    let i = hashKey(region) & this.dirMask;
    for (;;) {
      const k = keys[i]!;
      if (k === region) {
        this.lastRegion = region;
        this.lastLeafAt = this.dirLeaf[i]! * LEAF;
        return this.lastLeafAt;
      }
      if (k === EMPTY) return -1;
      i = (i + 1) & this.dirMask;
    }
  }

  /** PTE slot for a page key, or -1. */
  get(key: number): number {
    // key * 0.5 is key / 2 exactly; a 2 MiB key is odd, its aligned vpn the floor of the half
    const vpn = Math.floor(key * 0.5);
    const region = Math.floor(vpn * (1 / HUGE_AT));
    const at = this.leafAt(region);
    if (at < 0) return -1;
    return this.leaves[at + (key === vpn * 2 ? vpn - region * HUGE_AT : HUGE_AT)]!;
  }

  set(key: number, slot: number): void {
    const vpn = Math.floor(key * 0.5);
    const region = Math.floor(vpn * (1 / HUGE_AT));
    let at = this.leafAt(region);
    if (at < 0) at = this.addLeaf(region);
    const i = at + (key === vpn * 2 ? vpn - region * HUGE_AT : HUGE_AT);
    if (this.leaves[i] === EMPTY) this.count++;
    this.leaves[i] = slot;
  }

  /** Removes the entry of a page key (no-op when there is none). */
  delete(key: number): void {
    const vpn = Math.floor(key * 0.5);
    const region = Math.floor(vpn * (1 / HUGE_AT));
    const at = this.leafAt(region);
    if (at < 0) return;
    const i = at + (key === vpn * 2 ? vpn - region * HUGE_AT : HUGE_AT);
    if (this.leaves[i] !== EMPTY) this.count--;
    this.leaves[i] = EMPTY;
  }

  /** Whether any page of the 2 MiB region holding vpn was ever mapped (walks skip regions without a leaf). */
  hasLeaf(vpn: number): boolean {
    return this.leafAt(Math.floor(vpn * (1 / HUGE_AT))) >= 0;
  }

  /** Calls fn(key, slot) for every entry, region by region in the order regions were first mapped. */
  forEach(fn: (key: number, slot: number) => void): void {
    for (let l = 0; l < this.regions; l++) {
      const base = this.leafRegion[l]! * HUGE_AT;
      const at = l * LEAF;
      for (let j = 0; j < HUGE_AT; j++) {
        const slot = this.leaves[at + j]!;
        if (slot !== EMPTY) fn((base + j) * 2, slot);
      }
      const huge = this.leaves[at + HUGE_AT]!;
      if (huge !== EMPTY) fn(base * 2 + 1, huge);
    }
  }

  private addLeaf(region: number): number {
    if (region < 0 || !Number.isSafeInteger(region)) throw new SimError(`page table: region ${region} out of range`);
    if ((this.regions + 1) * 2 > this.dirKeys.length) this.rehash(this.dirKeys.length * 2);
    const l = this.regions++;
    if (l * LEAF + LEAF > this.leaves.length) {
      if (this.leaves.length * 2 > 2 ** 30) throw new SimError("page table too large");
      const a = new Int32Array(this.leaves.length * 2).fill(EMPTY);
      a.set(this.leaves);
      this.leaves = a;
      const r = new Float64Array(this.leafRegion.length * 2);
      r.set(this.leafRegion);
      this.leafRegion = r;
    }
    this.leafRegion[l] = region;
    this.insertDir(region, l);
    this.lastRegion = region;
    this.lastLeafAt = l * LEAF;
    return this.lastLeafAt;
  }

  private insertDir(region: number, leaf: number): void {
    const keys = this.dirKeys;
    let i = hashKey(region) & this.dirMask;
    while (keys[i] !== EMPTY) i = (i + 1) & this.dirMask;
    keys[i] = region;
    this.dirLeaf[i] = leaf;
  }

  private rehash(cap: number): void {
    if (cap > 2 ** 30) throw new SimError("page table too large");
    this.dirKeys = new Float64Array(cap).fill(EMPTY);
    this.dirLeaf = new Int32Array(cap);
    this.dirMask = cap - 1;
    for (let l = 0; l < this.regions; l++) this.insertDir(this.leafRegion[l]!, l);
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
