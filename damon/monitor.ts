// Wires DAMON onto a machine: a context with the chosen operations set and targets (the workload's
// processes for vaddr, physical memory for paddr), the access check primitives it uses (any
// combination of the registry's, damon/primitives/), the damon_report_access() buffer and sample
// filters for the report-based ones, data-attribute probes, and its kdamond (created, not
// started). Each primitive installs itself with its own sink into the buffer (a report its hardware
// lost on the way counts as made and dropped); kdamond starts and
// stops every installed primitive; registerStats adds every primitive's counters and the shared
// kernel services' (NUMA balancing, the trap dispatcher).

import type { Machine } from "../hw/machine.ts";
import { PrimitiveServices, type NumaBalancing, type PrimitiveEvent, type PrimitiveSink, type TrapDispatch } from "../hw/primitives/index.ts";
import type { Stats } from "../sim/stats.ts";
import { defaultAttrs, type DamonAttrs } from "./attrs.ts";
import type { Variant } from "./aggregate.ts";
import { InputError } from "../sim/errors.ts";
import { kernelSplitState, type KernelRules } from "./kernel.ts";
import { DamonContext } from "./context.ts";
import type { DamonCosts } from "./costs.ts";
import { Kdamond } from "./kdamond.ts";
import { opsSet, type OpsName } from "./ops-sets.ts";
import { PRIMITIVE_DEFS, PRIMITIVES, isPrimitiveName, primitiveDef, primitiveId, type InstanceOf, type PrimitiveDef, type PrimitiveName, type PrimitiveParams } from "./primitives/index.ts";
import { PrimitiveOps } from "./access-checks.ts";
import type { Probe } from "./probes.ts";
import { ArrayReportBuffer, DROP_REASON_NAMES, Jiffies, RingReportBuffer, type ReportBuffer, type ReportInput } from "./report-buffer/buffer.ts";
import { ReportDrain } from "./report-buffer/drain.ts";
import type { FilterSemantics, SampleFilter } from "./report-buffer/filters.ts";
import type { SamplingOps } from "./ops-common.ts";
import { machineActions, machineMemoryState } from "./schemes/machine-actions.ts";
import type { SchemeSpec } from "./schemes/types.ts";

export type { OpsName } from "./ops-sets.ts";
export type { PrimitiveParams } from "./primitives/index.ts";

export interface MonitorOptions {
  ops: OpsName;
  attrs?: DamonAttrs;
  /** vaddr: the pids to monitor (default: every process of the machine). */
  pids?: number[];
  variant?: Variant;
  /** The kernel version's rules (--kernel); wins over `variant`. */
  kernel?: KernelRules;
  /** CPU kdamond runs on (default: the last CPU). */
  cpu?: number;
  costs?: Partial<DamonCosts>;
  /** Name of the random sub-stream (several kdamonds need distinct ones). */
  rngName?: string;
  minRegionSz?: number;
  /** Access check primitives (default: the PTE Accessed bit only). */
  primitives?: PrimitiveName[];
  /** Report buffer design for report-based primitives (default: per-CPU rings). */
  buffer?: "array" | "rings";
  filters?: SampleFilter[];
  filterSemantics?: FilterSemantics;
  /** Kernel HZ for report_jiffies (default 250). */
  hz?: number;
  params?: PrimitiveParams;
  /** Run Linux NUMA balancing even when its faults are not reported to DAMON. */
  numaBalancing?: boolean;
  probes?: Probe[];
  maxProbes?: number;
  /** DAMOS schemes, carried out on the machine by the operations set's actions. */
  schemes?: readonly SchemeSpec[];
}

export interface PrimitiveCounters {
  /** Events the primitive delivered to damon_report_access(), by primitive id. */
  delivered: number[];
}

/** A primitive installed on the machine: its definition's lifecycle bound to its instance. */
export interface InstalledPrimitive {
  readonly name: PrimitiveName;
  readonly id: number;
  readonly instance: unknown;
  start(): void;
  stop(): void;
  registerStats(stats: Stats): void;
}

export interface Monitor {
  ctx: DamonContext;
  kdamond: Kdamond;
  ops: PrimitiveOps;
  primitives: PrimitiveName[];
  buffer: ReportBuffer | null;
  drain: ReportDrain | null;
  counters: PrimitiveCounters;
  /** The primitives installed, in registry order. */
  installed: readonly InstalledPrimitive[];
  /** NUMA balancing, when the machine runs it (the numa-hint primitive, or numaBalancing). */
  numa: NumaBalancing | null;
  dispatch: TrapDispatch | null;
  /** What primitive `name`'s install returned (its sampler, handler), or null when it is not installed. */
  instance<N extends PrimitiveName>(name: N): InstanceOf<N> | null;
  /** Registers every installed primitive's and kernel service's statistics, and DAMON's report counters. */
  registerStats(stats: Stats): void;
  /** Detaches the primitives from the machine and stops NUMA balancing's scanner. */
  detach(): void;
}

export function createBaseOps(name: OpsName, machine: Machine): SamplingOps {
  return opsSet(name).create(machine);
}

