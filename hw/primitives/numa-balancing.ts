// Linux automatic NUMA balancing, mode 1 (NUMA_BALANCING_NORMAL), after hardware.md 1.1-1.7:
//
// Scanner (task_tick_numa / task_numa_work). A timer fires every scheduler tick (tickNs, default
// 1 ms) at Priority.KERNEL and looks at every live thread. The trigger is the thread's CPU time
// (ThreadState.runtimeNs), not wall time: when it passes nodeStamp + the thread's scan period, the
// stamp advances by that period (the very first period is scanDelay; after it the period becomes
// scan_start = scan_min) and, if the process's next-scan time has come, the thread scans: it
// moves the process's next-scan time one of its periods ahead and pushes its own stamp back two
// ticks (so another thread of the process tends to scan next). Periods scale with the resident
// set: W = ceil(RSS / scanSize) windows, scan_min = max(floor, periodMin / W) with floor = 1 s /
// (2560 MB/s / scanSize) (100 ms by default: "never more than 2.5 GB/s of PTEs"), scan_max =
// max(scan_min, periodMax / W); computed in ns rather than the kernel's integer ms.
//
// A pass walks the VMAs from the process's saved scan offset in ranges of up to scanSize bytes
// (end aligned to 2 MB), as change_prot_numa is called: it arms a PROT_NONE trap
// (TrapOwner.NUMA_HINT) on each present PTE in the range, skipping PTEs already PROT_NONE (by
// NUMA or by DAMON), dirty pages of file mappings, and, for a single-threaded process (one live
// thread), pages of private VMAs already on the node of the CPU the scanner runs on. A range with
// at least one update uses up its size of the scanSize budget; every range uses up virtual budget
// (8 x scanSize). The pass stops when either budget is spent (saving the offset) or at the end of
// the address space (offset back to 0 and the scan sequence number incremented). Read-only file
// VMAs (text, libraries) are skipped. Not modelled: the per-VMA "pids that faulted recently"
// filter (6.4+), numa groups, tiering mode (2). A huge-page PTE overlapping the range counts as
// in it (no PMD splitting). Cost, charged as CpuTime.SCAN to the scanning thread's CPU (and added
// to its runtime, as kernel time is): pteUpdateNs per updated entry (default 100 ns, measured
// ~104 ns per PTE, hardware.md 1.6) plus, per 2 MB chunk with updates, a TLB flush: localFlushNs
// (default 100 ns, an estimate) + the machine's shootdownNs per other CPU running the process.
//
// Hint fault (do_numa_page), reached through the trap dispatcher. Costs hintFaultNs (default
// 1000 ns, measured ~0.95 us, hardware.md 1.6). Counts vmstat-like numa_hint_faults,
// numa_hint_faults_local (memory on the faulting CPU's node), per memory node and per task
// local/remote/failed (in base pages, as task_numa_fault does). A fault is private when the
// previous hint fault on the page (its "last cpupid", kept per PTE slot here rather than per
// folio) was by the same thread, or there was none. Migration (option, default on for multi-node
// machines) applies to VMAs with the default ("local") policy only (mpol_misplaced acts on
// MPOL_F_MOF policies): target = the faulting CPU's node; the two-stage filter migrates when the
// page has no previous fault, or the fault is private early in the task's life (scan sequence
// <= 4; the kernel also accepts "no preferred node yet", which is not modelled), or the previous
// fault came from a CPU on the target node. machine.migrate()'s cost is part of the fault's cost
// (TRAP time: the machine charges trap costs inline), and is also totalled in migrateNs.
// numa_pages_migrated counts base pages; a failed migration (target node full) counts a failure.
// With reportToSink (the switch that reuses hint faults for DAMON) every hint fault also goes to
// the sink as a "numa-hint" event in process context, before any migration; its cost is added.
//
// Period adaptation (update_task_scan_period, option adaptPeriod, default on) runs at a task's
// first hint fault after the process's scan sequence moved on, before that fault is counted:
// with no local and no shared faults, or any failed migration, the period doubles (capped at
// scan_max) and the process's next scan is pushed to now + period; otherwise with slot =
// ceil(period / 10), lr = 10 local / (local + remote), ps = 10 private / (private + shared)
// (integer ratios): if ps >= 7 the period grows by max(1, ps - 7) slots, else if lr >= 7 by
// max(1, lr - 7) slots, else it shrinks by 7 - max(lr, ps) slots; clamped to [scan_min,
// scan_max]; the locality counts are then cleared.

