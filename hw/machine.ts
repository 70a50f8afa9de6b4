// The machine: NUMA nodes, CPUs with their caches and TLBs, physical memory, address spaces and
// page tables, the ground truth recorder, and the hooks the access check primitives use. It owns
// the state; the jobs are in their own modules, which it wires together and which its methods
// call: loading a workload and placing threads on CPUs (placement.ts), demand paging (paging.ts)
// under the NUMA policy (numa-policy.ts), the page cache (page-cache.ts), the reverse map
// (rmap.ts), PROT_NONE traps (traps.ts), migration (migration.ts) and TLB shootdowns
// (shootdown.ts), the per-node page LRU (lru.ts), pageout and swap-in (swap.ts), direct reclaim
// (reclaim.ts), THP splits (thp.ts) and folio attributes (folio.ts); its statistics are
// registered by machine-stats.ts. It keeps the Accessed-bit operations DAMON uses (mkold, with or
// without a TLB flush, and the young checks), counts the demand accesses each node's memory serves
// (memServed, memWritebacks) and the memory stall time of major faults and direct reclaim
// (memStallNs, for PSI some_mem).

import { SimError } from "../sim/errors.ts";
import type { RngRoot } from "../sim/rng.ts";
import type { Scheduler } from "../sim/scheduler.ts";
import { MS, US } from "../sim/time.ts";
import { Cache } from "./cache.ts";
import { mmCosts, type MachineConfig } from "./config.ts";
import { Cpu, CpuTime, type CpuHost } from "./cpu.ts";
import { folioOf } from "./folio.ts";
import { AccessRecord, type AccessSampler, type TrapHandler } from "./hooks.ts";
import { Lru } from "./lru.ts";
import { FrameFlag, PhysicalMemory } from "./memory.ts";
import { migrateFolio, migratePage } from "./migration.ts";
import type { MmHost } from "./mm-host.ts";
import { PageCache } from "./page-cache.ts";
import { Pager } from "./paging.ts";
import { PteFlag, PteStore, pageKey2m, pageKey4k } from "./pagetable.ts";
import { Placement } from "./placement.ts";
import type { AddressSpace, ThreadState, Vma } from "./process.ts";
import type { Workload } from "./program.ts";
import { Reclaimer } from "./reclaim.ts";
import { firstMapping, forEachMapping } from "./rmap.ts";
import { cpusRunning, shootdown } from "./shootdown.ts";
import { pageoutFolio, swapInPage } from "./swap.ts";
import { splitHugeMapping } from "./thp.ts";
import { armTrap, disarmTrap, trapFault } from "./traps.ts";
import { GroundTruth, type TruthOptions } from "./truth.ts";

export interface MachineOptions {
  /** Longest stretch a CPU runs before yielding to the scheduler (bounds skew between CPUs). */
  quantumNs?: number;
  /** How long a thread keeps its CPU when others are runnable on it. */
  timesliceNs?: number;
  /** Rows per batch a thread program fills. */
  batchSize?: number;
  /** Ground truth recording (per virtual page; per frame too with frames: true); false turns it off. */
  truth?: Partial<TruthOptions> | false;
  /** Flush the TLB entry of a page whenever its Accessed bit is cleared (default false, as x86 mkold). */
  flushTlbOnMkold?: boolean;
  /** A swap device exists (default true): anonymous pages can be reclaimed. Without it only file pages can. */
  swap?: boolean;
  /**
   * Default of migrate()'s copyTraffic: a migration's page copy reads the source node's and writes
   * the destination node's memory through the bandwidth model. Default false, so runs that use no
   * DAMOS scheme (NUMA balancing migrations) keep their timings; DAMOS migrations pass true.
   */
  migrationTraffic?: boolean;
}

