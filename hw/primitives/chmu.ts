// The CXL Hotness Monitoring Unit (CHMU, CXL r3.2 8.2.8) as a memory-side access counter. Facts
// from core-and-devices.md 6: the spec's register interface [S37, S38], the Linux RFC's driver and
// documentation (drivers/cxl/hmu.c, cxl-hmu.rst) [S40, S41] and QEMU's emulation [S43]; nothing is
// merged in Linux (6.3), so the host side here is our design.
//   * what it sees (6.2): the device counts the M2S requests that reach it, by Device Physical
//     Address; here every line the CXL node's memory serves after an LLC miss (a fill: MemRd; a
//     store miss reads its line too, write-allocate) or absorbs (a dirty write-back: MemWr), told
//     through the node's memory-side hook (hw/hooks.ts MemoryObserver). Page migration copies,
//     which the machine does not model as line transfers, are not seen. It sees no CPU, thread,
//     process or virtual address: only addresses, and DRAM-resident memory not at all.
//   * counting (6.2, epoch mode with a global epoch): one counter per unit of unitBytes (a power of
//     two >= 256 B; the RFC accepts up to 2 GiB), access type reads, writes or both; DPA = the
//     address's offset in the node (no interleaving), HPA = node base + DPA. A tracker has finitely
//     many counters and the spec expects it to be imprecise (6.1): here trackedUnits counters per
//     epoch, a unit first touched when all are in use is not counted (untracked). No downsampling,
//     no DPA range bitmap (the whole node is tracked), counters do not saturate.
//   * epochs: epochUs long (the spec's scale x multiplier: scales 100 us, 1 ms, 10 ms, 100 ms, 1 s,
//     so a multiple of 100 us here), the first starting when the unit is enabled (kdamond starts).
//     An access belongs to the epoch its time (the CPU's clock) falls in: CPUs run ahead of the
//     scheduler by up to a quantum, so the counters of the open epoch and of the next are kept
//     apart; an access more than one epoch ahead (a quantum longer than the epoch) counts in the next.
//   * hotlist (6.2): at each epoch end the units whose count reaches `threshold` are appended to
//     the hotlist, hottest first (count descending, then address; the spec leaves the order and the
//     tracker to the implementation), up to hotlistSize entries (QEMU's emulated hotlist holds 1024,
//     the capability field is 16-bit); the rest overflow (counted) and every counter is cleared.
//   * the host read (our design): an MSI wakes a kernel thread on readerCpu that reads the status
//     and head/tail registers (readCostNs) and each entry (entryCostNs), translates DPA to HPA and
//     hands each hot unit to the sink (damon_report_access(), process context) as one event: the
//     unit's physical address and size, its count, NO_CPU, NO_TID, NO_PID and NO_VADDR, isWrite
//     when only writes are counted; the CPU time, plus what the sink returns, is charged to
//     readerCpu as sampling time. One unit per CXL node; a machine without a CXL node has none,
//     and the primitive then reports nothing and costs nothing.
// Nothing here allocates per access: counters are preallocated typed arrays and a sparse map.

import { InputError, SimError } from "../../sim/errors.ts";
import { Priority, type PeriodicTimer } from "../../sim/scheduler.ts";
import type { Stats } from "../../sim/stats.ts";
import { US } from "../../sim/time.ts";
import { ChunkedInt32 } from "../chunked.ts";
import { CpuTime } from "../cpu.ts";
import { DataSource, type MemoryObserver } from "../hooks.ts";
import type { Machine } from "../machine.ts";
import type { NodeMemory } from "../memory.ts";
import { NO_CPU, NO_PID, NO_TID, NO_VADDR, PrimitiveEvent, type PrimitiveSink } from "./sample.ts";

/** The epoch granule: the spec's smallest scale, 100 us. */
export const CHMU_EPOCH_GRANULE_US = 100;
/** Largest unit the RFC driver accepts (2 GiB); smallest the spec allows (256 B). */
export const CHMU_MAX_UNIT = 2 ** 31;
export const CHMU_MIN_UNIT = 256;
/** The hotlist size field is 16-bit. */
export const CHMU_MAX_HOTLIST = 0xffff;
/** Counters a unit may have here (bounds the model's host memory). */
export const CHMU_MAX_TRACKED = 1 << 22;
const LINE = 64;