import { InputError } from "../../sim/errors.ts";
import { Priority, type PeriodicTimer } from "../../sim/scheduler.ts";
import type { Stats } from "../../sim/stats.ts";
import { MS, SEC } from "../../sim/time.ts";
import { CpuTime } from "../cpu.ts";
import type { TrapFault } from "../hooks.ts";
import type { Machine } from "../machine.ts";
import { HUGE_FRAMES } from "../memory.ts";
import { PteFlag, TrapOwner } from "../pagetable.ts";
import type { AddressSpace, ThreadState, Vma } from "../process.ts";
import { PrimitiveEvent, fillFromFault, type PrimitiveSink } from "./sample.ts";

export interface NumaBalancingOptions {
  /** The numa_balancing sysctl (mode 1); default true (the kernel boots with it on only on multi-node machines). */
  enabled?: boolean;
  /** Migrate misplaced pages on hint faults; default true when the machine has more than one node. */
  migrate?: boolean;
  /** numa_balancing_scan_delay_ms (default 1000). */
  scanDelayMs?: number;
  /** numa_balancing_scan_period_min_ms (default 1000). */
  scanPeriodMinMs?: number;
  /** numa_balancing_scan_period_max_ms (default 60000). */
  scanPeriodMaxMs?: number;
  /** numa_balancing_scan_size_mb (default 256; fractions allowed if they give whole 4 KiB pages). */
  scanSizeMb?: number;
  /** The scheduler tick on which threads' CPU time is checked (default 1 ms, HZ = 1000). */
  tickNs?: number;
  /** CPU time per updated PTE, ns (default 100). */
  pteUpdateNs?: number;
  /** Local TLB flush per 2 MB chunk with updates, ns (default 100; remote CPUs add the machine's shootdownNs each). */
  localFlushNs?: number;
  /** CPU time of one hint fault (trap, PTE restore, accounting), ns (default 1000). */
  hintFaultNs?: number;
  /** Adapt each task's scan period from its fault locality (default true). */
  adaptPeriod?: boolean;
  /** Send every hint fault to the sink as a "numa-hint" event (default false). */
  reportToSink?: boolean;
}

/** Defaults of the options above (migrate's depends on the machine: on with more than one node). */
export const NUMA_BALANCING_DEFAULTS = {
  enabled: true,
  scanDelayMs: 1000,
  scanPeriodMinMs: 1000,
  scanPeriodMaxMs: 60_000,
  scanSizeMb: 256,
  tickNs: 1 * MS,
  pteUpdateNs: 100,
  localFlushNs: 100,
  hintFaultNs: 1000,
  adaptPeriod: true,
  reportToSink: false,
} as const satisfies Required<Omit<NumaBalancingOptions, "migrate">>;

/** One scan pass, for observers. */
export interface ScanPass {
  time: number;
  pid: number;
  tid: number;
  cpu: number;
  /** The scanning thread's CPU time when it was triggered, ns. */
  runtimeNs: number;
  /** Scan offset before and after the pass (after = 0 when the pass wrapped). */
  startOffset: number;
  endOffset: number;
  /** Base pages whose PTEs were made PROT_NONE. */
  pteUpdates: number;
  flushes: number;
  costNs: number;
}

interface MmState {
  nextScanNs: number;
  scanOffset: number;
  scanSeq: number;
}

