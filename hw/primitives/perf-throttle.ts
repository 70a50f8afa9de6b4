// The perf core's two sampling ceilings (hardware.md 2.5, kernel/events/core.c), shared by the PMU
// samplers (perf mem on PEBS, IBS op):
//   * perf_event_max_sample_rate (default 100 000/s): each hardware event may take at most
//     ceil(rate / HZ) overflow interrupts per CPU per tick. The overflow that goes past the limit
//     still delivers its sample (the core accounts the interrupt, then calls the overflow handler),
//     but it stops the event on that CPU until the next tick (PERF_RECORD_THROTTLE): at most
//     limit + 1 samples per tick. Ticks are HZ = 1000 slices of simulated time (1 ms), taken on
//     the CPU's own clock.
//   * perf_cpu_time_max_percent (default 25 %): every sample's handling time feeds a per-CPU
//     running average (decay 1/128 per sample, integer ns as the kernel keeps it). The allowed
//     time starts at (1 s / rate) x percent (2500 ns with the defaults). When the average exceeds
//     it, the limit is lowered for every CPU: the allowed time becomes the average plus a quarter,
//     the per-tick limit becomes (tick x percent) / that time (at least 1), and the rate becomes
//     limit x HZ. 0 or 100 percent turns this check off, as in the kernel.
// Events keep per-CPU state in typed arrays; nothing here allocates per sample.

import { InputError } from "../../sim/errors.ts";
import { MS, SEC } from "../../sim/time.ts";

export interface PerfLimitOptions {
  /** perf_event_max_sample_rate, samples per second per event per CPU (default 100 000; Infinity: no limit). */
  maxSampleRate?: number;
  /** perf_cpu_time_max_percent (default 25; 0 or 100 disable the CPU-time check). */
  cpuTimeMaxPercent?: number;
  /** Length of a scheduler tick for throttling (default 1 ms: HZ = 1000). */
  tickNs?: number;
}

/** The kernel's defaults (perf_event_max_sample_rate, perf_cpu_time_max_percent, HZ = 1000). */
export const PERF_LIMIT_DEFAULTS = { maxSampleRate: 100_000, cpuTimeMaxPercent: 25, tickNs: 1 * MS } as const satisfies Required<PerfLimitOptions>;

/** Samples over which the handling-time average decays (the kernel's NR_ACCUMULATED_SAMPLES). */
const ACCUMULATED_SAMPLES = 128;

/** The limits of one perf instance (global in the kernel: lowering applies to every CPU). */
export class PerfLimits {
  readonly tickNs: number;
  readonly cpuTimeMaxPercent: number;
  /** Current perf_event_max_sample_rate (lowered by the CPU-time check). */
  maxSampleRate: number;
  /** Current overflow interrupts allowed per event per CPU per tick. */
  maxPerTick: number;
  /** Current perf_sample_allowed_ns (0: CPU-time check off). */
  allowedNs: number;
  /** Times the CPU-time check lowered the rate. */
  lowerings = 0;
  private readonly running: Float64Array;

  constructor(cpus: number, o: PerfLimitOptions = {}, where = "perf") {
    this.tickNs = o.tickNs ?? PERF_LIMIT_DEFAULTS.tickNs;
    this.maxSampleRate = o.maxSampleRate ?? PERF_LIMIT_DEFAULTS.maxSampleRate;
    this.cpuTimeMaxPercent = o.cpuTimeMaxPercent ?? PERF_LIMIT_DEFAULTS.cpuTimeMaxPercent;
    if (!(Number.isInteger(this.tickNs) && this.tickNs > 0)) throw new InputError(`must be a positive integer number of ns, got ${this.tickNs}`, { field: `${where}.tickNs` });
    if (!(this.maxSampleRate > 0)) throw new InputError(`must be positive, got ${this.maxSampleRate}`, { field: `${where}.maxSampleRate` });
    const pct = this.cpuTimeMaxPercent;
    if (!(pct >= 0 && pct <= 100)) throw new InputError(`must be in [0, 100], got ${pct}`, { field: `${where}.cpuTimeMaxPercent` });
    const hz = SEC / this.tickNs;
    this.maxPerTick = Math.ceil(this.maxSampleRate / hz);
    this.allowedNs = pct === 0 || pct === 100 || this.maxSampleRate === Infinity ? 0 : Math.max(1, Math.floor(((SEC / this.maxSampleRate) * pct) / 100));
    this.running = new Float64Array(cpus);
  }

  /** Accounts the handling time of one sample on `cpu` (the kernel's perf_sample_event_took). */
  took(cpu: number, ns: number): void {
    const allowed = this.allowedNs;
    if (allowed === 0) return;
    let run = this.running[cpu]!;
    run = run - Math.floor(run / ACCUMULATED_SAMPLES) + ns;
    this.running[cpu] = run;
    const avg = Math.floor(run / ACCUMULATED_SAMPLES);
    if (avg <= allowed) return;
    const len = avg + Math.floor(avg / 4);
    const budget = Math.floor((this.tickNs * this.cpuTimeMaxPercent) / 100);
    const perTick = len < budget ? Math.floor(budget / len) : 1;
    this.allowedNs = len;
    this.maxPerTick = perTick;
    this.maxSampleRate = perTick * (SEC / this.tickNs);
    this.lowerings++;
  }
}

/** Per-CPU throttling state of one hardware event (perf mem's load event, its store event, IBS op). */
export class EventThrottle {
  /** Throttle events (PERF_RECORD_THROTTLE) per CPU. */
  readonly throttles: Float64Array;
  private readonly tickEnd: Float64Array;
  private readonly count: Float64Array;
  private readonly stoppedUntil: Float64Array;

  constructor(readonly limits: PerfLimits, cpus: number) {
    this.throttles = new Float64Array(cpus);
    this.tickEnd = new Float64Array(cpus);
    this.count = new Float64Array(cpus);
    this.stoppedUntil = new Float64Array(cpus);
  }

  /** False while the event is stopped on `cpu` (it counts nothing until the next tick). */
  running(cpu: number, time: number): boolean {
    return time >= this.stoppedUntil[cpu]!;
  }

  /** Accounts one overflow interrupt at `time`; returns true if it throttled the event. */
  overflow(cpu: number, time: number): boolean {
    if (time >= this.tickEnd[cpu]!) {
      const tick = this.limits.tickNs;
      this.tickEnd[cpu] = (Math.floor(time / tick) + 1) * tick;
      this.count[cpu] = 0;
    }
    const n = ++this.count[cpu]!;
    if (n > this.limits.maxPerTick) {
      this.stoppedUntil[cpu] = this.tickEnd[cpu]!;
      this.throttles[cpu]!++;
      return true;
    }
    return false;
  }
}
