// The vaddr operations set (damon.md 2.1): a process's regions come from its VMAs ("three
// regions" around the two largest gaps, usually heap..mmap and mmap..stack), re-read every ops
// update; a sampled address reaches its PTE through the target's page table (a walk that costs
// kdamond CPU time). The Accessed-bit and page-fault sampling loops are in ops-common.ts.
// A physical-only report (a CXL CHMU hotlist entry: no pid, no virtual address) is placed through
// the reverse map when it is drained: the frame at its physical address is looked up (a folio
// lookup) and its first mapping (one rmap step) gives the process and the virtual address; an
// unmapped frame stays unplaced (no target's). A frame shared by several processes is credited to
// the first mapping's process only, and a report larger than a page is taken to continue
// virtually from that page (true for a huge page, not for 4 KiB pages mapped apart): use paddr, or
// the CHMU's 4 KiB units, for exact placement.

import type { Vma } from "../hw/process.ts";
import type { DamonContext } from "./context.ts";
import type { ReportStore } from "./report-buffer/buffer.ts";
import type { ReportEligibility } from "./report-buffer/drain.ts";
import { alignUp, evenlySplit, Region, setRegions, type AddrRange, type Target } from "./region.ts";
import { SamplingOps } from "./ops-common.ts";

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

/** vaddr's eligible_report: a report is a target's when it came from the target's process (tgid); it lands at its virtual address. */
export const VADDR_REPORTS: ReportEligibility = {
  eligibleReport: (reports, i, t) => t.pid !== null && reports.pid[i] === t.pid,
  reportAddress: (reports, i) => reports.vaddr[i]!,
};

export class VaddrOps extends SamplingOps {
  readonly name = "vaddr";
  /** Targets whose VMAs gave no three regions (the kernel leaves them without regions). */
  readonly unmonitorable = new Set<number>();

  eligibleReport(reports: ReportStore, i: number, t: Target): boolean {
    return VADDR_REPORTS.eligibleReport(reports, i, t);
  }

  reportAddress(reports: ReportStore, i: number): number {
    return VADDR_REPORTS.reportAddress(reports, i);
  }

  /** A physical-only report's process and virtual address, from the first mapping of its frame (see the header). */
  resolveReport(reports: ReportStore, i: number, ctx: DamonContext): void {
    ctx.costNs += ctx.costs.folioLookupNs;
    const paddr = reports.paddr[i]!;
    const frame = Math.floor(paddr / 4096);
    const pte = this.m.firstMapping(frame);
    if (pte < 0) return;
    ctx.costNs += ctx.costs.rmapPerMappingNs;
    const ptes = this.m.ptes;
    const vma = this.m.vmas[ptes.vma[pte]!]!;
    reports.pid[i] = this.m.spaces[vma.asid]!.pid;
    // a huge page's PTE maps its head frame at its first vpn
    reports.vaddr[i] = (ptes.vpn[pte]! + frame - ptes.frame[pte]!) * 4096 + (paddr % 4096);
  }

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
      // damon/next's "mm/damon/vaddr: do not split regions for min_nr_regions" leaves the split to
      // the core's damon_apply_min_nr_regions; mainline splits each of the three evenly here
      if (ctx.kernel.minRegionsAtStart) setRegions(t, three, ctx.minRegionSz);
      else initThreeRegionsMainline(t, three, ctx.attrs.minNrRegions, ctx.minRegionSz);
    }
  }

  update(ctx: DamonContext): void {
    for (const t of ctx.targets) {
      const vmas = this.vmasOf(t);
      const three = vmas ? threeRegions(vmas, ctx.minRegionSz) : null;
      if (three !== null) setRegions(t, three, ctx.minRegionSz);
    }
  }

  protected forEachPte(ctx: DamonContext, t: Target, addr: number, fn: (pte: number) => void): void {
    ctx.costNs += ctx.costs.vaddrWalkNs;
    const space = t.pid === null ? undefined : this.m.spaceOf(t.pid);
    if (!space) return;
    const pte = this.m.lookupPte(space.asid, addr);
    if (pte >= 0) fn(pte);
  }

  protected youngAt(ctx: DamonContext, t: Target, addr: number): boolean {
    let young = false;
    this.forEachPte(ctx, t, addr, (pte) => {
      this.lastFolioSz = this.m.ptes.bytes(pte);
      young = this.m.young(pte);
    });
    return young;
  }

  protected cacheYoung(): boolean {
    return true;
  }
}