export class Machine implements CpuHost, MmHost {
  readonly cpus: Cpu[] = [];
  readonly memory: PhysicalMemory;
  readonly ptes = new PteStore(4096);
  readonly spaces: AddressSpace[] = [];
  readonly vmas: Vma[] = [];
  readonly threads: Map<number, ThreadState>;
  /** LLC per node (CPU-less nodes share none: index is the node id, undefined there). */
  readonly llcs: (Cache | undefined)[] = [];
  /** 1 for nodes of kind "cxl" (CPU-less far memory). */
  readonly farNode: Uint8Array;
  readonly truth: GroundTruth | null;
  readonly samplers: AccessSampler[] = [];
  trapHandler: TrapHandler | null = null;
  /** The one record passed to samplers (overwritten per access). */
  readonly record = new AccessRecord();
  readonly quantumNs: number;
  readonly timesliceNs: number;
  readonly batchSize: number;
  flushTlbOnMkold: boolean;
  /** Resolved memory-management costs (config costs with their defaults). */
  readonly mmCosts: ReturnType<typeof mmCosts>;
  readonly swap: boolean;
  migrationTraffic: boolean;
  /** Per-node page LRU. */
  readonly lru: Lru;
  readonly reclaimer: Reclaimer;
  /** Shared file pages by file and offset. */
  readonly pageCache = new PageCache();
  /** Per node: program demand accesses (line fills) its memory served, and dirty lines written back to it. */
  readonly memServed: Float64Array;
  readonly memWritebacks: Float64Array;
  private readonly placement: Placement;
  private readonly pager: Pager;
  faultsTotal = 0;
  migrations = 0;
  migrationFailures = 0;
  shootdowns = 0;
  /** Major faults (swap-ins and file refaults a thread waited for). */
  majorFaults = 0;
  /** Pages read back from swap or the file (major faults and MADV_WILLNEED). */
  swapIns = 0;
  /** Pages freed by pageout (DAMOS, madvise or reclaim), and those of them that needed a write. */
  pagesOut = 0;
  pageWrites = 0;
  /** Direct reclaim runs and the pages they reclaimed. */
  directReclaims = 0;
  directReclaimed = 0;
  thpSplits = 0;
  /** Cumulative memory stall time (major faults and direct reclaim), ns. */
  memStallNs = 0;
  /** Bytes copied by migrations that counted their traffic. */
  migrationCopyBytes = 0;
  /** Bytes migrated to each node (every migration, whoever asked for it). */
  readonly migratedBytesTo: Float64Array;

  constructor(
    readonly config: MachineConfig,
    readonly sched: Scheduler,
    readonly rng: RngRoot,
    options: MachineOptions = {},
  ) {
    this.quantumNs = options.quantumNs ?? 10 * US;
    this.timesliceNs = options.timesliceNs ?? 4 * MS;
    this.batchSize = options.batchSize ?? 1024;
    this.flushTlbOnMkold = options.flushTlbOnMkold ?? false;
    if (!(this.quantumNs > 0)) throw new SimError("quantum must be positive");
    this.memory = new PhysicalMemory(config);
    this.mmCosts = mmCosts(config);
    this.swap = options.swap ?? true;
    this.migrationTraffic = options.migrationTraffic ?? false;
    this.migratedBytesTo = new Float64Array(config.nodes.length);
    this.lru = new Lru(config.nodes.length, (f) => this.memory.nodeOf(f));
    this.reclaimer = new Reclaimer(this);
    this.pager = new Pager(this, this.reclaimer);
    this.placement = new Placement(this);
    this.threads = this.placement.threads;
    this.memServed = new Float64Array(config.nodes.length);
    this.memWritebacks = new Float64Array(config.nodes.length);
    this.farNode = Uint8Array.from(config.nodes.map((n) => (n.kind === "cxl" ? 1 : 0)));
    for (const node of config.nodes) {
      const hasCpu = config.cpus.some((c) => c.node === node.id);
      this.llcs.push(hasCpu ? new Cache(config.caches.llc, `node${node.id}.llc`) : undefined);
    }
    config.cpus.forEach((c, i) => this.cpus.push(new Cpu(this, i, this.llcs[c.node]!)));
    if (options.truth === false) {
      this.truth = null;
    } else {
      const t = options.truth ?? {};
      this.truth = new GroundTruth({ windowNs: t.windowNs ?? 100 * MS, subWindowNs: t.subWindowNs ?? 5 * MS, frames: t.frames ?? false });
      this.truth.attach(sched);
    }
  }

  // ---- threads (placement.ts) ------------------------------------------------------------

  /** Builds the workload's address spaces and threads, places threads and starts the CPUs. */
  load(workload: Workload): void {
    this.placement.load(workload);
  }

  threadFinished(th: ThreadState): void {
    this.placement.threadFinished(th);
  }

  /** True once every loaded thread has finished. */
  get finished(): boolean {
    return this.placement.finished;
  }

  onAllThreadsDone(fn: (now: number) => void): void {
    this.placement.onAllThreadsDone(fn);
  }

