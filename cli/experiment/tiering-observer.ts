// What a tiering policy achieved, observed from outside it (the tiering-loop scenario's outcome
// figures). Every bucket of simulated time it reads the machine's per-node counters of program
// accesses served by memory and how much of the scenario's hot region sits on the fast node, and
// at the end it sums those up:
//   fast-tier fraction   as cli/metrics.ts defines it, overall, after the phase change, per bucket
//   hot set in DRAM      present pages of the hot region on the fast node / its present pages
//   time to hot set      from the phase change until the hot region is at least `settled` on the
//                        fast node (null if it never gets there within the run)
// Slowdown against all-DRAM and the migrated bytes are figures of the run, not of this observer.

import type { Machine } from "../../hw/machine.ts";
import { PteFlag } from "../../hw/pagetable.ts";
import { Actor } from "../../sim/actor.ts";
import { Priority } from "../../sim/scheduler.ts";
import { fastTierFraction } from "../metrics.ts";

export interface TieringObserverOptions {
  fastNode: number;
  bucketNs: number;
  /** The region that is hot after the phase change: process pid and VMA name. */
  hotRegion: { pid: number; vma: string };
  /** Simulated time of the phase change, ns. */
  phaseChangeNs: number;
  /** Fraction of the hot region on the fast node that counts as "in DRAM" (e.g. 0.9). */
  settled: number;
  /** Program accesses served by each node so far (cumulative counters). */
  served: () => ArrayLike<number>;
}

export interface TieringSeries {
  /** End of each bucket, ns. */
  t: number[];
  /** Fast-tier fraction of the bucket (null: nothing reached memory in it). */
  fastFraction: Array<number | null>;
  /** Hot region's fraction on the fast node at the bucket's end (null: none of it present). */
  hotOnFast: Array<number | null>;
}

export interface TieringOutcome {
  /** Over the whole run. */
  fastTierFraction: number | null;
  /** From the phase change on. */
  fastTierFractionAfterChange: number | null;
  /** ns from the phase change until the hot region was `settled` on the fast node. */
  hotSetInDramNs: number | null;
  series: TieringSeries;
}

export class TieringObserver extends Actor {
  private readonly series: TieringSeries = { t: [], fastFraction: [], hotOnFast: [] };
  private last: number[] = [];
  private first: number[] = [];
  private atChange: number[] | null = null;
  private settledAt: number | null = null;

  constructor(
    private readonly m: Machine,
    private readonly o: TieringObserverOptions,
  ) {
    super(m.sched, "tiering-observer", Priority.KERNEL);
  }

  start(): void {
    this.first = Array.from(this.o.served());
    this.last = this.first.slice();
    this.sleepFor(this.o.bucketNs);
  }

  protected run(now: number): void {
    this.sample(now);
    this.sleepFor(this.o.bucketNs);
  }

  private sample(now: number): void {
    const cur = Array.from(this.o.served());
    if (this.atChange === null && now >= this.o.phaseChangeNs) this.atChange = this.last.slice();
    this.series.t.push(now);
    this.series.fastFraction.push(fastTierFraction(cur, this.last, this.o.fastNode));
    const hot = this.hotOnFast();
    this.series.hotOnFast.push(hot);
    if (this.settledAt === null && now >= this.o.phaseChangeNs && hot !== null && hot >= this.o.settled) this.settledAt = now;
    this.last = cur;
  }

  private hotOnFast(): number | null {
    const m = this.m;
    const space = m.spaceOf(this.o.hotRegion.pid);
    const vma = space?.vmas.find((v) => v.name === this.o.hotRegion.vma);
    if (!space || !vma) return null;
    let present = 0, fast = 0;
    for (let p = 0; p < m.ptes.size; p++) {
      if (m.ptes.vma[p] !== vma.id || (m.ptes.flags[p]! & PteFlag.PRESENT) === 0) continue;
      const b = m.ptes.bytes(p);
      present += b;
      if (m.nodeOfPte(p) === this.o.fastNode) fast += b;
    }
    return present > 0 ? fast / present : null;
  }

  /** The outcome at simulated time `now` (samples the partial last bucket). */
  outcome(now: number): TieringOutcome {
    if (this.series.t.length === 0 || this.series.t[this.series.t.length - 1]! < now) this.sample(now);
    const end = this.last;
    return {
      fastTierFraction: fastTierFraction(end, this.first, this.o.fastNode),
      fastTierFractionAfterChange: this.atChange ? fastTierFraction(end, this.atChange, this.o.fastNode) : null,
      hotSetInDramNs: this.settledAt === null ? null : this.settledAt - this.o.phaseChangeNs,
      series: this.series,
    };
  }
}
