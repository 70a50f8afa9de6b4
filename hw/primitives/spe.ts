// ARM SPE (Statistical Profiling Extension, Armv8.2+) as an AccessSampler. Facts from
// core-and-devices.md 5 and hardware.md 2.4, which name drivers/perf/arm_spe_pmu.c,
// tools/perf/arch/arm64/util/arm-spe.c and perf-arm-spe.txt [S33], the NMO study [S36] and Arm's
// SPE notes [S34]; the driver and perf tool were read for the defaults (facts only).
//   * selection (5.1): each CPU's down-counter (PMSICR) counts operations; an access stands for
//     AccessRecord.ops ops, its `gap` non-memory ops first and the memory op last, as IBS counts
//     them (ibs.ts); the model's ops are one micro-op per instruction. When the counter expires,
//     the op it lands on is sampled and the counter reloads with the interval (PMSIRR.INTERVAL,
//     bits 31:8: a multiple of 256 in [256, 0xFFFFFF00], what the driver's masking and clamping
//     leave; perf's default period is caps/min_interval, 4096 when the driver advertises none).
//     With jitter (PMSIRR.RND; perf documents it as on by default) the reload is perturbed by a
//     generator the architecture leaves unspecified: here the low 8 bits are uniform, reload =
//     interval + r with r in 0..255, drawn from the RngRoot stream "hw.spe.cpuN" (the first
//     interval, when the counter is enabled at construction, likewise). Hardware has one sampled
//     op in flight and drops a sample due meanwhile (a collision); the CPU model completes each
//     access before the next op starts, so collisions cannot happen here.
//   * filters (5.2, PMSFCR; applied after collection: a filtered op writes no record and costs
//     nothing): by type, loads and/or stores (their OR; a MODIFY is both a load and a store); with
//     a type filter set non-memory ops never pass, since the CPU model's non-memory ops carry no
//     type (it has no branches, so there is no branch filter); with loads and stores both off there
//     is no type filter and every sampled op writes a record, a non-memory op's without a data
//     address (it fills the buffer and costs decoding, and reports nothing). By minimum latency
//     (PMSLATFR.MINLAT, 12 bits): an op is kept when its total latency in cycles (the access's
//     latency x cpuGHz; a non-memory op: one op's time) is >= minLatency; 0 turns it off.
//   * records (5.3): recordBytes each (default 64: PC, VA, PA, three latency counters, events,
//     data source, op type, context and timestamp packets, padded; PMSIDR.MaxSize allows 16-2048 B,
//     a power of two) into the CPU's aux buffer of auxBytes (a power of two >= 8 KiB, as perf
//     requires; default 128 KiB: perf's AUX size for an unprivileged user, and the top of the 16-32
//     pages NMO found best, 5.4-5.5).
//   * delivery (5.4): when the records written since the last interrupt reach the watermark
//     (perf's aux_watermark, half the buffer unless set, kernel/events/ring_buffer.c; the driver
//     puts the buffer limit on that page boundary), a buffer-management interrupt fires: one per
//     batch, costing irqCostNs; its handler hands every record of the buffer to the sink
//     (damon_report_access(), in interrupt context: "nmi", nothing may sleep) at recordCostNs each
//     plus what the sink returns, and frees the buffer. Reports so arrive in bursts of
//     watermarkBytes / recordBytes, stamped at the interrupt (older than that by up to the time
//     the batch took to fill). The interrupt is taken irqDelayNs after the watermark is reached
//     (default 0: at once; the CPU model has no interrupt masking), at the CPU's first access at or
//     after that time; meanwhile the hardware keeps writing into the space left, and a record that
//     finds the buffer full is lost (the hardware stops at the limit until re-armed): counted in
//     auxDropped and handed to the sink as lost, so a memory op's lost record counts as a report
//     made and dropped ('full'), as a full ring's would.
//   * costs (5.5): the 2000 ns interrupt (entry, buffer sync, re-arm) and 100 ns per record
//     (decode, address checks) are estimates, unverified; the hardware's own writes of records are
//     not charged to the CPU. perf's sample-rate ceilings (perf-throttle.ts) do not apply: SPE
//     raises no interrupt per sample.
// Per-CPU state is in typed arrays; nothing here allocates per access.

