// The paddr operations set with the PTE Accessed-bit primitive (damon.md 2.2): regions cover the
// machine's physical memory; each sample picks a random physical address per region and, through
// the reverse map, mkolds every PTE mapping that folio; the check asks whether any mapping's
// Accessed bit is set again (or the folio lost PG_idle). Unallocated frames are never accessed
// (the kernel only looks at online LRU folios). rmap walks cost kdamond CPU time per mapping.

import type { Machine } from "../hw/machine.ts";
import { FrameFlag, HUGE_FRAMES } from "../hw/memory.ts";
import { updateAccessRate } from "./aggregate.ts";
import { nrSamplesPerAggr } from "./attrs.ts";
import type { DamonContext } from "./context.ts";
import type { DamonOps } from "./ops.ts";
import { Region } from "./region.ts";

export class PaddrOps implements DamonOps {
  readonly name = "paddr";
  private lastAddr = -1;
  private lastFolioSz = 4096;
  private lastAccessed = false;

  constructor(private readonly m: Machine) {}

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

  prepareAccessChecks(ctx: DamonContext): void {
    const m = this.m;
    const costs = ctx.costs;
    for (const t of ctx.targets) {
      for (const r of t.regions) {
        r.samplingAddr = ctx.rand(r.start, r.end);
        ctx.costNs += costs.folioLookupNs;
        const folio = this.folioOf(Math.floor(r.samplingAddr / 4096));
        if (folio < 0) continue;
        let mapped = false;
        m.forEachMapping(folio, (pte) => {
          mapped = true;
          m.mkold(pte);
          ctx.costNs += costs.rmapPerMappingNs;
        });
        if (!mapped) m.memory.flags.set(folio, m.memory.flags.get(folio) | FrameFlag.IDLE);
      }
    }
  }

  /** damon_pa_young: unmapped folio -> !idle; mapped -> any mapping young or !idle. */
  private young(ctx: DamonContext, folio: number): boolean {
    const m = this.m;
    const idle = (m.memory.flags.get(folio) & FrameFlag.IDLE) !== 0;
    let accessed = !idle;
    m.forEachMapping(folio, (pte) => {
      if (accessed) return;
      ctx.costNs += ctx.costs.rmapPerMappingNs;
      if (m.young(pte)) accessed = true;
    });
    return accessed;
  }

  checkAccesses(ctx: DamonContext): number {
    const window = nrSamplesPerAggr(ctx.attrs);
    let max = 0;
    const cache = ctx.variant === "mainline";
    for (const t of ctx.targets) {
      for (const r of t.regions) {
        let accessed: boolean;
        if (cache && this.lastAddr >= 0 && alignDownTo(this.lastAddr, this.lastFolioSz) === alignDownTo(r.samplingAddr, this.lastFolioSz)) {
          accessed = this.lastAccessed;
        } else {
          ctx.costNs += ctx.costs.folioLookupNs;
          const folio = this.folioOf(Math.floor(r.samplingAddr / 4096));
          if (folio < 0) {
            accessed = false;
          } else {
            const fl = this.m.memory.flags.get(folio);
            this.lastFolioSz = (fl & FrameFlag.HUGE_HEAD) !== 0 ? HUGE_FRAMES * 4096 : 4096;
            accessed = this.young(ctx, folio);
          }
          this.lastAccessed = accessed;
          this.lastAddr = r.samplingAddr;
        }
        updateAccessRate(r, accessed, window);
        if (r.nrAccesses > max) max = r.nrAccesses;
      }
    }
    return max;
  }
}

const alignDownTo = (x: number, a: number): number => x - (x % a);
