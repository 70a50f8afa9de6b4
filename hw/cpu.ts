// A simulated CPU: an actor that runs its threads' accesses in quanta on its own clock, and the
// per-access path: TLB (L1 DTLB/ITLB + huge-page DTLB, shared L2 TLB) -> page walk (sets the PTE
// Accessed bit, and Dirty on writes) -> demand-paging fault on first touch / major fault on a
// paged-out page / PROT_NONE trap ->
// caches (private L1D/L1I and L2, the node's shared LLC; write-back, write-allocate) -> the memory
// of the page's node (local/remote latency plus a bandwidth queue; its memory-side observer, if
// any, is told of each fill and write-back). Each access's latency is added
// to the CPU clock; costs of faults, traps and samplers are charged by category.
//
// The x86 subtlety DAMON depends on is kept: the Accessed bit is set only by a page walk, so after
// mkold clears it, accesses that hit in the TLB leave it clear until the entry is evicted or
// flushed (Machine option flushTlbOnMkold). A write through a TLB entry loaded by a read sets the
// Dirty bit (a microcode assist) but not the Accessed bit.
//
// Scheduling: each CPU has a run queue of threads pinned to it; the running thread keeps the CPU
// for a timeslice, then the next runnable one takes over. Programs that are not ready (a trace
// demultiplexer waiting for another thread's rows) are skipped.

import { Actor } from "../sim/actor.ts";
import { Priority, type Scheduler } from "../sim/scheduler.ts";
import { AccessKind } from "./batch.ts";
import { Cache } from "./cache.ts";
import type { MachineConfig } from "./config.ts";
import { DataSource, TlbOutcome, type AccessRecord, type AccessSampler } from "./hooks.ts";
import type { PhysicalMemory } from "./memory.ts";
import { PteFlag, pageKey2m, pageKey4k, type PteStore } from "./pagetable.ts";
import type { ThreadState } from "./process.ts";
import { Tlb, tlbKey2m, tlbKey4k } from "./tlb.ts";
import type { GroundTruth } from "./truth.ts";

/** Categories of CPU time, indices into Cpu.time. */
export const CpuTime = {
  /** Executing the workload's accesses and ops. */
  USER: 0,
  /** Demand-paging faults (first touch). */
  FAULT: 1,
  /** PROT_NONE trap faults (NUMA hinting, DAMON fault sampling). */
  TRAP: 2,
  /** Sample handling (PEBS assists, IBS NMIs, perf overflow handlers). */
  SAMPLING: 3,
  /** PTE scanning (NUMA balancing's task_numa_work). */
  SCAN: 4,
  /** kdamond's work (page table / rmap walks, region bookkeeping). */
  KDAMOND: 5,
  /** Page migration and TLB shootdowns. */
  MIGRATE: 6,
} as const;
export const CPU_TIME_NAMES = ["user", "fault", "trap", "sampling", "scan", "kdamond", "migrate"] as const;

const PAGE = 4096;
// Page and line numbers are taken as Math.floor(x * 2^-k) rather than Math.floor(x / 2^k): scaling
// by a power of two is exact for the non-negative integers below 2^53 used as addresses, so both
// give the same number, and a multiplication is cheaper than a division.
const INV_PAGE = 1 / PAGE;
const INV_LINE = 1 / 64;
/** PTE flags that send a walk off the plain path: a PROT_NONE trap, a paged-out page. */
const SLOW_PTE = PteFlag.TRAP | PteFlag.SWAPPED;

/**
 * What a CPU uses of its machine (the Machine is one): configuration, memory and page tables, the
 * ground truth, the samplers on the access path, the counters of memory served, and the kernel
 * paths an access can enter (demand, major and trap faults; a finished thread). Named here so that
 * cpu.ts does not import the machine that builds its CPUs.
 */
export interface CpuHost {
  readonly config: MachineConfig;
  readonly sched: Scheduler;
  readonly ptes: PteStore;
  readonly memory: PhysicalMemory;
  readonly truth: GroundTruth | null;
  readonly samplers: AccessSampler[];
  readonly record: AccessRecord;
  readonly farNode: Uint8Array;
  readonly memServed: Float64Array;
  readonly memWritebacks: Float64Array;
  readonly quantumNs: number;
  readonly timesliceNs: number;
  demandFault(cpu: Cpu, th: ThreadState, addr: number): number;
  majorFault(cpu: Cpu, pte: number): void;
  trapFault(cpu: Cpu, th: ThreadState, pte: number, vaddr: number, isWrite: boolean): number;
  threadFinished(th: ThreadState): void;
}

