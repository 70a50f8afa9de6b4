// DAMON's page-fault primitive (damon.md 3.5): at every sample kdamond arms a PROT_NONE trap on
// each region's sampled page; the trap dispatcher sends the fault to do_damon_page (the hardware
// side, hw/primitives/fault-report.ts), which reports it through damon_report_access() in process
// context. While NUMA balancing runs, every PROT_NONE fault goes to it instead (trap-dispatch.ts).

import type { TrapFault } from "../../hw/hooks.ts";
import { FAULT_REPORT_DEFAULTS, faultReporter, type FaultReportOptions } from "../../hw/primitives/index.ts";
import type { PrimitiveDef } from "./types.ts";

export const fault = {
  name: "fault",
  summary: "DAMON page-fault traps: arm PROT_NONE on each sampled page; a touch reports the faulting address, CPU, thread and read/write",
  reports: true,
  sample: "trap",
  evidence: "fault-reported",
  params: {
    handlerNs: { type: "number", unit: "ns", default: FAULT_REPORT_DEFAULTS.handlerNs, source: "a NUMA hint fault's measured cost, whose path it mirrors (hardware.md 1.6)", help: "CPU time of the fault handler itself (the report's cost is added)" },
  },
  scenarioParams: {},
  filteredScenarios: true,
  install(env): (fault: TrapFault) => number {
    const handler = faultReporter(env.machine, env.sink, env.params);
    env.services.trapDispatch().damonFault = handler;
    return handler;
  },
  start(): void {},
  stop(): void {},
  registerStats(): void {}, // the trap dispatcher's counters (system.trapDispatch) are the services'
} as const satisfies PrimitiveDef<"fault", FaultReportOptions, (fault: TrapFault) => number>;
