// The machine: NUMA nodes, CPUs with their caches and TLBs, physical memory, address spaces and
// page tables, the ground truth recorder, and the hooks the access check primitives use. It loads a
// Workload (layout + thread programs), places threads on CPUs by affinity, and offers the memory
// management operations the kernel-side models need: demand paging under a NUMA policy, page
// migration with TLB shootdowns, reverse maps from frames to PTEs, Accessed-bit clearing (with or
// without a TLB flush), PROT_NONE traps, the per-node page LRU (hw/lru.ts), pageout and swap-in
// (hw/swap.ts), direct reclaim when an allocation finds memory full (hw/reclaim.ts) and THP splits
// (hw/thp.ts). It counts the demand accesses each node's memory serves (memServed, memWritebacks)
// and the memory stall time of major faults and direct reclaim (memStallNs, for PSI some_mem).

import { SimError } from "../sim/errors.ts";
import type { RngRoot } from "../sim/rng.ts";
import type { Scheduler } from "../sim/scheduler.ts";
import type { Stats } from "../sim/stats.ts";
import { MS, US } from "../sim/time.ts";
import { Cache } from "./cache.ts";
import { mmCosts, type MachineConfig } from "./config.ts";
import { CPU_TIME_NAMES, Cpu, CpuTime } from "./cpu.ts";
import { AccessRecord, DATA_SOURCE_NAMES, type AccessSampler, type TrapFault, type TrapHandler } from "./hooks.ts";
import { folioOf } from "./folio.ts";
import { validateLayout } from "./layout.ts";
import { Lru, LruList } from "./lru.ts";
import { FrameFlag, HUGE_FRAMES, PhysicalMemory } from "./memory.ts";
import { PteFlag, PteStore, pageKey2m, pageKey4k } from "./pagetable.ts";
import { AddressSpace, ThreadState, Vma } from "./process.ts";
import type { ThreadProgram, Workload } from "./program.ts";
import { Reclaimer } from "./reclaim.ts";
import { demuxMerged } from "./replay.ts";
import { pageoutFolio, swapInPage } from "./swap.ts";
import { splitHugeMapping } from "./thp.ts";
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

export class Machine {
  readonly cpus: Cpu[] = [];
  readonly memory: PhysicalMemory;
  readonly ptes = new PteStore(4096);
  readonly spaces: AddressSpace[] = [];
  readonly vmas: Vma[] = [];
  readonly threads = new Map<number, ThreadState>();
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
  /** Per node: program demand accesses (line fills) its memory served, and dirty lines written back to it. */
  readonly memServed: Float64Array;
  readonly memWritebacks: Float64Array;
  private readonly pageCache = new Map<string, Map<number, number>>();
  private readonly spaceByPid = new Map<number, AddressSpace>();
  private liveThreads = 0;
  private readonly doneListeners: Array<(now: number) => void> = [];
  private readonly trapFaultRec: TrapFault = { cpu: 0, tid: 0, pid: 0, vaddr: 0, pte: 0, paddr: 0, isWrite: false, owners: 0, time: 0 };
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
  /** Direct reclaim time of the last allocate() calls, not yet charged by their caller, ns. */
  private reclaimNsPending = 0;

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

  // ---- loading workloads -----------------------------------------------------------------

