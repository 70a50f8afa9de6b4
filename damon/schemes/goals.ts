// DAMOS quota goals' current values (core.c damos_set_quota_goal_current_value, damos.md 3 "Goal
// metrics") read from the simulated kernel's counters (MemoryState), and the quota score: the
// highest current * 10000 / target over the goals (mult_frac on unsigned longs). user_input keeps
// what the user committed; some_mem_psi_us is the PSI "some" memory stall time since the previous
// read (damon/next starts from a U64_MAX sentinel); node_eligible_mem_bp sums, over the regions
// matching the scheme's pattern, the bytes of allocated frames on the goal's node.

import { multFrac, u64, ULONG_MAX, wrap64 } from "../u64.ts";
import { patternMatch } from "./pattern.ts";
import type { AccessPattern, GoalTuner, MemoryState, QuotaGoal, SchemeContext } from "./types.ts";

/** A goal and its runtime state. */
export interface GoalState {
  readonly goal: QuotaGoal;
  /** The last current value (sysfs current_value). */
  currentValue: bigint;
  /** some_mem_psi_us: the PSI total at the previous read (U64_MAX = not read yet, damon/next). */
  lastPsiTotal: bigint;
}

export function newGoalState(goal: QuotaGoal, psiSentinel: boolean): GoalState {
  return { goal: { ...goal }, currentValue: u64(goal.currentValue), lastPsiTotal: psiSentinel && goal.metric === "some_mem_psi_us" ? ULONG_MAX : 0n };
}

/** What a goal reads besides the memory counters. */
export interface GoalContext {
  readonly ctx: SchemeContext;
  readonly memory: MemoryState;
  readonly opsName: string;
  readonly pattern: AccessPattern;
  readonly tuner: GoalTuner;
  /** The scheme's current effective quota (the PSI sentinel's temporal case reads it). */
  readonly esz: number;
  /** The quota's reset interval, ms (a complemented PSI goal is the window's us less the stall). */
  readonly resetIntervalMs: number;
}

const bp = (num: number, total: number): bigint => multFrac(u64(num), 10000n, u64(total));

function validNode(m: MemoryState, nid: number): boolean {
  return nid >= 0 && nid < m.nrNodes && m.nodeTotalBytes(nid) > 0;
}

/** damos_get_node_mem_bp: used or free share of node nid's memory (an invalid node: used 0, free 10000). */
function nodeMemBp(m: MemoryState, nid: number, used: boolean): bigint {
  if (!validNode(m, nid)) return used ? 0n : 10000n;
  const total = m.nodeTotalBytes(nid), free = m.nodeFreeBytes(nid);
  if (total < free) return used ? 10000n : 0n;
  return bp(used ? total - free : free, total);
}

/** damos_get_node_memcg_used_bp: a memcg's LRU share of node nid (bad node or memcg: used 0, free 10000). */
function nodeMemcgBp(m: MemoryState, nid: number, memcg: number, used: boolean): bigint {
  if (!validNode(m, nid) || (m.hasMemcg !== undefined && !m.hasMemcg(memcg))) return used ? 0n : 10000n;
  const total = m.nodeTotalBytes(nid), lru = m.memcgNodeBytes(nid, memcg);
  if (total < lru) return used ? 10000n : 0n;
  return bp(used ? lru : total - lru, total);
}

/** damos_get_node_eligible_mem_bp (paddr only): pattern-matching bytes on nid over all such bytes. */
function nodeEligibleBp(g: GoalContext, nid: number): bigint {
  const m = g.memory;
  if (g.opsName !== "paddr" || nid < 0 || nid >= m.nrNodes) return 0n;
  let onNode = 0, total = 0;
  for (const t of g.ctx.targets) {
    for (const r of t.regions) {
      if (!patternMatch(g.ctx, r, g.pattern)) continue;
      for (let n = 0; n < m.nrNodes; n++) {
        const b = m.physBytesOnNode(r.start, r.end, n);
        total += b;
        if (n === nid) onNode += b;
      }
    }
  }
  return total === 0 ? 0n : bp(onNode, total);
}

/** damos_hugepage_mem_bp (damon/next): THP bytes over used bytes. */
function hugepageBp(m: MemoryState): bigint {
  let total = 0, free = 0;
  for (let n = 0; n < m.nrNodes; n++) {
    total += m.nodeTotalBytes(n);
    free += m.nodeFreeBytes(n);
  }
  if (total <= free) return 10000n;
  return bp(m.hugeBytes(), total - free);
}

/** damos_get_in_active_mem_bp: active (or inactive) LRU over the whole LRU (at least 1). */
function activeBp(m: MemoryState, active: boolean): bigint {
  const a = m.activeBytes(), i = m.inactiveBytes();
  return bp(active ? a : i, Math.max(a + i, 1));
}

/** Refreshes goal s's current value (damos_set_quota_goal_current_value). */
export function refreshGoal(s: GoalState, g: GoalContext): void {
  const goal = s.goal, m = g.memory;
  let v: bigint;
  switch (goal.metric) {
    case "user_input":
      return; // what the user committed (complement does not apply)
    case "some_mem_psi_us": {
      const now = u64(m.memStallTotalUs());
      if (s.lastPsiTotal === ULONG_MAX && g.ctx.kernel.damosPsiSentinel) {
        // the first read has no delta: keep the tuner where it is (consist: score 10000; temporal: the current esz)
        v = g.tuner === "temporal" && g.esz !== 0 ? 0n : u64(goal.targetValue);
      } else {
        v = wrap64(now - s.lastPsiTotal);
        // next's complement of a stall time is the window's time without stall (us, at least 0), not 10000 - v
        if (goal.complement) {
          const window = u64(g.resetIntervalMs * 1000);
          v = v >= window ? 0n : window - v;
        }
      }
      s.lastPsiTotal = now;
      s.currentValue = v;
      return;
    }
    case "node_mem_used_bp":
    case "node_mem_free_bp":
      v = nodeMemBp(m, goal.nid, goal.metric === "node_mem_used_bp");
      break;
    case "node_memcg_used_bp":
    case "node_memcg_free_bp":
      v = nodeMemcgBp(m, goal.nid, goal.memcgId, goal.metric === "node_memcg_used_bp");
      break;
    case "active_mem_bp":
    case "inactive_mem_bp":
      v = activeBp(m, goal.metric === "active_mem_bp");
      break;
    case "node_eligible_mem_bp":
      v = nodeEligibleBp(g, goal.nid);
      break;
    case "hugepage_mem_bp":
      v = hugepageBp(m);
      break;
  }
  if (goal.complement) v = v >= 10000n ? 0n : 10000n - v;
  s.currentValue = v;
}

/** damos_quota_score: refreshes every goal and returns the highest current * 10000 / target. */
export function quotaScore(goals: readonly GoalState[], g: GoalContext): bigint {
  let highest = 0n;
  for (const s of goals) {
    refreshGoal(s, g);
    const sc = multFrac(s.currentValue, 10000n, u64(s.goal.targetValue));
    if (sc > highest) highest = sc;
  }
  return highest;
}
