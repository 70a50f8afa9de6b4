// Draws a damo-style access heatmap (time on x, address on y, colour = access frequency) as an
// SVG with axes and a colour bar around an embedded raster, and writes it as SVG or PNG.

import { writeFileAtomic } from "../atomic-write.ts";
import type { HeatmapGrid } from "../../damon/damo/heatmap.ts";
import { formatSz, formatTimeNs } from "../../damon/damo/format.ts";
import { colormap, encodePng } from "./png.ts";
import { axes, escapeXml, svgDocument, svgToPng } from "./svg.ts";

/** The heatmap as an SVG document string. */
export function heatmapSvg(g: HeatmapGrid, title = "access frequency (samples per aggregation)"): string {
  let lo = Infinity, hi = -Infinity;
  for (const h of g.heat) if (!Number.isNaN(h)) {
    lo = Math.min(lo, h);
    hi = Math.max(hi, h);
  }
  if (lo === Infinity) lo = hi = 0;
  // raster: x = time (rows of the grid), y = address (columns), high addresses at the top
  const w = g.rows, h = g.cols;
  const rgb = new Uint8Array(w * h * 3);
  for (let i = 0; i < g.rows; i++) for (let j = 0; j < g.cols; j++) {
    const v = g.heat[i * g.cols + j]!;
    const [r, gg, b] = Number.isNaN(v) ? [255, 255, 255] : colormap(hi > lo ? (v - lo) / (hi - lo) : 0);
    const p = ((h - 1 - j) * w + i) * 3;
    rgb[p] = r;
    rgb[p + 1] = gg;
    rgb[p + 2] = b;
  }
  const png = encodePng(w, h, rgb).toString("base64");
  const frame = { x: 100, y: 40, w: 600, h: 420 };
  const bar: string[] = [];
  for (let k = 0; k < 100; k++) {
    const [r, gg, b] = colormap(k / 99);
    bar.push(`<rect x="720" y="${(frame.y + frame.h - (k + 1) * (frame.h / 100)).toFixed(2)}" width="16" height="${(frame.h / 100 + 0.5).toFixed(2)}" fill="rgb(${r},${gg},${b})"/>`);
  }
  const body = [
    `<text x="${frame.x + frame.w / 2}" y="24" font-size="14" text-anchor="middle">${escapeXml(title)}</text>`,
    `<image x="${frame.x}" y="${frame.y}" width="${frame.w}" height="${frame.h}" preserveAspectRatio="none" image-rendering="optimizeSpeed" style="image-rendering:pixelated" href="data:image/png;base64,${png}"/>`,
    axes(
      frame,
      { lo: 0, hi: g.tEnd - g.tStart, label: `time since ${formatTimeNs(g.tStart)}`, fmt: (v) => formatTimeNs(Math.round(v)) },
      { lo: 0, hi: g.addrUnit * g.cols, label: `address - ${formatSz(g.aStart)} (0x${g.aStart.toString(16)})`, fmt: (v) => formatSz(Math.round(v)) },
    ),
    ...bar,
    `<text x="742" y="${frame.y + 8}" font-size="11">${escapeXml(hi.toPrecision(3))}</text>`,
    `<text x="742" y="${frame.y + frame.h}" font-size="11">${escapeXml(lo.toPrecision(3))}</text>`,
  ].join("\n");
  return svgDocument(800, 520, body);
}

/** Writes the heatmap to `file` (.png or .svg) via a temporary file. */
export async function writeHeatmapImage(g: HeatmapGrid, file: string): Promise<void> {
  const svg = heatmapSvg(g);
  const data = /\.svg$/i.test(file) ? Buffer.from(svg) : svgToPng(svg);
  writeFileAtomic(file, data);
}