  /** Builds the workload's address spaces and threads, places threads and starts the CPUs. */
  load(workload: Workload): void {
    validateLayout(workload.layout, `workload '${workload.name}' layout`);
    const run = workload.start(this.rng);
    const programs = new Map<number, ThreadProgram>();
    if (run.kind === "threads") {
      for (const p of run.threads) programs.set(p.tid, p);
    } else {
      const tids = workload.layout.processes.flatMap((p) => p.threads.map((t) => t.tid));
      for (const p of demuxMerged(run.source, tids, this.batchSize)) programs.set(p.tid, p);
    }
    for (const proc of workload.layout.processes) {
      if (this.spaceByPid.has(proc.pid)) throw new SimError(`process ${proc.pid} is already loaded`);
      const asid = this.spaces.length;
      const vmas = proc.vmas.map((v) => {
        const vma = Vma.fromSpec(this.vmas.length, asid, v, proc);
        this.vmas.push(vma);
        return vma;
      });
      const space = new AddressSpace(asid, proc.pid, proc.name, vmas);
      this.spaces.push(space);
      this.spaceByPid.set(proc.pid, space);
      for (const t of proc.threads) {
        const prog = programs.get(t.tid);
        if (!prog) throw new SimError(`workload '${workload.name}' has no program for thread ${t.tid}`);
        const allowed = (t.cpus ?? this.cpus.map((_, i) => i)).filter((c) => c >= 0 && c < this.cpus.length);
        if (allowed.length === 0) throw new SimError(`thread ${t.tid} may not run on any of this machine's ${this.cpus.length} CPUs`);
        const th = new ThreadState(t.tid, space, allowed, prog, this.batchSize);
        this.threads.set(t.tid, th);
        space.threads.push(th);
        this.place(th);
      }
    }
    for (const cpu of this.cpus) if (cpu.runq.length > 0 && !cpu.sleeping) cpu.sleepUntil(this.sched.now);
  }

  /** Puts a thread on the allowed CPU with the fewest threads (lowest id on ties). */
  private place(th: ThreadState): void {
    let best = th.allowedCpus[0]!;
    for (const c of th.allowedCpus) if (this.cpus[c]!.runq.length < this.cpus[best]!.runq.length) best = c;
    th.cpu = best;
    this.cpus[best]!.runq.push(th);
    this.liveThreads++;
  }

  threadFinished(_th: ThreadState): void {
    if (--this.liveThreads === 0) for (const fn of this.doneListeners) fn(this.sched.now);
  }

  /** True once every loaded thread has finished. */
  get finished(): boolean {
    return this.liveThreads === 0 && this.threads.size > 0;
  }

  onAllThreadsDone(fn: (now: number) => void): void {
    this.doneListeners.push(fn);
  }

  spaceOf(pid: number): AddressSpace | undefined {
    return this.spaceByPid.get(pid);
  }

  // ---- memory management -----------------------------------------------------------------

  /** Demand-paging fault: maps the page holding addr under its VMA's policy; returns the PTE slot. */
  demandFault(cpu: Cpu, th: ThreadState, addr: number): number {
    const space = th.space;
    const vma = space.findVma(addr);
    if (vma === undefined) {
      throw new SimError(`thread ${th.tid} (pid ${space.pid}) touched 0x${addr.toString(16)}, which is outside every VMA of the process`);
    }
    const vpn = Math.floor(addr / 4096);
    const hvpn = vpn - (vpn % HUGE_FRAMES);
    const huge = vma.hugeAllowed(hvpn * 4096);
    let flags = PteFlag.PRESENT | (vma.writable ? PteFlag.WRITABLE : 0);
    let frame = -1;
    let cost = this.config.costs.faultNs;
    if (huge) {
      frame = this.allocate(vma, hvpn, cpu.node, true);
      if (frame >= 0) {
        flags |= PteFlag.HUGE;
        cost = this.config.costs.hugeFaultNs;
      }
    }
    let pte: number;
    if (frame >= 0) {
      pte = this.ptes.add(space.asid, hvpn, frame, flags, vma.id);
      space.pageTable.set(pageKey2m(vpn), pte);
      space.hasHuge = true;
      this.lru.add(frame, HUGE_FRAMES, vma.memcg);
    } else {
      frame = this.sharedFileFrame(vma, vpn);
      if (frame < 0) {
        frame = this.allocate(vma, vpn, cpu.node, false);
        this.lru.add(frame, 1, vma.memcg);
        cost += this.takeReclaimNs();
      }
      pte = this.ptes.add(space.asid, vpn, frame, flags, vma.id);
      space.pageTable.set(pageKey4k(vpn), pte);
      if (vma.fileId !== null && vma.shared) this.filePages(vma.fileId).set(vma.pgoff + vpn - vma.start / 4096, frame);
    }
    this.rmapAdd(frame, pte);
    if (this.truth) this.truth.ensurePages(this.ptes.size);
    this.faultsTotal++;
    cpu.chargeFault(cost);
    return pte;
  }

