// `perf mem record` on Intel PEBS as an AccessSampler (hardware.md 2.1-2.5):
//   * loads: MEM_TRANS_RETIRED.LOAD_LATENCY with ldlat (default 30 core cycles, perf mem's
//     default; hardware minimum 3). A load qualifies when its latency, converted to cycles with the
//     machine's cpuGHz, is above ldlat. The latency is the access path's (TLB + walk + caches +
//     memory), i.e. PEBS "use latency", so an L1 hit after a page walk can qualify.
//   * stores: precise store sampling (MEM_INST_RETIRED.ALL_STORES): every store counts, no latency
//     filter, and the record carries no latency (latencyNs 0).
//   * MODIFY (one instruction that loads and stores the same bytes) counts as one load (latency
//     filtered) and one store, as the two retired-memory-op events both count such an instruction;
//     each event may sample it, giving a read sample and a write sample.
//   * instruction fetches are not data accesses: neither event counts them.
// Each event has its own counter per CPU and samples every period-th counted access (the sampled
// access is the one that makes the counter reach the period; the hardware's arm-then-record-the-
// next-event detail is not modelled). A sample carries the virtual and physical data address
// (perf mem --phys-data), latency, data source and TLB outcome, and goes to the sink in NMI
// context. Each sample costs sampleCostNs: a PEBS assist plus a PMI and perf's overflow handler,
// since in-kernel users such as DAMON's perf substrate get a callback per record (wakeup 1). The
// 2000 ns default is an estimate: an assist is hundreds of ns and a PMI a few us (hardware.md 2.5,
// unverified). The perf core's ceilings (perf-throttle.ts) apply to each event per CPU.

import { InputError } from "../../sim/errors.ts";
import { AccessKind } from "../batch.ts";
import { attachSampler, detachSampler, type AccessRecord, type AccessSampler } from "../hooks.ts";
import type { Machine } from "../machine.ts";
import type { Stats } from "../../sim/stats.ts";
import { EventThrottle, PerfLimits, type PerfLimitOptions } from "./perf-throttle.ts";
import { PrimitiveEvent, fillFromAccess, type PrimitiveSink } from "./sample.ts";

export interface PerfMemOptions extends PerfLimitOptions {
  /** Sample loads (perf mem -t load); default true. */
  loads?: boolean;
  /** Sample stores (perf mem -t store); default true. */
  stores?: boolean;
  /** Load latency threshold in core cycles (default 30, perf mem's default; 3..65535). */
  ldlat?: number;
  /** Sample every loadPeriod-th qualifying load per CPU (default 5003, HeMem's PEBS period, hardware.md 0/6). */
  loadPeriod?: number;
  /** Sample every storePeriod-th store per CPU (default 100 007, Memtis's store period, hardware.md 0/6). */
  storePeriod?: number;
  /** CPU time per sample (PEBS assist + PMI + overflow handler), ns; default 2000 (an estimate). */
  sampleCostNs?: number;
}

/** Defaults of the options above (their sources are in the option comments). */
export const PERF_MEM_DEFAULTS = { loads: true, stores: true, ldlat: 30, loadPeriod: 5003, storePeriod: 100_007, sampleCostNs: 2000 } as const satisfies Required<Omit<PerfMemOptions, keyof PerfLimitOptions>>;

export class PerfMemSampler implements AccessSampler {
  /** Where samples go (the DAMON layer sets it); null: count only. */
  sink: PrimitiveSink | null;
  readonly loads: boolean;
  readonly stores: boolean;
  readonly ldlat: number;
  readonly loadPeriod: number;
  readonly storePeriod: number;
  readonly sampleCostNs: number;
  readonly limits: PerfLimits;
  readonly loadThrottle: EventThrottle;
  readonly storeThrottle: EventThrottle;
  /** Per CPU: qualifying loads counted, stores counted, load samples, store samples. */
  readonly loadsCounted: Float64Array;
  readonly storesCounted: Float64Array;
  readonly loadSamples: Float64Array;
  readonly storeSamples: Float64Array;
  /** Per CPU: CPU time spent handling samples (including the sink's), ns. */
  readonly handlingNs: Float64Array;
  private readonly ldlatNs: number;
  private readonly loadCount: Float64Array;
  private readonly storeCount: Float64Array;
  private readonly event = new PrimitiveEvent();