export interface ChmuOptions {
  /** Bytes per counted unit, a power of two in [256, 2 GiB]; default 4096. */
  unitBytes?: number;
  /** Epoch length, us, a multiple of 100; default 5000. */
  epochUs?: number;
  /** Count a unit must reach in an epoch to enter the hotlist; default 4. */
  threshold?: number;
  /** Hotlist entries per epoch, 1..65535; default 1024. */
  hotlistSize?: number;
  /** Count reads (fills: MemRd); default true. */
  reads?: boolean;
  /** Count writes (write-backs: MemWr); default true. */
  writes?: boolean;
  /** Counters per epoch (distinct units tracked); default 65536 (an estimate). */
  trackedUnits?: number;
  /** Host CPU time per hotlist read (MSI, status and head/tail registers), ns; default 5000 (an estimate). */
  readCostNs?: number;
  /** Host CPU time per hotlist entry read and translated, ns (the report's cost added); default 200 (an estimate). */
  entryCostNs?: number;
  /** The CPU whose kernel thread reads the hotlists; default the last CPU. */
  readerCpu?: number;
}

/** Defaults of the options above (sources in the module header); readerCpu defaults to the last CPU. */
export const CHMU_DEFAULTS = {
  unitBytes: 4096,
  epochUs: 5000,
  threshold: 4,
  hotlistSize: 1024,
  reads: true,
  writes: true,
  trackedUnits: 65_536,
  readCostNs: 5000,
  entryCostNs: 200,
} as const satisfies Required<Omit<ChmuOptions, "readerCpu">>;

const isPow2 = (n: number): boolean => Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;

/** One epoch's counters: unit -> slot, and per slot its unit and count. */
class CounterBank {
  readonly slotOf = new ChunkedInt32(-1);
  readonly units: Float64Array;
  readonly counts: Float64Array;
  used = 0;
  constructor(capacity: number) {
    this.units = new Float64Array(capacity);
    this.counts = new Float64Array(capacity);
  }
  clear(): void {
    for (let s = 0; s < this.used; s++) this.slotOf.set(this.units[s]!, -1);
    this.used = 0;
  }
}

/** The CHMU of one CXL node: its counters (the memory-side hook) and its statistics. */
export class ChmuUnit implements MemoryObserver {
  /** First line of the node, and 1 / lines per unit (a power of two: exact). */
  private readonly baseLine: number;
  private readonly invLinesPerUnit: number;
  private cur: CounterBank;
  private next: CounterBank;
  /** End of the open epoch, ns. */
  epochEnd = 0;
  /** Accesses counted, accesses of units not tracked (all counters in use), epochs ended, entries reported, units above the threshold beyond the hotlist. */
  counted = 0;
  untracked = 0;
  epochs = 0;
  hotUnits = 0;
  overflowed = 0;

  constructor(readonly node: NodeMemory, private readonly c: ChmuSampler) {
    this.baseLine = node.base * (4096 / LINE);
    this.invLinesPerUnit = LINE / c.unitBytes;
    this.cur = new CounterBank(c.trackedUnits);
    this.next = new CounterBank(c.trackedUnits);
  }

  onLine(line: number, write: boolean, time: number): void {
    if (write ? !this.c.writes : !this.c.reads) return;
    const unit = Math.floor((line - this.baseLine) * this.invLinesPerUnit);
    const b = time < this.epochEnd ? this.cur : this.next;
    let slot = b.slotOf.get(unit);
    if (slot < 0) {
      if (b.used === b.units.length) {
        this.untracked++;
        return;
      }
      slot = b.used++;
      b.slotOf.set(unit, slot);
      b.units[slot] = unit;
      b.counts[slot] = 0;
    }
    b.counts[slot]!++;
    this.counted++;
  }