  /** A walk met a paged-out PTE: swap the page in (a major fault, or a minor one when a shared file page is back in the page cache). */
  majorFault(cpu: Cpu, pte: number): void {
    cpu.chargeFault(swapInPage(this, pte, cpu.node, cpu.clock, true));
  }

  /** Direct reclaim time spent by allocate() since the last call, ns (the caller charges it). */
  takeReclaimNs(): number {
    const ns = this.reclaimNsPending;
    this.reclaimNsPending = 0;
    return ns;
  }

  /** The page cache of a shared file: page offset -> frame (hw-internal). */
  filePages(fileId: string): Map<number, number> {
    let m = this.pageCache.get(fileId);
    if (m === undefined) {
      m = new Map();
      this.pageCache.set(fileId, m);
    }
    return m;
  }

  /** Frame already holding this page of a shared file mapping, or -1. */
  sharedFileFrame(vma: Vma, vpn: number): number {
    if (vma.fileId === null || !vma.shared) return -1;
    return this.pageCache.get(vma.fileId)?.get(vma.pgoff + vpn - vma.start / 4096) ?? -1;
  }

  /**
   * Allocates a frame (or a huge page) for page `vpn` of `vma` under its NUMA policy. When no
   * allowed node has a free 4 KiB frame, direct reclaim runs on the allowed nodes in policy order
   * (its time is counted as memory stall and left for the caller in takeReclaimNs()); if nothing
   * could be reclaimed the allocation fails: -1 with mayFail, else an out-of-memory error. Huge
   * pages never reclaim (the caller falls back to 4 KiB pages). Not the hot path: a fault's.
   */
  allocate(vma: Vma, vpn: number, cpuNode: number, huge: boolean, mayFail = false): number {
    const nodes = this.policyNodes(vma, vpn, cpuNode);
    for (const node of nodes) {
      const f = huge ? this.memory.allocHuge(node) : this.memory.alloc(node);
      if (f >= 0) return f;
    }
    if (huge) return -1; // fall back to 4 KiB pages
    const ns = this.reclaimer.direct(nodes);
    this.reclaimNsPending += ns;
    this.memStallNs += ns;
    for (const node of nodes) {
      const f = this.memory.alloc(node);
      if (f >= 0) return f;
    }
    if (mayFail) return -1;
    throw new SimError(`out of memory: no node allowed by the ${vma.policy.mode} policy of VMA '${vma.name}' has a free frame, and nothing on them could be reclaimed`);
  }

  /** Candidate nodes, in order, for a page under the VMA's policy. */
  policyNodes(vma: Vma, vpn: number, cpuNode: number): number[] {
    const p = vma.policy;
    const all = this.config.nodes.map((n) => n.id);
    const byDistance = (from: number, set: number[]): number[] =>
      [...set].sort((a, b) => this.config.distance[from]![a]! - this.config.distance[from]![b]! || a - b);
    switch (p.mode) {
      case "local":
        return byDistance(cpuNode, all);
      case "bind":
        return byDistance(cpuNode, p.nodes!.filter((n) => n < all.length));
      case "preferred":
        return byDistance(p.nodes![0]!, all);
      case "interleave": {
        const nodes = p.nodes!.filter((n) => n < all.length);
        const idx = (vma.pgoff + vpn - vma.start / 4096) % nodes.length;
        return [...nodes.slice(idx), ...nodes.slice(0, idx)];
      }
    }
  }

  /** Links PTE slot pte into frame's reverse map (hw-internal). */
  rmapAdd(frame: number, pte: number): void {
    this.ptes.rmapNext[pte] = this.memory.rmapHead.get(frame);
    this.memory.rmapHead.set(frame, pte);
  }

  /** Calls fn for every PTE slot mapping `frame` (a head frame for huge pages). */
  forEachMapping(frame: number, fn: (pte: number) => void): void {
    for (let s = this.memory.rmapHead.get(frame); s >= 0; s = this.ptes.rmapNext[s]!) fn(s);
  }

