// damon_report_access() and the two report buffer designs (damon.md 3.2-3.4), both exact models:
//   * "array" (SJ's RFC): one shared array of 1000 reports behind a mutex taken with trylock; a
//     report is dropped when the mutex is busy (another submitter, or kdamond draining) and always
//     from NMI context (the mutex may sleep); it is written at len++, and len wraps to 0 at the cap,
//     hiding every older report. Reports are never consumed: a check counts every visible report
//     made within one sample interval (in jiffies), so one report can count in two checks.
//   * "rings" (Ravi's patch): a lockless single-producer ring of 256 reports per CPU; a full ring
//     drops the new report; a per-CPU busy counter drops an NMI report nested in a process-context
//     submission on the same CPU. A drain consumes every pending report; reports older than one
//     sample interval are skipped.
// Every drop is counted by reason, CPU and primitive. Reports are stored as struct-of-arrays.
// A report made by a CPU-side primitive names the accessing CPU, thread and process; a report from
// a memory-side unit (the CXL CHMU) has NO_CPU, NO_TID, NO_PID and NO_VADDR (hw/primitives/
// sample.ts) and a count of accesses; either way it goes into the buffer of the CPU that submits it
// (submitCpu: the rings' index and the CPU its drops are counted on). A primitive that lost a
// report in its own hardware buffer before submitting it hands it to lose(): it counts as submitted
// and dropped ('full', as a full ring's), so reports made = accepted + dropped still holds.

import { SimError } from "../../sim/errors.ts";
import { PRIMITIVES, primitiveId, type PrimitiveName } from "../primitives/index.ts";

/** What a primitive hands to damon_report_access(). */
export interface ReportInput {
  time: number;
  cpu: number;
  tid: number;
  /** tgid (process id). */
  pid: number;
  vaddr: number;
  paddr: number;
  size: number;
  isWrite: boolean;
  primitive: PrimitiveName;
  context: "nmi" | "process";
  /** Accesses the report stands for (default 1: a sample or a fault; a CHMU hotlist entry's count). */
  count?: number;
  /** The CPU damon_report_access() runs on (default: cpu; a CHMU report's cpu is NO_CPU). */
  submitCpu?: number;
}

export const DropReason = { BUSY: 0, NMI_UNSAFE: 1, FULL: 2, NESTED: 3 } as const;
export const DROP_REASON_NAMES = ["busy", "nmi-unsafe", "full", "nested"] as const;

/** Reports visible to a drain: indexes into the store arrays. */
export class ReportStore {
  time: Float64Array;
  vaddr: Float64Array;
  paddr: Float64Array;
  size: Uint32Array;
  cpu: Int32Array;
  tid: Int32Array;
  pid: Int32Array;
  isWrite: Uint8Array;
  primitive: Uint8Array;
  count: Uint32Array;

  constructor(readonly capacity: number) {
    this.time = new Float64Array(capacity);
    this.vaddr = new Float64Array(capacity);
    this.paddr = new Float64Array(capacity);
    this.size = new Uint32Array(capacity);
    this.cpu = new Int32Array(capacity);
    this.tid = new Int32Array(capacity);
    this.pid = new Int32Array(capacity);
    this.isWrite = new Uint8Array(capacity);
    this.primitive = new Uint8Array(capacity);
    this.count = new Uint32Array(capacity);
  }

  put(i: number, r: ReportInput): void {
    this.time[i] = r.time;
    this.vaddr[i] = r.vaddr;
    this.paddr[i] = r.paddr;
    this.size[i] = r.size;
    this.cpu[i] = r.cpu;
    this.tid[i] = r.tid;
    this.pid[i] = r.pid;
    this.isWrite[i] = r.isWrite ? 1 : 0;
    this.primitive[i] = primitiveId(r.primitive);
    this.count[i] = r.count ?? 1;
  }
}

export interface ReportBufferStats {
  submitted: number;
  accepted: number;
  /** drops[reason][primitive] */
  dropsByReason: number[][];
  dropsByCpu: number[];
  /** Reports a drain looked at / skipped as stale. */
  drained: number;
  stale: number;
}

export interface ReportBuffer {
  readonly kind: "array" | "rings";
  readonly store: ReportStore;
  readonly stats: ReportBufferStats;
  /** damon_report_access(): returns whether the report was stored. */
  submit(r: ReportInput): boolean;
  /** A report its primitive lost before submitting it (a full hardware buffer): counted as submitted and dropped ('full'). */
  lose(r: ReportInput): void;
  /**
   * Calls visit(i) for every report a check at `now` should consider (made within `windowNs`
   * rounded to jiffies), holding the buffer for `holdNs` (array: the mutex). Rings consume.
   */
  drain(now: number, windowNs: number, holdNs: number, visit: (i: number) => void): void;
}

function newStats(nCpus: number): ReportBufferStats {
  return {
    submitted: 0,
    accepted: 0,
    dropsByReason: DROP_REASON_NAMES.map(() => PRIMITIVES.map(() => 0)),
    dropsByCpu: new Array(nCpus).fill(0),
    drained: 0,
    stale: 0,
  };
}

/** Jiffy arithmetic: the kernel's report_jiffies and usecs_to_jiffies (which rounds up). */
export class Jiffies {
  readonly jiffyNs: number;
  constructor(readonly hz = 250) {
    this.jiffyNs = 1e9 / hz;
  }
  of(ns: number): number {
    return Math.floor(ns / this.jiffyNs);
  }
  fromNs(ns: number): number {
    return Math.ceil(ns / this.jiffyNs);
  }
}

