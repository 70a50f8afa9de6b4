// The oracle tiering baseline of the tiering-loop scenario: a placement policy that knows the
// ground truth. Every interval it ranks the pages the workload used in the interval just ended
// (accessed in at least `minSubWindows` of its sample intervals, so a page a sweep passes once is
// not hot) by their access count, and makes the fast node hold exactly the hottest that fit (its
// capacity less a headroom), demoting the pages there that are not among them (untouched pages
// first, then the least accessed) and promoting the hot ones that are elsewhere. It migrates with
// the machine's own page migration (copy, shootdowns, bandwidth), charged to one CPU as migration
// time, and costs no monitoring at all: it bounds what any access check primitive under DAMOS can
// achieve with one interval of hindsight. It owns the ground truth's windows (it closes them), so
// it runs only in a variant without DAMON.

import { CpuTime } from "../../hw/cpu.ts";
import type { Machine } from "../../hw/machine.ts";
import { PteFlag } from "../../hw/pagetable.ts";
import { Actor } from "../../sim/actor.ts";
import { Priority } from "../../sim/scheduler.ts";

export interface OracleTieringOptions {
  /** The node to fill with the hot set. */
  fastNode: number;
  /** Where demoted pages go. */
  slowNode: number;
  /** How often it re-places, ns. */
  intervalNs: number;
  /** Fraction of the fast node kept free (the demotion goal's headroom: 0.005 = 0.5 %). */
  headroom: number;
  /** The CPU its migrations are charged to (default: the last). */
  cpu?: number;
  /** Sample intervals (truth sub-windows) a page must be accessed in to count as hot (default 2). */
  minSubWindows?: number;
}

export class OracleTiering extends Actor {
  promotedPages = 0;
  demotedPages = 0;
  failedPages = 0;
  /** Migration CPU time charged, ns. */
  costNs = 0;
  private readonly cpu: number;

  constructor(
    private readonly m: Machine,
    private readonly o: OracleTieringOptions,
  ) {
    super(m.sched, "oracle-tiering", Priority.KERNEL);
    if (m.truth === null) throw new Error("the oracle tiering baseline needs the ground truth");
    this.cpu = o.cpu ?? m.cpus.length - 1;
  }

  start(): void {
    this.sleepFor(this.o.intervalNs);
  }

  protected run(now: number): void {
    this.place();
    this.m.truth!.closeWindow(now);
    this.sleepFor(this.o.intervalNs);
  }

  /** One re-placement from the current truth window. */
  place(): void {
    const m = this.m, t = m.truth!, ptes = m.ptes;
    const node = m.memory.nodes[this.o.fastNode]!;
    const budget = Math.floor(node.frames * (1 - this.o.headroom));
    // the hot set: present pages used in enough sample intervals, by access count (ties: lower slot first)
    const minSub = this.o.minSubWindows ?? 2;
    const touched: number[] = [];
    for (let i = 0; i < t.vTouchedCount; i++) {
      const p = t.vTouched[i]!;
      if ((ptes.flags[p]! & PteFlag.PRESENT) !== 0 && t.pageSubCount(p) >= minSub) touched.push(p);
    }
    const count = (p: number): number => t.pageReads(p) + t.pageWrites(p);
    touched.sort((a, b) => count(b) - count(a) || a - b);
    const want = new Set<number>();
    let frames = 0;
    for (const p of touched) {
      const f = ptes.bytes(p) / 4096;
      if (frames + f > budget) continue;
      want.add(p);
      frames += f;
    }
    // demote what the fast node holds beyond the hot set: untouched first, then the least accessed
    const evict: number[] = [];
    for (let p = 0; p < ptes.size; p++) {
      if ((ptes.flags[p]! & PteFlag.PRESENT) === 0 || want.has(p)) continue;
      if (m.nodeOfPte(p) === this.o.fastNode) evict.push(p);
    }
    evict.sort((a, b) => count(a) - count(b) || a - b);
    const promote = touched.filter((p) => want.has(p) && m.nodeOfPte(p) !== this.o.fastNode);
    let need = 0;
    for (const p of promote) need += ptes.bytes(p) / 4096;
    const free = node.frames - node.used;
    let room = free - Math.floor(node.frames * this.o.headroom);
    for (const p of evict) {
      if (room >= need) break;
      if (this.move(p, this.o.slowNode)) {
        this.demotedPages++;
        room += ptes.bytes(p) / 4096;
      }
    }
    for (const p of promote) if (this.move(p, this.o.fastNode)) this.promotedPages++;
  }

  private move(pte: number, to: number): boolean {
    const cost = this.m.migrate(pte, to, true);
    if (cost < 0) {
      this.failedPages++;
      return false;
    }
    this.costNs += cost;
    this.m.charge(this.cpu, cost, CpuTime.MIGRATE);
    return true;
  }
}