  /** PTE slot mapping the 4 KiB frame `frame` first (resolving huge tails to their head), or -1. */
  firstMapping(frame: number): number {
    const fl = this.memory.flags.get(frame);
    if ((fl & FrameFlag.HUGE_TAIL) !== 0) frame -= frame % HUGE_FRAMES;
    return this.memory.rmapHead.get(frame);
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
    const vpn = Math.floor(vaddr / 4096);
    let frame = this.ptes.frame[pte]!;
    if (this.ptes.isHuge(pte)) frame += vpn - this.ptes.vpn[pte]!;
    return frame * 4096 + (vaddr % 4096);
  }

  /** Drops a PTE's translation from every CPU's TLBs. Returns the CPUs that had to be told. */
  shootdown(pte: number): number {
    const asid = this.ptes.asid[pte]!;
    const vpn = this.ptes.vpn[pte]!;
    const huge = this.ptes.isHuge(pte);
    for (const c of this.cpus) c.invalidateTranslation(asid, vpn, huge);
    this.shootdowns++;
    return this.cpusRunning(asid);
  }

  /** Number of CPUs running threads of address space asid (who would get a shootdown IPI). */
  cpusRunning(asid: number): number {
    let n = 0;
    for (const c of this.cpus) if (c.runq.some((t) => t.space.asid === asid)) n++;
    return n;
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
    if (this.flushTlbOnMkold) this.shootdown(pte);
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
    const fl = this.ptes.flags[pte]!;
    this.ptes.trapOwners[pte] = this.ptes.trapOwners[pte]! | owner;
    if ((fl & PteFlag.TRAP) === 0) {
      this.ptes.flags[pte] = fl | PteFlag.TRAP;
      this.shootdown(pte);
    }
  }

  /** Removes `owner` from a PTE's trap, restoring the PTE when no owner is left. */
  disarmTrap(pte: number, owner: number): void {
    const o = this.ptes.trapOwners[pte]! & ~owner;
    this.ptes.trapOwners[pte] = o;
    if (o === 0) this.ptes.flags[pte] = this.ptes.flags[pte]! & ~PteFlag.TRAP;
  }

  /** A walk met a PROT_NONE trap: run the handler, then restore the PTE. Returns the cost. */
  trapFault(cpu: Cpu, th: ThreadState, pte: number, vaddr: number, isWrite: boolean): number {
    const f = this.trapFaultRec;
    f.cpu = cpu.cpuId;
    f.tid = th.tid;
    f.pid = th.space.pid;
    f.vaddr = vaddr;
    f.pte = pte;
    f.paddr = this.physAddr(pte, vaddr);
    f.isWrite = isWrite;
    f.owners = this.ptes.trapOwners[pte]!;
    f.time = cpu.clock;
    const cost = this.trapHandler !== null ? this.trapHandler.onTrap(f) : 0;
    this.ptes.trapOwners[pte] = 0;
    this.ptes.flags[pte] = this.ptes.flags[pte]! & ~PteFlag.TRAP;
    return cost;
  }

