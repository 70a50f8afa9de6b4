// The comparator of `damon-sim check`: walks blessed results (expected.json) and fresh ones side by
// side and lists every metric that moved. Exact metrics (counts, times, digests, histograms, the
// cachegrind counters, anything not listed in FLOAT_METRICS) must be equal; floating metrics pass
// when |got - expected| <= max(abs, rel x |expected|), with the tolerance the case gives for the
// metric (an exact name, or a pattern where '*' matches any characters; the exact name wins, then
// the pattern with the most literal characters) or else DEFAULT_TOLERANCE. Vectors indexed by
// aggregation are compared element by element and reported once, at their first differing
// aggregation; the first aggregation whose snapshot digest differs is where the snapshots diverge.

import { ageBinLabel } from "./digest.ts";

export interface Tolerance {
  abs?: number;
  rel?: number;
}

/** Used for a floating metric the case gives no tolerance for. */
export const DEFAULT_TOLERANCE: Required<Tolerance> = { abs: 1e-12, rel: 1e-9 };

/** The floating-point metrics (patterns over metric names); every other metric is exact. */
export const FLOAT_METRICS = [
  "accuracy.precision",
  "accuracy.recall",
  "accuracy.f1",
  "accuracy.rateError",
  "accuracy.spearman",
  "accuracy.wssError",
  "accuracy.coldPrecision",
  "accuracy.coldRecall",
  "accuracy.meanDetectionNs",
  "overhead.cpuTimeNs.*",
  "overhead.kdamondCpuNs",
  "overhead.monitoringPercent",
  "probes.*.estimatedBytes",
];

/** Vectors whose index is an aggregation. */
const PER_AGGREGATION = ["snapshots.*", "probes.*.hits", "probes.*.truthBytes", "probes.*.estimatedBytes"];

export interface MetricDiff {
  /** Dotted metric name, e.g. "accuracy.precision", "snapshots.regions", "histograms.age". */
  metric: string;
  /** The values (at the first differing element for vectors; undefined: absent). */
  expected: unknown;
  got: unknown;
  /** First differing element of a vector, and the aggregation it is when the vector is per aggregation. */
  index?: number;
  aggregation?: number;
  /** Differing elements of a vector, and its lengths (expected, got). */
  differing?: number;
  lengths?: [number, number];
  /** The tolerance applied (floating metrics). */
  tolerance?: Required<Tolerance>;
  /** One line saying what moved. */
  message: string;
}

export interface Comparison {
  diffs: MetricDiff[];
  /** First aggregation whose snapshot digest differs (null: none). */
  firstDivergentAggregation: number | null;
  /** End of that aggregation window, ns, as blessed (or as now, past the blessed ones). */
  divergenceEndNs: number | null;
}