interface TaskState {
  nodeStamp: number;
  periodNs: number;
  seq: number;
  /** Base pages of hint faults since the last period update: remote, local, failed migration. */
  locality: [number, number, number];
  privateFaults: number;
  sharedFaults: number;
}

const PAGE = 4096;
const CHUNK = 2 * 1024 * 1024;
const CHUNK_PAGES = CHUNK / PAGE;
/** "Never scan faster than 2560 MB of PTEs per second" (the kernel's MAX_SCAN_WINDOW). */
const MAX_SCAN_WINDOW_MB = 2560;
const PERIOD_SLOTS = 10;
const PERIOD_THRESHOLD = 7;

export class NumaBalancing {
  /** The numa_balancing sysctl: off, nothing is scanned and the dispatcher sends traps to DAMON. */
  enabled: boolean;
  migrate: boolean;
  reportToSink: boolean;
  adaptPeriod: boolean;
  /** Receives "numa-hint" events when reportToSink is on. */
  sink: PrimitiveSink | null = null;
  /** Called after every scan pass (observers, tests). */
  onPass: ((p: ScanPass) => void) | null = null;
  readonly scanDelayNs: number;
  readonly periodMinNs: number;
  readonly periodMaxNs: number;
  readonly scanSizePages: number;
  readonly tickNs: number;
  readonly pteUpdateNs: number;
  readonly localFlushNs: number;
  readonly hintFaultNs: number;
  private readonly floorNs: number;

  // vmstat-like counters
  numaPteUpdates = 0;
  numaHugePteUpdates = 0;
  numaHintFaults = 0;
  numaHintFaultsLocal = 0;
  numaPagesMigrated = 0;
  migrateFailures = 0;
  /** Hint faults taken on traps DAMON armed (NUMA balancing owns every PROT_NONE fault while on). */
  hintFaultsOnDamonTraps = 0;
  scanPasses = 0;
  scanNs = 0;
  faultNs = 0;
  migrateNs = 0;
  /** Hint faults by the node of the faulting page's memory (before any migration). */
  readonly faultsByMemNode: Float64Array;

  private readonly m: Machine;
  private readonly mms = new Map<number, MmState>();
  private readonly tasks = new Map<number, TaskState>();
  /** Per address space: 2 MB chunk index -> PTE slots in it; resident base pages. */
  private readonly chunks: Map<number, number[]>[] = [];
  private readonly rss: number[] = [];
  private indexed = 0;
  /** Last hint fault per PTE slot: thread and CPU (-1: none yet). */
  private lastTid = new Int32Array(0);
  private lastCpu = new Int32Array(0);
  private readonly event = new PrimitiveEvent();
  private timer: PeriodicTimer | null;

