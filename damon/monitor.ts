// Wires DAMON onto a machine: builds a context with the chosen operations set and targets (the
// workload's processes for vaddr, the physical address space for paddr) and starts its kdamond.

import type { Machine } from "../hw/machine.ts";
import { defaultAttrs, type DamonAttrs } from "./attrs.ts";
import type { Variant } from "./aggregate.ts";
import { DamonContext } from "./context.ts";
import type { DamonCosts } from "./costs.ts";
import { Kdamond } from "./kdamond.ts";
import type { DamonOps } from "./ops.ts";
import { PaddrOps } from "./paddr.ts";
import { VaddrOps } from "./vaddr.ts";

export type OpsName = "vaddr" | "paddr";

export interface MonitorOptions {
  ops: OpsName;
  attrs?: DamonAttrs;
  /** vaddr: the pids to monitor (default: every process of the machine). */
  pids?: number[];
  variant?: Variant;
  /** CPU kdamond runs on (default: the last CPU). */
  cpu?: number;
  costs?: Partial<DamonCosts>;
  /** Name of the random sub-stream (several kdamonds need distinct ones). */
  rngName?: string;
  minRegionSz?: number;
}

export interface Monitor {
  ctx: DamonContext;
  kdamond: Kdamond;
  ops: DamonOps;
}

export function createOps(name: OpsName, machine: Machine): DamonOps {
  return name === "vaddr" ? new VaddrOps(machine) : new PaddrOps(machine);
}

/** Creates (but does not start) a context and its kdamond on `machine`. */
export function createMonitor(machine: Machine, o: MonitorOptions): Monitor {
  const ops = createOps(o.ops, machine);
  const ctx = new DamonContext({
    attrs: o.attrs ?? defaultAttrs(),
    ops,
    rng: machine.rng.stream(o.rngName ?? "damon.kdamond0"),
    variant: o.variant ?? "mainline",
    minRegionSz: o.minRegionSz ?? 4096,
    ...(o.costs ? { costs: o.costs } : {}),
  });
  if (o.ops === "vaddr") {
    const pids = o.pids ?? machine.spaces.map((s) => s.pid);
    for (const pid of pids) ctx.addTarget(pid);
  } else {
    ctx.addTarget(null);
  }
  const kdamond = new Kdamond(machine, ctx, o.cpu ?? machine.cpus.length - 1);
  return { ctx, kdamond, ops };
}
