// Wires DAMON onto a machine: a context with the chosen operations set and targets (the workload's
// processes for vaddr, physical memory for paddr), the access check primitives it uses (the PTE
// Accessed bit, DAMON page-fault traps, NUMA hinting faults, perf mem samples, IBS op samples; any
// combination), the damon_report_access() buffer and sample filters for the report-based ones,
// data-attribute probes, and its kdamond (created, not started).

import type { Machine } from "../hw/machine.ts";
import {
  faultReporter,
  IbsSampler,
  NumaBalancing,
  PerfMemSampler,
  TrapDispatch,
  type FaultReportOptions,
  type IbsOptions,
  type NumaBalancingOptions,
  type PerfMemOptions,
  type PrimitiveEvent,
} from "../hw/primitives/index.ts";
import { defaultAttrs, type DamonAttrs } from "./attrs.ts";
import type { Variant } from "./aggregate.ts";
import { InputError } from "../sim/errors.ts";
import type { KernelRules } from "./kernel.ts";
import { DamonContext } from "./context.ts";
import type { DamonCosts } from "./costs.ts";
import { Kdamond } from "./kdamond.ts";
import { PaddrOps } from "./paddr.ts";
import { PrimitiveOps } from "./primitive-ops.ts";
import type { Probe } from "./probes.ts";
import { ArrayReportBuffer, Jiffies, PRIMITIVES, RingReportBuffer, type PrimitiveName, type ReportBuffer, type ReportInput } from "./reports/buffer.ts";
import { ReportDrain } from "./reports/drain.ts";
import type { FilterSemantics, SampleFilter } from "./reports/filters.ts";
import type { SamplingOps } from "./sampling-ops.ts";
import { VaddrOps } from "./vaddr.ts";

export type OpsName = "vaddr" | "paddr";

export interface PrimitiveParams {
  "perf-mem"?: PerfMemOptions;
  ibs?: IbsOptions;
  "numa-hint"?: NumaBalancingOptions;
  fault?: FaultReportOptions;
}

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
}

export interface PrimitiveCounters {
  /** Events the primitive delivered to damon_report_access(). */
  delivered: number[];
}

export interface Monitor {
  ctx: DamonContext;
  kdamond: Kdamond;
  ops: PrimitiveOps;
  primitives: PrimitiveName[];
  buffer: ReportBuffer | null;
  drain: ReportDrain | null;
  counters: PrimitiveCounters;
  perfMem: PerfMemSampler | null;
  ibs: IbsSampler | null;
  numa: NumaBalancing | null;
  dispatch: TrapDispatch | null;
  /** Detaches the primitives from the machine. */
  detach(): void;
}

export function createBaseOps(name: OpsName, machine: Machine): SamplingOps {
  return name === "vaddr" ? new VaddrOps(machine) : new PaddrOps(machine);
}

/** Creates (but does not start) a context, its primitives and its kdamond on `machine`. */
export function createMonitor(machine: Machine, o: MonitorOptions): Monitor {
  const primitives: PrimitiveName[] = [...new Set<PrimitiveName>(o.primitives ?? ["pte"])];
  for (const p of primitives) if (!(PRIMITIVES as readonly string[]).includes(p)) throw new Error(`unknown primitive '${p}'`);
  const reportBased = primitives.filter((p) => p !== "pte");
  if (reportBased.length > 0 && o.kernel && !o.kernel.reportAccess) throw new InputError(`${reportBased.join(", ")} need${reportBased.length > 1 ? "" : "s"} damon_report_access(), which kernel ${o.kernel.name} lacks (damon/next only): use --kernel next`, { field: "primitives" });
  const jiffies = new Jiffies(o.hz ?? 250);
  const nCpus = machine.cpus.length;
  const buffer: ReportBuffer | null = reportBased.length === 0 ? null : o.buffer === "array" ? new ArrayReportBuffer(nCpus, jiffies) : new RingReportBuffer(nCpus, jiffies);
  const drain = buffer ? new ReportDrain(buffer, o.filters ?? [], o.filterSemantics ?? "intended") : null;
  const counters: PrimitiveCounters = { delivered: PRIMITIVES.map(() => 0) };
  const base = createBaseOps(o.ops, machine);
  const ops = new PrimitiveOps(base, { pte: primitives.includes("pte"), fault: primitives.includes("fault") }, drain);
  const ctx = new DamonContext({
    attrs: o.attrs ?? defaultAttrs(),
    ops,
    rng: machine.rng.stream(o.rngName ?? "damon.kdamond0"),
    variant: o.variant ?? "mainline",
    ...(o.kernel ? { kernel: o.kernel } : {}),
    minRegionSz: o.minRegionSz ?? 4096,
    ...(o.costs ? { costs: o.costs } : {}),
    ...(o.probes ? { probes: o.probes } : {}),
    ...(o.maxProbes !== undefined ? { maxProbes: o.maxProbes } : {}),
  });
  if (o.ops === "vaddr") {
    for (const pid of o.pids ?? machine.spaces.map((s) => s.pid)) ctx.addTarget(pid);
  } else {
    ctx.addTarget(null);
  }
  // damon_report_access(): copy the event into a report and submit it
  const rep: ReportInput = { time: 0, cpu: 0, tid: 0, pid: 0, vaddr: 0, paddr: 0, size: 0, isWrite: false, primitive: "fault", context: "process" };
  const submitNs = ctx.costs.reportNs;
  const sink = (e: PrimitiveEvent): number => {
    if (buffer === null) return 0;
    rep.time = e.time;
    rep.cpu = e.cpu;
    rep.tid = e.tid;
    rep.pid = e.pid;
    rep.vaddr = e.vaddr;
    rep.paddr = e.paddr;
    rep.size = e.size;
    rep.isWrite = e.isWrite;
    rep.primitive = e.primitive;
    rep.context = e.context;
    counters.delivered[PRIMITIVES.indexOf(e.primitive)]!++;
    buffer.submit(rep);
    return submitNs;
  };
  const params = o.params ?? {};
  const perfMem = primitives.includes("perf-mem") ? new PerfMemSampler(machine, params["perf-mem"] ?? {}, sink) : null;
  const ibs = primitives.includes("ibs") ? new IbsSampler(machine, params.ibs ?? {}, sink) : null;
  const wantNuma = primitives.includes("numa-hint") || o.numaBalancing === true;
  const numa = wantNuma ? new NumaBalancing(machine, { ...params["numa-hint"], reportToSink: primitives.includes("numa-hint") }) : null;
  if (numa) numa.sink = sink;
  let dispatch: TrapDispatch | null = null;
  if (numa || primitives.includes("fault")) {
    dispatch = new TrapDispatch(machine).install();
    dispatch.numa = numa;
    if (primitives.includes("fault")) dispatch.damonFault = faultReporter(machine, sink, params.fault ?? {});
  }
  const kdamond = new Kdamond(machine, ctx, o.cpu ?? machine.cpus.length - 1);
  const startKdamond = kdamond.start.bind(kdamond);
  kdamond.start = (): void => {
    perfMem?.attach();
    ibs?.attach();
    startKdamond();
  };
  const detach = (): void => {
    perfMem?.detach();
    ibs?.detach();
    numa?.stop();
  };
  return { ctx, kdamond, ops, primitives, buffer, drain, counters, perfMem, ibs, numa, dispatch, detach };
}
