// The experiment report: one self-contained report.html (no network: plots are inline SVG with
// embedded PNG rasters) with the results table, the accuracy-vs-overhead scatter, working set
// size over time and, per variant, heatmaps of the true and the observed access rate over time;
// the same plots as PNG files next to it (rendered without a browser).

import { writeFileAtomic } from "../atomic-write.ts";
import { join } from "node:path";
import { formatSize } from "../../sim/units.ts";
import { colormap, encodePng } from "../plot/png.ts";
import { axes, escapeXml, svgDocument, svgToPng } from "../plot/svg.ts";
import type { Row } from "./output.ts";
import type { ScenarioMetrics } from "./scenario-metrics.ts";
import type { ExperimentSpec } from "./spec.ts";
import type { VariantResult } from "./variant.ts";

/** Tick labels in seconds: as many decimals as the tick needs (0.25, not 0.3), at most 3. */
const seconds = (v: number): string => String(Number(v.toFixed(3)));

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];

/** Accuracy (F1 of hot bytes) against monitoring overhead, one labelled point per variant. */
export function scatterSvg(rows: Row[]): string {
  const pts = rows.filter((r) => r.f1 !== null);
  const maxX = Math.max(1, ...pts.map((r) => r.overheadPercent)) * 1.15;
  const frame = { x: 90, y: 40, w: 560, h: 340 };
  const sx = (v: number): number => frame.x + (v / maxX) * frame.w;
  const sy = (v: number): number => frame.y + frame.h - v * frame.h;
  const body = [
    `<text x="${frame.x + frame.w / 2}" y="24" font-size="14" text-anchor="middle">accuracy vs overhead</text>`,
    axes(frame, { lo: 0, hi: maxX, label: "overhead (% of the workload's CPU time)", fmt: (v) => v.toFixed(1) }, { lo: 0, hi: 1, label: "hot-set F1", fmt: (v) => v.toFixed(1) }),
    ...pts.map((r, i) => {
      const c = PALETTE[i % PALETTE.length]!;
      const x = sx(r.overheadPercent), y = sy(r.f1!);
      return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="6" fill="${c}"/><text x="${(x + 9).toFixed(1)}" y="${(y + 4).toFixed(1)}" font-size="12" fill="${c}">${escapeXml(r.variant)}</text>`;
    }),
  ];
  return svgDocument(720, 440, body.join("\n"));
}

/** Tiering experiments: the fast-tier fraction of memory accesses per time bucket, one line per variant (the all-DRAM reference has none). */
export function fastTierSvg(results: VariantResult[], phaseChangeNs: number | null): string {
  const runs = results.filter((r) => r.tiering && r.tiering.placement !== "all-dram");
  const frame = { x: 90, y: 40, w: 560, h: 320 };
  const tMax = Math.max(1, ...runs.flatMap((r) => r.tiering!.series.t));
  const sx = (t: number): number => frame.x + (t / tMax) * frame.w;
  const sy = (v: number): number => frame.y + frame.h - v * frame.h;
  const line = (r: VariantResult, color: string): string => {
    const s = r.tiering!.series;
    const pts = s.t.map((t, k): [number, number | null] => [t, s.fastFraction[k] ?? null]).filter((p): p is [number, number] => p[1] !== null);
    return `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([t, v]) => `${sx(t).toFixed(1)},${sy(v).toFixed(1)}`).join(" ")}"/>`;
  };
  const change = phaseChangeNs !== null && phaseChangeNs > 0 && phaseChangeNs < tMax ? `<line x1="${sx(phaseChangeNs).toFixed(1)}" y1="${frame.y}" x2="${sx(phaseChangeNs).toFixed(1)}" y2="${frame.y + frame.h}" stroke="#888" stroke-dasharray="4,4"/><text x="${(sx(phaseChangeNs) + 4).toFixed(1)}" y="${frame.y + 14}" font-size="11" fill="#666">hot set moves</text>` : "";
  const body = [
    `<text x="${frame.x + frame.w / 2}" y="24" font-size="14" text-anchor="middle">memory accesses served by the fast tier</text>`,
    axes(frame, { lo: 0, hi: tMax / 1e9, label: "time (s)", fmt: seconds }, { lo: 0, hi: 1, label: "fast-tier fraction", fmt: (v) => v.toFixed(1) }),
    change,
    ...runs.map((r, i) => line(r, PALETTE[i % PALETTE.length]!)),
    ...runs.map((r, i) => `<text x="${frame.x + frame.w + 12}" y="${frame.y + 12 + 16 * i}" font-size="12" fill="${PALETTE[i % PALETTE.length]}">${escapeXml(r.name)}</text>`),
  ];
  return svgDocument(820, 420, body.join("\n"));
}