  constructor(m: Machine, o: NumaBalancingOptions = {}) {
    this.m = m;
    const d = NUMA_BALANCING_DEFAULTS;
    this.enabled = o.enabled ?? d.enabled;
    this.migrate = o.migrate ?? m.config.nodes.length > 1;
    this.reportToSink = o.reportToSink ?? d.reportToSink;
    this.adaptPeriod = o.adaptPeriod ?? d.adaptPeriod;
    const ms = (k: "scanDelayMs" | "scanPeriodMinMs" | "scanPeriodMaxMs", def: number): number => {
      const v = o[k] ?? def;
      if (!(v > 0 && v < Infinity)) throw new InputError(`must be a positive number of ms, got ${v}`, { field: `numaBalancing.${k}` });
      return Math.max(1, Math.round(v * MS));
    };
    this.scanDelayNs = ms("scanDelayMs", d.scanDelayMs);
    this.periodMinNs = ms("scanPeriodMinMs", d.scanPeriodMinMs);
    this.periodMaxNs = ms("scanPeriodMaxMs", d.scanPeriodMaxMs);
    if (this.periodMaxNs < this.periodMinNs) throw new InputError("must not be below scanPeriodMinMs", { field: "numaBalancing.scanPeriodMaxMs" });
    const sizeMb = o.scanSizeMb ?? d.scanSizeMb;
    this.scanSizePages = (sizeMb * 1024 * 1024) / PAGE;
    if (!(Number.isSafeInteger(this.scanSizePages) && this.scanSizePages >= 1)) throw new InputError(`must be a positive size in MB that is a whole number of 4 KiB pages, got ${sizeMb}`, { field: "numaBalancing.scanSizeMb" });
    this.floorNs = sizeMb < MAX_SCAN_WINDOW_MB ? Math.floor(SEC / Math.floor(MAX_SCAN_WINDOW_MB / sizeMb)) : SEC;
    this.tickNs = o.tickNs ?? d.tickNs;
    if (!(Number.isInteger(this.tickNs) && this.tickNs > 0)) throw new InputError(`must be a positive integer number of ns, got ${this.tickNs}`, { field: "numaBalancing.tickNs" });
    this.pteUpdateNs = nonNegative(o.pteUpdateNs ?? d.pteUpdateNs, "pteUpdateNs");
    this.localFlushNs = nonNegative(o.localFlushNs ?? d.localFlushNs, "localFlushNs");
    this.hintFaultNs = nonNegative(o.hintFaultNs ?? d.hintFaultNs, "hintFaultNs");
    this.faultsByMemNode = new Float64Array(m.config.nodes.length);
    this.timer = m.sched.every(this.tickNs, (now) => this.tick(now), { start: m.sched.now, priority: Priority.KERNEL, name: "numa-balancing" });
    m.onAllThreadsDone(() => this.stop());
  }

  /** Stops the tick timer (no more scans; hint faults are still handled). */
  stop(): void {
    if (this.timer !== null) {
      this.timer.cancel();
      this.timer = null;
    }
  }

  // ---- periods ---------------------------------------------------------------------------

  /** Scan windows of a process: its resident set in scanSize units, rounded up, at least 1. */
  windows(asid: number): number {
    const rss = this.rss[asid] ?? 0;
    return Math.max(1, Math.ceil(rss / this.scanSizePages));
  }

  scanMinNs(asid: number): number {
    return Math.max(this.floorNs, Math.floor(this.periodMinNs / this.windows(asid)));
  }

  scanMaxNs(asid: number): number {
    return Math.max(this.scanMinNs(asid), Math.floor(this.periodMaxNs / this.windows(asid)));
  }

  /** A thread's current scan period, ns (undefined before the scanner has seen it). */
  periodOf(tid: number): number | undefined {
    return this.tasks.get(tid)?.periodNs;
  }

  /** A process's scan offset and sequence number. */
  scanState(pid: number): { offset: number; seq: number; nextScanNs: number } | undefined {
    const mm = this.mms.get(pid);
    return mm ? { offset: mm.scanOffset, seq: mm.scanSeq, nextScanNs: mm.nextScanNs } : undefined;
  }

  private mm(space: AddressSpace, now: number): MmState {
    let s = this.mms.get(space.pid);
    if (s === undefined) {
      s = { nextScanNs: now + this.scanDelayNs, scanOffset: 0, scanSeq: 0 };
      this.mms.set(space.pid, s);
    }
    return s;
  }

  private task(th: ThreadState): TaskState {
    let t = this.tasks.get(th.tid);
    if (t === undefined) {
      t = { nodeStamp: 0, periodNs: this.scanDelayNs, seq: 0, locality: [0, 0, 0], privateFaults: 0, sharedFaults: 0 };
      this.tasks.set(th.tid, t);
    }
    return t;
  }

  // ---- the scanner -----------------------------------------------------------------------

  private tick(now: number): void {
    this.indexNewPtes();
    if (!this.enabled) return;
    for (const space of this.m.spaces) this.mm(space, now);
    for (const th of this.m.threads.values()) {
      if (th.done || th.cpu < 0) continue;
      const t = this.task(th);
      const period = t.periodNs;
      if (th.runtimeNs > t.nodeStamp + period) {
        if (t.nodeStamp === 0) t.periodNs = this.scanMinNs(th.space.asid);
        t.nodeStamp += period;
        const mm = this.mm(th.space, now);
        if (now >= mm.nextScanNs) this.work(th, t, mm, now);
      }
    }
  }