  spaceOf(pid: number): AddressSpace | undefined {
    return this.placement.spaceOf(pid);
  }

  // ---- faults on the access path (paging.ts, swap.ts, traps.ts) --------------------------

  /** Demand-paging fault: maps the page holding addr under its VMA's policy; returns the PTE slot. */
  demandFault(cpu: Cpu, th: ThreadState, addr: number): number {
    return this.pager.demandFault(cpu, th, addr);
  }

  /** A walk met a paged-out PTE: swap the page in (a major fault, or a minor one when a shared file page is back in the page cache). */
  majorFault(cpu: Cpu, pte: number): void {
    cpu.chargeFault(swapInPage(this, pte, cpu.node, cpu.clock, true));
  }

  /** A walk met a PROT_NONE trap: run the handler, then restore the PTE. Returns the cost. */
  trapFault(cpu: Cpu, th: ThreadState, pte: number, vaddr: number, isWrite: boolean): number {
    return trapFault(this, cpu, th, pte, vaddr, isWrite);
  }

  // ---- memory management -----------------------------------------------------------------

  /** A frame (or huge page) for page `vpn` of `vma` under its NUMA policy, reclaiming when memory is full (Pager.allocate). */
  allocate(vma: Vma, vpn: number, cpuNode: number, huge: boolean, mayFail = false): number {
    return this.pager.allocate(vma, vpn, cpuNode, huge, mayFail);
  }

  /** Direct reclaim time spent by allocate() since the last call, ns (the caller charges it). */
  takeReclaimNs(): number {
    return this.pager.takeReclaimNs();
  }

  /** Calls fn for every PTE slot mapping `frame` (a head frame for huge pages). */
  forEachMapping(frame: number, fn: (pte: number) => void): void {
    forEachMapping(this, frame, fn);
  }

  /** PTE slot mapping the 4 KiB frame `frame` first (resolving huge tails to their head), or -1. */
  firstMapping(frame: number): number {
    return firstMapping(this, frame);
  }

  /** PTE slot translating `vaddr` in address space `asid` (present mappings only), or -1 (no side effects). */
  lookupPte(asid: number, vaddr: number): number {
    const s = this.pteAt(asid, vaddr);
    return s >= 0 && (this.ptes.flags[s]! & PteFlag.PRESENT) !== 0 ? s : -1;
  }

  /** PTE slot of `vaddr` in address space `asid` whether present or paged out, or -1. */
  pteAt(asid: number, vaddr: number): number {
    const pt = this.spaces[asid]!.pageTable;
    const vpn = Math.floor(vaddr / 4096);
    const s = pt.get(pageKey4k(vpn));
    return s >= 0 ? s : pt.get(pageKey2m(vpn));
  }

  /** The PTE maps a frame (not paged out, not a dead slot of a split huge page). */
  present(pte: number): boolean {
    return (this.ptes.flags[pte]! & PteFlag.PRESENT) !== 0;
  }

  /** Physical address of vaddr through PTE slot pte. */
  physAddr(pte: number, vaddr: number): number {
    return this.ptes.physAddr(pte, vaddr);
  }

  /** Node of the memory backing a PTE (a paged-out PTE has none: -1). */
  nodeOfPte(pte: number): number {
    const f = this.ptes.frame[pte]!;
    return f < 0 ? -1 : this.memory.nodeOf(f);
  }

  /** Drops a PTE's translation from every CPU's TLBs. Returns the CPUs that had to be told. */
  shootdown(pte: number): number {
    return shootdown(this, pte);
  }

  /** Number of CPUs running threads of address space asid (who would get a shootdown IPI). */
  cpusRunning(asid: number): number {
    return cpusRunning(this, asid);
  }

  /**
   * Clears the PTE Accessed bit, as DAMON's mkold does: if it was set, the frame is marked PG_young;
   * the frame is always marked PG_idle. Flushes the page's TLB entries when flushTlbOnMkold is on.
   * Returns whether the bit was set.
   */
  mkold(pte: number): boolean {
    const fl = this.ptes.flags[pte]!;
    const was = (fl & PteFlag.ACCESSED) !== 0;
    this.ptes.flags[pte] = fl & ~PteFlag.ACCESSED;
    const frame = this.ptes.frame[pte]!;
    const ff = this.memory.flags.get(frame);
    this.memory.flags.set(frame, ff | FrameFlag.IDLE | (was ? FrameFlag.YOUNG : 0));
    if (this.flushTlbOnMkold) shootdown(this, pte);
    return was;
  }