/** Working set size per aggregation window: the truth and each variant's DAMON estimate. */
export function wssSvg(results: VariantResult[]): string {
  const mon = results.filter((r) => r.monitor && r.windows.length > 0);
  const frame = { x: 100, y: 40, w: 540, h: 320 };
  const truth = mon[0]?.windows ?? [];
  const tMax = Math.max(1, ...mon.flatMap((r) => r.windows.map((w) => w.t)));
  const yMax = Math.max(1, ...mon.flatMap((r) => r.windows.flatMap((w) => [w.wssTrue, w.wssDamon]))) * 1.1;
  const sx = (t: number): number => frame.x + (t / tMax) * frame.w;
  const sy = (v: number): number => frame.y + frame.h - (v / yMax) * frame.h;
  const line = (pts: Array<[number, number]>, color: string, dash = ""): string =>
    `<polyline fill="none" stroke="${color}" stroke-width="2" ${dash ? `stroke-dasharray="${dash}"` : ""} points="${pts.map(([t, v]) => `${sx(t).toFixed(1)},${sy(v).toFixed(1)}`).join(" ")}"/>`;
  const body = [
    `<text x="${frame.x + frame.w / 2}" y="24" font-size="14" text-anchor="middle">working set size over time</text>`,
    axes(frame, { lo: 0, hi: tMax / 1e9, label: "time (s)", fmt: seconds }, { lo: 0, hi: yMax, label: "bytes", fmt: (v) => formatSize(Math.round(v)) }),
    line(truth.map((w) => [w.t, w.wssTrue]), "#000", "6,4"),
    `<text x="${frame.x + frame.w + 12}" y="${frame.y + 12}" font-size="12">truth (dashed)</text>`,
    ...mon.map((r, i) => line(r.windows.map((w) => [w.t, w.wssDamon]), PALETTE[i % PALETTE.length]!)),
    ...mon.map((r, i) => `<text x="${frame.x + frame.w + 12}" y="${frame.y + 30 + 16 * i}" font-size="12" fill="${PALETTE[i % PALETTE.length]}">${escapeXml(r.name)}</text>`),
  ];
  return svgDocument(820, 420, body.join("\n"));
}

function gridPng(values: number[], rows: number, cols: number): string {
  // time goes left to right, addresses bottom to top
  const rgb = new Uint8Array(rows * cols * 3);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) {
    const v = values[i * cols + j]!;
    const [r, g, b] = Number.isNaN(v) ? [235, 235, 235] : colormap(v);
    const p = ((cols - 1 - j) * rows + i) * 3;
    rgb[p] = r;
    rgb[p + 1] = g;
    rgb[p + 2] = b;
  }
  return encodePng(rows, cols, rgb).toString("base64");
}

/** True vs observed access rate over time for one variant. */
export function heatmapPairSvg(r: VariantResult): string {
  const h = r.heatmap!;
  const frameT = { x: 90, y: 50, w: 330, h: 260 }, frameD = { x: 540, y: 50, w: 330, h: 260 };
  const tMax = (h.t[h.t.length - 1] ?? 1) / 1e9;
  const total = h.segments.reduce((a, s) => a + s.end - s.start, 0);
  const panel = (frame: typeof frameT, values: number[], title: string): string =>
    [
      `<text x="${frame.x + frame.w / 2}" y="${frame.y - 10}" font-size="13" text-anchor="middle">${escapeXml(title)}</text>`,
      `<image x="${frame.x}" y="${frame.y}" width="${frame.w}" height="${frame.h}" preserveAspectRatio="none" image-rendering="optimizeSpeed" style="image-rendering:pixelated" href="data:image/png;base64,${gridPng(values, h.rows, h.cols)}"/>`,
      axes(frame, { lo: 0, hi: tMax, label: "time (s)", fmt: seconds }, { lo: 0, hi: total, label: "", fmt: (v) => formatSize(Math.round(v)) }),
    ].join("\n");
  const body = [
    `<text x="480" y="20" font-size="14" text-anchor="middle">${escapeXml(r.name)}: access rate per address (monitored areas end to end) over time</text>`,
    panel(frameT, h.truth, "truth"),
    panel(frameD, h.damon, "DAMON"),
  ];
  return svgDocument(920, 370, body.join("\n"));
}

const fmt = (x: number | null, d = 2): string => (x === null || Number.isNaN(x) ? "–" : x.toFixed(d));