import { InputError } from "../../sim/errors.ts";
import type { Rng } from "../../sim/rng.ts";
import type { Stats } from "../../sim/stats.ts";
import { AccessKind } from "../batch.ts";
import { AccessRecord, attachSampler, detachSampler, type AccessSampler } from "../hooks.ts";
import type { Machine } from "../machine.ts";
import { PrimitiveEvent, fillFromAccess, type PrimitiveSink } from "./sample.ts";

/** PMSIRR_EL1.INTERVAL's granule and bounds (bits 31:8). */
export const SPE_INTERVAL_GRANULE = 256;
export const SPE_MAX_INTERVAL = 0xffffff00;
/** PMSLATFR_EL1.MINLAT is 12 bits. */
export const SPE_MAX_MIN_LATENCY = 4095;
/** Records a CPU's aux buffer may hold here (bounds the model's host memory). */
export const SPE_MAX_RECORDS = 1 << 18;
const PAGE = 4096;

export interface SpeOptions {
  /** Ops between samples (PMSIRR.INTERVAL), a multiple of 256 in [256, 0xFFFFFF00]; default 4096 (perf's fallback for caps/min_interval). */
  interval?: number;
  /** Randomize the low 8 bits of each reload (PMSIRR.RND); default true. */
  jitter?: boolean;
  /** Keep loads (PMSFCR.LD); default true. */
  loads?: boolean;
  /** Keep stores (PMSFCR.ST); default true. With loads and stores both false there is no type filter. */
  stores?: boolean;
  /** Keep ops whose total latency is at least this many cycles (PMSLATFR.MINLAT, 0..4095); default 0 (off). */
  minLatency?: number;
  /** Bytes per record, a power of two in [16, 2048]; default 64 (an estimate). */
  recordBytes?: number;
  /** Aux buffer bytes per CPU, a power of two >= 8 KiB; default 128 KiB. */
  auxBytes?: number;
  /** Bytes written between interrupts, a multiple of 4 KiB up to auxBytes; default auxBytes / 2. */
  watermarkBytes?: number;
  /** CPU time per buffer-management interrupt, ns; default 2000 (an estimate). */
  irqCostNs?: number;
  /** CPU time per record the handler decodes, ns (the sink's cost added); default 100 (an estimate). */
  recordCostNs?: number;
  /** Time from reaching the watermark to taking the interrupt, ns; default 0. */
  irqDelayNs?: number;
}

/** Defaults of the options above (sources in the module header); watermarkBytes defaults to auxBytes / 2. */
export const SPE_DEFAULTS = {
  interval: 4096,
  jitter: true,
  loads: true,
  stores: true,
  minLatency: 0,
  recordBytes: 64,
  auxBytes: 128 * 1024,
  irqCostNs: 2000,
  recordCostNs: 100,
  irqDelayNs: 0,
} as const satisfies Required<Omit<SpeOptions, "watermarkBytes">>;

const isPow2 = (n: number): boolean => Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;

export class SpeSampler implements AccessSampler {
  /** Where memory records go (the DAMON layer sets it); null: count only. */
  sink: PrimitiveSink | null;
  readonly interval: number;
  readonly jitter: boolean;
  readonly loads: boolean;
  readonly stores: boolean;
  readonly minLatency: number;
  readonly recordBytes: number;
  readonly auxBytes: number;
  readonly watermarkBytes: number;
  readonly irqCostNs: number;
  readonly recordCostNs: number;
  readonly irqDelayNs: number;
  /** Records the aux buffer holds, and the records that raise the interrupt. */
  readonly capacity: number;
  readonly watermark: number;
  /** Per CPU: ops counted, ops sampled, sampled ops the filters discarded, records written, records lost to a full buffer, interrupts, records with a data address handed to the sink. */
  readonly ops: Float64Array;
  readonly samples: Float64Array;
  readonly filtered: Float64Array;
  readonly records: Float64Array;
  readonly auxDropped: Float64Array;
  readonly interrupts: Float64Array;
  readonly reported: Float64Array;
  /** Per CPU: CPU time in the interrupt handler (sink included), ns. */
  readonly handlingNs: Float64Array;
  private readonly typeFilter: boolean;
  private readonly ghz: number;
  /** Ops left until the next sample, per CPU. */
  private readonly left: Float64Array;
  /** Records in each CPU's buffer, and when its pending interrupt is taken (Infinity: none pending). */
  private readonly fill: Int32Array;
  private readonly irqAt: Float64Array;
  // the aux buffers: CPU c's record k at c * capacity + k
  private readonly rVaddr: Float64Array;
  private readonly rPaddr: Float64Array;
  private readonly rLatency: Float64Array;
  private readonly rSize: Uint32Array;
  private readonly rTid: Int32Array;
  private readonly rPid: Int32Array;
  private readonly rPte: Int32Array;
  private readonly rKind: Uint8Array;
  private readonly rSource: Uint8Array;
  private readonly rMemNode: Uint16Array;
  private readonly rTlb: Uint8Array;
  /** 1: the record is a memory op's (it has a data address). */
  private readonly rMemory: Uint8Array;
  private readonly rngs: Rng[];
  private readonly event = new PrimitiveEvent();
  private readonly scratch = new AccessRecord();