  /**
   * Migrates the page mapped by `pte` (all its mappings) to `node`. Returns the cost in ns (copy +
   * shootdown IPIs) for the caller to charge, or -1 if the node has no free frame (nothing changes:
   * migration allocates without reclaim and fails fast, as the kernel's for DAMON and NUMA
   * balancing). With copyTraffic the copy reads the source node's memory and writes the
   * destination's through their bandwidth models (at the scheduler's time). The new frame keeps
   * the old one's LRU list and bits.
   */
  migrate(pte: number, node: number, copyTraffic = this.migrationTraffic): number {
    const ptes = this.ptes;
    if ((ptes.flags[pte]! & PteFlag.PRESENT) === 0 || node < 0 || node >= this.memory.nodes.length) return -1;
    const oldFrame = ptes.frame[pte]!;
    const huge = ptes.isHuge(pte);
    const oldNode = this.memory.nodeOf(oldFrame);
    if (oldNode === node) return 0;
    const newFrame = huge ? this.memory.allocHuge(node) : this.memory.alloc(node);
    if (newFrame < 0) {
      this.migrationFailures++;
      return -1;
    }
    if (copyTraffic) {
      const bytes = (huge ? HUGE_FRAMES : 1) * 4096;
      this.memory.nodes[oldNode]!.transfer(this.sched.now, bytes, false);
      this.memory.nodes[node]!.transfer(this.sched.now, bytes, true);
      this.migrationCopyBytes += bytes;
    }
    const maps: number[] = [];
    this.forEachMapping(oldFrame, (s) => maps.push(s));
    let ipis = 0;
    for (const s of maps) {
      ptes.frame[s] = newFrame;
      ipis += this.shootdown(s);
    }
    for (const s of maps) this.rmapAdd(newFrame, s);
    const fl = this.memory.flags.get(oldFrame) & (FrameFlag.IDLE | FrameFlag.YOUNG);
    this.memory.flags.set(newFrame, this.memory.flags.get(newFrame) | fl);
    this.invalidateFrameLines(oldFrame, huge ? HUGE_FRAMES : 1);
    const vma = this.vmas[ptes.vma[pte]!]!;
    if (vma.fileId !== null && vma.shared) this.filePages(vma.fileId).set(vma.pgoff + ptes.vpn[pte]! - vma.start / 4096, newFrame);
    this.lru.transfer(oldFrame, newFrame);
    if (huge) this.memory.freeHuge(oldFrame);
    else this.memory.free(oldFrame);
    this.migrations++;
    const pages = huge ? HUGE_FRAMES : 1;
    this.migratedBytesTo[node]! += pages * 4096;
    return this.config.costs.migrateNs * pages + this.config.costs.shootdownNs * ipis;
  }

