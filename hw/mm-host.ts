// What the kernel's memory-management models (paging, migration, traps, shootdowns, folio, swap,
// reclaim, thp) use of the machine they work on: its CPUs and caches, memory, page tables and
// reverse map, page cache, LRU, address spaces, costs and counters, the trap handler, and the
// paths they call back into. The Machine is one; the models name only this, so they do not import
// the machine that calls them.

import type { Scheduler } from "../sim/scheduler.ts";
import type { Cache } from "./cache.ts";
import type { MachineConfig, mmCosts } from "./config.ts";
import type { Cpu } from "./cpu.ts";
import type { TrapHandler } from "./hooks.ts";
import type { Lru } from "./lru.ts";
import type { PhysicalMemory } from "./memory.ts";
import type { PageCache } from "./page-cache.ts";
import type { PteStore } from "./pagetable.ts";
import type { AddressSpace, Vma } from "./process.ts";
import type { GroundTruth } from "./truth.ts";

export interface MmHost {
  readonly config: MachineConfig;
  readonly sched: Scheduler;
  readonly cpus: readonly Cpu[];
  /** LLC per node (CPU-less nodes have none: undefined there). */
  readonly llcs: readonly (Cache | undefined)[];
  readonly memory: PhysicalMemory;
  readonly ptes: PteStore;
  readonly pageCache: PageCache;
  readonly lru: Lru;
  readonly spaces: AddressSpace[];
  readonly vmas: Vma[];
  readonly truth: GroundTruth | null;
  readonly trapHandler: TrapHandler | null;
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
  shootdowns: number;
  migrations: number;
  migrationFailures: number;
  migrationCopyBytes: number;
  readonly migratedBytesTo: Float64Array;
  // paths they call back into
  allocate(vma: Vma, vpn: number, cpuNode: number, huge: boolean, mayFail?: boolean): number;
  takeReclaimNs(): number;
  accessed(pte: number): boolean;
  mkold(pte: number): boolean;
}