  constructor(private readonly m: Machine, o: SpeOptions = {}, sink: PrimitiveSink | null = null) {
    this.sink = sink;
    const d = SPE_DEFAULTS;
    this.interval = o.interval ?? d.interval;
    this.jitter = o.jitter ?? d.jitter;
    this.loads = o.loads ?? d.loads;
    this.stores = o.stores ?? d.stores;
    this.minLatency = o.minLatency ?? d.minLatency;
    this.recordBytes = o.recordBytes ?? d.recordBytes;
    this.auxBytes = o.auxBytes ?? d.auxBytes;
    this.watermarkBytes = o.watermarkBytes ?? this.auxBytes / 2;
    this.irqCostNs = o.irqCostNs ?? d.irqCostNs;
    this.recordCostNs = o.recordCostNs ?? d.recordCostNs;
    this.irqDelayNs = o.irqDelayNs ?? d.irqDelayNs;
    const fail = (field: string, msg: string): never => {
      throw new InputError(msg, { field: `spe.${field}` });
    };
    const iv = this.interval;
    if (!Number.isSafeInteger(iv) || iv % SPE_INTERVAL_GRANULE !== 0) fail("interval", `must be a multiple of 256 ops (PMSIRR.INTERVAL is bits 31:8), got ${iv}; nearest: ${Math.max(SPE_INTERVAL_GRANULE, Math.round(iv / SPE_INTERVAL_GRANULE) * SPE_INTERVAL_GRANULE)}`);
    if (iv < SPE_INTERVAL_GRANULE || iv > SPE_MAX_INTERVAL) fail("interval", `must be in [256, ${SPE_MAX_INTERVAL}] (0x100..0xFFFFFF00), got ${iv}`);
    if (!(Number.isInteger(this.minLatency) && this.minLatency >= 0 && this.minLatency <= SPE_MAX_MIN_LATENCY)) fail("minLatency", `must be an integer number of cycles in [0, 4095] (PMSLATFR.MINLAT is 12 bits), got ${this.minLatency}`);
    if (!(isPow2(this.recordBytes) && this.recordBytes >= 16 && this.recordBytes <= 2048)) fail("recordBytes", `must be a power of two in [16, 2048] (PMSIDR.MaxSize), got ${this.recordBytes}`);
    if (!(isPow2(this.auxBytes) && this.auxBytes >= 8192)) fail("auxBytes", `must be a power of two of at least 8 KiB (8192), as perf requires, got ${this.auxBytes}`);
    if (this.auxBytes / this.recordBytes > SPE_MAX_RECORDS) fail("auxBytes", `holds ${this.auxBytes / this.recordBytes} records of ${this.recordBytes} B; at most ${SPE_MAX_RECORDS} per CPU are modelled (at most ${SPE_MAX_RECORDS * this.recordBytes} bytes)`);
    const wm = this.watermarkBytes;
    if (!(Number.isSafeInteger(wm) && wm % PAGE === 0 && wm >= PAGE && wm <= this.auxBytes)) fail("watermarkBytes", `must be a multiple of 4096 bytes in [4096, auxBytes = ${this.auxBytes}] (the driver puts the limit on a page boundary), got ${wm}`);
    for (const [k, v] of [["irqCostNs", this.irqCostNs], ["recordCostNs", this.recordCostNs], ["irqDelayNs", this.irqDelayNs]] as const) {
      if (!(v >= 0 && Number.isFinite(v))) fail(k, `must be a number of ns >= 0, got ${v}`);
    }
    this.typeFilter = this.loads || this.stores;
    this.ghz = m.config.cpuGHz;
    this.capacity = this.auxBytes / this.recordBytes;
    this.watermark = wm / this.recordBytes;
    const n = m.cpus.length;
    this.ops = new Float64Array(n);
    this.samples = new Float64Array(n);
    this.filtered = new Float64Array(n);
    this.records = new Float64Array(n);
    this.auxDropped = new Float64Array(n);
    this.interrupts = new Float64Array(n);
    this.reported = new Float64Array(n);
    this.handlingNs = new Float64Array(n);
    this.left = new Float64Array(n);
    this.fill = new Int32Array(n);
    this.irqAt = new Float64Array(n).fill(Infinity);
    const slots = n * this.capacity;
    this.rVaddr = new Float64Array(slots);
    this.rPaddr = new Float64Array(slots);
    this.rLatency = new Float64Array(slots);
    this.rSize = new Uint32Array(slots);
    this.rTid = new Int32Array(slots);
    this.rPid = new Int32Array(slots);
    this.rPte = new Int32Array(slots);
    this.rKind = new Uint8Array(slots);
    this.rSource = new Uint8Array(slots);
    this.rMemNode = new Uint16Array(slots);
    this.rTlb = new Uint8Array(slots);
    this.rMemory = new Uint8Array(slots);
    this.rngs = m.cpus.map((_, c) => m.rng.stream(`hw.spe.cpu${c}`));
    for (let c = 0; c < n; c++) this.left[c] = this.nextInterval(c);
  }

