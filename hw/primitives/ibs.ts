// AMD IBS op sampling as an AccessSampler (hardware.md 3; IbsOpCntCtl = 1, counting dispatched ops):
//   * each CPU has an op counter that counts every op: an access stands for AccessRecord.ops ops,
//     its `gap` non-memory ops first and the memory op last.
//   * the period (IbsOpMaxCnt) must be a multiple of 16, at most 0x7FFFFF0 (27-bit count with
//     OpCntExt), and here at least 0x90 = 144 so that the interval stays positive after the low 7
//     bits are randomized (our rule).
//   * when the counter reaches the period, the op it lands on is tagged; the counter then restarts
//     with its low 7 bits randomized by hardware, so the next interval is period - r with r uniform
//     in 0..127. r is drawn from the machine's RngRoot stream "hw.ibs.cpuN"; the first interval,
//     when the counter is enabled at construction, is drawn the same way.
//   * a tagged op is the memory op only if it is the last op of its access's group; otherwise it
//     is a non-memory op (and an instruction fetch row counts as a non-memory op): the NMI still
//     fires and costs, but there is no data address and nothing goes to the sink.
//   * a memory sample carries the linear and physical address, load/store (a MODIFY is one op
//     with both LdOp and StOp: isWrite true), DcMiss (L1 miss) and L2Miss derived from the data
//     source (PrimitiveEvent.dcMiss / l2Miss), the TLB outcome, latency and data source; it goes
//     to the sink in NMI context.
//   * one NMI per sample costing nmiCostNs; the 3000 ns default is an estimate ("a few us",
//     hardware.md 3.3, unverified), plus what the sink returns.
//   * l3MissOnly (Zen 4+): hardware discards tagged ops not served beyond the caches (and
//     non-memory ops) without an interrupt and restarts counting; counted as dropped.
//   * samples go through the perf core, so its ceilings apply (perf-throttle.ts): a throttled
//     event stops counting ops on that CPU until the next tick.

import { InputError } from "../../sim/errors.ts";
import type { Rng } from "../../sim/rng.ts";
import type { Stats } from "../../sim/stats.ts";
import { AccessKind } from "../batch.ts";
import { attachSampler, DataSource, detachSampler, type AccessRecord, type AccessSampler } from "../hooks.ts";
import type { Machine } from "../machine.ts";
import { EventThrottle, PerfLimits, type PerfLimitOptions } from "./perf-throttle.ts";
import { PrimitiveEvent, fillFromAccess, type PrimitiveSink } from "./sample.ts";

/** Largest op period with the 27-bit extended counter. */
export const IBS_MAX_PERIOD = 0x7fffff0;
/** Smallest op period accepted here (see the module header). */
export const IBS_MIN_PERIOD = 0x90;

export interface IbsOptions extends PerfLimitOptions {
  /** Ops between samples (IbsOpMaxCnt); a multiple of 16 in [0x90, 0x7FFFFF0]; default 10 000 (AMD's tiering patches, hardware.md 3.4). */
  period?: number;
  /** Keep only samples that missed L3 (Zen 4+); default false. */
  l3MissOnly?: boolean;
  /** CPU time per NMI, ns; default 3000 (an estimate). */
  nmiCostNs?: number;
}

/** Defaults of the options above (their sources are in the option comments). */
export const IBS_DEFAULTS = { period: 10_000, l3MissOnly: false, nmiCostNs: 3000 } as const satisfies Required<Omit<IbsOptions, keyof PerfLimitOptions>>;

export class IbsSampler implements AccessSampler {
  /** Where memory samples go (the DAMON layer sets it); null: count only. */
  sink: PrimitiveSink | null;
  readonly period: number;
  readonly l3MissOnly: boolean;
  readonly nmiCostNs: number;
  readonly limits: PerfLimits;
  readonly throttle: EventThrottle;
  /** Per CPU: ops counted, tagged ops that raised an NMI, of which memory ops, tags dropped by l3MissOnly. */
  readonly ops: Float64Array;
  readonly samples: Float64Array;
  readonly memorySamples: Float64Array;
  readonly dropped: Float64Array;
  /** Per CPU: CPU time spent in NMIs (sink included), ns. */
  readonly handlingNs: Float64Array;
  /** Ops left until the next tag, per CPU. */
  private readonly left: Float64Array;
  private readonly rngs: Rng[];
  private readonly event = new PrimitiveEvent();

