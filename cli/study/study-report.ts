// A study's report.html: one figure per axis (seed aside), each with a panel per workload
// (faceting) for accuracy (F1) and one for overhead, the axis's values along x (in the file's
// order, evenly spaced), one line per primitives value (per workload when the axis is primitives),
// points at the mean over seeds and the other axes, bars at the 95 % interval over seeds; a
// primitive a parameter axis does not apply to is drawn as a flat line at its mean. SVG is
// drawn with cli/plot/svg.ts and inlined, so the file needs nothing else.

import { axes as drawAxes, escapeXml, svgDocument } from "../plot/svg.ts";
import { meanCi, type Row } from "./tables.ts";
import type { StudyPlan } from "./spec.ts";

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];
const label = (v: unknown): string => (v === null || v === undefined ? "-" : String(v));

function panel(x0: number, y0: number, title: string, xs: string[], series: Map<string, Array<{ mean: number; lo: number; hi: number } | null>>, yLabel: string, xLabel: string): string {
  const f = { x: x0 + 90, y: y0 + 30, w: 300, h: 180 };
  const vals = [...series.values()].flat().filter((p): p is { mean: number; lo: number; hi: number } => p !== null);
  let lo = Math.min(0, ...vals.map((p) => p.lo)), hi = Math.max(...vals.map((p) => p.hi), lo + 1e-9);
  if (!Number.isFinite(hi)) [lo, hi] = [0, 1];
  const sx = (i: number): number => f.x + (xs.length === 1 ? f.w / 2 : (i / (xs.length - 1)) * f.w);
  const sy = (v: number): number => f.y + f.h - ((v - lo) / (hi - lo || 1)) * f.h;
  const parts = [`<text x="${f.x + f.w / 2}" y="${y0 + 18}" font-size="13" text-anchor="middle">${escapeXml(title)}</text>`];
  parts.push(drawAxes(f, { lo: xs.length === 1 ? -1 : 0, hi: xs.length === 1 ? 1 : xs.length - 1, label: xLabel, fmt: (v) => (Number.isInteger(v) && xs[v] !== undefined ? xs[v]! : "") }, { lo, hi, label: yLabel, fmt: (v) => String(Number(v.toPrecision(3))) }));
  let k = 0;
  for (const [name, pts] of series) {
    const c = COLORS[k % COLORS.length]!;
    const line = pts.map((p, i) => (p ? `${sx(i).toFixed(1)},${sy(p.mean).toFixed(1)}` : null)).filter((p) => p !== null);
    if (line.length > 1) parts.push(`<polyline points="${line.join(" ")}" fill="none" stroke="${c}" stroke-width="1.5"/>`);
    pts.forEach((p, i) => {
      if (!p) return;
      parts.push(`<line x1="${sx(i).toFixed(1)}" y1="${sy(p.lo).toFixed(1)}" x2="${sx(i).toFixed(1)}" y2="${sy(p.hi).toFixed(1)}" stroke="${c}"/>`);
      parts.push(`<circle cx="${sx(i).toFixed(1)}" cy="${sy(p.mean).toFixed(1)}" r="3" fill="${c}"><title>${escapeXml(`${name} ${xs[i]}: ${p.mean}`)}</title></circle>`);
    });
    parts.push(`<rect x="${f.x + f.w + 10}" y="${f.y + k * 16}" width="10" height="10" fill="${c}"/><text x="${f.x + f.w + 24}" y="${f.y + k * 16 + 9}" font-size="11">${escapeXml(name)}</text>`);
    k++;
  }
  return parts.join("\n");
}

/** The SVG figure of one axis: rows = metrics, columns = workloads. */
export function axisFigure(plan: StudyPlan, rows: Row[], axis: string): string {
  const runs = rows.filter((r) => r.role === "run");
  const ax = plan.axes.find((a) => a.name === axis)!;
  const xs = ax.values.map(label);
  const workloads = [...new Set(runs.map((r) => label(r.workload ?? plan.jobs[0]!.spec.workload)))];
  const facets = axis === "workload" ? ["all"] : workloads;
  const metrics: Array<[string, string]> = [["f1", "accuracy (F1)"], ["overheadPercent", "overhead %"]];
  const W = 520, H = 260;
  const parts: string[] = [];
  metrics.forEach(([m, mLabel], mi) => {
    facets.forEach((wl, fi) => {
      const inFacet = runs.filter((r) => wl === "all" || label(r.workload ?? plan.jobs[0]!.spec.workload) === wl);
      const seriesKey = (r: Row): string => (axis === "primitives" ? label(r.workload ?? "all") : label(r.primitives));
      const series = new Map<string, Array<{ mean: number; lo: number; hi: number } | null>>();
      const point = (rs: Row[]): { mean: number; lo: number; hi: number } | null => {
        const s = meanCi(rs.map((r) => r[m]).filter((v): v is number => typeof v === "number" && Number.isFinite(v)));
        return s.mean === null ? null : { mean: s.mean, lo: s.lo ?? s.mean, hi: s.hi ?? s.mean };
      };
      for (const name of [...new Set(inFacet.map(seriesKey))]) {
        const mine = inFacet.filter((r) => seriesKey(r) === name);
        const pts = xs.map((x) => point(mine.filter((r) => label(r[axis]) === x)));
        if (pts.some((p) => p !== null)) series.set(name, pts);
        else {
          // the axis does not apply to this series (a parameter of another primitive): its mean as a flat reference line
          const flat = point(mine);
          if (flat) series.set(`${name} (no ${axis})`, xs.map(() => flat));
        }
      }
      parts.push(panel(fi * W, mi * H, `${mLabel}${wl === "all" ? "" : ` - ${wl}`}`, xs, series, mLabel, axis));
    });
  });
  return svgDocument(facets.length * W + 20, metrics.length * H + 20, parts.join("\n"));
}

export function reportHtml(plan: StudyPlan, rows: Row[], summary: Row[]): string {
  const figs = plan.axes.filter((a) => a.name !== "seed").map((a) => `<h2>${escapeXml(a.name)}</h2>\n${axisFigure(plan, rows, a.name)}`);
  const runs = rows.filter((r) => r.role === "run").length;
  return [
    "<!doctype html>",
    `<html><head><meta charset="utf-8"><title>${escapeXml(plan.name)}: damon-sim study</title>`,
    "<style>body{font-family:DejaVu Sans,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px}</style></head><body>",
    `<h1>Study ${escapeXml(plan.name)}</h1>`,
    `<p>${runs} runs, ${rows.length - runs} baselines, ${summary.length} summary rows; axes: ${plan.axes.map((a) => `${escapeXml(a.name)} (${a.values.length})`).join(", ")}. Points are means over seeds and the other axes; bars are 95 % confidence intervals (t-distribution over the values pooled in the point). Tables: results.csv, summary.csv.</p>`,
    ...(figs.length ? figs : ["<p>The study has no axis but seed: see summary.csv.</p>"]),
    "</body></html>",
    "",
  ].join("\n");
}