  /** Adds PTE slots created since the last tick to the per-space chunk index. */
  private indexNewPtes(): void {
    const ptes = this.m.ptes;
    for (let s = this.indexed; s < ptes.size; s++) {
      const asid = ptes.asid[s]!;
      while (this.chunks.length <= asid) {
        this.chunks.push(new Map());
        this.rss.push(0);
      }
      const c = Math.floor(ptes.vpn[s]! / CHUNK_PAGES);
      const map = this.chunks[asid]!;
      const list = map.get(c);
      if (list === undefined) map.set(c, [s]);
      else list.push(s);
      this.rss[asid]! += ptes.isHuge(s) ? HUGE_FRAMES : 1;
    }
    this.indexed = ptes.size;
  }

  /** task_numa_work: one scan pass by thread th. */
  private work(th: ThreadState, t: TaskState, mm: MmState, now: number): void {
    mm.nextScanNs = now + t.periodNs;
    t.nodeStamp += 2 * this.tickNs;
    const m = this.m;
    const space = th.space;
    const vmas = space.vmas;
    let live = 0;
    for (const x of space.threads) if (!x.done) live++;
    const single = live === 1;
    const scanNode = m.cpus[th.cpu]!.node;
    const remote = Math.max(0, m.cpusRunning(space.asid) - 1);
    const flushNs = this.localFlushNs + m.config.costs.shootdownNs * remote;
    const startOffset = mm.scanOffset;
    let pages = this.scanSizePages;
    let virt = pages * 8;
    let start = mm.scanOffset;
    let vi = 0;
    while (vi < vmas.length && vmas[vi]!.end <= start) vi++;
    if (vi === vmas.length) {
      this.wrap(mm);
      start = 0;
      vi = 0;
    }
    const before = this.numaPteUpdates;
    let entries = 0;
    let flushes = 0;
    let budgetOut = false;
    for (; vi < vmas.length && !budgetOut; vi++) {
      const vma = vmas[vi]!;
      if (vma.backing === "file" && !vma.writable) continue;
      let end: number;
      do {
        const s = Math.max(start, vma.start);
        end = Math.min(Math.ceil((s + pages * PAGE) / CHUNK) * CHUNK, vma.end);
        const r = this.changeRange(space.asid, vma, s, end, single, scanNode);
        entries += r.entries;
        flushes += r.flushes;
        if (r.entries > 0) pages -= (end - s) / PAGE;
        virt -= (end - s) / PAGE;
        start = end;
        if (pages <= 0 || virt <= 0) {
          budgetOut = true;
          break;
        }
      } while (end !== vma.end);
    }
    if (budgetOut) mm.scanOffset = start;
    else this.wrap(mm);
    const cost = entries * this.pteUpdateNs + flushes * flushNs;
    this.scanPasses++;
    this.scanNs += cost;
    if (cost > 0) {
      m.charge(th.cpu, cost, CpuTime.SCAN);
      th.runtimeNs += cost;
    }
    if (this.onPass !== null) {
      this.onPass({ time: now, pid: space.pid, tid: th.tid, cpu: th.cpu, runtimeNs: th.runtimeNs - cost, startOffset, endOffset: mm.scanOffset, pteUpdates: this.numaPteUpdates - before, flushes, costNs: cost });
    }
  }

  private wrap(mm: MmState): void {
    mm.scanOffset = 0;
    mm.scanSeq++;
  }

  private readonly rangeResult = { entries: 0, flushes: 0 };

