// Built-in comparison scenarios, each a use the new primitives aim at, with its own workload
// (workloads/configs/<name>.json), machine, variants and question:
//   tiering            find the hot set on cxl-tier (every primitive; the CHMU sees only the CXL half)
//   tiering-arm        the same on neoverse-v2, an Arm server, with the primitives it has (SPE for PMU sampling)
//   numa-hit-miss      which memory node-0 CPUs use, incl. remote memory: CPU-filtered monitoring
//   ksm-targets        never-written memory (KSM candidates): write-only monitoring, idle precision/recall
//   live-migration     which VM dirties least (cheapest to migrate): per-process write rates
//   cache-aware-sched  which threads share hot data: one thread-filtered variant per thread
//   tiering-loop       DAMOS tiering on cxl-tier-small (every primitive under the same two schemes,
//                      plus no tiering, an oracle placement and all-DRAM): the outcome, not the snapshot
// Their extra metrics are computed in scenario-metrics.ts. Which primitives each runs, and the
// dense sampling parameters of the short runs, come from the registry (damon/primitives/):
// tiering runs them all, the filtered scenarios those whose definition has filteredScenarios.

import { BASELINE, defaultExperiment, variant, type ExperimentSpec, type VariantSpec } from "./spec.ts";
import { PRIMITIVE_DEFS, PRIMITIVES, type ParamValue, type PrimitiveName } from "../../damon/primitives/index.ts";
import { preset } from "../../hw/presets.ts";
import { tieringBaseline } from "./spec.ts";

export interface Scenario {
  name: string;
  description: string;
  build(): ExperimentSpec;
}

const ALL: readonly PrimitiveName[] = PRIMITIVES;
const REPORTING: readonly PrimitiveName[] = PRIMITIVE_DEFS.filter((d) => d.filteredScenarios).map((d) => d.name);

/** Dense enough sampling for the short scenario runs (their workloads run about 1000 ops per access): each primitive's scenarioParams. */
const params: Record<string, ParamValue> = Object.fromEntries(PRIMITIVE_DEFS.flatMap((d) => Object.entries(d.scenarioParams as Readonly<Record<string, ParamValue>>).map(([k, v]) => [`${d.name}.${k}`, v])));

/**
 * The tiering workload is denser (one access per 31 ops on its serving thread), so IBS, which
 * samples ops rather than memory accesses, gets a longer period to keep its NMI rate sane.
 */
function allPrimitives(): VariantSpec[] {
  return ALL.map((p) => variant(p, [p], { params: { ...params, "ibs.period": 16384 } }));
}

/**
 * The two paddr schemes of upstream DAMON tiering (damos.md 9: samples/damon/mtier.c and damo's
 * scripts/mem_tier.sh, one context here instead of one per node, so each scheme rejects the regions
 * on its own destination with an addr filter): migrate_hot to the fast node for regions accessed in
 * at least 5 % of samples, with a goal of 99.7 % of the fast node used; migrate_cold to the slow node
 * for regions not accessed, with a goal of 0.5 % of the fast node free; young filters as upstream.
 * Quotas are upstream's 200 MiB per 1 s scaled to the scenario's seconds: 4 MiB per 20 ms, applied
 * every 20 ms, so the consist tuner's ramp from 1 byte (doubling each window) takes ~0.5 s.
 */
export function tieringLoopSchemes(fastNode: number, slowNode: number, fastRange: [number, number], slowRange: [number, number]): unknown[] {
  const scheme = (action: string, nid: number, nr: [string, string], goal: { metric: string; target: string }, young: boolean, skip: [number, number]): unknown => ({
    action,
    target_nid: nid,
    access_pattern: { sz_bytes: { min: "4 KiB", max: "max" }, nr_accesses: { min: nr[0], max: nr[1] }, age: { min: "0 us", max: "max" } },
    apply_interval_us: "20 ms",
    quotas: {
      time_ms: "0 ms",
      sz_bytes: "4 MiB",
      reset_interval_ms: "20 ms",
      goals: [{ metric: goal.metric, nid: fastNode, target_value: goal.target, current_value: "0" }],
      goal_tuner: "consist",
      weights: { sz_permil: "0", nr_accesses_permil: "1000", age_permil: "1000" },
    },
    watermarks: { metric: "none", interval_us: "0 us", high_permil: "0", mid_permil: "0", low_permil: "0" },
    filters: [
      { filter_type: "addr", matching: true, allow: false, address_range: { start: skip[0], end: skip[1] } },
      { filter_type: "young", matching: true, allow: young },
    ],
  });
  return [
    scheme("migrate_hot", fastNode, ["5 %", "100 %"], { metric: "node_mem_used_bp", target: "9970" }, true, fastRange),
    scheme("migrate_cold", slowNode, ["0 %", "0 %"], { metric: "node_mem_free_bp", target: "50" }, false, slowRange),
  ];
}

/** Physical byte range of each node of a preset (paddr addresses). */
function nodeRanges(machine: string): Array<[number, number]> {
  const c = preset(machine)!;
  let base = 0;
  return c.nodes.map((n) => {
    const r: [number, number] = [base, base + n.capacity];
    base += n.capacity;
    return r;
  });
}

/**
 * The primitives an Arm server has: the kernel's own (Accessed bit, fault traps, NUMA hinting) and
 * ARM SPE; IBS is AMD's and PEBS Intel's, and a CHMU needs a CXL node, which neoverse-v2 lacks.
 */
const ARM: readonly PrimitiveName[] = ["pte", "fault", "numa-hint", "spe"];