function globToRegExp(p: string): RegExp {
  return new RegExp(`^${p.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
}

const matches = (pattern: string, metric: string): boolean => (pattern.includes("*") ? globToRegExp(pattern).test(metric) : pattern === metric);

export function isFloatMetric(metric: string): boolean {
  return FLOAT_METRICS.some((p) => matches(p, metric));
}

function isPerAggregation(metric: string): boolean {
  return PER_AGGREGATION.some((p) => matches(p, metric));
}

/** The tolerance for `metric`: the case's exact entry, else its most specific matching pattern, else the default. */
export function toleranceFor(metric: string, tolerances: Readonly<Record<string, Tolerance>>): Required<Tolerance> {
  const exact = tolerances[metric];
  let pick: Tolerance | undefined = exact;
  if (pick === undefined) {
    let best = -1;
    let bestKey = "";
    for (const k of Object.keys(tolerances).sort()) {
      if (!k.includes("*") || !matches(k, metric)) continue;
      const literal = k.replace(/\*/g, "").length;
      if (literal > best) {
        best = literal;
        bestKey = k;
      }
    }
    if (best >= 0) pick = tolerances[bestKey];
  }
  if (pick === undefined) return { ...DEFAULT_TOLERANCE };
  return { abs: pick.abs ?? 0, rel: pick.rel ?? 0 };
}

export function withinTolerance(expected: number, got: number, t: Required<Tolerance>): boolean {
  if (expected === got) return true;
  return Math.abs(got - expected) <= Math.max(t.abs, t.rel * Math.abs(expected));
}

/** A value as it appears in messages (no locale: JavaScript's own number formatting). */
export function fmt(v: unknown): string {
  if (v === undefined) return "(absent)";
  if (typeof v === "number") return String(v);
  return JSON.stringify(v);
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function fmtTol(t: Required<Tolerance>): string {
  const parts: string[] = [];
  if (t.abs > 0) parts.push(`abs ${t.abs}`);
  if (t.rel > 0) parts.push(`rel ${t.rel}`);
  return parts.length ? parts.join(", ") : "exact";
}

function elementLabel(metric: string, i: number): string {
  if (metric === "histograms.age") return `age ${ageBinLabel(i)}`;
  if (metric === "histograms.nrAccesses") return `nr_accesses ${i}`;
  return `[${i}]`;
}

/**
 * Compares fresh results with blessed ones. `exact`: every floating metric with zero tolerance
 * (used by --bless to list everything that changed).
 */
export function compareResults(expected: unknown, got: unknown, tolerances: Readonly<Record<string, Tolerance>> = {}, o: { exact?: boolean } = {}): Comparison {
  const diffs: MetricDiff[] = [];
  const tol = (metric: string): Required<Tolerance> => (o.exact ? { abs: 0, rel: 0 } : toleranceFor(metric, tolerances));
  const sameLeaf = (metric: string, e: unknown, g: unknown): boolean => {
    if (typeof e === "number" && typeof g === "number" && isFloatMetric(metric)) return withinTolerance(e, g, tol(metric));
    return e === g;
  };

  const vector = (metric: string, e: unknown[], g: unknown[]): void => {
    const n = Math.max(e.length, g.length);
    const bad: number[] = [];
    for (let i = 0; i < n; i++) {
      const a = e[i], b = g[i];
      if (Array.isArray(a) || isObj(a) || Array.isArray(b) || isObj(b)) {
        if (JSON.stringify(a) !== JSON.stringify(b)) bad.push(i);
      } else if (i >= e.length || i >= g.length || !sameLeaf(metric, a, b)) bad.push(i);
    }
    if (bad.length === 0) return;
    const i = bad[0]!;
    const perAggr = isPerAggregation(metric);
    const float = isFloatMetric(metric);
    const d: MetricDiff = { metric, expected: e[i], got: g[i], index: i, differing: bad.length, lengths: [e.length, g.length], message: "" };
    if (perAggr) d.aggregation = i;
    if (float) d.tolerance = tol(metric);
    const lengthNote = e.length !== g.length ? ` (expected ${e.length} ${perAggr ? "aggregations" : "entries"}, got ${g.length})` : "";
    const tolNote = float ? ` (tolerance ${fmtTol(d.tolerance!)})` : "";
    if (perAggr) {
      d.message = `${bad.length} of ${n} aggregations differ, first at aggregation ${i}: expected ${fmt(e[i])}, got ${fmt(g[i])}${tolNote}${lengthNote}`;
    } else {
      const shown = bad.slice(0, 5).map((k) => `${elementLabel(metric, k)}: expected ${fmt(e[k] ?? 0)}, got ${fmt(g[k] ?? 0)}`);
      d.message = `${bad.length} bin${bad.length === 1 ? "" : "s"} differ: ${shown.join("; ")}${bad.length > 5 ? "; ..." : ""}${tolNote}${lengthNote}`;
    }
    diffs.push(d);
  };

  const walk = (metric: string, e: unknown, g: unknown): void => {
    if (Array.isArray(e) && Array.isArray(g)) return vector(metric, e, g);
    if (isObj(e) && isObj(g)) {
      const keys = [...Object.keys(e), ...Object.keys(g).filter((k) => !(k in e))];
      for (const k of keys) {
        const m = metric ? `${metric}.${k}` : k;
        if (!(k in g)) diffs.push({ metric: m, expected: e[k], got: undefined, message: "missing from the results (no longer produced)" });
        else if (!(k in e)) diffs.push({ metric: m, expected: undefined, got: g[k], message: "new: not in expected.json (bless to accept)" });
        else walk(m, e[k], g[k]);
      }
      return;
    }
    const bothLeaves = !Array.isArray(e) && !isObj(e) && !Array.isArray(g) && !isObj(g);
    if (bothLeaves && sameLeaf(metric, e, g)) return;
    const d: MetricDiff = { metric, expected: e, got: g, message: "" };
    if (typeof e === "number" && typeof g === "number" && isFloatMetric(metric)) {
      d.tolerance = tol(metric);
      d.message = `expected ${fmt(e)}, got ${fmt(g)} (|diff| ${Math.abs(g - e)} > tolerance ${fmtTol(d.tolerance)})`;
    } else if (bothLeaves) {
      d.message = `expected ${fmt(e)}, got ${fmt(g)}`;
    } else {
      d.message = `expected ${Array.isArray(e) ? "a list" : isObj(e) ? "an object" : fmt(e)}, got ${Array.isArray(g) ? "a list" : isObj(g) ? "an object" : fmt(g)}`;
    }
    diffs.push(d);
  };

  walk("", expected, got);
  let firstDivergentAggregation: number | null = null;
  let divergenceEndNs: number | null = null;
  const de = isObj(expected) && isObj(expected.snapshots) ? expected.snapshots : null;
  const dg = isObj(got) && isObj(got.snapshots) ? got.snapshots : null;
  if (de && dg && Array.isArray(de.digest) && Array.isArray(dg.digest)) {
    const n = Math.max(de.digest.length, dg.digest.length);
    for (let i = 0; i < n; i++) {
      if (de.digest[i] !== dg.digest[i]) {
        firstDivergentAggregation = i;
        const t = (Array.isArray(de.endNs) ? de.endNs[i] : undefined) ?? (Array.isArray(dg.endNs) ? dg.endNs[i] : undefined);
        divergenceEndNs = typeof t === "number" ? t : null;
        break;
      }
    }
  }
  return { diffs, firstDivergentAggregation, divergenceEndNs };
}
