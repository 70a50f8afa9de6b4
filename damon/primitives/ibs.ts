// AMD IBS op sampling as a DAMON primitive: every CPU tags one op per period (low 7 bits
// randomized, hw/primitives/ibs.ts); a tagged memory op is reported through damon_report_access()
// from the NMI, a tagged non-memory op costs the NMI and reports nothing. The sampler joins the
// machine's access path when kdamond starts and leaves it when kdamond stops.

import { IBS_DEFAULTS, IbsSampler, type IbsOptions } from "../../hw/primitives/index.ts";
import { PERF_LIMIT_PARAMS } from "./perf-limits.ts";
import { SAMPLER_LIFECYCLE, type PrimitiveDef } from "./types.ts";

export const ibs = {
  name: "ibs",
  summary: "AMD IBS op sampling: one op in every period tagged per CPU; memory ops report addresses, CPU, thread, latency and miss flags (NMI context)",
  reports: true,
  sample: "none",
  evidence: "ibs-reported",
  params: {
    period: { type: "integer", unit: "ops", default: IBS_DEFAULTS.period, source: "AMD's tiering patches (hardware.md 3.4)", help: "ops between samples (IbsOpMaxCnt): a multiple of 16 in [0x90, 0x7FFFFF0]" },
    l3MissOnly: { type: "boolean", unit: null, default: IBS_DEFAULTS.l3MissOnly, source: "off, as perf leaves it", help: "keep only samples that missed L3 (Zen 4+)" },
    nmiCostNs: { type: "number", unit: "ns", default: IBS_DEFAULTS.nmiCostNs, source: "an estimate: 'a few us' (hardware.md 3.3, unverified)", help: "CPU time per NMI, the report's cost added" },
    ...PERF_LIMIT_PARAMS,
  },
  scenarioParams: { period: 4096 },
  filteredScenarios: true,
  install: (env): IbsSampler => new IbsSampler(env.machine, env.params, env.sink),
  ...SAMPLER_LIFECYCLE,
} as const satisfies PrimitiveDef<"ibs", IbsOptions, IbsSampler>;