  constructor(private readonly m: Machine, o: IbsOptions = {}, sink: PrimitiveSink | null = null) {
    this.sink = sink;
    this.period = o.period ?? IBS_DEFAULTS.period;
    this.l3MissOnly = o.l3MissOnly ?? IBS_DEFAULTS.l3MissOnly;
    this.nmiCostNs = o.nmiCostNs ?? IBS_DEFAULTS.nmiCostNs;
    const p = this.period;
    if (!Number.isSafeInteger(p) || p % 16 !== 0) {
      throw new InputError(`must be a multiple of 16 ops (IbsOpMaxCnt ignores the low 4 bits), got ${p}; nearest: ${Math.max(IBS_MIN_PERIOD, Math.round(p / 16) * 16)}`, { field: "ibs.period" });
    }
    if (p < IBS_MIN_PERIOD || p > IBS_MAX_PERIOD) throw new InputError(`must be in [${IBS_MIN_PERIOD}, ${IBS_MAX_PERIOD}] (0x90..0x7FFFFF0), got ${p}`, { field: "ibs.period" });
    if (!(this.nmiCostNs >= 0)) throw new InputError(`must be a number of ns >= 0, got ${this.nmiCostNs}`, { field: "ibs.nmiCostNs" });
    const n = m.cpus.length;
    this.limits = new PerfLimits(n, o, "ibs");
    this.throttle = new EventThrottle(this.limits, n);
    this.ops = new Float64Array(n);
    this.samples = new Float64Array(n);
    this.memorySamples = new Float64Array(n);
    this.dropped = new Float64Array(n);
    this.handlingNs = new Float64Array(n);
    this.left = new Float64Array(n);
    this.rngs = m.cpus.map((_, c) => m.rng.stream(`hw.ibs.cpu${c}`));
    for (let c = 0; c < n; c++) this.left[c] = this.nextInterval(c);
  }

  attach(): this {
    attachSampler(this.m.samplers, this);
    return this;
  }

  detach(): void {
    detachSampler(this.m.samplers, this);
  }

  /** Ops until the next tag after a roll-over: the period with its low 7 bits' worth randomized. */
  private nextInterval(cpu: number): number {
    return this.period - this.rngs[cpu]!.int(128);
  }

  onAccess(rec: AccessRecord): number {
    const cpu = rec.cpu;
    if (!this.throttle.running(cpu, rec.time)) return 0;
    const ops = rec.ops;
    const l = this.left[cpu]!;
    if (ops < l) {
      this.left[cpu] = l - ops;
      this.ops[cpu]! += ops;
      return 0;
    }
    return this.tag(rec, ops, l);
  }

  /** The counter expires within this access's ops (possibly more than once in a long gap). */
  private tag(rec: AccessRecord, ops: number, left: number): number {
    const cpu = rec.cpu;
    let rest = ops;
    let l = left;
    let cost = 0;
    while (rest >= l) {
      rest -= l;
      this.ops[cpu]! += l;
      const memoryOp = rest === 0 && rec.kind !== AccessKind.IFETCH;
      l = this.nextInterval(cpu);
      if (this.l3MissOnly && (!memoryOp || rec.source <= DataSource.LLC)) {
        this.dropped[cpu]!++;
        continue;
      }
      cost += this.nmi(rec, memoryOp);
      if (this.throttle.overflow(cpu, rec.time)) {
        // Stopped until the next tick: the rest of this group is not counted.
        this.left[cpu] = l;
        return cost;
      }
    }
    this.ops[cpu]! += rest;
    this.left[cpu] = l - rest;
    return cost;
  }

  private nmi(rec: AccessRecord, memoryOp: boolean): number {
    const cpu = rec.cpu;
    this.samples[cpu]!++;
    let ns = this.nmiCostNs;
    if (memoryOp) {
      this.memorySamples[cpu]!++;
      const sink = this.sink;
      if (sink !== null) {
        const write = rec.kind === AccessKind.WRITE || rec.kind === AccessKind.MODIFY;
        ns += sink(fillFromAccess(this.event, rec, write, rec.latencyNs, this.m.ptes.bytes(rec.pte)));
      }
    }
    this.limits.took(cpu, ns);
    this.handlingNs[cpu]! += ns;
    return ns;
  }

  registerStats(stats: Stats, prefix = "system.ibs"): void {
    stats.gauge(`${prefix}.maxSampleRate`, "perf_event_max_sample_rate now (lowered by the CPU-time check)", () => this.limits.maxSampleRate);
    this.m.cpus.forEach((_, c) => {
      const p = `${prefix}.cpu${c}`;
      stats.gauge(`${p}.ops`, "ops counted by the IBS op counter", () => this.ops[c]!);
      stats.gauge(`${p}.samples`, "tagged ops that raised an NMI", () => this.samples[c]!);
      stats.gauge(`${p}.memorySamples`, "samples of memory ops (with a data address)", () => this.memorySamples[c]!);
      stats.gauge(`${p}.dropped`, "tagged ops discarded by L3MissOnly", () => this.dropped[c]!);
      stats.gauge(`${p}.throttles`, "throttle events", () => this.throttle.throttles[c]!);
      stats.gauge(`${p}.handlingTime`, "CPU time in IBS NMIs, sink included", () => this.handlingNs[c]!, "Nanosecond");
    });
  }
}
