// An operations set combining access check primitives behind the one DamonOps interface: the
// PTE Accessed bit (mkold at prepare, young at check), DAMON's page-fault traps (armed at prepare,
// reported when touched), and any report-based primitive (perf mem, IBS, NUMA hinting faults)
// drained from the report buffer at check. A region counts as accessed in a sample interval if
// any enabled primitive says so, so the core never asks which primitive is in use. The per-region
// evidence of the last check (which primitive saw the access) is kept for data attributes.

import type { DamonContext } from "./context.ts";
import type { DamonOps } from "./context.ts";
import { cpuSetsOf, needsPteEvidence, probePasses, type SampleEvidence } from "./probes.ts";
import type { ReportDrain } from "./report-buffer/drain.ts";
import { applyAccessFlags, type SamplingOps } from "./ops-common.ts";

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

  /** Accessed-bit checks are made for the access primitive, or because a probe asks for that evidence. */
  private pteChecks(ctx: DamonContext): boolean {
    return this.set.pte || needsPteEvidence(ctx.probes);
  }

  prepareAccessChecks(ctx: DamonContext): void {
    this.base.pickSamplingAddrs(ctx);
    if (this.pteChecks(ctx)) this.base.mkoldSamples(ctx);
    if (this.set.fault && !ctx.attributesOnly) this.base.armTraps(ctx, this.changeProtNs);
  }

  checkAccesses(ctx: DamonContext): number {
    const n = ctx.nrRegions();
    if (this.flags.length < n) {
      const cap = Math.max(n, this.flags.length * 2);
      this.flags = new Uint8Array(cap);
      this.pteYoung = new Uint8Array(cap);
    }
    this.flags.fill(0, 0, n);
    this.pteYoung.fill(0, 0, n);
    if (this.pteChecks(ctx)) {
      this.base.youngSamples(ctx, this.pteYoung);
      if (this.set.pte) this.flags.set(this.pteYoung.subarray(0, n));
    }
    if (this.drain !== null) {
      if (ctx.probes.length > 0) this.drain.cpuSets = cpuSetsOf(ctx.probes);
      this.drain.run(ctx, ctx.now, this.base);
      const by = this.drain.reportedBy;
      for (let k = 0; k < n; k++) if (by[k] !== 0) this.flags[k] = 1;
    }
    if (ctx.probes.length > 0) this.applyProbes(ctx);
    // attributes-only monitoring turns access checking off: nr_accesses stays 0
    if (ctx.attributesOnly) return 0;
    return applyAccessFlags(ctx, this.flags);
  }

  private readonly evidence: SampleEvidence = { present: false, anon: false, memcg: 0, node: 0, pteYoung: false, reportedBy: 0, written: false, cpuSets: 0 };

  /** apply_probes: one hit per probe the region's sample passes. */
  private applyProbes(ctx: DamonContext): void {
    const e = this.evidence;
    const sets = cpuSetsOf(ctx.probes);
    const d = this.drain;
    let k = 0;
    for (const t of ctx.targets) {
      for (const r of t.regions) {
        this.base.sampleAttributes(ctx, t, r.samplingAddr, e);
        e.pteYoung = this.pteYoung[k] === 1;
        e.reportedBy = d !== null ? d.reportedBy[k]! : 0;
        e.written = d !== null && d.written[k] === 1;
        e.cpuSets = d !== null ? d.cpuSetBits[k]! : 0;
        for (let i = 0; i < ctx.probes.length; i++) if (probePasses(ctx.probes[i]!, e, sets)) r.probeHits[i]!++;
        k++;
      }
    }
  }

  cleanup(_ctx: DamonContext): void {}
}
