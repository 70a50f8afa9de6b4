// The vaddr operations set with the PTE Accessed-bit primitive (damon.md 2.1): a process's
// regions come from its VMAs ("three regions" around the two largest gaps, usually heap..mmap and
// mmap..stack), re-read every ops update; each sample mkolds the PTE of a random address per
// region and later checks whether its Accessed bit came back (reusing the answer for a sample in
// the same folio as the previous one, as mainline does). Page-table walks cost kdamond CPU time.

import type { Machine } from "../hw/machine.ts";
import type { Vma } from "../hw/process.ts";
import { updateAccessRate } from "./aggregate.ts";
import { nrSamplesPerAggr } from "./attrs.ts";
import type { DamonContext } from "./context.ts";
import type { DamonOps } from "./ops.ts";
import { alignUp, evenlySplit, Region, setRegions, type AddrRange, type Target } from "./region.ts";

/**
 * __damon_va_three_regions: [first VMA start, gap1 start), [gap1 end, gap2 start),
 * [gap2 end, last VMA end) around the two largest gaps between consecutive VMAs, sorted by address,
 * boundaries aligned up to minSz. Returns null (-EINVAL) when there are not two non-empty gaps.
 */
export function threeRegions(vmas: ReadonlyArray<AddrRange>, minSz: number): AddrRange[] | null {
  if (vmas.length === 0) return null;
  let first = { start: 0, end: 0 }, second = { start: 0, end: 0 };
  const start = vmas[0]!.start;
  for (let i = 1; i < vmas.length; i++) {
    const prev = vmas[i - 1]!, v = vmas[i]!;
    const gap = v.start - prev.end;
    if (gap > first.end - first.start) {
      second = first;
      first = { start: prev.end, end: v.start };
    } else if (gap > second.end - second.start) {
      second = { start: prev.end, end: v.start };
    }
  }
  if (second.end - second.start === 0 || first.end - first.start === 0) return null;
  if (first.start > second.start) [first, second] = [second, first];
  const last = vmas[vmas.length - 1]!.end;
  return [
    { start: alignUp(start, minSz), end: alignUp(first.start, minSz) },
    { start: alignUp(first.end, minSz), end: alignUp(second.start, minSz) },
    { start: alignUp(second.end, minSz), end: alignUp(last, minSz) },
  ];
}

/** Mainline's __damon_va_init_regions: the three regions, each evenly split into size / (total / min_nr) pieces. */
export function initThreeRegionsMainline(t: Target, three: AddrRange[], minNrRegions: number, minSz: number): void {
  let sz = 0;
  for (const r of three) sz += r.end - r.start;
  if (minNrRegions) sz = Math.floor(sz / minNrRegions);
  if (sz < minSz) sz = minSz;
  for (const rr of three) {
    t.regions.push(new Region(rr.start, rr.end));
    evenlySplit(t, t.regions.length - 1, Math.floor((rr.end - rr.start) / sz), minSz);
  }
}

export class VaddrOps implements DamonOps {
  readonly name = "vaddr";
  /** Targets whose VMAs gave no three regions (the kernel leaves them without regions). */
  readonly unmonitorable = new Set<number>();
  private lastAddr = 0;
  private lastFolioSz = 4096;
  private lastAccessed = false;

  constructor(private readonly m: Machine) {}

  private vmasOf(t: Target): Vma[] | null {
    if (t.pid === null) return null;
    return this.m.spaceOf(t.pid)?.vmas ?? null;
  }

  init(ctx: DamonContext): void {
    for (const t of ctx.targets) {
      if (t.regions.length > 0) continue;
      const vmas = this.vmasOf(t);
      const three = vmas ? threeRegions(vmas, ctx.minRegionSz) : null;
      if (three === null) {
        this.unmonitorable.add(t.id);
        continue;
      }
      if (ctx.variant === "mainline") initThreeRegionsMainline(t, three, ctx.attrs.minNrRegions, ctx.minRegionSz);
      else setRegions(t, three, ctx.minRegionSz);
    }
  }

  update(ctx: DamonContext): void {
    for (const t of ctx.targets) {
      const vmas = this.vmasOf(t);
      const three = vmas ? threeRegions(vmas, ctx.minRegionSz) : null;
      if (three !== null) setRegions(t, three, ctx.minRegionSz);
    }
  }

  prepareAccessChecks(ctx: DamonContext): void {
    const m = this.m;
    const walk = ctx.costs.vaddrWalkNs;
    for (const t of ctx.targets) {
      const space = t.pid === null ? undefined : m.spaceOf(t.pid);
      const flushCost = m.flushTlbOnMkold && space ? m.config.costs.shootdownNs * m.cpusRunning(space.asid) : 0;
      for (const r of t.regions) {
        r.samplingAddr = ctx.rand(r.start, r.end);
        ctx.costNs += walk;
        if (!space) continue;
        const pte = m.lookupPte(space.asid, r.samplingAddr);
        if (pte >= 0) {
          m.mkold(pte);
          ctx.costNs += flushCost;
        }
      }
    }
  }

  checkAccesses(ctx: DamonContext): number {
    const m = this.m;
    const window = nrSamplesPerAggr(ctx.attrs);
    let max = 0;
    for (const t of ctx.targets) {
      const space = t.pid === null ? undefined : m.spaceOf(t.pid);
      let sameTarget = false;
      for (const r of t.regions) {
        let accessed: boolean;
        if (!space) {
          accessed = false;
        } else if (sameTarget && alignDownTo(this.lastAddr, this.lastFolioSz) === alignDownTo(r.samplingAddr, this.lastFolioSz)) {
          accessed = this.lastAccessed;
        } else {
          ctx.costNs += ctx.costs.vaddrWalkNs;
          const pte = m.lookupPte(space.asid, r.samplingAddr);
          if (pte >= 0) {
            this.lastFolioSz = m.ptes.bytes(pte);
            this.lastAccessed = m.young(pte);
          } else {
            this.lastAccessed = false;
          }
          this.lastAddr = r.samplingAddr;
          accessed = this.lastAccessed;
        }
        updateAccessRate(r, accessed, window);
        if (r.nrAccesses > max) max = r.nrAccesses;
        sameTarget = true;
      }
    }
    return max;
  }
}

const alignDownTo = (x: number, a: number): number => x - (x % a);