export class Cpu extends Actor {
  readonly node: number;
  /** Local clock, ns (fractional: latencies are sub-ns). */
  clock = 0;
  readonly l1d: Cache;
  readonly l1i: Cache;
  readonly l2: Cache;
  readonly llc: Cache;
  readonly dtlb: Tlb;
  readonly dtlbHuge: Tlb;
  readonly itlb: Tlb;
  readonly stlb: Tlb;
  /** CPU time by CpuTime category, ns. */
  readonly time = new Float64Array(CPU_TIME_NAMES.length);
  readonly runq: ThreadState[] = [];
  private cur = 0;
  private sliceEnd = 0;
  accesses = 0;
  ops = 0;
  faults = 0;
  traps = 0;
  walks = 0;
  readonly sources = new Float64Array(6);

  // last-page fast paths (exact: the last translation used is MRU in its TLB set)
  private dVpn = -1;
  private dAsid = -1;
  private dPte = -1;
  private dBase = 0;
  private dDirty = false;
  private dKey = -1;
  private dHuge = false;
  private iVpn = -1;
  private iAsid = -1;
  private iPte = -1;
  private iBase = 0;
  // outputs of translate() and cacheAccess()
  private tLat = 0;
  private tOut = 0;
  private tDirty = false;
  private tKey = -1;
  private cSource = 0;
  private cNode = 0;

  private readonly l1dLat: number;
  private readonly l1iLat: number;
  private readonly l2Lat: number;
  private readonly llcLat: number;
  private readonly memLat: Float64Array;

  constructor(
    private readonly m: CpuHost,
    readonly cpuId: number,
    llc: Cache,
  ) {
    super(m.sched, `cpu${cpuId}`, Priority.CPU);
    const c = m.config;
    this.node = c.cpus[cpuId]!.node;
    this.l1d = new Cache(c.caches.l1d, `cpu${cpuId}.l1d`);
    this.l1i = new Cache(c.caches.l1i, `cpu${cpuId}.l1i`);
    this.l2 = new Cache(c.caches.l2, `cpu${cpuId}.l2`);
    this.llc = llc;
    this.dtlb = new Tlb(c.tlb.l1d, `cpu${cpuId}.dtlb`);
    this.dtlbHuge = new Tlb(c.tlb.l1dHuge, `cpu${cpuId}.dtlb2m`);
    this.itlb = new Tlb(c.tlb.l1i, `cpu${cpuId}.itlb`);
    this.stlb = new Tlb(c.tlb.l2, `cpu${cpuId}.stlb`);
    this.l1dLat = c.caches.l1d.latencyNs;
    this.l1iLat = c.caches.l1i.latencyNs;
    this.l2Lat = c.caches.l2.latencyNs;
    this.llcLat = c.caches.llc.latencyNs;
    this.memLat = Float64Array.from(c.latencyNs[this.node]!);
  }

  /** Adds `ns` of work in `category` to this CPU, starting no earlier than now. */
  charge(ns: number, category: number): void {
    if (this.clock < this.sched.now) this.clock = this.sched.now;
    this.clock += ns;
    this.time[category]! += ns;
  }

  /** Forgets the last-page fast paths (after any TLB invalidation on this CPU). */
  invalidateFastPath(): void {
    this.dVpn = -1;
    this.iVpn = -1;
  }

  /** Drops a translation from every TLB of this CPU. */
  invalidateTranslation(asid: number, vpn: number, huge: boolean): void {
    const key = huge ? tlbKey2m(asid, vpn) : tlbKey4k(asid, vpn);
    this.dtlb.invalidate(key);
    this.dtlbHuge.invalidate(key);
    this.itlb.invalidate(key);
    this.stlb.invalidate(key);
    this.invalidateFastPath();
  }

  flushTlbs(): void {
    this.dtlb.flush();
    this.dtlbHuge.flush();
    this.itlb.flush();
    this.stlb.flush();
    this.invalidateFastPath();
  }

  // ---- scheduling ------------------------------------------------------------------------

