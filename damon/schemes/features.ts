// Which DAMOS features each kernel version has (damos.md 0, "Feature landing versions", from damo's
// _damon_features.py and the release newsletters): a scheme that uses one its kernel predates is
// refused with an InputError naming the field, the feature and the version it arrived in. Also the
// operations-set limits the kernel enforces at commit: node_eligible_mem_bp is paddr's only.

import { InputError } from "../../sim/errors.ts";
import type { KernelRules } from "../kernel.ts";
import type { QuotaGoalMetric, SchemeSpec } from "./types.ts";

/** Release of a damon/next-only feature (later than 7.2). */
const NEXT = 703;

/** The release each goal metric arrived in. */
const METRIC_SINCE: Record<QuotaGoalMetric, number> = {
  user_input: 608,
  some_mem_psi_us: 609,
  node_mem_used_bp: 616,
  node_mem_free_bp: 616,
  node_memcg_used_bp: 619,
  node_memcg_free_bp: 619,
  active_mem_bp: 700,
  inactive_mem_bp: 700,
  node_eligible_mem_bp: 702,
  hugepage_mem_bp: NEXT,
};

const FILTER_SINCE: Record<string, number> = { young: 610, active: 615, hugepage_size: 615, unmapped: 615 };

/** "v6.16", or the damon/next wording for features later than 7.2. */
export function releaseName(release: number): string {
  if (release >= NEXT) return "damon/next only (use --kernel next)";
  return `v${Math.floor(release / 100)}.${release % 100}`;
}

interface Use {
  field: string;
  what: string;
  /** The release it arrived in, or a rule flag of the kernel. */
  since: number;
  has?: boolean;
}

function usesOf(spec: SchemeSpec, rules: KernelRules, opsName: string): Use[] {
  const uses: Use[] = [];
  const q = spec.quota;
  if (spec.action === "migrate_hot" || spec.action === "migrate_cold") {
    uses.push({ field: "action", what: `the ${spec.action} action`, since: 611 });
    if (opsName !== "paddr") uses.push({ field: "action", what: `${spec.action} on ${opsName}`, since: 617 });
  }
  if (spec.action === "collapse") uses.push({ field: "action", what: "the collapse action", since: NEXT });
  if (spec.dests.length > 0) uses.push({ field: "dests", what: "migration destinations (dests)", since: 617 });
  // goals whose target is 0 never reach the kernel (sysfs drops them)
  if (q.goals.some((g) => g.targetValue !== 0)) uses.push({ field: "quota.goals", what: "quota goals", since: 608 });
  q.goals.forEach((g, i) => {
    if (g.targetValue === 0) return;
    uses.push({ field: `quota.goals[${i}].metric`, what: `the quota goal metric ${g.metric}`, since: METRIC_SINCE[g.metric] });
    if (g.complement) uses.push({ field: `quota.goals[${i}].complement`, what: "the quota goal complement flag", since: NEXT });
  });
  if (q.goalTuner !== "consist") uses.push({ field: "quota.goalTuner", what: `the ${q.goalTuner} goal tuner`, since: 701, has: rules.damosGoalTuner });
  if (q.failChargeDenom !== 0) uses.push({ field: "quota.failChargeDenom", what: "the quota fail-charge ratio", since: 702, has: rules.damosFailCharge });
  const filters = [...spec.coreFilters.map((f, i) => ({ f, field: `coreFilters[${i}]` })), ...spec.opsFilters.map((f, i) => ({ f, field: `opsFilters[${i}]` }))];
  for (const { f, field } of filters) {
    const since = FILTER_SINCE[f.type];
    if (since !== undefined) uses.push({ field: `${field}.type`, what: `the ${f.type} filter`, since });
    if (f.allow) uses.push({ field: `${field}.allow`, what: "allow filters", since: 614 });
  }
  if (spec.maxNrSnapshots !== 0) uses.push({ field: "maxNrSnapshots", what: "max_nr_snapshots", since: 700 });
  return uses;
}

/**
 * Refuses a scheme (already structurally valid) that its kernel or operations set cannot run:
 * throws an InputError naming the field under `prefix`, the feature and the version it arrived in.
 */
export function checkSchemeFeatures(spec: SchemeSpec, rules: KernelRules, opsName: string, prefix = ""): void {
  const at = (f: string): string => (prefix ? `${prefix}.${f}` : f);
  for (const u of usesOf(spec, rules, opsName)) {
    const has = u.has ?? rules.release >= u.since;
    if (has) continue;
    const when = u.since >= NEXT ? `it is ${releaseName(u.since)}` : `it arrived in ${releaseName(u.since)}`;
    throw new InputError(`${u.what} is not in kernel ${rules.name}: ${when}`, { field: at(u.field) });
  }
  spec.quota.goals.forEach((g, i) => {
    if (g.metric === "node_eligible_mem_bp" && g.targetValue !== 0 && opsName !== "paddr") {
      throw new InputError(`the quota goal metric node_eligible_mem_bp needs the paddr operations set (the kernel refuses it on ${opsName} with -EINVAL)`, { field: at(`quota.goals[${i}].metric`) });
    }
  });
}

/** Stats a kernel exposes: sz_ops_filter_passed since v6.14, nr_snapshots since v7.0. */
export function hasStat(rules: KernelRules, stat: "sz_ops_filter_passed" | "nr_snapshots"): boolean {
  return rules.release >= (stat === "sz_ops_filter_passed" ? 614 : 700);
}
