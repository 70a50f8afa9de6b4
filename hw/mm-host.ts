// What the kernel's memory-management models (folio.ts, swap.ts, reclaim.ts, thp.ts) use of the
// machine they work on: its memory, page tables and reverse map, LRU, address spaces, costs and
// counters, and the paging and TLB paths they call back into. The Machine is one; the models name
// only this, so they do not import the machine that calls them.

import type { Scheduler } from "../sim/scheduler.ts";
import type { MachineConfig, mmCosts } from "./config.ts";
import type { Lru } from "./lru.ts";
import type { PhysicalMemory } from "./memory.ts";
import type { PteStore } from "./pagetable.ts";
import type { AddressSpace, Vma } from "./process.ts";
import type { GroundTruth } from "./truth.ts";

export interface MmHost {
  readonly config: MachineConfig;
  readonly sched: Scheduler;
  readonly memory: PhysicalMemory;
  readonly ptes: PteStore;
  readonly lru: Lru;
  readonly spaces: AddressSpace[];
  readonly vmas: Vma[];
  readonly truth: GroundTruth | null;
  readonly mmCosts: ReturnType<typeof mmCosts>;
  /** A swap device exists: anonymous pages can be paged out. */
  readonly swap: boolean;
  // counters the models keep up to date
  faultsTotal: number;
  majorFaults: number;
  swapIns: number;
  pagesOut: number;
  pageWrites: number;
  memStallNs: number;
  directReclaims: number;
  directReclaimed: number;
  thpSplits: number;
  // paths they call back into
  allocate(vma: Vma, vpn: number, cpuNode: number, huge: boolean, mayFail?: boolean): number;
  filePages(fileId: string): Map<number, number>;
  sharedFileFrame(vma: Vma, vpn: number): number;
  rmapAdd(frame: number, pte: number): void;
  invalidateFrameLines(frame: number, frames: number): void;
  shootdown(pte: number): number;
  splitHuge(pte: number): number;
  takeReclaimNs(): number;
  accessed(pte: number): boolean;
  mkold(pte: number): boolean;
}