  protected run(now: number): void {
    if (this.clock < now) this.clock = now;
    const end = now + this.m.quantumNs;
    let blockedRounds = 0;
    while (this.clock < end && this.runq.length > 0) {
      if (this.cur >= this.runq.length) this.cur = 0;
      const th = this.runq[this.cur]!;
      if (th.cursor >= th.batch.length) {
        const n = th.program.next(th.batch, this.clock);
        th.cursor = 0;
        if (n === 0) {
          this.retire(th);
          continue;
        }
        if (n < 0) {
          th.batch.length = 0;
          if (++blockedRounds >= this.runq.length) break;
          this.rotate();
          continue;
        }
      }
      blockedRounds = 0;
      const start = this.clock;
      this.execute(th, end);
      th.runtimeNs += this.clock - start;
      if (this.clock >= this.sliceEnd && this.runq.length > 1) this.rotate();
    }
    if (this.runq.length === 0) {
      this.park();
      return;
    }
    const next = this.clock > now ? Math.ceil(this.clock) : now + this.m.quantumNs;
    this.sleepUntil(next);
  }

  private rotate(): void {
    this.cur = (this.cur + 1) % this.runq.length;
    this.sliceEnd = this.clock + this.m.timesliceNs;
  }

  private retire(th: ThreadState): void {
    th.done = true;
    this.runq.splice(this.cur, 1);
    this.sliceEnd = this.clock + this.m.timesliceNs;
    this.m.threadFinished(th);
  }

  /** Runs the thread's current batch until it ends or the clock reaches `end`. */
  private execute(th: ThreadState, end: number): void {
    const b = th.batch;
    const addr = b.addr, size = b.size, kind = b.kind, gap = b.gap;
    const n = b.length;
    const nsPerOp = this.m.config.nsPerOp;
    let i = th.cursor;
    const userStart = this.clock;
    while (i < n && this.clock < end) {
      const g = gap[i]!;
      if (g !== 0 && !th.gapPaid) {
        // The ops before the access run first; if they reach the end of the quantum the access
        // waits for the next one, so it is stamped (and seen by observers) at its true time.
        this.clock += g * nsPerOp;
        this.ops += g;
        if (this.clock >= end) {
          th.gapPaid = true;
          break;
        }
      }
      th.gapPaid = false;
      this.access(th, addr[i]!, size[i]!, kind[i]!, g);
      i++;
    }
    th.accesses += i - th.cursor;
    th.cursor = i;
    this.time[CpuTime.USER]! += this.clock - userStart - this.nonUserSince;
    this.nonUserSince = 0;
  }

  /** CPU time charged to non-user categories during the current execute() call. */
  private nonUserSince = 0;

  private chargeInline(ns: number, category: number): void {
    this.clock += ns;
    this.time[category]! += ns;
    this.nonUserSince += ns;
  }

  // ---- the access path -------------------------------------------------------------------