  attach(): this {
    attachSampler(this.m.samplers, this);
    return this;
  }

  /** Leaves the access path (profiling disabled); records still in a buffer stay undelivered. */
  detach(): void {
    detachSampler(this.m.samplers, this);
  }

  /** Ops until the next sample after a reload: the interval, plus the random low 8 bits with jitter. */
  private nextInterval(cpu: number): number {
    return this.jitter ? this.interval + this.rngs[cpu]!.int(SPE_INTERVAL_GRANULE) : this.interval;
  }

  /** Records waiting in CPU `cpu`'s aux buffer. */
  pending(cpu: number): number {
    return this.fill[cpu]!;
  }

  onAccess(rec: AccessRecord): number {
    const cpu = rec.cpu;
    const cost = this.irqAt[cpu]! <= rec.time ? this.interrupt(cpu, rec.time) : 0;
    const ops = rec.ops;
    const l = this.left[cpu]!;
    if (ops < l) {
      this.left[cpu] = l - ops;
      this.ops[cpu]! += ops;
      return cost;
    }
    return cost + this.expire(rec, ops, l);
  }

  /** The counter expires within this access's ops (possibly more than once in a long gap). */
  private expire(rec: AccessRecord, ops: number, left: number): number {
    const cpu = rec.cpu;
    let rest = ops;
    let l = left;
    let cost = 0;
    while (rest >= l) {
      rest -= l;
      this.ops[cpu]! += l;
      this.samples[cpu]!++;
      l = this.nextInterval(cpu);
      cost += this.sampleOp(rec, rest === 0 && rec.kind !== AccessKind.IFETCH);
    }
    this.ops[cpu]! += rest;
    this.left[cpu] = l - rest;
    return cost;
  }

