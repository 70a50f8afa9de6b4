// DAMOS (DAMON-based operation schemes): the user-facing scheme description and the seam between
// the scheme core (pattern match, quotas, goals, filters, watermarks, the apply loop: the rest of
// damon/schemes/) and the operations set that carries actions out on the simulated machine
// (damon/schemes/machine-actions.ts). Field names follow the kernel's struct damos and its sysfs
// files; units are those of the kernel's fields (bytes, samples, aggregation intervals, us, ms,
// permil, bp). Reference: ../shared/reference/damos.md sections 1-6.

import type { DamonAttrs } from "../attrs.ts";
import type { DamonCosts } from "../costs.ts";
import type { KernelRules } from "../kernel.ts";
import type { Target } from "../region.ts";

/**
 * What the scheme core reads of its DAMON context and charges to it (a DamonContext is one; the
 * core names only this, so damon/schemes/ does not import the context that runs it).
 */
export interface SchemeContext {
  readonly kernel: KernelRules;
  readonly attrs: DamonAttrs;
  readonly targets: Target[];
  readonly minRegionSz: number;
  /** Sample intervals passed, and the next aggregation's, as the kdamond loop counts them. */
  readonly passed: number;
  readonly nextAggregationSis: number;
  readonly costs: DamonCosts;
  /** kdamond's CPU work of the current step, ns (the core adds its walks and actions). */
  costNs: number;
  readonly ops: { readonly name: string };
  /** Simulated time of the current step, ns. */
  readonly now: number;
}

/** DAMOS actions by their sysfs names (damos.md 1, "Actions"). */
export const DAMOS_ACTIONS = ["willneed", "cold", "pageout", "hugepage", "nohugepage", "collapse", "lru_prio", "lru_deprio", "migrate_hot", "migrate_cold", "stat"] as const;
export type DamosAction = (typeof DAMOS_ACTIONS)[number];

/** A closed range [min, max]. */
export interface Range {
  min: number;
  max: number;
}

/** struct damos_access_pattern: sizes in bytes, nr_accesses in samples per aggregation, age in aggregation intervals. */
export interface AccessPattern {
  szRegion: Range;
  nrAccesses: Range;
  age: Range;
}

export const QUOTA_GOAL_METRICS = [
  "user_input",
  "some_mem_psi_us",
  "node_mem_used_bp",
  "node_mem_free_bp",
  "node_memcg_used_bp",
  "node_memcg_free_bp",
  "active_mem_bp",
  "inactive_mem_bp",
  "node_eligible_mem_bp",
  "hugepage_mem_bp",
] as const;
export type QuotaGoalMetric = (typeof QUOTA_GOAL_METRICS)[number];

export interface QuotaGoal {
  metric: QuotaGoalMetric;
  targetValue: number;
  /** user_input's value (what the user last committed); ignored for the other metrics. */
  currentValue: number;
  /** Node of the node_* metrics. */
  nid: number;
  /** memcg id of the node_memcg_* metrics. */
  memcgId: number;
  /** NEXT's complement flag: use 10000 - metric. */
  complement: boolean;
}

export type GoalTuner = "consist" | "temporal";

/** struct damos_quota (user-set part). */
export interface Quota {
  /** Time quota per reset interval, ms (0 = none). */
  ms: number;
  /** Size quota per reset interval, bytes (0 = none). */
  sz: number;
  /** Reset interval, ms. */
  resetIntervalMs: number;
  /** Prioritisation weights, permil (weight_sz is unused by the kernel's scores). */
  weightSz: number;
  weightNrAccesses: number;
  weightAge: number;
  goals: QuotaGoal[];
  goalTuner: GoalTuner;
  /** 7.2 fail-charge ratio; off when the denominator is 0. */
  failChargeNum: number;
  failChargeDenom: number;
}

export type WatermarkMetric = "none" | "free_mem_rate";

export interface Watermarks {
  metric: WatermarkMetric;
  intervalUs: number;
  /** permil */
  high: number;
  mid: number;
  low: number;
}

export const CORE_FILTER_TYPES = ["addr", "target"] as const;
export const OPS_FILTER_TYPES = ["anon", "active", "memcg", "young", "hugepage_size", "unmapped"] as const;
export type CoreFilterType = (typeof CORE_FILTER_TYPES)[number];
export type OpsFilterType = (typeof OPS_FILTER_TYPES)[number];