  private access(th: ThreadState, addr: number, size: number, kind: number, gap: number): void {
    const write = kind === AccessKind.WRITE || kind === AccessKind.MODIFY;
    const ifetch = kind === AccessKind.IFETCH;
    const asid = th.space.asid;
    const vpn = Math.floor(addr * INV_PAGE);
    let pte: number;
    let pbase: number;
    let lat = 0;
    let tlbOut: number = TlbOutcome.L1_HIT;
    if (ifetch) {
      if (vpn === this.iVpn && asid === this.iAsid) {
        pte = this.iPte;
        pbase = this.iBase;
        this.itlb.hits++;
      } else {
        pte = this.translate(th, asid, vpn, addr, false, true);
        lat = this.tLat;
        tlbOut = this.tOut;
        pbase = this.pageBase(pte, vpn);
        this.iVpn = vpn;
        this.iAsid = asid;
        this.iPte = pte;
        this.iBase = pbase;
      }
    } else if (vpn === this.dVpn && asid === this.dAsid) {
      pte = this.dPte;
      pbase = this.dBase;
      if (this.dHuge) this.dtlbHuge.hits++;
      else this.dtlb.hits++;
      if (write && !this.dDirty) {
        lat += this.dirtyAssist(pte, this.dKey, this.dHuge);
        this.dDirty = true;
      }
    } else {
      pte = this.translate(th, asid, vpn, addr, write, false);
      lat = this.tLat;
      tlbOut = this.tOut;
      pbase = this.pageBase(pte, vpn);
      const huge = (this.m.ptes.flags[pte]! & PteFlag.HUGE) !== 0;
      if (write && !this.tDirty) lat += this.dirtyAssist(pte, this.tKey, huge);
      this.dVpn = vpn;
      this.dAsid = asid;
      this.dPte = pte;
      this.dBase = pbase;
      this.dDirty = write || this.tDirty;
      this.dKey = this.tKey;
      this.dHuge = huge;
    }
    const paddr = pbase + (addr - vpn * PAGE);
    const line = Math.floor(paddr * INV_LINE);
    const lastLine = Math.floor((paddr + size - 1) * INV_LINE);
    let clat = this.cacheAccess(line, write, ifetch);
    let source: number = this.cSource;
    let memNode = this.cNode;
    if (lastLine !== line) {
      const l2 = this.cacheAccess(lastLine, write, ifetch);
      if (l2 > clat) {
        clat = l2;
        source = this.cSource;
        memNode = this.cNode;
      }
    }
    lat += clat;
    this.clock += lat;
    this.accesses++;
    this.sources[source]!++;
    const m = this.m;
    const truth = m.truth;
    if (truth !== null) {
      const frame = Math.floor(pbase * INV_PAGE);
      if (kind === AccessKind.MODIFY) truth.record(pte, frame, false, this.clock);
      truth.record(pte, frame, write, this.clock);
    }
    if (m.samplers.length !== 0) {
      const rec = m.record;
      rec.cpu = this.cpuId;
      rec.cpuNode = this.node;
      rec.tid = th.tid;
      rec.pid = th.space.pid;
      rec.vaddr = addr;
      rec.paddr = paddr;
      rec.size = size;
      rec.kind = kind;
      rec.latencyNs = lat;
      rec.source = source;
      rec.memNode = memNode;
      rec.tlb = tlbOut;
      rec.ops = 1 + gap;
      rec.time = this.clock;
      rec.pte = pte;
      let cost = 0;
      for (let k = 0; k < m.samplers.length; k++) cost += m.samplers[k]!.onAccess(rec);
      if (cost > 0) this.chargeInline(cost, CpuTime.SAMPLING);
    }
  }

  /** Physical address of the 4 KiB page holding virtual page vpn through PTE slot pte. */
  private pageBase(pte: number, vpn: number): number {
    const ptes = this.m.ptes;
    let frame = ptes.frame[pte]!;
    if ((ptes.flags[pte]! & PteFlag.HUGE) !== 0) frame += vpn - ptes.vpn[pte]!;
    return frame * PAGE;
  }

  /** Sets the Dirty bit on a write through a TLB entry that was loaded clean. */
  private dirtyAssist(pte: number, key: number, huge: boolean): number {
    const ptes = this.m.ptes;
    ptes.flags[pte] = ptes.flags[pte]! | PteFlag.DIRTY;
    (huge ? this.dtlbHuge : this.dtlb).setDirtyMru(key);
    this.stlb.setDirtyMru(key);
    return this.m.config.costs.dirtyAssistNs;
  }