  constructor(private readonly m: Machine, o: PerfMemOptions = {}, sink: PrimitiveSink | null = null) {
    this.sink = sink;
    const d = PERF_MEM_DEFAULTS;
    this.loads = o.loads ?? d.loads;
    this.stores = o.stores ?? d.stores;
    this.ldlat = o.ldlat ?? d.ldlat;
    this.loadPeriod = o.loadPeriod ?? d.loadPeriod;
    this.storePeriod = o.storePeriod ?? d.storePeriod;
    this.sampleCostNs = o.sampleCostNs ?? d.sampleCostNs;
    if (!(Number.isInteger(this.ldlat) && this.ldlat >= 3 && this.ldlat <= 0xffff)) throw new InputError(`must be an integer number of cycles in [3, 65535], got ${this.ldlat}`, { field: "perfMem.ldlat" });
    for (const [k, v] of [["loadPeriod", this.loadPeriod], ["storePeriod", this.storePeriod]] as const) {
      if (!(Number.isSafeInteger(v) && v >= 1)) throw new InputError(`must be a positive integer, got ${v}`, { field: `perfMem.${k}` });
    }
    if (!(this.sampleCostNs >= 0)) throw new InputError(`must be a number of ns >= 0, got ${this.sampleCostNs}`, { field: "perfMem.sampleCostNs" });
    const n = m.cpus.length;
    this.limits = new PerfLimits(n, o, "perfMem");
    this.loadThrottle = new EventThrottle(this.limits, n);
    this.storeThrottle = new EventThrottle(this.limits, n);
    this.ldlatNs = this.ldlat / m.config.cpuGHz;
    this.loadsCounted = new Float64Array(n);
    this.storesCounted = new Float64Array(n);
    this.loadSamples = new Float64Array(n);
    this.storeSamples = new Float64Array(n);
    this.handlingNs = new Float64Array(n);
    this.loadCount = new Float64Array(n);
    this.storeCount = new Float64Array(n);
  }

  /** Adds the sampler to the machine's access path (perf events enabled). */
  attach(): this {
    attachSampler(this.m.samplers, this);
    return this;
  }

  /** Removes it (events disabled); counts are kept. */
  detach(): void {
    detachSampler(this.m.samplers, this);
  }

  onAccess(rec: AccessRecord): number {
    const kind = rec.kind;
    if (kind === AccessKind.IFETCH) return 0;
    const cpu = rec.cpu;
    let cost = 0;
    if (kind !== AccessKind.WRITE && this.loads && rec.latencyNs > this.ldlatNs && this.loadThrottle.running(cpu, rec.time)) {
      this.loadsCounted[cpu]!++;
      if (++this.loadCount[cpu]! >= this.loadPeriod) {
        this.loadCount[cpu] = 0;
        this.loadSamples[cpu]!++;
        cost += this.sample(rec, false, rec.latencyNs, this.loadThrottle);
      }
    }
    if (kind !== AccessKind.READ && this.stores && this.storeThrottle.running(cpu, rec.time)) {
      this.storesCounted[cpu]!++;
      if (++this.storeCount[cpu]! >= this.storePeriod) {
        this.storeCount[cpu] = 0;
        this.storeSamples[cpu]!++;
        cost += this.sample(rec, true, 0, this.storeThrottle);
      }
    }
    return cost;
  }

  private sample(rec: AccessRecord, isWrite: boolean, latencyNs: number, throttle: EventThrottle): number {
    const cpu = rec.cpu;
    throttle.overflow(cpu, rec.time);
    let ns = this.sampleCostNs;
    const sink = this.sink;
    if (sink !== null) ns += sink(fillFromAccess(this.event, rec, isWrite, latencyNs, this.m.ptes.bytes(rec.pte)));
    this.limits.took(cpu, ns);
    this.handlingNs[cpu]! += ns;
    return ns;
  }

  /** Samples taken on `cpu` (loads + stores), or on every CPU. */
  samples(cpu?: number): number {
    if (cpu !== undefined) return this.loadSamples[cpu]! + this.storeSamples[cpu]!;
    return sum(this.loadSamples) + sum(this.storeSamples);
  }

  /** Throttle events on `cpu` (both events), or on every CPU. */
  throttled(cpu?: number): number {
    if (cpu !== undefined) return this.loadThrottle.throttles[cpu]! + this.storeThrottle.throttles[cpu]!;
    return sum(this.loadThrottle.throttles) + sum(this.storeThrottle.throttles);
  }

  registerStats(stats: Stats, prefix = "system.perfMem"): void {
    stats.gauge(`${prefix}.maxSampleRate`, "perf_event_max_sample_rate now (lowered by the CPU-time check)", () => this.limits.maxSampleRate);
    stats.gauge(`${prefix}.rateLowerings`, "times the CPU-time check lowered the sample rate", () => this.limits.lowerings);
    this.m.cpus.forEach((_, c) => {
      const p = `${prefix}.cpu${c}`;
      stats.gauge(`${p}.loadsCounted`, "loads above ldlat counted by the load event", () => this.loadsCounted[c]!);
      stats.gauge(`${p}.storesCounted`, "stores counted by the store event", () => this.storesCounted[c]!);
      stats.gauge(`${p}.loadSamples`, "load samples taken", () => this.loadSamples[c]!);
      stats.gauge(`${p}.storeSamples`, "store samples taken", () => this.storeSamples[c]!);
      stats.gauge(`${p}.throttles`, "throttle events (both events)", () => this.throttled(c));
      stats.gauge(`${p}.handlingTime`, "CPU time handling samples, sink included", () => this.handlingNs[c]!, "Nanosecond");
    });
  }
}

function sum(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}