  /** change_prot_numa over [s, e) of one VMA: arms NUMA traps; returns entries updated and flushes. */
  private changeRange(asid: number, vma: Vma, s: number, e: number, single: boolean, scanNode: number): { entries: number; flushes: number } {
    const m = this.m;
    const ptes = m.ptes;
    const map = this.chunks[asid];
    const r = this.rangeResult;
    r.entries = 0;
    r.flushes = 0;
    if (map === undefined) return r;
    const fileDirtySkip = vma.backing === "file";
    const localSkip = single && !vma.shared;
    const lastChunk = Math.floor((e - 1) / CHUNK);
    for (let c = Math.floor(s / CHUNK); c <= lastChunk; c++) {
      const list = map.get(c);
      if (list === undefined) continue;
      let updated = false;
      for (const slot of list) {
        const va = ptes.vpn[slot]! * PAGE;
        const fl = ptes.flags[slot]!;
        const bytes = (fl & PteFlag.HUGE) !== 0 ? CHUNK : PAGE;
        if (va + bytes <= s || va >= e) continue;
        if ((fl & PteFlag.PRESENT) === 0 || (fl & PteFlag.TRAP) !== 0) continue;
        if (fileDirtySkip && (fl & PteFlag.DIRTY) !== 0) continue;
        if (localSkip && m.nodeOfPte(slot) === scanNode) continue;
        m.armTrap(slot, TrapOwner.NUMA_HINT);
        r.entries++;
        updated = true;
        if (bytes === CHUNK) {
          this.numaPteUpdates += HUGE_FRAMES;
          this.numaHugePteUpdates++;
        } else {
          this.numaPteUpdates++;
        }
      }
      if (updated) r.flushes++;
    }
    return r;
  }

  // ---- the hint fault --------------------------------------------------------------------

  /** do_numa_page: handles a PROT_NONE fault; returns its cost (the machine restores the PTE). */
  onHintFault(f: TrapFault): number {
    const m = this.m;
    const pte = f.pte;
    if (pte >= this.lastTid.length) this.growSlots(m.ptes.capacity);
    const th = m.threads.get(f.tid);
    const pages = m.ptes.isHuge(pte) ? HUGE_FRAMES : 1;
    const memNode = m.nodeOfPte(pte);
    const cpuNode = m.cpus[f.cpu]!.node;
    const local = memNode === cpuNode;
    let cost = this.hintFaultNs;
    if ((f.owners & TrapOwner.DAMON) !== 0) this.hintFaultsOnDamonTraps++;
    if (this.reportToSink && this.sink !== null) cost += this.sink(fillFromFault(this.event, m, f));
    const lastTid = this.lastTid[pte]!;
    const lastCpu = this.lastCpu[pte]!;
    const unset = lastTid < 0;
    const priv = unset || lastTid === f.tid;
    this.lastTid[pte] = f.tid;
    this.lastCpu[pte] = f.cpu;
    const t = th !== undefined ? this.task(th) : null;
    if (t !== null && th !== undefined) this.placement(t, th, f.time);
    let failed = false;
    if (this.migrate && !local && m.vmas[m.ptes.vma[pte]!]!.policy.mode === "local") {
      const early = t !== null && t.seq <= 4;
      if (unset || (priv && early) || m.cpus[lastCpu]!.node === cpuNode) {
        const c = m.migrate(pte, cpuNode);
        if (c < 0) {
          failed = true;
          this.migrateFailures++;
        } else {
          cost += c;
          this.migrateNs += c;
          this.numaPagesMigrated += pages;
        }
      }
    }
    this.numaHintFaults++;
    if (local) this.numaHintFaultsLocal++;
    this.faultsByMemNode[memNode]!++;
    if (t !== null) {
      if (failed) t.locality[2] += pages;
      t.locality[local ? 1 : 0] += pages;
      if (priv) t.privateFaults += pages;
      else t.sharedFaults += pages;
    }
    this.faultNs += cost;
    return cost;
  }