  /** TLB lookup, then a page walk on a miss. Sets tLat, tOut, tDirty, tKey; returns the PTE slot. */
  private translate(th: ThreadState, asid: number, vpn: number, addr: number, write: boolean, ifetch: boolean): number {
    const key4 = tlbKey4k(asid, vpn);
    const l1 = ifetch ? this.itlb : this.dtlb;
    if (l1.lookup(key4)) {
      this.tLat = 0;
      this.tOut = TlbOutcome.L1_HIT;
      this.tDirty = l1.entryDirty;
      this.tKey = key4;
      return l1.pte;
    }
    const hasHuge = th.space.hasHuge;
    // the 2 MiB key is needed only for address spaces with huge pages (or a walk finding one)
    const key2 = hasHuge ? tlbKey2m(asid, vpn) : -1;
    const l1h = ifetch ? this.itlb : this.dtlbHuge;
    if (hasHuge && l1h.lookup(key2)) {
      this.tLat = 0;
      this.tOut = TlbOutcome.L1_HIT;
      this.tDirty = l1h.entryDirty;
      this.tKey = key2;
      return l1h.pte;
    }
    const tc = this.m.config.tlb;
    if (this.stlb.lookup(key4)) {
      l1.insert(key4, this.stlb.pte, this.stlb.entryDirty);
      this.tLat = tc.l2HitNs;
      this.tOut = TlbOutcome.L2_HIT;
      this.tDirty = this.stlb.entryDirty;
      this.tKey = key4;
      return this.stlb.pte;
    }
    if (hasHuge && this.stlb.lookup(key2)) {
      l1h.insert(key2, this.stlb.pte, this.stlb.entryDirty);
      this.tLat = tc.l2HitNs;
      this.tOut = TlbOutcome.L2_HIT;
      this.tDirty = this.stlb.entryDirty;
      this.tKey = key2;
      return this.stlb.pte;
    }
    // page walk
    this.walks++;
    const m = this.m;
    const pt = th.space.pageTable;
    let pte = pt.get(pageKey4k(vpn));
    if (pte < 0 && hasHuge) pte = pt.get(pageKey2m(vpn));
    if (pte < 0) {
      pte = m.demandFault(this, th, addr);
      this.faults++;
    }
    const ptes = m.ptes;
    // one test of flags already loaded covers both slow cases: a paged-out PTE, a PROT_NONE trap
    if ((ptes.flags[pte]! & SLOW_PTE) !== 0) {
      if ((ptes.flags[pte]! & PteFlag.SWAPPED) !== 0) m.majorFault(this, pte);
      if ((ptes.flags[pte]! & PteFlag.TRAP) !== 0) {
        this.traps++;
        const cost = m.trapFault(this, th, pte, addr, write);
        this.chargeInline(cost, CpuTime.TRAP);
      }
    }
    let flags = ptes.flags[pte]! | PteFlag.ACCESSED;
    if (write) flags |= PteFlag.DIRTY;
    ptes.flags[pte] = flags;
    const huge = (flags & PteFlag.HUGE) !== 0;
    const key = huge ? tlbKey2m(asid, vpn) : key4;
    const dirty = (flags & PteFlag.DIRTY) !== 0;
    this.stlb.insert(key, pte, dirty);
    (huge ? l1h : l1).insert(key, pte, dirty);
    this.tLat = tc.l2HitNs + tc.walkNs;
    this.tOut = TlbOutcome.WALK;
    this.tDirty = dirty;
    this.tKey = key;
    return pte;
  }

  /** Charges a demand-paging fault's cost (called by the machine during a walk). */
  chargeFault(ns: number): void {
    this.chargeInline(ns, CpuTime.FAULT);
  }

  /** One line through the cache hierarchy; returns the latency, sets cSource and cNode. */
  private cacheAccess(line: number, write: boolean, ifetch: boolean): number {
    const l1 = ifetch ? this.l1i : this.l1d;
    if (l1.access(line, write)) {
      this.cSource = DataSource.L1;
      this.cNode = this.node;
      return ifetch ? this.l1iLat : this.l1dLat;
    }
    if (l1.victimDirty) this.writeBack(this.l2, l1.victimLine);
    if (this.l2.access(line, false)) {
      this.cSource = DataSource.L2;
      this.cNode = this.node;
      return this.l2Lat;
    }
    if (this.l2.victimDirty) this.writeBack(this.llc, this.l2.victimLine);
    if (this.llc.access(line, false)) {
      this.cSource = DataSource.LLC;
      this.cNode = this.node;
      return this.llcLat;
    }
    if (this.llc.victimDirty) this.writeBackToMemory(this.llc.victimLine);
    const m = this.m;
    const memNode = m.memory.nodeOf(Math.floor(line * INV_LINE));
    m.memServed[memNode]!++;
    this.cNode = memNode;
    this.cSource = memNode === this.node ? DataSource.LOCAL_DRAM : m.farNode[memNode] === 1 ? DataSource.FAR_MEMORY : DataSource.REMOTE_DRAM;
    const mem = m.memory.nodes[memNode]!;
    const queued = mem.transfer(this.clock, 64, false);
    if (mem.observer !== null) mem.observer.onLine(line, false, this.clock);
    return this.memLat[memNode]! + queued;
  }

  /** Writes a dirty victim into `level` (allocating it there), cascading further dirty victims. */
  private writeBack(level: Cache, line: number): void {
    level.access(line, true);
    if (level.victimDirty) {
      if (level === this.l2) this.writeBack(this.llc, level.victimLine);
      else this.writeBackToMemory(level.victimLine);
    }
  }

  private writeBackToMemory(line: number): void {
    const m = this.m;
    const node = m.memory.nodeOf(Math.floor(line * INV_LINE));
    m.memWritebacks[node]!++;
    const mem = m.memory.nodes[node]!;
    mem.transfer(this.clock, 64, true);
    if (mem.observer !== null) mem.observer.onLine(line, true, this.clock);
  }
}