function drop(stats: ReportBufferStats, reason: number, r: ReportInput): false {
  stats.dropsByReason[reason]![primitiveId(r.primitive)]!++;
  const c = r.submitCpu ?? r.cpu;
  if (c >= 0 && c < stats.dropsByCpu.length) stats.dropsByCpu[c]!++;
  return false;
}

function countLost(stats: ReportBufferStats, r: ReportInput): void {
  stats.submitted++;
  drop(stats, DropReason.FULL, r);
}

/** SJ's shared array behind a trylock'ed mutex. */
export class ArrayReportBuffer implements ReportBuffer {
  readonly kind = "array";
  readonly store: ReportStore;
  readonly stats: ReportBufferStats;
  private len = 0;
  /** Recent intervals the mutex was held (start, end), to detect overlapping trylocks. */
  private readonly heldStart = new Float64Array(16);
  private readonly heldEnd = new Float64Array(16).fill(-1);
  private held = 0;

  constructor(nCpus: number, readonly jiffies = new Jiffies(), readonly cap = 1000, readonly submitHoldNs = 100) {
    this.store = new ReportStore(cap);
    this.stats = newStats(nCpus);
  }

  private busyAt(t: number, d: number): boolean {
    for (let k = 0; k < this.heldStart.length; k++) if (this.heldEnd[k]! > t && this.heldStart[k]! < t + d) return true;
    return false;
  }

  private hold(t: number, d: number): void {
    const k = this.held++ % this.heldStart.length;
    this.heldStart[k] = t;
    this.heldEnd[k] = t + d;
  }

  submit(r: ReportInput): boolean {
    this.stats.submitted++;
    if (r.context === "nmi") return drop(this.stats, DropReason.NMI_UNSAFE, r);
    if (this.busyAt(r.time, this.submitHoldNs)) return drop(this.stats, DropReason.BUSY, r);
    this.hold(r.time, this.submitHoldNs);
    this.store.put(this.len++, r);
    if (this.len === this.cap) this.len = 0;
    this.stats.accepted++;
    return true;
  }

  lose(r: ReportInput): void {
    countLost(this.stats, r);
  }

  drain(now: number, windowNs: number, holdNs: number, visit: (i: number) => void): void {
    this.hold(now, holdNs);
    const since = this.jiffies.of(now) - this.jiffies.fromNs(windowNs);
    for (let i = 0; i < this.len; i++) {
      this.stats.drained++;
      if (this.jiffies.of(this.store.time[i]!) < since) {
        this.stats.stale++;
        continue;
      }
      visit(i);
    }
  }
}

/** Ravi's per-CPU single-producer rings. */
export class RingReportBuffer implements ReportBuffer {
  readonly kind = "rings";
  readonly store: ReportStore;
  readonly stats: ReportBufferStats;
  private readonly head: Int32Array;
  private readonly tail: Int32Array;
  private readonly mask: number;
  /** Per CPU: end of the process-context submission in progress (the busy counter). */
  private readonly busyUntil: Float64Array;
  private readonly busyFrom: Float64Array;

  constructor(readonly nCpus: number, readonly jiffies = new Jiffies(), readonly ringSize = 256, readonly submitHoldNs = 50) {
    if ((ringSize & (ringSize - 1)) !== 0) throw new SimError("ring size must be a power of two");
    this.store = new ReportStore(nCpus * ringSize);
    this.stats = newStats(nCpus);
    this.head = new Int32Array(nCpus);
    this.tail = new Int32Array(nCpus);
    this.mask = ringSize - 1;
    this.busyUntil = new Float64Array(nCpus).fill(-1);
    this.busyFrom = new Float64Array(nCpus).fill(-1);
  }

  pending(cpu: number): number {
    return this.head[cpu]! - this.tail[cpu]!;
  }

  submit(r: ReportInput): boolean {
    this.stats.submitted++;
    const c = r.submitCpu ?? r.cpu;
    if (r.context === "nmi" && r.time >= this.busyFrom[c]! && r.time < this.busyUntil[c]!) return drop(this.stats, DropReason.NESTED, r);
    if (this.head[c]! - this.tail[c]! > this.mask) return drop(this.stats, DropReason.FULL, r);
    if (r.context === "process") {
      this.busyFrom[c] = r.time;
      this.busyUntil[c] = r.time + this.submitHoldNs;
    }
    this.store.put(c * (this.mask + 1) + (this.head[c]! & this.mask), r);
    this.head[c]!++;
    this.stats.accepted++;
    return true;
  }

  lose(r: ReportInput): void {
    countLost(this.stats, r);
  }

  drain(now: number, windowNs: number, _holdNs: number, visit: (i: number) => void): void {
    const since = this.jiffies.of(now) - this.jiffies.fromNs(windowNs);
    const size = this.mask + 1;
    for (let c = 0; c < this.nCpus; c++) {
      for (let k = this.tail[c]!; k < this.head[c]!; k++) {
        const i = c * size + (k & this.mask);
        this.stats.drained++;
        if (this.jiffies.of(this.store.time[i]!) < since) {
          this.stats.stale++;
          continue;
        }
        visit(i);
      }
      this.tail[c] = this.head[c]!;
    }
  }
}
