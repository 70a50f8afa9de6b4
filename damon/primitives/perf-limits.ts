// The perf core's sampling ceilings as --param parameters, shared by the PMU primitives (perf-mem,
// ibs): each takes them under its own name (perf-mem.maxSampleRate, ibs.maxSampleRate).

import { PERF_LIMIT_DEFAULTS, type PerfLimitOptions } from "../../hw/primitives/index.ts";
import type { ParamSpecs } from "./types.ts";

export const PERF_LIMIT_PARAMS = {
  maxSampleRate: { type: "number", unit: "samples/s", default: PERF_LIMIT_DEFAULTS.maxSampleRate, source: "perf_event_max_sample_rate's kernel default", help: "overflow interrupts per second per event per CPU" },
  cpuTimeMaxPercent: { type: "number", unit: "%", default: PERF_LIMIT_DEFAULTS.cpuTimeMaxPercent, source: "perf_cpu_time_max_percent's kernel default", help: "CPU time sample handling may take before the rate is lowered (0 or 100: no check)" },
  tickNs: { type: "integer", unit: "ns", default: PERF_LIMIT_DEFAULTS.tickNs, source: "HZ = 1000", help: "the tick over which samples are throttled" },
} as const satisfies ParamSpecs<PerfLimitOptions>;
