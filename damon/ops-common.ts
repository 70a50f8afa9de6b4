// The shared shape of DAMON's operations sets on the simulated machine: every sample picks one
// random address per region; the Accessed-bit primitive mkolds that address's PTE(s) and later
// asks whether it is young; the page-fault primitive arms a PROT_NONE trap there instead; report
// primitives need only the regions. vaddr and paddr differ only in how an address reaches its
// PTEs (the target's page table, or the frame's reverse map), which subclasses provide.

import { TrapOwner } from "../hw/pagetable.ts";
import type { Machine } from "../hw/machine.ts";
import { updateAccessRate } from "./aggregate.ts";
import { nrSamplesPerAggr } from "./attrs.ts";
import type { DamonContext } from "./context.ts";
import type { DamonOps } from "./context.ts";
import type { SampleEvidence } from "./probes.ts";
import type { ReportStore } from "./report-buffer/buffer.ts";
import type { ReportEligibility } from "./report-buffer/drain.ts";
import type { Region, Target } from "./region.ts";

export abstract class SamplingOps implements DamonOps, ReportEligibility {
  abstract readonly name: string;
  /** Result of the last young check (cached per folio, as mainline does). */
  protected lastAddr = -1;
  protected lastFolioSz = 4096;
  protected lastAccessed = false;

  constructor(protected readonly m: Machine) {}

  abstract init(ctx: DamonContext): void;
  abstract update(ctx: DamonContext): void;
  /** PTE slots mapping the page of `addr` in target t (vaddr: one; paddr: every mapping). */
  protected abstract forEachPte(ctx: DamonContext, t: Target, addr: number, fn: (pte: number) => void): void;
  /** Is the sampled page young (Accessed bit / !PG_idle)? Sets lastFolioSz. */
  protected abstract youngAt(ctx: DamonContext, t: Target, addr: number): boolean;
  /** ops->eligible_report: does report i belong to target t (the drain asks before crediting it)? */
  abstract eligibleReport(reports: ReportStore, i: number, t: Target): boolean;
  /** The address report i gives in this set's address space (virtual or physical). */
  abstract reportAddress(reports: ReportStore, i: number): number;
  /** Does the young-check cache apply (mainline vaddr and paddr do; damon/next paddr dropped it). */
  protected abstract cacheYoung(ctx: DamonContext): boolean;
  /** Page attributes of the sampled address (anon, memcg, node), for data-attribute probes. */
  sampleAttributes(ctx: DamonContext, t: Target, addr: number, e: SampleEvidence): void {
    e.present = false;
    let first = -1;
    this.forEachPte(ctx, t, addr, (pte) => {
      if (first < 0) first = pte;
    });
    if (first < 0) return;
    const vma = this.m.vmas[this.m.ptes.vma[first]!]!;
    e.present = true;
    e.anon = vma.anon;
    e.memcg = vma.memcg;
    e.node = this.m.nodeOfPte(first);
  }

  /** Called after the PTE(s) of a sample were mkold'ed or none existed (paddr marks unmapped folios idle). */
  protected afterMkold(_ctx: DamonContext, _t: Target, _addr: number, _mapped: boolean): void {}

  pickSamplingAddrs(ctx: DamonContext): void {
    for (const t of ctx.targets) for (const r of t.regions) r.samplingAddr = ctx.rand(r.start, r.end);
  }

  mkoldSamples(ctx: DamonContext): void {
    const m = this.m;
    for (const t of ctx.targets) {
      for (const r of t.regions) {
        let mapped = false;
        this.forEachPte(ctx, t, r.samplingAddr, (pte) => {
          mapped = true;
          m.mkold(pte);
          if (m.flushTlbOnMkold) ctx.costNs += m.config.costs.shootdownNs * m.cpusRunning(m.ptes.asid[pte]!);
        });
        this.afterMkold(ctx, t, r.samplingAddr, mapped);
      }
    }
  }

  /** The page-fault primitive: a PROT_NONE trap on each sampled page (kept until touched). */
  armTraps(ctx: DamonContext, changeProtNs: number): void {
    const m = this.m;
    for (const t of ctx.targets) {
      for (const r of t.regions) {
        this.forEachPte(ctx, t, r.samplingAddr, (pte) => {
          m.armTrap(pte, TrapOwner.DAMON);
          ctx.costNs += changeProtNs + m.config.costs.shootdownNs * Math.max(0, m.cpusRunning(m.ptes.asid[pte]!) - 1);
        });
      }
    }
  }

  /** Young check of every region's sample, in region order (reusing the answer within a folio). */
  youngSamples(ctx: DamonContext, out: Uint8Array): void {
    const cache = this.cacheYoung(ctx);
    let k = 0;
    for (const t of ctx.targets) {
      let sameTarget = false;
      for (const r of t.regions) {
        if (cache && sameTarget && alignDownTo(this.lastAddr, this.lastFolioSz) === alignDownTo(r.samplingAddr, this.lastFolioSz)) {
          out[k++] = this.lastAccessed ? 1 : 0;
        } else {
          this.lastAccessed = this.youngAt(ctx, t, r.samplingAddr);
          this.lastAddr = r.samplingAddr;
          out[k++] = this.lastAccessed ? 1 : 0;
        }
        sameTarget = true;
      }
    }
  }

  private young = new Uint8Array(1024);

  /** Scratch of one flag per region of the context. */
  protected scratch(ctx: DamonContext): Uint8Array {
    const n = ctx.nrRegions();
    if (this.young.length < n) this.young = new Uint8Array(Math.max(n, this.young.length * 2));
    return this.young;
  }

  prepareAccessChecks(ctx: DamonContext): void {
    this.pickSamplingAddrs(ctx);
    this.mkoldSamples(ctx);
  }

  checkAccesses(ctx: DamonContext): number {
    const flags = this.scratch(ctx);
    this.youngSamples(ctx, flags);
    return applyAccessFlags(ctx, flags);
  }
}

/** Updates every region's access rate from per-region flags (region order); returns max nr_accesses. */
export function applyAccessFlags(ctx: DamonContext, flags: Uint8Array): number {
  const window = nrSamplesPerAggr(ctx.attrs);
  let max = 0, k = 0;
  for (const t of ctx.targets) {
    for (const r of t.regions) {
      updateAccessRate(r, flags[k++] === 1, window);
      if (r.nrAccesses > max) max = r.nrAccesses;
    }
  }
  return max;
}

export const alignDownTo = (x: number, a: number): number => x - (x % a);

export type { Region };
