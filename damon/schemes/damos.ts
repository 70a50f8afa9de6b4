// The DAMOS schemes of one DAMON context: built (validated, feature-checked) from SchemeSpecs, bound
// to the operations set's actions and the memory counters, and driven by the context's kdamond loop:
// scheduling at start and on every damon_set_attrs, the watermark check before every iteration
// (kdamond_wait_activation's wait), one apply round per due scheme (apply.ts), and the stats
// registry's gauges per scheme (nr_tried ... nr_snapshots, the effective quota, the actions' CPU
// time) and for the context (the actions' CPU time of all schemes).

import type { Stats } from "../../sim/stats.ts";
import { applySchemes, type ApplyEnv } from "./apply.ts";
import { hasStat } from "./features.ts";
import { Scheme } from "./scheme.ts";
import { DAMOS_MAX_SCORE } from "./score.ts";
import type { MemoryState, SchemeActions, SchemeContext, SchemeSpec } from "./types.ts";
import { wmarkWaitUs } from "./watermarks.ts";

/** What summary() gives per scheme. */
export interface SchemeSummary {
  action: string;
  stats: { nr_tried: number; sz_tried: number; nr_applied: number; sz_applied: number; sz_ops_filter_passed: number; qt_exceeds: number; nr_snapshots: number };
  effectiveQuotaBytes: number;
  actionCpuNs: number;
  triedRegions: { count: number; totalBytes: number };
}

export class Damos {
  readonly schemes: readonly Scheme[];
  readonly opsName: string;
  /** Simulated CPU time every scheme's actions cost, ns. */
  actionCostNs = 0;
  /** What the apply loop works with (tests call apply.ts's steps on it directly). */
  readonly env: ApplyEnv;

  /**
   * Builds the schemes of `ctx` (refusing a bad spec with an InputError naming
   * `${field}[i].<field>`). `actions` null: an operations set without apply_scheme.
   */
  constructor(specs: readonly SchemeSpec[], readonly ctx: SchemeContext, readonly actions: SchemeActions | null, readonly memory: MemoryState, field = "schemes") {
    this.opsName = actions?.opsName ?? ctx.ops.name;
    this.schemes = specs.map((spec, i) => new Scheme(spec, i, ctx.kernel, this.opsName, `${field}[${i}]`));
    this.env = {
      ctx,
      schemes: this.schemes,
      actions,
      memory,
      opsName: this.opsName,
      hist: new Float64Array(DAMOS_MAX_SCORE + 1),
      chargeAction: (ns) => {
        this.actionCostNs += ns;
      },
    };
  }

  /** kdamond_init_ctx (and damon_add_scheme on a running context): schedules every scheme from now, sets filter defaults. */
  start(): void {
    for (const s of this.schemes) {
      s.setNextApplySis(this.ctx);
      s.setFiltersDefaultReject();
    }
  }

  /** damon_set_attrs: every scheme's next apply from now, in the new intervals. */
  reschedule(): void {
    for (const s of this.schemes) s.setNextApplySis(this.ctx);
  }

  /** kdamond_wait_activation's wait: the least damos_wmark_wait_us over the schemes, us (0: monitor). */
  waitUs(): number {
    let min = 0, first = true;
    for (const s of this.schemes) {
      const w = wmarkWaitUs(s, this.memory);
      if (first || w < min) min = w;
      first = false;
    }
    return min;
  }

  /** kdamond_apply_schemes. */
  apply(): void {
    applySchemes(this.env);
  }

  /** Each scheme's action, stats (sysfs names), effective quota, action CPU time and last round's tried regions, as plain data. */
  summary(): SchemeSummary[] {
    return this.schemes.map((s) => ({
      action: s.spec.action,
      stats: { nr_tried: s.stat.nrTried, sz_tried: s.stat.szTried, nr_applied: s.stat.nrApplied, sz_applied: s.stat.szApplied, sz_ops_filter_passed: s.stat.szOpsFilterPassed, qt_exceeds: s.stat.qtExceeds, nr_snapshots: s.stat.nrSnapshots },
      effectiveQuotaBytes: s.quota.esz,
      actionCpuNs: s.actionCostNs,
      triedRegions: { count: s.triedRegions.length, totalBytes: s.triedBytes },
    }));
  }

  /** Registers `${prefix}.scheme<i>.<stat>` gauges per scheme and `${prefix}.damos.action_cost_ns`. */
  registerStats(stats: Stats, prefix: string): void {
    const rules = this.ctx.kernel;
    for (const s of this.schemes) {
      const p = `${prefix}.scheme${s.index}`;
      const st = s.stat;
      stats.gauge(`${p}.nr_tried`, `regions scheme ${s.index} (${s.spec.action}) tried`, () => st.nrTried);
      stats.gauge(`${p}.sz_tried`, `bytes scheme ${s.index} tried`, () => st.szTried, "Byte");
      stats.gauge(`${p}.nr_applied`, `regions scheme ${s.index}'s action applied to`, () => st.nrApplied);
      stats.gauge(`${p}.sz_applied`, `bytes scheme ${s.index}'s action applied to`, () => st.szApplied, "Byte");
      if (hasStat(rules, "sz_ops_filter_passed")) stats.gauge(`${p}.sz_ops_filter_passed`, `bytes that passed scheme ${s.index}'s ops filters`, () => st.szOpsFilterPassed, "Byte");
      stats.gauge(`${p}.qt_exceeds`, `charge windows scheme ${s.index} ended with its quota full`, () => st.qtExceeds);
      if (hasStat(rules, "nr_snapshots")) stats.gauge(`${p}.nr_snapshots`, `region snapshots scheme ${s.index} walked (per target)`, () => st.nrSnapshots);
      stats.gauge(`${p}.effective_bytes`, `scheme ${s.index}'s effective size quota (esz) now`, () => s.quota.esz, "Byte");
      stats.gauge(`${p}.action_cost_ns`, `CPU time scheme ${s.index}'s actions cost kdamond`, () => s.actionCostNs, "Nanosecond");
    }
    stats.gauge(`${prefix}.damos.action_cost_ns`, "CPU time every scheme's actions cost kdamond", () => this.actionCostNs, "Nanosecond");
  }
}
