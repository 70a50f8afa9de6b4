// What `damon-sim check` prints: per case a status line (PASS, FAIL, CRASHED, TIMEOUT, MISSING,
// or BLESSED / UNCHANGED with --bless) followed, for a failing or re-blessed case, by what moved:
// the first aggregation where the snapshots diverge and one line per metric (expected, got,
// tolerance); then a summary line. --json prints the same as one JSON document.

import { formatDuration } from "../../sim/time.ts";
import type { MetricDiff } from "./compare.ts";

export type CaseStatus = "pass" | "fail" | "crashed" | "timeout" | "missing" | "blessed" | "unchanged";

export interface CaseReport {
  name: string;
  dir: string;
  status: CaseStatus;
  /** Informational only (never compared). */
  wallSeconds: number | null;
  error: string | null;
  firstDivergentAggregation: number | null;
  divergenceEndNs: number | null;
  /** What moved (check), or what changed (bless). */
  diffs: MetricDiff[];
}

export interface CheckReport {
  format: "damon-sim-check-report/1";
  ok: boolean;
  bless: boolean;
  counts: Record<CaseStatus, number>;
  cases: CaseReport[];
}

/** Metric lines shown per case on the terminal (--json has them all). */
const MAX_LINES = 25;

const LABEL: Record<CaseStatus, string> = {
  pass: "PASS",
  fail: "FAIL",
  crashed: "CRASHED",
  timeout: "TIMEOUT",
  missing: "MISSING",
  blessed: "BLESSED",
  unchanged: "UNCHANGED",
};

export function buildReport(cases: CaseReport[], bless: boolean): CheckReport {
  const counts: Record<CaseStatus, number> = { pass: 0, fail: 0, crashed: 0, timeout: 0, missing: 0, blessed: 0, unchanged: 0 };
  for (const c of cases) counts[c.status]++;
  const ok = bless ? counts.crashed + counts.timeout === 0 : counts.pass === cases.length;
  return { format: "damon-sim-check-report/1", ok, bless, counts, cases };
}

/** One finished case, as shown on the terminal. */
export function formatCase(c: CaseReport): string {
  const wall = c.wallSeconds === null ? "" : `  (${c.wallSeconds.toFixed(1)} s)`;
  const lines = [`${LABEL[c.status].padEnd(10)}${c.name}${wall}`];
  const pad = "    ";
  if (c.error !== null) lines.push(...c.error.split("\n").map((l) => pad + l));
  if (c.firstDivergentAggregation !== null) {
    const at = c.divergenceEndNs !== null ? ` (the window ending at ${formatDuration(c.divergenceEndNs)})` : "";
    lines.push(`${pad}snapshots diverge first at aggregation ${c.firstDivergentAggregation}${at}`);
  } else if (c.diffs.length > 0) {
    lines.push(`${pad}snapshots: identical`);
  }
  const width = Math.min(36, Math.max(0, ...c.diffs.map((d) => d.metric.length)) + 1);
  for (const d of c.diffs.slice(0, MAX_LINES)) lines.push(`${pad}${(d.metric + ":").padEnd(width)} ${d.message}`);
  if (c.diffs.length > MAX_LINES) lines.push(`${pad}... and ${c.diffs.length - MAX_LINES} more (see --json)`);
  return lines.join("\n") + "\n";
}

export function formatSummary(r: CheckReport): string {
  const n = r.cases.length;
  const k = r.counts;
  const parts = r.bless
    ? [`${k.blessed} re-blessed`, `${k.unchanged} unchanged`]
    : [`${k.pass} passed`, `${k.fail} failed`, ...(k.missing ? [`${k.missing} without expectations`] : [])];
  parts.push(`${k.crashed} crashed`, `${k.timeout} timed out`);
  return `check: ${n} case${n === 1 ? "" : "s"}: ${parts.join(", ")}${r.ok ? "" : r.bless ? "" : " -- REGRESSION"}\n`;
}