/** struct damos_filter. The type's argument lives in the matching optional field. */
export interface DamosFilter {
  type: CoreFilterType | OpsFilterType;
  /** The filter matches when (the type's predicate holds) === matching. */
  matching: boolean;
  /** A matching filter admits (true) or rejects (false). */
  allow: boolean;
  /** memcg: the memcg id. */
  memcgId?: number;
  /** addr: [start, end) in the target's address units. */
  addrStart?: number;
  addrEnd?: number;
  /** target: the index of the target in its context. */
  targetIdx?: number;
  /** hugepage_size: [min, max] folio bytes, inclusive. */
  min?: number;
  max?: number;
}

export interface MigrateDest {
  nid: number;
  weight: number;
}

/** One scheme as the user sets it (sysfs / damo JSON / damo options). */
export interface SchemeSpec {
  action: DamosAction;
  pattern: AccessPattern;
  /** 0 means "use the aggregation interval". */
  applyIntervalUs: number;
  quota: Quota;
  wmarks: Watermarks;
  /** Core filters (addr, target) then ops filters, each in the user's order. */
  coreFilters: DamosFilter[];
  opsFilters: DamosFilter[];
  /** -1 = NUMA_NO_NODE. */
  targetNid: number;
  /** vaddr's weighted destinations (empty: every folio goes to targetNid). */
  dests: MigrateDest[];
  /** 0 = unlimited. */
  maxNrSnapshots: number;
}

// ---- the operations-set side of ops.apply_scheme -------------------------------------------

/** What the core hands the operations set for one region. */
export interface ActionRequest {
  action: DamosAction;
  targetNid: number;
  dests: readonly MigrateDest[];
  /** The scheme's ops filters, in order (core filters were already applied by the core). */
  opsFilters: readonly DamosFilter[];
  /** The ops layer's default when no filter matches (damos_set_filters_default_reject). */
  opsDefaultReject: boolean;
  /** A core filter allowed this region: every folio passes the ops layer unchecked. */
  coreFiltersAllowed: boolean;
  /** Index of the scheme in its context (the core always sets it; per-scheme state such as last_applied keys on it). */
  scheme?: number;
}

/** What ops.apply_scheme returns. */
export interface ActionResult {
  /** Bytes the action was applied to (sz_applied's addend), in the target's address units. */
  appliedBytes: number;
  /** Bytes of folios that passed the ops filters (sz_ops_filter_passed's addend). */
  filterPassedBytes: number;
  /** Simulated CPU time the action cost kdamond (walks, copies, shootdown IPIs), ns. */
  costNs: number;
}

/** A DAMON target as the operations set needs it: a process (pid) or physical memory (null). */
export interface ActionTarget {
  readonly pid: number | null;
}

/** The operations set's action side (vaddr or paddr on the simulated machine). */
export interface SchemeActions {
  readonly opsName: string;
  /** Actions this operations set implements; the others apply 0 bytes (as the kernel's return 0). */
  supports(action: DamosAction): boolean;
  /** ops.apply_scheme on [start, end) of a target. */
  apply(target: ActionTarget, start: number, end: number, req: ActionRequest): ActionResult;
  /** Called after every apply round of scheme `scheme` (the kernel then resets s->last_applied to NULL). */
  roundDone?(scheme: number): void;
}

/** The memory state the goal metrics and watermarks read (the simulated kernel's counters). */
export interface MemoryState {
  /** Nodes in the machine (nid >= count or < 0 is invalid). */
  readonly nrNodes: number;
  /** totalram of node nid, bytes (0 for an invalid or memoryless node). */
  nodeTotalBytes(nid: number): number;
  /** freeram of node nid, bytes. */
  nodeFreeBytes(nid: number): number;
  /** LRU bytes (anon + file, active + inactive) of memcg `memcg` on node nid. */
  memcgNodeBytes(nid: number, memcg: number): number;
  /** Does memcg id `memcg` exist (mem_cgroup_get_from_id)? Absent: every id does. */
  hasMemcg?(memcg: number): boolean;
  /** System-wide active and inactive LRU bytes. */
  activeBytes(): number;
  inactiveBytes(): number;
  /** Huge page (THP) bytes in use, system-wide. */
  hugeBytes(): number;
  /** System-wide free pages x 1000 / total pages (the free_mem_rate watermark metric). */
  freeMemRatePermil(): number;
  /** Cumulative "some" memory stall time, us (PSI some_mem total). */
  memStallTotalUs(): number;
  /** Bytes of allocated frames within physical range [start, end) that sit on node nid. */
  physBytesOnNode(start: number, end: number, nid: number): number;
}