/** Creates (but does not start) a context, its primitives and its kdamond on `machine`. */
export function createMonitor(machine: Machine, o: MonitorOptions): Monitor {
  const primitives: PrimitiveName[] = [...new Set<PrimitiveName>(o.primitives ?? ["pte"])];
  for (const p of primitives) if (!isPrimitiveName(p)) throw new Error(`unknown primitive '${String(p)}'`);
  const defs = PRIMITIVE_DEFS.filter((d) => primitives.includes(d.name));
  const reportBased = defs.filter((d) => d.reports).map((d) => d.name);
  if (reportBased.length > 0 && o.kernel && !o.kernel.reportAccess) throw new InputError(`${reportBased.join(", ")} need${reportBased.length > 1 ? "" : "s"} damon_report_access(), which kernel ${o.kernel.name} lacks (damon/next only): use --kernel next`, { field: "primitives" });
  const jiffies = new Jiffies(o.hz ?? 250);
  const nCpus = machine.cpus.length;
  const buffer: ReportBuffer | null = reportBased.length === 0 ? null : o.buffer === "array" ? new ArrayReportBuffer(nCpus, jiffies) : new RingReportBuffer(nCpus, jiffies);
  const drain = buffer ? new ReportDrain(buffer, o.filters ?? [], o.filterSemantics ?? "intended") : null;
  const counters: PrimitiveCounters = { delivered: PRIMITIVES.map(() => 0) };
  const opsDef = opsSet(o.ops);
  const base = opsDef.create(machine);
  const ops = new PrimitiveOps(base, { pte: defs.some((d) => d.sample === "accessed-bit"), fault: defs.some((d) => d.sample === "trap") }, drain);
  const ctx = new DamonContext({
    attrs: o.attrs ?? defaultAttrs(),
    ops,
    rng: machine.rng.stream(o.rngName ?? "damon.kdamond0"),
    variant: o.variant ?? "mainline",
    ...(o.kernel ? { kernel: o.kernel } : {}),
    split: kernelSplitState(machine),
    minRegionSz: o.minRegionSz ?? 4096,
    ...(o.costs ? { costs: o.costs } : {}),
    ...(o.probes ? { probes: o.probes } : {}),
    ...(o.maxProbes !== undefined ? { maxProbes: o.maxProbes } : {}),
  });
  opsDef.addTargets(ctx, machine, o.pids);
  if (o.schemes !== undefined && o.schemes.length > 0) ctx.setSchemes(o.schemes, machineActions(machine, o.ops), machineMemoryState(machine));
  // damon_report_access(): each primitive's sink copies its event into a report and submits it
  const rep: ReportInput = { time: 0, cpu: 0, tid: 0, pid: 0, vaddr: 0, paddr: 0, size: 0, isWrite: false, primitive: "fault", context: "process", count: 1, submitCpu: 0 };
  const submitNs = ctx.costs.reportNs;
  const sinkFor = (name: PrimitiveName): PrimitiveSink => {
    const id = primitiveId(name);
    return (e: PrimitiveEvent): number => {
      if (buffer === null) return 0;
      rep.time = e.time;
      rep.cpu = e.cpu;
      rep.tid = e.tid;
      rep.pid = e.pid;
      rep.vaddr = e.vaddr;
      rep.paddr = e.paddr;
      rep.size = e.size;
      rep.isWrite = e.isWrite;
      rep.primitive = name;
      rep.context = e.context;
      rep.count = e.count;
      rep.submitCpu = e.submitCpu;
      counters.delivered[id]!++;
      // lost in the primitive's own hardware buffer: made, and dropped as a full buffer's
      if (e.lost) {
        buffer.lose(rep);
        return 0;
      }
      buffer.submit(rep);
      return submitNs;
    };
  };
  const params: PrimitiveParams = o.params ?? {};
  const services = new PrimitiveServices(machine);
  const installed: InstalledPrimitive[] = defs.map((def) => {
    const name = def.name;
    // each definition takes its own options and instance; the registry's element type is the common one
    const d: PrimitiveDef = def;
    const instance = d.install({ machine, services, params: params[name] ?? {}, sink: sinkFor(name) });
    return {
      name,
      id: primitiveId(name),
      instance,
      start: () => d.start(instance),
      stop: () => d.stop(instance),
      registerStats: (stats: Stats) => d.registerStats(instance, stats),
    };
  });
  // Linux NUMA balancing without DAMON listening to it (its options are numa-hint's)
  if (o.numaBalancing === true) services.numaBalancing(params["numa-hint"] ?? {});
  const kdamond = new Kdamond(machine, ctx, o.cpu ?? machine.cpus.length - 1, "kdamond.0", installed);
  const instance = <N extends PrimitiveName>(name: N): InstanceOf<N> | null => {
    const p = installed.find((x) => x.name === name);
    // the registry pairs each name with its definition, so the instance is that definition's
    return p ? (p.instance as InstanceOf<N>) : null;
  };
  const registerStats = (stats: Stats): void => {
    services.registerStats(stats);
    for (const p of installed) p.registerStats(stats);
    ctx.damos?.registerStats(stats, "damon.ctx0");
    if (buffer === null) return;
    for (const p of installed) {
      if (!primitiveDef(p.name).reports) continue;
      stats.gauge(`damon.reports.${p.name}.delivered`, `${p.name} events handed to damon_report_access()`, () => counters.delivered[p.id]!);
      DROP_REASON_NAMES.forEach((r, k) => stats.gauge(`damon.reports.${p.name}.dropped.${r}`, `${p.name} reports dropped (${r})`, () => buffer.stats.dropsByReason[k]![p.id]!));
    }
    stats.gauge("damon.reports.accepted", "reports stored by damon_report_access()", () => buffer.stats.accepted);
    stats.gauge("damon.reports.drained", "reports kdamond's drains looked at", () => buffer.stats.drained);
    stats.gauge("damon.reports.stale", "reports skipped as older than one sample interval", () => buffer.stats.stale);
    if (drain !== null) stats.gauge("damon.reports.credited", "reports that credited a region", () => drain.stats.credited);
  };
  const detach = (): void => {
    for (const p of installed) p.stop();
    services.stop();
  };
  return { ctx, kdamond, ops, primitives, buffer, drain, counters, installed, numa: services.numaBalancer, dispatch: services.trapDispatcher, instance, registerStats, detach };
}