  /** The PTE Accessed bit. */
  accessed(pte: number): boolean {
    return (this.ptes.flags[pte]! & PteFlag.ACCESSED) !== 0;
  }

  /** DAMON's young check of a mapping: the Accessed bit is set, or the frame lost PG_idle. */
  young(pte: number): boolean {
    if ((this.ptes.flags[pte]! & PteFlag.ACCESSED) !== 0) return true;
    return (this.memory.flags.get(this.ptes.frame[pte]!) & FrameFlag.IDLE) === 0;
  }

  /** Arms a PROT_NONE trap on a PTE for `owner` (TrapOwner bits); the TLB entries are flushed. */
  armTrap(pte: number, owner: number): void {
    armTrap(this, pte, owner);
  }

  /** Removes `owner` from a PTE's trap, restoring the PTE when no owner is left. */
  disarmTrap(pte: number, owner: number): void {
    disarmTrap(this, pte, owner);
  }

  /**
   * Migrates the page mapped by `pte` (all its mappings) to `node` (migration.ts). Returns the cost
   * in ns (copy + shootdown IPIs) for the caller to charge, or -1 if the node has no free frame
   * (nothing changes). copyTraffic (default MachineOptions.migrationTraffic): the copy goes
   * through the two nodes' bandwidth models.
   */
  migrate(pte: number, node: number, copyTraffic = this.migrationTraffic): number {
    return migratePage(this, pte, node, copyTraffic);
  }

  /**
   * Migrates the folio holding physical frame `frame` (paddr's view: through its reverse map) to
   * `node`, as migrate(). -1 when the frame is not an allocated, mapped page or the node is full.
   */
  migrateFrame(frame: number, node: number, copyTraffic = this.migrationTraffic): number {
    return migrateFolio(this, frame, node, copyTraffic);
  }

  /**
   * Reclaims the folio holding `frame` (hw/swap.ts): every mapping becomes a paged-out PTE, the
   * frame(s) are freed; a huge folio is split first and all 512 pages go. With checkReferences
   * the reclaim decision is the kernel's folio_check_references (a folio with referenced PTEs is
   * kept or activated, as reclaim_pages(list, false) for DAMON's paddr pageout); without, it is
   * unconditional (MADV_PAGEOUT). Returns the cost in ns, or -1 when nothing was reclaimed (not an
   * LRU page, kept for its references, or anonymous with no swap device).
   */
  pageout(frame: number, checkReferences = false): number {
    return checkReferences ? this.reclaimer.reclaimFolio(frame, this.sched.now) : pageoutFolio(this, frame, this.sched.now);
  }

  /** Swaps in a paged-out PTE outside a fault (MADV_WILLNEED); returns the cost, or -1 if no frame could be found. */
  swapInPte(pte: number, cpuNode: number): number {
    return swapInPage(this, pte, cpuNode, this.sched.now, false);
  }

  /** Splits a present huge mapping into 4 KiB ones (hw/thp.ts); returns the cost, ns. */
  splitHuge(pte: number): number {
    return splitHugeMapping(this, pte);
  }

  /** folio_mark_accessed on the folio holding `frame` (DAMOS lru_prio): LRU promotion rules, and PG_idle cleared. */
  markAccessed(frame: number): void {
    const head = folioOf(this, frame);
    if (head < 0) return;
    this.lru.markAccessed(head);
    this.memory.flags.set(head, this.memory.flags.get(head) & ~FrameFlag.IDLE);
  }

  /** folio_deactivate on the folio holding `frame` (DAMOS lru_deprio, MADV_COLD). */
  deactivate(frame: number): void {
    const head = folioOf(this, frame);
    if (head >= 0) this.lru.deactivate(head);
  }

  // ---- CPU time --------------------------------------------------------------------------

  /** Total CPU time by category over all CPUs. */
  cpuTime(category: number): number {
    let t = 0;
    for (const c of this.cpus) t += c.time[category]!;
    return t;
  }

  /** Charges `ns` of `category` work to CPU `cpu` (kdamond, scanners, handlers running there). */
  charge(cpu: number, ns: number, category: number = CpuTime.KDAMOND): void {
    this.cpus[cpu]!.charge(ns, category);
  }
}
