// Small SVG building blocks for damon-sim's plots (no browser, no plotting library): text escaping,
// nice axis ticks, axes with labels, and conversion of an SVG document to PNG through resvg
// (a Rust SVG renderer shipped as a prebuilt Node addon) using the system's DejaVu fonts.

import { Resvg } from "@resvg/resvg-js";

export const escapeXml = (s: string): string => s.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);

/** About `n` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export interface Frame {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Axes around `f`: ticks mapped with the given scales, labels formatted by `fmtX`/`fmtY`. */
export function axes(f: Frame, x: { lo: number; hi: number; label: string; fmt: (v: number) => string }, y: { lo: number; hi: number; label: string; fmt: (v: number) => string }): string {
  const sx = (v: number): number => f.x + ((v - x.lo) / (x.hi - x.lo || 1)) * f.w;
  const sy = (v: number): number => f.y + f.h - ((v - y.lo) / (y.hi - y.lo || 1)) * f.h;
  const parts: string[] = [`<rect x="${f.x}" y="${f.y}" width="${f.w}" height="${f.h}" fill="none" stroke="#333"/>`];
  for (const t of niceTicks(x.lo, x.hi)) {
    const px = sx(t).toFixed(1);
    parts.push(`<line x1="${px}" y1="${f.y + f.h}" x2="${px}" y2="${f.y + f.h + 5}" stroke="#333"/>`);
    parts.push(`<text x="${px}" y="${f.y + f.h + 18}" font-size="11" text-anchor="middle">${escapeXml(x.fmt(t))}</text>`);
  }
  for (const t of niceTicks(y.lo, y.hi)) {
    const py = sy(t).toFixed(1);
    parts.push(`<line x1="${f.x - 5}" y1="${py}" x2="${f.x}" y2="${py}" stroke="#333"/>`);
    parts.push(`<text x="${f.x - 8}" y="${(Number(py) + 4).toFixed(1)}" font-size="11" text-anchor="end">${escapeXml(y.fmt(t))}</text>`);
  }
  parts.push(`<text x="${f.x + f.w / 2}" y="${f.y + f.h + 38}" font-size="13" text-anchor="middle">${escapeXml(x.label)}</text>`);
  parts.push(`<text x="${f.x - 70}" y="${f.y + f.h / 2}" font-size="13" text-anchor="middle" transform="rotate(-90 ${f.x - 70} ${f.y + f.h / 2})">${escapeXml(y.label)}</text>`);
  return parts.join("\n");
}

export function svgDocument(width: number, height: number, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${body}\n</svg>\n`;
}

/** Renders an SVG document to PNG bytes. */
export function svgToPng(svg: string): Buffer {
  const r = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" }, background: "white" });
  return Buffer.from(r.render().asPng());
}