  /** One sampled op: filters, then a record in the aux buffer (or lost); returns the interrupt's cost if it fires now. */
  private sampleOp(rec: AccessRecord, memoryOp: boolean): number {
    const cpu = rec.cpu;
    const kind = rec.kind;
    if (this.typeFilter) {
      const keep = memoryOp && ((this.loads && kind !== AccessKind.WRITE) || (this.stores && kind !== AccessKind.READ));
      if (!keep) {
        this.filtered[cpu]!++;
        return 0;
      }
    }
    if (this.minLatency > 0 && (memoryOp ? rec.latencyNs : this.m.config.nsPerOp) * this.ghz < this.minLatency) {
      this.filtered[cpu]!++;
      return 0;
    }
    const k = this.fill[cpu]!;
    if (k >= this.capacity) {
      this.auxDropped[cpu]!++;
      const sink = this.sink;
      if (memoryOp && sink !== null) {
        const e = fillFromAccess(this.event, rec, kind !== AccessKind.READ, rec.latencyNs, this.m.ptes.bytes(rec.pte));
        e.lost = true;
        sink(e);
      }
      return 0;
    }
    const i = cpu * this.capacity + k;
    this.rVaddr[i] = rec.vaddr;
    this.rPaddr[i] = rec.paddr;
    this.rLatency[i] = memoryOp ? rec.latencyNs : this.m.config.nsPerOp;
    this.rSize[i] = rec.size;
    this.rTid[i] = rec.tid;
    this.rPid[i] = rec.pid;
    this.rPte[i] = rec.pte;
    this.rKind[i] = kind;
    this.rSource[i] = rec.source;
    this.rMemNode[i] = rec.memNode;
    this.rTlb[i] = rec.tlb;
    this.rMemory[i] = memoryOp ? 1 : 0;
    this.fill[cpu] = k + 1;
    this.records[cpu]!++;
    if (k + 1 === this.watermark) {
      if (this.irqDelayNs === 0) return this.interrupt(cpu, rec.time);
      this.irqAt[cpu] = rec.time + this.irqDelayNs;
    }
    return 0;
  }

  /** The buffer-management interrupt on `cpu` at `time`: every buffered record to the sink, the buffer freed. */
  private interrupt(cpu: number, time: number): number {
    const n = this.fill[cpu]!;
    this.fill[cpu] = 0;
    this.irqAt[cpu] = Infinity;
    this.interrupts[cpu]!++;
    let ns = this.irqCostNs + n * this.recordCostNs;
    const sink = this.sink;
    const r = this.scratch;
    r.cpu = cpu;
    r.cpuNode = this.m.cpus[cpu]!.node;
    r.time = time;
    const base = cpu * this.capacity;
    for (let k = 0; k < n; k++) {
      const i = base + k;
      if (this.rMemory[i] === 0) continue;
      this.reported[cpu]!++;
      if (sink === null) continue;
      r.tid = this.rTid[i]!;
      r.pid = this.rPid[i]!;
      r.vaddr = this.rVaddr[i]!;
      r.paddr = this.rPaddr[i]!;
      r.size = this.rSize[i]!;
      r.kind = this.rKind[i]!;
      r.latencyNs = this.rLatency[i]!;
      r.source = this.rSource[i]!;
      r.memNode = this.rMemNode[i]!;
      r.tlb = this.rTlb[i]!;
      r.pte = this.rPte[i]!;
      ns += sink(fillFromAccess(this.event, r, r.kind !== AccessKind.READ, r.latencyNs, this.m.ptes.bytes(r.pte)));
    }
    this.handlingNs[cpu]! += ns;
    return ns;
  }

  registerStats(stats: Stats, prefix = "system.spe"): void {
    this.m.cpus.forEach((_, c) => {
      const p = `${prefix}.cpu${c}`;
      stats.gauge(`${p}.ops`, "ops counted by the SPE sampling counter", () => this.ops[c]!);
      stats.gauge(`${p}.samples`, "ops selected for sampling", () => this.samples[c]!);
      stats.gauge(`${p}.filtered`, "sampled ops discarded by the type or latency filter", () => this.filtered[c]!);
      stats.gauge(`${p}.records`, "records written to the aux buffer", () => this.records[c]!);
      stats.gauge(`${p}.auxDropped`, "records lost to a full aux buffer", () => this.auxDropped[c]!);
      stats.gauge(`${p}.interrupts`, "buffer-management interrupts (one per batch)", () => this.interrupts[c]!);
      stats.gauge(`${p}.reported`, "records with a data address handed to the sink", () => this.reported[c]!);
      stats.gauge(`${p}.handlingTime`, "CPU time in SPE interrupts, sink included", () => this.handlingNs[c]!, "Nanosecond");
    });
  }
}
