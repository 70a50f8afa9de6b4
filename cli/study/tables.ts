// A study's tables, built from the plan (canonical job order) and the result store, so they never
// depend on the backend, the worker count or the order jobs finished in:
//   results.csv / results.json: tidy, one row per run (runs and baselines), one column per axis
//     and per figure; CSV with a header row, empty fields for missing values; JSON an array of
//     flat records (pandas.read_json / polars.read_json / jsonlite::fromJSON read it as is).
//   summary.csv / summary.json: one row per cell and figure: n seeds, mean, and the 95 %
//     confidence interval (t-distribution with n-1 degrees of freedom; empty for n < 2).

import { slowdownPercent } from "../metrics.ts";
import type { AxisValue, PlannedJob, StudyPlan } from "./spec.ts";
import type { ResultStore } from "./store.ts";

export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

/** The figures of a row, in column order. */
export const METRICS = ["precision", "recall", "f1", "rateError", "spearman", "wssError", "overheadPercent", "slowdownPercent", "simulatedNs", "finishNs", "accesses", "reportsMade", "reportsDropped", "windows"] as const;

/** Figures the summary takes over seeds. */
export const SUMMARY_METRICS = ["precision", "recall", "f1", "rateError", "overheadPercent", "slowdownPercent"] as const;

/** One row per job that has a result, in plan order; `missing` lists the jobs without one. */
export function resultRows(plan: StudyPlan, store: ResultStore): { rows: Row[]; missing: PlannedJob[] } {
  const rows: Row[] = [];
  const missing: PlannedJob[] = [];
  for (const j of plan.jobs) {
    const r = store.get(j.key)?.result;
    if (!r) {
      missing.push(j);
      continue;
    }
    const base = j.baselineKey ? (store.get(j.baselineKey)?.result ?? null) : null;
    const row: Row = { study: plan.name, role: j.role, key: j.key.slice(0, 16) };
    for (const a of plan.axes) row[a.name] = j.axes[a.name] ?? null;
    if (!plan.axes.some((a) => a.name === "primitives")) row.primitives = j.role === "baseline" ? String(j.axes.primitives) : j.spec.primitives.join("+");
    const figures: Record<string, Cell> = { ...r, slowdownPercent: j.role === "run" ? slowdownPercent(r, base) : null };
    for (const m of METRICS) row[m] = figures[m] ?? null;
    rows.push(row);
  }
  return { rows, missing };
}

/** Two-sided 97.5 % quantiles of Student's t for 1..30 degrees of freedom. */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/** t quantile for a 95 % interval (Cornish-Fisher expansion beyond 30 degrees of freedom). */
export function t975(df: number): number {
  if (df < 1) return NaN;
  if (df <= 30) return T975[df - 1]!;
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df * df);
}

/** Mean and 95 % CI half-width of `xs` (null half-width below two values). */
export function meanCi(xs: number[]): { n: number; mean: number | null; ci95: number | null; lo: number | null; hi: number | null } {
  const n = xs.length;
  if (n === 0) return { n, mean: null, ci95: null, lo: null, hi: null };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { n, mean, ci95: null, lo: null, hi: null };
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  const h = (t975(n - 1) * sd) / Math.sqrt(n);
  return { n, mean, ci95: h, lo: mean - h, hi: mean + h };
}

/** One row per cell (every axis but seed) and figure, cells in first-row order. */
export function summaryRows(plan: StudyPlan, rows: Row[]): Row[] {
  const axes = plan.axes.map((a) => a.name).filter((a) => a !== "seed");
  if (!axes.includes("primitives")) axes.push("primitives");
  const cells = new Map<string, Row[]>();
  for (const r of rows) {
    const id = JSON.stringify([r.role, ...axes.map((a) => r[a] ?? null)]);
    let list = cells.get(id);
    if (!list) cells.set(id, (list = []));
    list.push(r);
  }
  const out: Row[] = [];
  for (const list of cells.values()) {
    const first = list[0]!;
    for (const m of SUMMARY_METRICS) {
      const xs = list.map((r) => r[m]).filter((v): v is number => typeof v === "number" && Number.isFinite(v));
      if (xs.length === 0) continue;
      const s = meanCi(xs);
      const row: Row = { study: plan.name, role: first.role };
      for (const a of axes) row[a] = first[a] ?? null;
      Object.assign(row, { metric: m, n: s.n, mean: s.mean, ci95: s.ci95, ciLow: s.lo, ciHigh: s.hi });
      out.push(row);
    }
  }
  return out;
}

/** Numbers as JavaScript prints them (shortest round-trip form): the same double, the same text. */
function csvField(v: Cell): string {
  if (v === null) return "";
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(rows: Row[]): string {
  if (rows.length === 0) return "";
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return `${[cols.map(csvField).join(","), ...rows.map((r) => cols.map((c) => csvField(r[c] ?? null)).join(","))].join("\n")}\n`;
}

export function toJson(rows: Row[]): string {
  return `[\n${rows.map((r) => JSON.stringify(r)).join(",\n")}\n]\n`;
}

export type { AxisValue };
