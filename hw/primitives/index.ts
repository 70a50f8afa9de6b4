// The kernel/hardware side of the push-based access check primitives: PMU samplers (perf mem on
// PEBS, AMD IBS op), NUMA balancing with its hinting faults, the PROT_NONE trap dispatcher and
// DAMON's fault reporter. Each delivers PrimitiveEvents to a sink the DAMON layer provides.

export { DATA_SOURCE_UNKNOWN, NO_CPU, NO_PID, NO_TID, NO_VADDR, PrimitiveEvent, fillFromAccess, fillFromFault, type EventContext, type PrimitiveSink } from "./sample.ts";
export { EventThrottle, PERF_LIMIT_DEFAULTS, PerfLimits, type PerfLimitOptions } from "./perf-throttle.ts";
export { PERF_MEM_DEFAULTS, PerfMemSampler, type PerfMemOptions } from "./perf-mem.ts";
export { IBS_DEFAULTS, IBS_MAX_PERIOD, IBS_MIN_PERIOD, IbsSampler, type IbsOptions } from "./ibs.ts";
export { NUMA_BALANCING_DEFAULTS, NumaBalancing, type NumaBalancingOptions, type ScanPass } from "./numa-balancing.ts";
export { TrapDispatch, type TrapDispatchOptions } from "./trap-dispatch.ts";
export { FAULT_REPORT_DEFAULTS, faultReporter, type FaultReportOptions } from "./fault-report.ts";
export { PrimitiveServices } from "./services.ts";