export const SCENARIOS: Record<string, Scenario> = {
  tiering: {
    name: "tiering",
    description: "find the hot set of a key-value store on cxl-tier (DRAM + CXL), with every primitive",
    build: () => ({ ...defaultExperiment(), name: "tiering", scenario: "tiering", workload: "tiering", machine: "cxl-tier", durationNs: 1_200_000_000, variants: [BASELINE, ...allPrimitives()], question: "which primitive finds the hot set (precision/recall of hot bytes) at what cost" }),
  },
  "tiering-arm": {
    name: "tiering-arm",
    description: "the tiering key-value store on neoverse-v2 (two Arm sockets, pages interleaved over both), with the primitives an Arm server has: SPE samples ops",
    build: () => ({ ...defaultExperiment(), name: "tiering-arm", scenario: "tiering-arm", workload: "tiering", machine: "neoverse-v2", durationNs: 1_200_000_000, variants: [BASELINE, ...ARM.map((p) => variant(p, [p], { params: { ...params } }))], question: "on Arm, which primitive finds the hot set at what cost: SPE against the kernel's own" }),
  },
  "numa-hit-miss": {
    name: "numa-hit-miss",
    description: "memory used by node-0 CPUs, remote part included, with CPU-filtered monitoring on 2s-ddr5",
    build: () => {
      const node0 = [0, 1, 2, 3, 4, 5, 6, 7];
      const filtered = REPORTING.map((p) =>
        variant(`${p} cpus 0-7`, [p], { params: { ...params }, filters: [{ type: "cpumask", matching: true, allow: true, cpus: node0 }], truthFilter: { cpus: node0 }, localNode: 0 }),
      );
      const pte = variant("pte (cannot filter)", ["pte"], { truthFilter: { cpus: node0 }, localNode: 0 });
      return { ...defaultExperiment(), name: "numa-hit-miss", scenario: "numa-hit-miss", workload: "numa-hit-miss", machine: "2s-ddr5", durationNs: 2_000_000_000, variants: [BASELINE, pte, ...filtered], question: "which memory do node-0 CPUs access, and how much of it is remote (on node 1)" };
    },
  },
  "ksm-targets": {
    name: "ksm-targets",
    description: "never-written memory (KSM merge candidates) with write-only monitoring",
    build: () => {
      const wo = REPORTING.map((p) => variant(`${p} write-only`, [p], { params: { ...params }, filters: [{ type: "write", matching: true, allow: true }], truthFilter: { writesOnly: true } }));
      const pte = variant("pte (cannot filter)", ["pte"], { truthFilter: { writesOnly: true } });
      return { ...defaultExperiment(), name: "ksm-targets", scenario: "ksm-targets", workload: "ksm-targets", machine: "2s-ddr5", durationNs: 2_000_000_000, variants: [BASELINE, pte, ...wo], question: "idle precision/recall: which memory is never written" };
    },
  },
  "live-migration": {
    name: "live-migration",
    description: "per-VM write rate, to pick the cheapest VM to live-migrate",
    build: () => {
      const wo = REPORTING.map((p) => variant(`${p} write-only`, [p], { params: { ...params }, filters: [{ type: "write", matching: true, allow: true }], truthFilter: { writesOnly: true } }));
      return { ...defaultExperiment(), name: "live-migration", scenario: "live-migration", workload: "live-migration", machine: "2s-ddr5", durationNs: 2_000_000_000, variants: [BASELINE, variant("pte (cannot filter)", ["pte"], { truthFilter: { writesOnly: true } }), ...wo], question: "rank of VMs by written bytes; is the least-writing VM picked" };
    },
  },
  "cache-aware-sched": {
    name: "cache-aware-sched",
    description: "which threads share hot data, with one thread-filtered monitor per thread",
    build: () => {
      const tids = [501, 502, 503, 504];
      const perThread = tids.map((t) => variant(`fault tid ${t}`, ["fault"], { filters: [{ type: "threads", matching: true, allow: true, tids: [t] }], truthFilter: { tids: [t] } }));
      return { ...defaultExperiment(), name: "cache-aware-sched", scenario: "cache-aware-sched", workload: "cache-aware-sched", machine: "2s-ddr5", durationNs: 2_000_000_000, variants: [BASELINE, ...perThread], question: "which thread pairs share hot data (Jaccard of their hot sets)" };
    },
  },
  "tiering-loop": {
    name: "tiering-loop",
    description: "DAMOS tiering on cxl-tier-small: every primitive under the same migrate_hot/migrate_cold schemes, against no tiering, an oracle placement and all-DRAM",
    build: () => {
      const machine = "cxl-tier-small";
      const [fast, slow] = nodeRanges(machine) as [[number, number], [number, number]];
      const damos = ALL.map((p) => variant(p, [p], { params: { ...params, "ibs.period": 16384 } }));
      return {
        ...defaultExperiment(),
        name: "tiering-loop",
        scenario: "tiering-loop",
        workload: "tiering-loop",
        machine,
        ops: "paddr",
        durationNs: 2_000_000_000,
        warmupWindows: 3,
        schemes: tieringLoopSchemes(0, 1, fast, slow),
        tiering: { fastNode: 0, slowNode: 1, hotRegion: { pid: 100, vma: "hot2" }, phaseChangeNs: 800_000_000, bucketNs: 50_000_000, settled: 0.9, oracleIntervalNs: 100_000_000, headroom: 0.005 },
        variants: [BASELINE, tieringBaseline("all-dram"), tieringBaseline("oracle"), ...damos],
        question: "which primitive lets DAMOS serve the most accesses from DRAM, how soon after the hot set moves, at what migration cost",
      };
    },
  },
};

export function scenarioNames(): string[] {
  return Object.keys(SCENARIOS);
}
