// The machine: NUMA nodes, CPUs with their caches and TLBs, physical memory, address spaces and
// page tables, the ground truth recorder, and the hooks the access check primitives use. It loads a
// Workload (layout + thread programs), places threads on CPUs by affinity, and offers the memory
// management operations the kernel-side models need: demand paging under a NUMA policy, page
// migration with TLB shootdowns, reverse maps from frames to PTEs, Accessed-bit clearing (with or
// without a TLB flush) and PROT_NONE traps.

import { SimError } from "../sim/errors.ts";
import type { RngRoot } from "../sim/rng.ts";
import type { Scheduler } from "../sim/scheduler.ts";
import type { Stats } from "../sim/stats.ts";
import { MS, US } from "../sim/time.ts";
import { Cache } from "./cache.ts";
import type { MachineConfig } from "./config.ts";
import { CPU_TIME_NAMES, Cpu, CpuTime } from "./cpu.ts";
import { AccessRecord, DATA_SOURCE_NAMES, type AccessSampler, type TrapFault, type TrapHandler } from "./hooks.ts";
import { validateLayout } from "./layout.ts";
import { FrameFlag, HUGE_FRAMES, PhysicalMemory } from "./memory.ts";
import { PteFlag, PteStore, pageKey2m, pageKey4k } from "./pagetable.ts";
import { AddressSpace, ThreadState, Vma } from "./process.ts";
import type { ThreadProgram, Workload } from "./program.ts";
import { demuxMerged } from "./replay.ts";
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
  private readonly pageCache = new Map<string, Map<number, number>>();
  private readonly spaceByPid = new Map<number, AddressSpace>();
  private liveThreads = 0;
  private readonly doneListeners: Array<(now: number) => void> = [];
  private readonly trapFaultRec: TrapFault = { cpu: 0, tid: 0, pid: 0, vaddr: 0, pte: 0, paddr: 0, isWrite: false, owners: 0, time: 0 };
  faultsTotal = 0;
  migrations = 0;
  migrationFailures = 0;
  shootdowns = 0;

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
    const huge = vma.hugepages && vma.backing === "anon" && hvpn * 4096 >= vma.start && (hvpn + HUGE_FRAMES) * 4096 <= vma.end;
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
    } else {
      frame = this.sharedFileFrame(vma, vpn);
      if (frame < 0) frame = this.allocate(vma, vpn, cpu.node, false);
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

  private filePages(fileId: string): Map<number, number> {
    let m = this.pageCache.get(fileId);
    if (m === undefined) {
      m = new Map();
      this.pageCache.set(fileId, m);
    }
    return m;
  }

  /** Frame already holding this page of a shared file mapping, or -1. */
  private sharedFileFrame(vma: Vma, vpn: number): number {
    if (vma.fileId === null || !vma.shared) return -1;
    return this.pageCache.get(vma.fileId)?.get(vma.pgoff + vpn - vma.start / 4096) ?? -1;
  }

  /** Allocates a frame (or a huge page) for page `vpn` of `vma` under its NUMA policy. */
  private allocate(vma: Vma, vpn: number, cpuNode: number, huge: boolean): number {
    for (const node of this.policyNodes(vma, vpn, cpuNode)) {
      const f = huge ? this.memory.allocHuge(node) : this.memory.alloc(node);
      if (f >= 0) return f;
    }
    if (huge) return -1; // fall back to 4 KiB pages
    throw new SimError(`out of memory: no node allowed by the ${vma.policy.mode} policy of VMA '${vma.name}' has a free frame`);
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

  private rmapAdd(frame: number, pte: number): void {
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

  /** PTE slot translating `vaddr` in address space `asid`, or -1 (no side effects). */
  lookupPte(asid: number, vaddr: number): number {
    const pt = this.spaces[asid]!.pageTable;
    const vpn = Math.floor(vaddr / 4096);
    const s = pt.get(pageKey4k(vpn));
    return s >= 0 ? s : pt.get(pageKey2m(vpn));
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
   * shootdown IPIs) for the caller to charge, or -1 if the node has no free frame (nothing changes).
   */
  migrate(pte: number, node: number): number {
    const ptes = this.ptes;
    const oldFrame = ptes.frame[pte]!;
    const huge = ptes.isHuge(pte);
    if (this.memory.nodeOf(oldFrame) === node) return 0;
    const newFrame = huge ? this.memory.allocHuge(node) : this.memory.alloc(node);
    if (newFrame < 0) {
      this.migrationFailures++;
      return -1;
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
    if (huge) this.memory.freeHuge(oldFrame);
    else this.memory.free(oldFrame);
    this.migrations++;
    const pages = huge ? HUGE_FRAMES : 1;
    return this.config.costs.migrateNs * pages + this.config.costs.shootdownNs * ipis;
  }

  /** Removes a freed frame's lines from every cache, so a later owner cannot hit stale lines. */
  private invalidateFrameLines(frame: number, frames: number): void {
    const first = frame * 64;
    const last = (frame + frames) * 64;
    // a cache that never missed never allocated a line (access() is its only way in): skip it
    const used: Cache[] = [];
    for (const c of this.cpus) for (const k of [c.l1d, c.l1i, c.l2]) if (k.misses > 0) used.push(k);
    for (const llc of this.llcs) if (llc && llc.misses > 0) used.push(llc);
    for (let line = first; line < last; line++) for (const k of used) k.invalidate(line);
  }

  /** Node of the memory backing a PTE. */
  nodeOfPte(pte: number): number {
    return this.memory.nodeOf(this.ptes.frame[pte]!);
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
