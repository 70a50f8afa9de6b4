// Experiment results as people read them: a table on the terminal, results.json (everything
// simulated), results.csv (tidy: variant,metric,value) and timing.json (host wall-clock seconds).
// results.json and results.csv are a pure function of the experiment: the same experiment gives
// the same bytes; wall time, which is not, goes only to timing.json. Slowdown is measured against the baseline variant:
// with a workload that finished, the ratio of finish times; otherwise the loss of throughput
// (accesses executed in the same simulated time).

import { reportsDropped, reportsMade, slowdownPercent } from "../metrics.ts";
import type { ExperimentSpec } from "./spec.ts";
import type { VariantResult } from "./variant.ts";

export interface Row {
  variant: string;
  primitives: string;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  rateError: number | null;
  spearman: number | null;
  wssError: number | null;
  detectionMs: number | null;
  overheadPercent: number;
  slowdownPercent: number | null;
  reportsMade: number | null;
  reportsDrained: number | null;
  reportsDropped: number | null;
  /** Tiering experiments only (see tiering-observer.ts and metrics.ts). */
  fastTierPercent?: number | null;
  fastTierAfterChangePercent?: number | null;
  vsAllDramPercent?: number | null;
  promotedMiB?: number;
  demotedMiB?: number;
  migrationCpuMs?: number;
  hotSetInDramMs?: number | null;
}

export function rowsOf(results: VariantResult[]): Row[] {
  // slowdown is against the unmonitored run that leaves memory where it is (not the tiering baselines)
  const base = results.find((r) => !r.monitor && (r.tiering === undefined || r.tiering.placement === "none")) ?? null;
  const dram = results.find(isAllDram) ?? null;
  return results.map((r) => {
    const a = r.accuracy;
    const made = r.reports ? reportsMade(r.reports.delivered) : null;
    const dropped = r.reports ? reportsDropped(r.reports.dropped) : null;
    return {
      variant: r.name,
      primitives: r.monitor ? r.primitives.join("+") : "(no monitoring)",
      precision: a?.precision ?? null,
      recall: a?.recall ?? null,
      f1: a?.f1 ?? null,
      rateError: a?.rateError ?? null,
      spearman: a?.spearman ?? null,
      wssError: a?.wssError ?? null,
      detectionMs: a?.meanDetectionNs != null ? a.meanDetectionNs / 1e6 : null,
      overheadPercent: r.overheadPercent,
      slowdownPercent: slowdownPercent(r, base),
      reportsMade: made,
      reportsDrained: r.reports ? r.reports.credited : null,
      reportsDropped: dropped,
      ...(r.tiering ? tieringColumns(r, dram) : {}),
    };
  });
}

const isAllDram = (r: VariantResult): boolean => r.tiering?.placement === "all-dram";
const pct = (x: number | null): number | null => (x === null ? null : x * 100);

function tieringColumns(r: VariantResult, dram: VariantResult | null): Partial<Row> {
  const t = r.tiering!;
  // with every node as fast as the fast one, which node served an access says nothing
  const ref = t.placement === "all-dram";
  return {
    fastTierPercent: ref ? null : pct(t.fastTierFraction),
    fastTierAfterChangePercent: ref ? null : pct(t.fastTierFractionAfterChange),
    vsAllDramPercent: slowdownPercent(r, dram),
    promotedMiB: t.promotedBytes / MIB,
    demotedMiB: t.demotedBytes / MIB,
    migrationCpuMs: t.migrationCpuNs / 1e6,
    hotSetInDramMs: t.hotSetInDramNs === null ? null : t.hotSetInDramNs / 1e6,
  };
}

const MIB = 1024 * 1024;

const f = (x: number | null, digits = 2): string => (x === null || Number.isNaN(x) ? "-" : x.toFixed(digits));
const n = (x: number | null): string => (x === null ? "-" : Math.round(x).toLocaleString("en-US"));

export function table(rows: Row[]): string {
  const tiering = rows.some((r) => r.promotedMiB !== undefined);
  const head = ["variant", "precision", "recall", "F1", "rate err", "spearman", "wss err", "detect ms", "overhead %", "slowdown %", "reports", "drained", "dropped"];
  if (tiering) head.push("fast %", "fast after %", "vs DRAM %", "promoted MiB", "demoted MiB", "migr CPU ms", "hot in DRAM ms");
  const body = rows.map((r) => {
    const cells = [r.variant, f(r.precision), f(r.recall), f(r.f1), f(r.rateError, 3), f(r.spearman), f(r.wssError), f(r.detectionMs, 0), f(r.overheadPercent), f(r.slowdownPercent), n(r.reportsMade), n(r.reportsDrained), n(r.reportsDropped)];
    if (tiering) cells.push(f(r.fastTierPercent ?? null, 1), f(r.fastTierAfterChangePercent ?? null, 1), f(r.vsAllDramPercent ?? null), f(r.promotedMiB ?? null, 1), f(r.demotedMiB ?? null, 1), f(r.migrationCpuMs ?? null), f(r.hotSetInDramMs ?? null, 0));
    return cells;
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n") + "\n";
}

export function csv(rows: Row[]): string {
  const out = ["variant,metric,value"];
  for (const r of rows) {
    for (const [k, v] of Object.entries(r)) {
      if (k === "variant") continue;
      const val = v === null ? "" : typeof v === "number" ? String(v) : `"${String(v).replace(/"/g, '""')}"`;
      out.push(`"${r.variant.replace(/"/g, '""')}",${k},${val}`);
    }
  }
  return out.join("\n") + "\n";
}

/** Keys of the experiment and its results that are not simulated facts: where it was read from, host time. */
const NOT_RESULTS = new Set(["sourceFile", "sourceField", "wallSeconds"]);

export function resultsJson(x: ExperimentSpec, results: Array<VariantResult | null>, errors: Array<string | null>, interrupted: boolean, tool: string): string {
  const done = results.filter((r): r is VariantResult => r !== null);
  return JSON.stringify({ tool, experiment: x, interrupted, errors: errors.map((e, i) => (e ? { variant: x.variants[i]?.name ?? i, error: e } : null)).filter(Boolean), rows: rowsOf(done), variants: done }, (k, v) => (NOT_RESULTS.has(k) ? undefined : typeof v === "number" && !Number.isFinite(v) ? null : v), 2) + "\n";
}

/** timing.json: each finished variant's host wall-clock seconds (they differ run to run; nothing else here does). */
export function timingJson(results: Array<VariantResult | null>, totalWallSeconds: number): string {
  const done = results.filter((r): r is VariantResult => r !== null);
  return JSON.stringify({ note: "host wall-clock seconds: they differ between identical runs, so they are kept out of results.json and results.csv", totalWallSeconds, variants: done.map((r) => ({ variant: r.name, wallSeconds: r.wallSeconds })) }, null, 2) + "\n";
}
