// Draining access reports into regions at each sample check (damon.md 3.4, Ravi's patch 4/7):
// snapshot each target's regions into flat sorted arrays, find each report's region by binary
// search, reject reports that straddle a region end, and flag every region hit by at least one
// report that passed the filters and was made within the last sample interval; the caller then
// gives each region +1 at most. A linear-scan variant (the RFC's O(reports x regions) loop) is
// kept for comparison. The drain's per-region arrays (region order of the drain) are the one
// record of what reports said: reportedBy (which primitives credited the region; non-zero means
// it was accessed), written and cpuSetBits (for data attributes).
// Which target a report belongs to, and at which address, is the operations set's to say
// (ops->eligible_report in the kernel): vaddr matches the report's pid and uses its virtual
// address, paddr takes every report at its physical address. A physical-only report (NO_PID: a
// CXL CHMU hotlist entry) is first given to the set's resolveReport, which may fill in what it
// needs (vaddr: the owner and virtual address, through the reverse map, at kdamond's cost).
// Credit: every report that lands in a region flags it once for this check, whatever its count: a
// region's nr_accesses counts sample intervals with an access, so no report can give it more
// than +1 per check; a count-carrying report credits exactly as a sampled one. Sample filters see
// NO_CPU and NO_TID as a CPU in no cpumask and a thread in no list (filters.ts).

import type { DamonContext } from "../context.ts";
import type { Region } from "../region.ts";
import type { Target } from "../region.ts";
import { NO_PID } from "../../hw/primitives/sample.ts";
import { type ReportBuffer, type ReportStore } from "./buffer.ts";
import { passesFilters, type FilterSemantics, type SampleFilter } from "./filters.ts";

export interface DrainStats {
  /** Reports that credited a region. */
  credited: number;
  filtered: number;
  straddling: number;
  outside: number;
  /** Drains run. */
  drains: number;
}

/** The operations set's side of a drain (damon_operations.eligible_report and the address it uses). */
export interface ReportEligibility {
  /** Does report i of `reports` belong to target t? */
  eligibleReport(reports: ReportStore, i: number, t: Target): boolean;
  /** The address of report i in the targets' address space (virtual or physical). */
  reportAddress(reports: ReportStore, i: number): number;
  /** Fills in what physical-only report i (pid NO_PID) lacks for this set, charging ctx (vaddr: owner and virtual address through the rmap); absent: nothing to do. */
  resolveReport?(reports: ReportStore, i: number, ctx: DamonContext): void;
}

export class ReportDrain {
  private starts = new Float64Array(1024);
  private ends = new Float64Array(1024);
  private regions: Region[] = [];
  readonly stats: DrainStats = { credited: 0, filtered: 0, straddling: 0, outside: 0, drains: 0 };
  /** Per region of the current drain: bitmask of primitives (by id) that credited it; 0: none did. */
  reportedBy = new Uint8Array(1024);
  /** Per region: a credited report was a write. */
  written = new Uint8Array(1024);
  /** Per region: bit j set when a credited report came from a CPU of cpuSets[j]. */
  cpuSetBits = new Uint8Array(1024);
  /** CPU sets the probes ask about (data attributes "accessed from these CPUs"). */
  cpuSets: ReadonlyArray<ReadonlySet<number>> = [];

  constructor(
    readonly buffer: ReportBuffer,
    public filters: SampleFilter[] = [],
    public semantics: FilterSemantics = "intended",
    /** Use the linear scan instead of binary search (benchmarks only). */
    public linear = false,
  ) {}

  /** Index of the region containing addr among [from, end), or -1 (binary search on sorted starts). */
  private find(addr: number, from: number, end: number): number {
    if (this.linear) {
      for (let i = from; i < end; i++) if (this.starts[i]! <= addr && addr < this.ends[i]!) return i;
      return -1;
    }
    let lo = from, hi = end - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]! <= addr) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 && addr < this.ends[found]! ? found : -1;
  }

  /**
   * Records in reportedBy (and written, cpuSetBits) every region of ctx credited by a report, in
   * region order; returns the number of reports looked at (for cost accounting). `ops` says which targets a report is eligible for
   * and at which address.
   */
  run(ctx: DamonContext, now: number, ops: ReportEligibility): number {
    this.stats.drains++;
    const store = this.buffer.store;
    let n = 0;
    for (const t of ctx.targets) n += t.regions.length;
    if (n > this.starts.length) {
      let cap = this.starts.length;
      while (cap < n) cap *= 2;
      this.starts = new Float64Array(cap);
      this.ends = new Float64Array(cap);
      this.reportedBy = new Uint8Array(cap);
      this.written = new Uint8Array(cap);
      this.cpuSetBits = new Uint8Array(cap);
    }
    this.regions.length = 0;
    const base: number[] = [];
    let k = 0;
    for (const t of ctx.targets) {
      base.push(k);
      for (const r of t.regions) {
        this.starts[k] = r.start;
        this.ends[k] = r.end;
        this.reportedBy[k] = 0;
        this.written[k] = 0;
        this.cpuSetBits[k] = 0;
        this.regions.push(r);
        k++;
      }
    }
    let seen = 0;
    this.buffer.drain(now, ctx.sampleNs, ctx.costs.reportNs * 100, (i) => {
      seen++;
      if (!passesFilters(this.filters, store.cpu[i]!, store.tid[i]!, store.isWrite[i] === 1, this.semantics)) {
        this.stats.filtered++;
        return;
      }
      if (store.pid[i] === NO_PID) ops.resolveReport?.(store, i, ctx);
      let credited = false;
      ctx.targets.forEach((t, ti) => {
        if (!ops.eligibleReport(store, i, t)) return;
        const addr = ops.reportAddress(store, i);
        const from = base[ti]!;
        const idx = this.find(addr, from, from + t.regions.length);
        if (idx < 0) return;
        if (addr + store.size[i]! > this.ends[idx]!) {
          this.stats.straddling++;
          return;
        }
        this.reportedBy[idx] = this.reportedBy[idx]! | (1 << store.primitive[i]!);
        if (store.isWrite[i] === 1) this.written[idx] = 1;
        for (let j = 0; j < this.cpuSets.length; j++) if (this.cpuSets[j]!.has(store.cpu[i]!)) this.cpuSetBits[idx] = this.cpuSetBits[idx]! | (1 << j);
        credited = true;
      });
      if (credited) this.stats.credited++;
      else this.stats.outside++;
    });
    ctx.costNs += seen * ctx.costs.reportNs;
    return seen;
  }

  /** Did a report credit region k (region order) in the last drain? */
  reported(k: number): boolean {
    return this.reportedBy[k] !== 0;
  }

  /** The region objects of the last drain, in the order of reportedBy. */
  get lastRegions(): readonly Region[] {
    return this.regions;
  }
}