  /**
   * Migrates the folio holding physical frame `frame` (paddr's view: through its reverse map) to
   * `node`, as migrate(). -1 when the frame is not an allocated, mapped page or the node is full.
   */
  migrateFrame(frame: number, node: number, copyTraffic = this.migrationTraffic): number {
    const head = folioOf(this, frame);
    const pte = head < 0 ? -1 : this.memory.rmapHead.get(head);
    return pte < 0 ? -1 : this.migrate(pte, node, copyTraffic);
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

  /** Removes a freed frame's lines from every cache, so a later owner cannot hit stale lines (hw-internal). */
  invalidateFrameLines(frame: number, frames: number): void {
    const first = frame * 64;
    const last = (frame + frames) * 64;
    // a cache that never missed never allocated a line (access() is its only way in): skip it
    const used: Cache[] = [];
    for (const c of this.cpus) for (const k of [c.l1d, c.l1i, c.l2]) if (k.misses > 0) used.push(k);
    for (const llc of this.llcs) if (llc && llc.misses > 0) used.push(llc);
    for (let line = first; line < last; line++) for (const k of used) k.invalidate(line);
  }

  /** Node of the memory backing a PTE (a paged-out PTE has none: -1). */
  nodeOfPte(pte: number): number {
    const f = this.ptes.frame[pte]!;
    return f < 0 ? -1 : this.memory.nodeOf(f);
  }

  /** Bytes of each node in use. */
  usedBytes(node: number): number {
    return this.memory.nodes[node]!.used * 4096;
  }

  // ---- statistics ------------------------------------------------------------------------

  /** Registers the machine's statistics (gem5-style names) in `stats`. */
  registerStats(stats: Stats, prefix = "system"): void {
    stats.gauge(`${prefix}.faults`, "demand-paging faults", () => this.faultsTotal);
    stats.gauge(`${prefix}.migrations`, "pages migrated", () => this.migrations);
    stats.gauge(`${prefix}.migrationFailures`, "migrations that found no free frame", () => this.migrationFailures);
    stats.gauge(`${prefix}.tlbShootdowns`, "TLB shootdowns", () => this.shootdowns);
    stats.gauge(`${prefix}.majorFaults`, "major faults (swap-ins and file refaults waited for)", () => this.majorFaults);
    stats.gauge(`${prefix}.swapIns`, "pages read back from swap or their file", () => this.swapIns);
    stats.gauge(`${prefix}.pagesOut`, "pages freed by pageout or reclaim", () => this.pagesOut);
    stats.gauge(`${prefix}.pageWrites`, "paged-out pages that needed a write (anon, or dirty file)", () => this.pageWrites);
    stats.gauge(`${prefix}.directReclaims`, "direct reclaim runs (an allocation found memory full)", () => this.directReclaims);
    stats.gauge(`${prefix}.directReclaimed`, "pages reclaimed by direct reclaim", () => this.directReclaimed);
    stats.gauge(`${prefix}.thpSplits`, "huge pages split", () => this.thpSplits);
    stats.gauge(`${prefix}.memStallTime`, "memory stall time (major faults, direct reclaim)", () => this.memStallNs, "Nanosecond");
    stats.gauge(`${prefix}.migrationCopyBytes`, "bytes copied by migrations that count their traffic", () => this.migrationCopyBytes, "Byte");
    this.cpus.forEach((c, i) => {
      const p = `${prefix}.cpu${i}`;
      stats.gauge(`${p}.accesses`, "memory accesses executed", () => c.accesses);
      stats.gauge(`${p}.ops`, "non-memory ops executed", () => c.ops);
      stats.gauge(`${p}.walks`, "page walks", () => c.walks);
      stats.gauge(`${p}.faults`, "demand-paging faults", () => c.faults);
      stats.gauge(`${p}.traps`, "PROT_NONE trap faults", () => c.traps);
      for (const [name, cache] of [["l1d", c.l1d], ["l1i", c.l1i], ["l2", c.l2]] as const) {
        stats.gauge(`${p}.${name}.hits`, `${name} hits`, () => cache.hits);
        stats.gauge(`${p}.${name}.misses`, `${name} misses`, () => cache.misses);
        stats.gauge(`${p}.${name}.writebacks`, `${name} dirty evictions`, () => cache.writebacks);
      }
      for (const [name, tlb] of [["dtlb", c.dtlb], ["dtlb2m", c.dtlbHuge], ["itlb", c.itlb], ["stlb", c.stlb]] as const) {
        stats.gauge(`${p}.${name}.hits`, `${name} hits`, () => tlb.hits);
        stats.gauge(`${p}.${name}.misses`, `${name} misses`, () => tlb.misses);
      }
      CPU_TIME_NAMES.forEach((n, k) => stats.gauge(`${p}.time.${n}`, `CPU time in ${n}`, () => c.time[k]!, "Nanosecond"));
      DATA_SOURCE_NAMES.forEach((n, k) => stats.gauge(`${p}.source.${n.replace(/ /g, "_")}`, `accesses served by ${n}`, () => c.sources[k]!));
    });
    this.llcs.forEach((llc, n) => {
      if (!llc) return;
      stats.gauge(`${prefix}.node${n}.llc.hits`, "LLC hits", () => llc.hits);
      stats.gauge(`${prefix}.node${n}.llc.misses`, "LLC misses", () => llc.misses);
      stats.gauge(`${prefix}.node${n}.llc.writebacks`, "LLC dirty evictions", () => llc.writebacks);
    });
    this.memory.nodes.forEach((node, n) => {
      stats.gauge(`${prefix}.node${n}.mem.readBytes`, "bytes read from this node's memory", () => node.readBytes, "Byte");
      stats.gauge(`${prefix}.node${n}.mem.writeBytes`, "bytes written to this node's memory", () => node.writeBytes, "Byte");
      stats.gauge(`${prefix}.node${n}.mem.usedBytes`, "bytes allocated on this node", () => node.used * 4096, "Byte");
      stats.gauge(`${prefix}.node${n}.migratedInBytes`, "bytes migrated to this node", () => this.migratedBytesTo[n]!, "Byte");
      stats.gauge(`${prefix}.node${n}.mem.served`, "program demand line fills this node's memory served", () => this.memServed[n]!);
      stats.gauge(`${prefix}.node${n}.mem.writebacks`, "program dirty lines written back to this node's memory", () => this.memWritebacks[n]!);
      stats.gauge(`${prefix}.node${n}.lru.activeBytes`, "bytes on this node's active LRU list", () => this.lru.pages(n, LruList.ACTIVE) * 4096, "Byte");
      stats.gauge(`${prefix}.node${n}.lru.inactiveBytes`, "bytes on this node's inactive LRU list", () => this.lru.pages(n, LruList.INACTIVE) * 4096, "Byte");
    });
  }

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
