// The paddr operations set (damon.md 2.2): regions cover the machine's physical memory; a sampled
// physical address reaches every PTE mapping its folio through the reverse map (an rmap walk per
// mapping costs kdamond CPU time); unmapped allocated folios are only marked idle, and unallocated
// frames are never accessed (the kernel only looks at online LRU folios). The sampling loops are
// in ops-common.ts.

import { FrameFlag, HUGE_FRAMES } from "../hw/memory.ts";
import type { DamonContext } from "./context.ts";
import type { ReportStore } from "./report-buffer/buffer.ts";
import type { ReportEligibility } from "./report-buffer/drain.ts";
import { Region, type Target } from "./region.ts";
import { SamplingOps } from "./ops-common.ts";

/** paddr's eligible_report: every report, at its physical address (one address space, whoever accessed it). */
export const PADDR_REPORTS: ReportEligibility = {
  eligibleReport: () => true,
  reportAddress: (reports, i) => reports.paddr[i]!,
};

export class PaddrOps extends SamplingOps {
  readonly name = "paddr";

  eligibleReport(reports: ReportStore, i: number, t: Target): boolean {
    return PADDR_REPORTS.eligibleReport(reports, i, t);
  }

  reportAddress(reports: ReportStore, i: number): number {
    return PADDR_REPORTS.reportAddress(reports, i);
  }

  /** The whole physical address space: [0, total memory). */
  systemRam(): { start: number; end: number } {
    return { start: 0, end: this.m.memory.totalFrames * 4096 };
  }

  init(ctx: DamonContext): void {
    for (const t of ctx.targets) {
      if (t.regions.length > 0) continue;
      const r = this.systemRam();
      t.regions.push(new Region(r.start, r.end));
    }
  }

  update(_ctx: DamonContext): void {}

  /** Head frame of the folio holding `frame`, or -1 when the frame is not an allocated page. */
  folioOf(frame: number): number {
    const fl = this.m.memory.flags.get(frame);
    if ((fl & FrameFlag.ALLOCATED) === 0) return -1;
    return (fl & FrameFlag.HUGE_TAIL) !== 0 ? frame - (frame % HUGE_FRAMES) : frame;
  }

  protected forEachPte(ctx: DamonContext, _t: Target, addr: number, fn: (pte: number) => void): void {
    ctx.costNs += ctx.costs.folioLookupNs;
    const folio = this.folioOf(Math.floor(addr / 4096));
    if (folio < 0) return;
    this.m.forEachMapping(folio, (pte) => {
      ctx.costNs += ctx.costs.rmapPerMappingNs;
      fn(pte);
    });
  }

  protected override afterMkold(_ctx: DamonContext, _t: Target, addr: number, mapped: boolean): void {
    if (mapped) return;
    const folio = this.folioOf(Math.floor(addr / 4096));
    if (folio >= 0) this.m.memory.flags.set(folio, this.m.memory.flags.get(folio) | FrameFlag.IDLE);
  }

  /** damon_pa_young: unmapped folio -> !idle; mapped -> any mapping young (the walk stops there) or !idle. */
  protected youngAt(ctx: DamonContext, _t: Target, addr: number): boolean {
    ctx.costNs += ctx.costs.folioLookupNs;
    const m = this.m;
    const folio = this.folioOf(Math.floor(addr / 4096));
    if (folio < 0) return false;
    this.lastFolioSz = (m.memory.flags.get(folio) & FrameFlag.HUGE_HEAD) !== 0 ? HUGE_FRAMES * 4096 : 4096;
    if ((m.memory.flags.get(folio) & FrameFlag.IDLE) === 0) return true;
    for (let pte = m.memory.rmapHead.get(folio); pte >= 0; pte = m.ptes.rmapNext[pte]!) {
      ctx.costNs += ctx.costs.rmapPerMappingNs;
      if (m.accessed(pte)) return true;
    }
    return false;
  }

  protected cacheYoung(ctx: DamonContext): boolean {
    return ctx.variant === "mainline";
  }
}