  /** Ends the open epoch: returns its hotlist (slots of `bank`, hottest first) and opens the next. */
  endEpoch(): { bank: CounterBank; slots: Int32Array; n: number } {
    const bank = this.cur;
    const hot = this.c.scratch;
    let k = 0;
    for (let s = 0; s < bank.used; s++) if (bank.counts[s]! >= this.c.threshold) hot[k++] = s;
    const sorted = hot.subarray(0, k).sort((x, y) => bank.counts[y]! - bank.counts[x]! || bank.units[x]! - bank.units[y]!);
    const n = Math.min(k, this.c.hotlistSize);
    this.overflowed += k - n;
    this.hotUnits += n;
    this.epochs++;
    return { bank, slots: sorted, n };
  }

  /** After the hotlist was read: the next epoch's counters become the open ones, the read ones are cleared. */
  swap(): void {
    const old = this.cur;
    old.clear();
    this.cur = this.next;
    this.next = old;
    this.epochEnd += this.c.epochNs;
  }

  /** Physical address of unit u of this node. */
  paddrOf(u: number): number {
    return this.node.base * 4096 + u * this.c.unitBytes;
  }
}

export class ChmuSampler {
  /** Where hotlist entries go (the DAMON layer sets it); null: count only. */
  sink: PrimitiveSink | null;
  readonly unitBytes: number;
  readonly epochUs: number;
  readonly epochNs: number;
  readonly threshold: number;
  readonly hotlistSize: number;
  readonly reads: boolean;
  readonly writes: boolean;
  readonly trackedUnits: number;
  readonly readCostNs: number;
  readonly entryCostNs: number;
  readonly readerCpu: number;
  /** One unit per CXL node. */
  readonly units: ChmuUnit[];
  /** Host CPU time reading hotlists (sink included), ns. */
  handlingNs = 0;
  /** Hotlist reads made. */
  hotlistReads = 0;
  /** Slots above the threshold of the epoch being ended (shared by the units, reused). */
  readonly scratch: Int32Array;
  private timer: PeriodicTimer | null = null;
  private readonly event = new PrimitiveEvent();

  constructor(private readonly m: Machine, o: ChmuOptions = {}, sink: PrimitiveSink | null = null) {
    this.sink = sink;
    const d = CHMU_DEFAULTS;
    this.unitBytes = o.unitBytes ?? d.unitBytes;
    this.epochUs = o.epochUs ?? d.epochUs;
    this.threshold = o.threshold ?? d.threshold;
    this.hotlistSize = o.hotlistSize ?? d.hotlistSize;
    this.reads = o.reads ?? d.reads;
    this.writes = o.writes ?? d.writes;
    this.trackedUnits = o.trackedUnits ?? d.trackedUnits;
    this.readCostNs = o.readCostNs ?? d.readCostNs;
    this.entryCostNs = o.entryCostNs ?? d.entryCostNs;
    this.readerCpu = o.readerCpu ?? m.cpus.length - 1;
    const fail = (field: string, msg: string): never => {
      throw new InputError(msg, { field: `chmu.${field}` });
    };
    if (!(isPow2(this.unitBytes) && this.unitBytes >= CHMU_MIN_UNIT && this.unitBytes <= CHMU_MAX_UNIT)) fail("unitBytes", `must be a power of two in [256, 2 GiB] bytes, got ${this.unitBytes}`);
    if (!(Number.isSafeInteger(this.epochUs) && this.epochUs > 0 && this.epochUs % CHMU_EPOCH_GRANULE_US === 0)) fail("epochUs", `must be a positive multiple of 100 us (the spec's epoch scale x multiplier), got ${this.epochUs}`);
    if (!(Number.isSafeInteger(this.threshold) && this.threshold >= 1)) fail("threshold", `must be an integer >= 1, got ${this.threshold}`);
    if (!(Number.isInteger(this.hotlistSize) && this.hotlistSize >= 1 && this.hotlistSize <= CHMU_MAX_HOTLIST)) fail("hotlistSize", `must be an integer in [1, 65535] (a 16-bit field), got ${this.hotlistSize}`);
    if (!(Number.isInteger(this.trackedUnits) && this.trackedUnits >= 1 && this.trackedUnits <= CHMU_MAX_TRACKED)) fail("trackedUnits", `must be an integer in [1, ${CHMU_MAX_TRACKED}], got ${this.trackedUnits}`);
    if (!this.reads && !this.writes) fail("reads", "reads and writes are both off: nothing would be counted");
    for (const [k, v] of [["readCostNs", this.readCostNs], ["entryCostNs", this.entryCostNs]] as const) {
      if (!(v >= 0 && Number.isFinite(v))) fail(k, `must be a number of ns >= 0, got ${v}`);
    }
    if (!(Number.isInteger(this.readerCpu) && this.readerCpu >= 0 && this.readerCpu < m.cpus.length)) fail("readerCpu", `must be a CPU of the machine, 0..${m.cpus.length - 1}, got ${this.readerCpu}`);
    this.epochNs = this.epochUs * US;
    this.scratch = new Int32Array(this.trackedUnits);
    this.units = m.memory.nodes.filter((n) => n.cfg.kind === "cxl").map((n) => new ChmuUnit(n, this));
  }

