// `perf mem record` on Intel PEBS as a DAMON primitive: a load-latency event and a precise store
// event sample memory accesses on every CPU (hw/primitives/perf-mem.ts); each sample is reported
// through damon_report_access() from the PMI, in NMI context. The sampler joins the machine's
// access path when kdamond starts and leaves it when kdamond stops.

import { PERF_MEM_DEFAULTS, PerfMemSampler, type PerfMemOptions } from "../../hw/primitives/index.ts";
import { PERF_LIMIT_PARAMS } from "./perf-limits.ts";
import { SAMPLER_LIFECYCLE, type PrimitiveDef } from "./types.ts";

const d = PERF_MEM_DEFAULTS;

export const perfMem = {
  name: "perf-mem",
  summary: "perf mem on PEBS: every loadPeriod-th load above ldlat and every storePeriod-th store, with addresses, CPU, thread and latency (NMI context)",
  reports: true,
  sample: "none",
  evidence: "perf-mem-reported",
  params: {
    loads: { type: "boolean", unit: null, default: d.loads, source: "perf mem -t load,store", help: "sample loads" },
    stores: { type: "boolean", unit: null, default: d.stores, source: "perf mem -t load,store", help: "sample stores" },
    ldlat: { type: "integer", unit: "cycles", default: d.ldlat, source: "perf mem's default", help: "load latency threshold (3..65535)" },
    loadPeriod: { type: "integer", unit: "loads", default: d.loadPeriod, source: "HeMem's PEBS period (hardware.md 0/6)", help: "sample every loadPeriod-th qualifying load per CPU", aliases: ["period", "load-period"] },
    storePeriod: { type: "integer", unit: "stores", default: d.storePeriod, source: "Memtis's store period (hardware.md 0/6)", help: "sample every storePeriod-th store per CPU", aliases: ["store-period"] },
    sampleCostNs: { type: "number", unit: "ns", default: d.sampleCostNs, source: "an estimate: a PEBS assist plus a PMI (hardware.md 2.5, unverified)", help: "CPU time per sample, the report's cost added" },
    ...PERF_LIMIT_PARAMS,
  },
  scenarioParams: { loadPeriod: 1000, storePeriod: 1000 },
  filteredScenarios: true,
  install: (env): PerfMemSampler => new PerfMemSampler(env.machine, env.params, env.sink),
  ...SAMPLER_LIFECYCLE,
} as const satisfies PrimitiveDef<"perf-mem", PerfMemOptions, PerfMemSampler>;