  /** task_numa_placement's period update, once per scan sequence of the process. */
  private placement(t: TaskState, th: ThreadState, now: number): void {
    const mm = this.mms.get(th.space.pid);
    if (mm === undefined || t.seq === mm.scanSeq) return;
    t.seq = mm.scanSeq;
    const priv = t.privateFaults, shared = t.sharedFaults;
    t.privateFaults = 0;
    t.sharedFaults = 0;
    if (!this.adaptPeriod) return;
    const asid = th.space.asid;
    const min = this.scanMinNs(asid), max = this.scanMaxNs(asid);
    const [remote, local, failed] = t.locality;
    if (local + shared === 0 || failed > 0) {
      t.periodNs = Math.min(max, t.periodNs * 2);
      mm.nextScanNs = Math.ceil(now) + t.periodNs;
      return;
    }
    const slot = Math.ceil(t.periodNs / PERIOD_SLOTS);
    const lr = local + remote > 0 ? Math.floor((local * PERIOD_SLOTS) / (local + remote)) : 0;
    const ps = priv + shared > 0 ? Math.floor((priv * PERIOD_SLOTS) / (priv + shared)) : 0;
    let diff: number;
    if (ps >= PERIOD_THRESHOLD) diff = Math.max(1, ps - PERIOD_THRESHOLD) * slot;
    else if (lr >= PERIOD_THRESHOLD) diff = Math.max(1, lr - PERIOD_THRESHOLD) * slot;
    else diff = -(PERIOD_THRESHOLD - Math.max(lr, ps)) * slot;
    t.periodNs = Math.min(max, Math.max(min, t.periodNs + diff));
    t.locality[0] = t.locality[1] = t.locality[2] = 0;
  }

  private growSlots(cap: number): void {
    const tid = new Int32Array(cap).fill(-1);
    const cpu = new Int32Array(cap).fill(-1);
    tid.set(this.lastTid);
    cpu.set(this.lastCpu);
    this.lastTid = tid;
    this.lastCpu = cpu;
  }

  registerStats(stats: Stats, prefix = "system.numaBalancing"): void {
    stats.gauge(`${prefix}.numa_pte_updates`, "base pages made PROT_NONE by the scanner", () => this.numaPteUpdates);
    stats.gauge(`${prefix}.numa_huge_pte_updates`, "huge-page entries made PROT_NONE", () => this.numaHugePteUpdates);
    stats.gauge(`${prefix}.numa_hint_faults`, "NUMA hinting faults", () => this.numaHintFaults);
    stats.gauge(`${prefix}.numa_hint_faults_local`, "hinting faults on memory of the faulting CPU's node", () => this.numaHintFaultsLocal);
    stats.gauge(`${prefix}.numa_pages_migrated`, "base pages migrated by hinting faults", () => this.numaPagesMigrated);
    stats.gauge(`${prefix}.migrateFailures`, "migrations that found the target node full", () => this.migrateFailures);
    stats.gauge(`${prefix}.hintFaultsOnDamonTraps`, "hinting faults taken on traps DAMON armed", () => this.hintFaultsOnDamonTraps);
    stats.gauge(`${prefix}.scanPasses`, "task_numa_work passes", () => this.scanPasses);
    stats.gauge(`${prefix}.scanTime`, "CPU time scanning", () => this.scanNs, "Nanosecond");
    stats.gauge(`${prefix}.faultTime`, "CPU time in hinting faults (migration and sink included)", () => this.faultNs, "Nanosecond");
    stats.gauge(`${prefix}.migrateTime`, "CPU time migrating pages from hinting faults", () => this.migrateNs, "Nanosecond");
    this.faultsByMemNode.forEach((_, n) => stats.gauge(`${prefix}.node${n}.hintFaults`, "hinting faults on this node's memory (before migration)", () => this.faultsByMemNode[n]!));
  }
}

function nonNegative(v: number, name: string): number {
  if (!(v >= 0 && v < Infinity)) throw new InputError(`must be a number of ns >= 0, got ${v}`, { field: `numaBalancing.${name}` });
  return v;
}
