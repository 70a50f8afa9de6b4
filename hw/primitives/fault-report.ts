// DAMON's page-fault primitive on the kernel side (do_damon_page, damon.md 3.5): turns a PROT_NONE
// fault routed to DAMON into a "fault" PrimitiveEvent (process context, size 1, the faulting
// address and the physical address of the mapped page, the CPU and thread, read or write) and
// hands it to a sink. The handler's own cost (trap, PTE restore) is handlerNs, by default 1000 ns
// like a NUMA hint fault, whose path it mirrors (hardware.md 1.6); the sink's ns are added.
// Use it as TrapDispatch.damonFault.

import { InputError } from "../../sim/errors.ts";
import type { TrapFault } from "../hooks.ts";
import type { Machine } from "../machine.ts";
import { PrimitiveEvent, fillFromFault, type PrimitiveSink } from "./sample.ts";

export interface FaultReportOptions {
  /** CPU time of the fault handler itself, ns (default 1000). */
  handlerNs?: number;
}

export const FAULT_REPORT_DEFAULTS = { handlerNs: 1000 } as const satisfies Required<FaultReportOptions>;

/** A damonFault callback that reports each fault to `sink`. */
export function faultReporter(m: Machine, sink: PrimitiveSink, o: FaultReportOptions = {}): (fault: TrapFault) => number {
  const handlerNs = o.handlerNs ?? FAULT_REPORT_DEFAULTS.handlerNs;
  if (!(handlerNs >= 0)) throw new InputError(`must be a number of ns >= 0, got ${handlerNs}`, { field: "faultReport.handlerNs" });
  const event = new PrimitiveEvent();
  return (fault) => handlerNs + sink(fillFromFault(event, m, fault));
}
