// DAMON regions and targets, and the region-list primitives the kernel builds everything from:
// split at an offset, merge two neighbours (size-weighted integer averages), even split, and
// damon_set_regions (fit a target's regions to new ranges, keeping what overlaps).
// Reference: ../shared/reference/damon.md sections 1.1, 1.5, 1.6, 1.8, 2.1.

import { InputError } from "../sim/errors.ts";

export const MAX_PROBES = 4;

export class Region {
  samplingAddr = 0;
  nrAccesses = 0;
  /** Mainline's pseudo moving sum of accesses, in basis points. */
  nrAccessesBp = 0;
  age = 0;
  lastNrAccesses = 0;
  probeHits: number[] = [0, 0, 0, 0];
  lastProbeHits: number[] = [0, 0, 0, 0];
  constructor(public start: number, public end: number) {}

  get size(): number {
    return this.end - this.start;
  }

  /** A new region with this one's counters (the right-hand piece of a split). */
  copyCountersTo(r: Region): void {
    r.age = this.age;
    r.lastNrAccesses = this.lastNrAccesses;
    r.nrAccesses = this.nrAccesses;
    r.nrAccessesBp = this.nrAccessesBp;
    r.probeHits = this.probeHits.slice();
    r.lastProbeHits = this.lastProbeHits.slice();
  }
}

export class Target {
  regions: Region[] = [];
  constructor(
    /** Index of the target in its context (damo's target_id). */
    readonly id: number,
    /** Monitored process (vaddr/fvaddr); null for physical address space. */
    readonly pid: number | null,
  ) {}

  get nrRegions(): number {
    return this.regions.length;
  }

  totalBytes(): number {
    let s = 0;
    for (const r of this.regions) s += r.size;
    return s;
  }
}

export const alignDown = (x: number, a: number): number => x - (x % a);
export const alignUp = (x: number, a: number): number => (x % a === 0 ? x : x - (x % a) + a);

/** Splits region index i of t at `szLeft` bytes from its start; the new right piece copies the counters. */
export function splitRegionAt(t: Target, i: number, szLeft: number): void {
  const r = t.regions[i]!;
  const n = new Region(r.start + szLeft, r.end);
  r.copyCountersTo(n);
  r.end = r.start + szLeft;
  t.regions.splice(i + 1, 0, n);
}

/**
 * Merges region index i+1 into region index i (they must be adjacent): nr_accesses, age and probe
 * hits become size-weighted integer averages; the left region's last_nr_accesses is kept.
 * `bpFromNr` reproduces mainline, which sets nr_accesses_bp = nr_accesses * 10000 after a merge.
 */
export function mergeTwo(t: Target, i: number, bpFromNr = true): void {
  const l = t.regions[i]!;
  const r = t.regions[i + 1]!;
  const sl = l.size, sr = r.size, s = sl + sr;
  l.nrAccesses = Math.floor((l.nrAccesses * sl + r.nrAccesses * sr) / s);
  if (bpFromNr) l.nrAccessesBp = l.nrAccesses * 10000;
  l.age = Math.floor((l.age * sl + r.age * sr) / s);
  for (let p = 0; p < MAX_PROBES; p++) l.probeHits[p] = Math.floor((l.probeHits[p]! * sl + r.probeHits[p]! * sr) / s);
  l.end = r.end;
  t.regions.splice(i + 1, 1);
}

/**
 * damon_va_evenly_split_region: cuts region i into exactly `nr` pieces of
 * ALIGN_DOWN(size / nr, minSz) bytes, the last absorbing the remainder. Returns false (and leaves
 * the region whole) when nr is 0 or the piece size is 0, as the kernel returns -EINVAL.
 */
export function evenlySplit(t: Target, i: number, nr: number, minSz: number): boolean {
  const r = t.regions[i]!;
  if (nr === 0) return false;
  const piece = alignDown(Math.floor(r.size / nr), minSz);
  if (piece === 0) return false;
  const origEnd = r.end;
  r.end = r.start + piece;
  const pieces: Region[] = [];
  for (let k = 1; k < nr; k++) {
    const n = new Region(r.start + piece * k, r.start + piece * (k + 1));
    r.copyCountersTo(n);
    pieces.push(n);
  }
  const last = pieces.length > 0 ? pieces[pieces.length - 1]! : r;
  last.end = origEnd;
  t.regions.splice(i + 1, 0, ...pieces);
  return true;
}

export interface AddrRange {
  start: number;
  end: number;
}

/**
 * damon_set_regions: fits t's regions to `ranges` (sorted, non-overlapping once aligned to minSz:
 * starts down, ends up). Regions touching no range are dropped; if none is left, one region per
 * range is made; otherwise each range's first intersecting region is stretched to the range start,
 * its last one to the range end, and holes between them are filled with new regions; a range with
 * no intersecting region gets a new one. Throws an InputError (-EINVAL) for bad ranges.
 */
export function setRegions(t: Target, ranges: AddrRange[], minSz: number): void {
  const aligned = ranges.map((r) => ({ start: alignDown(r.start, minSz), end: alignUp(r.end, minSz) }));
  for (let i = 0; i < aligned.length; i++) {
    const a = aligned[i]!;
    if (!(a.start < a.end)) throw new InputError(`range [${ranges[i]!.start}, ${ranges[i]!.end}) is empty once aligned to ${minSz}`, { field: `ranges[${i}]` });
    if (i > 0 && a.start < aligned[i - 1]!.end) throw new InputError(`ranges overlap once aligned to ${minSz}`, { field: `ranges[${i}]` });
  }
  const intersects = (r: Region, a: AddrRange): boolean => r.start < a.end && a.start < r.end;
  t.regions = t.regions.filter((r) => aligned.some((a) => intersects(r, a)));
  if (t.regions.length === 0) {
    t.regions = aligned.map((a) => new Region(a.start, a.end));
    return;
  }
  const out: Region[] = [];
  for (const a of aligned) {
    const hit = t.regions.filter((r) => intersects(r, a));
    if (hit.length === 0) {
      out.push(new Region(a.start, a.end));
      continue;
    }
    hit[0]!.start = a.start;
    hit[hit.length - 1]!.end = a.end;
    for (let k = 0; k < hit.length; k++) {
      const r = hit[k]!;
      if (k > 0 && hit[k - 1]!.end < r.start) out.push(new Region(hit[k - 1]!.end, r.start));
      out.push(r);
    }
  }
  t.regions = out;
}

/** Fixes regions with explicit ranges (tests, user-given regions). */
export function regionsOf(ranges: Array<[number, number]>): Region[] {
  return ranges.map(([s, e]) => new Region(s, e));
}
