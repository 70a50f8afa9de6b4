// Scenario-specific answers computed from variant results:
//   live-migration     per window, Spearman of DAMON's per-VM written bytes against the truth,
//                      and whether the VM DAMON says writes least is the one that truly does
//   cache-aware-sched  for every pair of threads, the Jaccard index of their hot sets (bytes),
//                      averaged over windows, from DAMON and from the truth; a pair "shares" at
//                      Jaccard >= 0.2, and we count the pairs DAMON classifies like the truth
//   ksm-targets        idle (never-written) precision and recall, from the accuracy summary

import { spearman } from "../../damon/accuracy.ts";
import type { ExperimentSpec } from "./spec.ts";
import type { VariantResult } from "./variant.ts";

export type ScenarioMetrics = Record<string, unknown>;

function liveMigration(r: VariantResult, skip: number): ScenarioMetrics {
  const ws = r.windows.slice(skip).filter((w) => w.targets.length > 1);
  const rhos: number[] = [];
  let right = 0;
  for (const w of ws) {
    const d = w.targets.map((t) => t.damon), t = w.targets.map((x) => x.truth);
    const rho = spearman(d, t);
    if (rho !== null) rhos.push(rho);
    const argmin = (xs: number[]): number => xs.indexOf(Math.min(...xs));
    if (argmin(d) === argmin(t)) right++;
  }
  return {
    writeRankSpearman: rhos.length ? rhos.reduce((a, b) => a + b, 0) / rhos.length : null,
    cheapestPickedRight: ws.length ? right / ws.length : null,
  };
}

function overlap(a: Array<[number, number, number]>, b: Array<[number, number, number]>): { inter: number; union: number } {
  const size = (xs: Array<[number, number, number]>): number => xs.reduce((s, [, lo, hi]) => s + hi - lo, 0);
  let inter = 0;
  for (const [ta, la, ha] of a) for (const [tb, lb, hb] of b) if (ta === tb) inter += Math.max(0, Math.min(ha, hb) - Math.max(la, lb));
  return { inter, union: size(a) + size(b) - inter };
}

function sharing(results: VariantResult[], skip: number, key: "hotRanges" | "trueHotRanges"): number[][] {
  const n = results.length;
  const m = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    const wi = results[i]!.windows.slice(skip), wj = results[j]!.windows.slice(skip);
    const k = Math.min(wi.length, wj.length);
    let sum = 0, cnt = 0;
    for (let w = 0; w < k; w++) {
      const { inter, union } = overlap(wi[w]![key] ?? [], wj[w]![key] ?? []);
      if (union > 0) {
        sum += inter / union;
        cnt++;
      }
    }
    m[i]![j] = cnt ? sum / cnt : 0;
  }
  return m;
}

export function scenarioMetrics(x: ExperimentSpec, results: VariantResult[]): ScenarioMetrics | null {
  const mon = results.filter((r) => r.monitor);
  const skip = x.warmupWindows;
  switch (x.scenario) {
    case "live-migration":
      return Object.fromEntries(mon.map((r) => [r.name, liveMigration(r, skip)]));
    case "ksm-targets":
      return Object.fromEntries(mon.map((r) => [r.name, { idlePrecision: r.accuracy?.coldPrecision ?? null, idleRecall: r.accuracy?.coldRecall ?? null }]));
    case "cache-aware-sched": {
      const damon = sharing(mon, skip, "hotRanges");
      const truth = sharing(mon, skip, "trueHotRanges");
      let agree = 0, pairs = 0;
      for (let i = 0; i < mon.length; i++) for (let j = i + 1; j < mon.length; j++) {
        pairs++;
        if (damon[i]![j]! >= 0.2 === truth[i]![j]! >= 0.2) agree++;
      }
      return { threads: mon.map((r) => r.name), jaccardDamon: damon, jaccardTruth: truth, pairsClassifiedRight: pairs ? agree / pairs : null };
    }
    default:
      return null;
  }
}

/** Human-readable lines for the terminal. */
export function scenarioText(m: ScenarioMetrics | null, x: ExperimentSpec): string {
  if (!m) return "";
  const f = (v: unknown): string => (typeof v === "number" ? v.toFixed(2) : "-");
  const lines = [`scenario ${x.scenario}: ${x.question ?? ""}`];
  if (x.scenario === "cache-aware-sched") {
    const t = m.threads as string[];
    const d = m.jaccardDamon as number[][], tr = m.jaccardTruth as number[][];
    lines.push("hot-set Jaccard by thread pair (DAMON / truth):");
    for (let i = 0; i < t.length; i++) for (let j = i + 1; j < t.length; j++) lines.push(`  ${t[i]} ~ ${t[j]}: ${f(d[i]![j])} / ${f(tr[i]![j])}`);
    lines.push(`pairs classified like the truth (share at Jaccard >= 0.2): ${f(m.pairsClassifiedRight)}`);
  } else {
    for (const [k, v] of Object.entries(m)) lines.push(`  ${k}: ${Object.entries(v as Record<string, unknown>).map(([a, b]) => `${a} ${f(b)}`).join(", ")}`);
  }
  return lines.join("\n") + "\n";
}