  /** Enables counting on every CXL node and starts the epochs (the first ends epochUs from now). */
  attach(): this {
    if (this.timer !== null || this.units.length === 0) return this;
    const now = this.m.sched.now;
    for (const u of this.units) {
      if (u.node.observer !== null && u.node.observer !== u) throw new SimError(`node ${u.node.id} already has a memory-side observer`);
      u.node.observer = u;
      u.epochEnd = now + this.epochNs;
    }
    this.timer = this.m.sched.every(this.epochNs, (t) => this.endEpoch(t), { start: now + this.epochNs, priority: Priority.HARDWARE, name: "chmu-epoch" });
    return this;
  }

  /** Disables counting and the epochs; the open epoch's counts are discarded. */
  detach(): void {
    if (this.timer === null) return;
    this.timer.cancel();
    this.timer = null;
    for (const u of this.units) if (u.node.observer === u) u.node.observer = null;
  }

  /** Epoch end at `now`: every unit's hotlist is read and reported, at the host's cost. */
  private endEpoch(now: number): void {
    this.hotlistReads++;
    let ns = this.readCostNs;
    const sink = this.sink;
    const e = this.event;
    for (const u of this.units) {
      const { bank, slots, n } = u.endEpoch();
      ns += n * this.entryCostNs;
      for (let k = 0; k < n && sink !== null; k++) {
        const s = slots[k]!;
        this.fill(e, u, bank.units[s]!, bank.counts[s]!, now);
        ns += sink(e);
      }
      u.swap();
    }
    this.handlingNs += ns;
    this.m.charge(this.readerCpu, ns, CpuTime.SAMPLING);
  }

  private fill(e: PrimitiveEvent, u: ChmuUnit, unit: number, count: number, now: number): void {
    e.context = "process";
    e.time = now;
    e.cpu = NO_CPU;
    e.cpuNode = NO_CPU;
    e.pid = NO_PID;
    e.tid = NO_TID;
    e.vaddr = NO_VADDR;
    e.paddr = u.paddrOf(unit);
    e.size = this.unitBytes;
    e.pageSize = this.unitBytes;
    e.isWrite = this.writes && !this.reads;
    e.latencyNs = 0;
    e.dataSource = DataSource.FAR_MEMORY;
    e.dcMiss = true;
    e.l2Miss = true;
    e.memNode = u.node.id;
    e.l1TlbMiss = false;
    e.l2TlbMiss = false;
    e.pte = -1;
    e.count = count;
    e.submitCpu = this.readerCpu;
    e.lost = false;
  }

  registerStats(stats: Stats, prefix = "system.chmu"): void {
    stats.gauge(`${prefix}.hotlistReads`, "hotlist reads by the host (one per epoch)", () => this.hotlistReads);
    stats.gauge(`${prefix}.handlingTime`, "host CPU time reading hotlists, sink included", () => this.handlingNs, "Nanosecond");
    for (const u of this.units) {
      const p = `${prefix}.node${u.node.id}`;
      stats.gauge(`${p}.counted`, "accesses counted (fills and write-backs of the access types set)", () => u.counted);
      stats.gauge(`${p}.untracked`, "accesses to units found no free counter", () => u.untracked);
      stats.gauge(`${p}.epochs`, "epochs ended", () => u.epochs);
      stats.gauge(`${p}.hotUnits`, "hotlist entries reported", () => u.hotUnits);
      stats.gauge(`${p}.overflowed`, "units at or above the threshold beyond the hotlist size", () => u.overflowed);
    }
  }
}