function tableHtml(rows: Row[]): string {
  const head = ["variant", "primitives", "precision", "recall", "F1", "rate error", "Spearman", "WSS error", "detect (ms)", "overhead %", "slowdown %", "reports", "drained", "dropped"];
  const cells = (r: Row): string[] => [r.variant, r.primitives, fmt(r.precision), fmt(r.recall), fmt(r.f1), fmt(r.rateError, 3), fmt(r.spearman), fmt(r.wssError), fmt(r.detectionMs, 0), fmt(r.overheadPercent), fmt(r.slowdownPercent), r.reportsMade === null ? "–" : String(r.reportsMade), r.reportsDrained === null ? "–" : String(r.reportsDrained), r.reportsDropped === null ? "–" : String(r.reportsDropped)];
  return `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>${rows.map((r) => `<tr>${cells(r).map((c, i) => `<td${i > 1 ? ' class="n"' : ""}>${escapeXml(c)}</td>`).join("")}</tr>`).join("")}</tbody></table>`;
}

/**
 * The heatmap file of each variant, in order: heatmap-NAME.png with the name made file-safe, and
 * -2, -3, ... added where two names come out alike ("a b" and "a/b"), so no file overwrites another.
 */
export function heatmapFileNames(names: readonly string[]): string[] {
  const used = new Set<string>();
  return names.map((n) => {
    const base = `heatmap-${n.replace(/[^A-Za-z0-9_.-]+/g, "_")}`;
    let f = `${base}.png`;
    for (let k = 2; used.has(f.toLowerCase()); k++) f = `${base}-${k}.png`;
    used.add(f.toLowerCase());
    return f;
  });
}

export async function writeReport(dir: string, x: ExperimentSpec, results: VariantResult[], rows: Row[], sm: ScenarioMetrics | null): Promise<void> {
  const scatter = scatterSvg(rows);
  const wss = wssSvg(results);
  const heat = results.filter((r) => r.heatmap && r.heatmap.rows > 0).map((r) => ({ name: r.name, svg: heatmapPairSvg(r) }));
  const fast = results.some((r) => r.tiering) ? fastTierSvg(results, x.tiering?.phaseChangeNs ?? null) : null;
  if (fast !== null) writeFileAtomic(join(dir, "fast-tier.png"), svgToPng(fast));
  writeFileAtomic(join(dir, "scatter.png"), svgToPng(scatter));
  writeFileAtomic(join(dir, "wss.png"), svgToPng(wss));
  const files = heatmapFileNames(heat.map((h) => h.name));
  heat.forEach((h, i) => writeFileAtomic(join(dir, files[i]!), svgToPng(h.svg)));
  const strip = (svg: string): string => svg.replace(/^<svg /, '<svg class="plot" ');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>damon-sim: ${escapeXml(x.name)}</title>
<style>
body { font-family: DejaVu Sans, Helvetica, Arial, sans-serif; margin: 2em; color: #222; max-width: 1100px; }
table { border-collapse: collapse; font-size: 13px; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 4px 8px; }
th { background: #f3f3f3; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
svg.plot { max-width: 100%; height: auto; display: block; margin: 1em 0; }
pre { background: #f7f7f7; padding: 1em; overflow-x: auto; }
</style></head><body>
<h1>damon-sim comparison: ${escapeXml(x.name)}</h1>
<p>Workload <b>${escapeXml(x.workload)}</b> on <b>${escapeXml(x.machine)}</b>, DAMON ${x.ops}, sample ${x.sampleUs / 1000} ms, aggregation ${x.aggrUs / 1000} ms, ${x.durationNs / 1e9} s simulated per variant, seed ${x.seed}; the first ${x.warmupWindows} aggregations are not scored. Every variant ran the identical access stream.${x.question ? ` Question: ${escapeXml(x.question)}.` : ""}</p>
<h2>Results</h2>
${tableHtml(rows)}
<p>Precision and recall are over bytes of hot memory (true access rate &ge; ${x.theta} of the sample intervals); rate error is the byte-weighted mean absolute error of the regions' access rates; Spearman ranks regions by hotness; overhead is the monitoring CPU time (PROT_NONE traps, sample handling, PTE scans, kdamond and migration) as a share of the workload's own CPU time; slowdown is against the unmonitored baseline.${fast !== null ? " Fast % is the share of the workload's memory accesses (LLC fills and write-backs) the fast node served; vs DRAM % is the slowdown against the all-DRAM reference run." : ""} See the README ("How accuracy is measured").</p>
${fast !== null ? `<h2>Fast-tier hit fraction over time</h2>\n${strip(fast)}` : ""}
${sm ? `<h2>Scenario</h2><pre>${escapeXml(JSON.stringify(sm, null, 2))}</pre>` : ""}
<h2>Accuracy vs overhead</h2>
${strip(scatter)}
<h2>Working set size</h2>
${strip(wss)}
<h2>True vs observed access over time</h2>
${heat.map((h) => strip(h.svg)).join("\n")}
</body></html>
`;
  writeFileAtomic(join(dir, "report.html"), html);
}
