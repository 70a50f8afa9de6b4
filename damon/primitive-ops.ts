// An operations set combining access check primitives behind the one DamonOps interface: the
// PTE Accessed bit (mkold at prepare, young at check), DAMON's page-fault traps (armed at prepare,
// reported when touched), and any report-based primitive (perf mem, IBS, NUMA hinting faults)
// drained from the report buffer at check. A region counts as accessed in a sample interval if
// any enabled primitive says so, so the core never asks which primitive is in use. The per-region
// evidence of the last check (which primitive saw the access) is kept for data attributes.

import type { DamonContext } from "./context.ts";
import type { DamonOps } from "./ops.ts";
import type { ReportDrain } from "./reports/drain.ts";
import { applyAccessFlags, type SamplingOps } from "./sampling-ops.ts";

export interface PrimitiveSet {
  /** PTE Accessed-bit checks (the pull primitive). */
  pte: boolean;
  /** DAMON page-fault traps at the sampled addresses. */
  fault: boolean;
}

export class PrimitiveOps implements DamonOps {
  readonly name: string;
  /** Per region of the last check: 1 if the Accessed-bit check found it young. */
  pteYoung = new Uint8Array(1024);
  /** Per region of the last check: bitmask of report primitives (by id) that credited it. */
  reportedBy = new Uint8Array(1024);
  private flags = new Uint8Array(1024);

  constructor(
    readonly base: SamplingOps,
    readonly set: PrimitiveSet,
    /** Drains reports into regions; null when no report-based primitive is enabled. */
    readonly drain: ReportDrain | null,
    /** Cost of changing one PTE's protection (the fault primitive's arming), ns. */
    readonly changeProtNs = 150,
  ) {
    this.name = base.name;
  }

  init(ctx: DamonContext): void {
    this.base.init(ctx);
  }

  update(ctx: DamonContext): void {
    this.base.update(ctx);
  }

  prepareAccessChecks(ctx: DamonContext): void {
    this.base.pickSamplingAddrs(ctx);
    if (this.set.pte) this.base.mkoldSamples(ctx);
    if (this.set.fault) this.base.armTraps(ctx, this.changeProtNs);
  }

  checkAccesses(ctx: DamonContext): number {
    const n = ctx.nrRegions();
    if (this.flags.length < n) {
      const cap = Math.max(n, this.flags.length * 2);
      this.flags = new Uint8Array(cap);
      this.pteYoung = new Uint8Array(cap);
      this.reportedBy = new Uint8Array(cap);
    }
    this.flags.fill(0, 0, n);
    this.pteYoung.fill(0, 0, n);
    this.reportedBy.fill(0, 0, n);
    if (this.set.pte) {
      this.base.youngSamples(ctx, this.pteYoung);
      this.flags.set(this.pteYoung.subarray(0, n));
    }
    if (this.drain !== null) {
      this.drain.run(ctx, ctx.now);
      let k = 0;
      for (const t of ctx.targets) {
        for (const r of t.regions) {
          if (r.accessReported) {
            this.flags[k] = 1;
            this.reportedBy[k] = this.drain.reportedBy[k]!;
            r.accessReported = false;
          }
          k++;
        }
      }
    }
    return applyAccessFlags(ctx, this.flags);
  }

  cleanup(_ctx: DamonContext): void {}
}
