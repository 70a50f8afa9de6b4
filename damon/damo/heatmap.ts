// `report heatmap`: access frequency over time (rows) and address (columns), computed the way
// damo's `damo report heatmap` does. The address range defaults to the hottest contiguous range
// (address space split at the gaps every snapshot shares; hottest by size x samples per byte),
// or all of them. Each region of a snapshot is taken as observed from its snapshot's start minus
// its age (not before the previous snapshot's end) to the snapshot's end, which spreads what the
// age says back in time. A pixel accumulates samples x overlapping time x overlapping bytes,
// normalised by its time x bytes. Output: damo's ANSI digit map with its comment lines, raw
// "<time>\t<addr>\t<heat>" lines, or a PNG (rendered by the CLI from the same pixel grid).

import type { DamonRecord } from "./record-file.ts";
import { formatSz, formatTimeNs } from "./format.ts";
import { ageAggrsOf, samplesOf } from "./regions.ts";

export interface HeatmapOptions {
  /** Rows (time) and columns (address); damo's --resol, default 40 x 80 for text. */
  timeResol?: number;
  addrResol?: number;
  drawRange?: "hottest" | "all";
  timeRange?: [number, number];
  addrRange?: [number, number];
  absTime?: boolean;
  absAddr?: boolean;
}

export interface HeatmapGrid {
  tStart: number;
  tEnd: number;
  aStart: number;
  aEnd: number;
  timeUnit: number;
  addrUnit: number;
  rows: number;
  cols: number;
  /** heat[row * cols + col]; NaN where nothing was observed. */
  heat: Float64Array;
}

interface Guide {
  records: DamonRecord[];
  startTime: number;
  endTime: number;
  contig: Array<[number, number]>;
}

const keyOf = (r: DamonRecord): string => `${r.kdamond_idx} ${r.context_idx} ${r.scheme_idx} ${r.target_id}`;

/** damo's record guide: the time span (stretched back by the first snapshot's oldest age) and contiguous address ranges. */
function guides(records: DamonRecord[]): Guide[] {
  const groups = new Map<string, DamonRecord[]>();
  for (const r of records) {
    if (r.snapshots.length === 0) continue;
    const k = keyOf(r);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const out: Array<Guide & { space: number }> = [];
  for (const recs of groups.values()) {
    const snaps = recs.flatMap((r) => r.snapshots);
    const first = snaps[0]!;
    const rec0 = recs[0]!;
    const aggrNs = (rec0.intervals?.aggr_us ?? 0) * 1000;
    const maxAge = Math.max(0, ...first.regions.map((r) => ageAggrsOf(r, rec0)));
    const startTime = first.start_time - maxAge * aggrNs;
    const endTime = snaps[snaps.length - 1]!.end_time;
    let lo = Infinity, hi = -Infinity;
    for (const s of snaps) for (const r of s.regions) {
      lo = Math.min(lo, r.start);
      hi = Math.max(hi, r.end);
    }
    // gaps present in every snapshot
    let gaps: Array<[number, number]> | null = null;
    for (const s of snaps) {
      const g: Array<[number, number]> = [];
      for (let i = 1; i < s.regions.length; i++) if (s.regions[i - 1]!.end < s.regions[i]!.start) g.push([s.regions[i - 1]!.end, s.regions[i]!.start]);
      gaps = gaps === null ? g : intersect(gaps, g);
    }
    const contig: Array<[number, number]> = [];
    let cur = lo;
    for (const [gs, ge] of gaps ?? []) {
      if (gs > cur) contig.push([cur, gs]);
      cur = ge;
    }
    if (cur < hi) contig.push([cur, hi]);
    out.push({ records: recs, startTime, endTime, contig, space: hi - lo });
  }
  return out.sort((a, b) => b.space - a.space);
}

function intersect(a: Array<[number, number]>, b: Array<[number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [as, ae] of a) for (const [bs, be] of b) {
    const s = Math.max(as, bs), e = Math.min(ae, be);
    if (s < e) out.push([s, e]);
  }
  return out.sort((x, y) => x[0] - y[0]);
}

/** Address ranges to draw: the hottest contiguous range, or every one. */
export function heatmapRanges(records: DamonRecord[], drawRange: "hottest" | "all" = "hottest"): Array<{ records: DamonRecord[]; time: [number, number]; addr: [number, number] }> {
  const g = guides(records)[0];
  if (!g) return [];
  const snaps = g.records.flatMap((r) => r.snapshots.map((s) => ({ s, rec: r })));
  const heats = g.contig.map(([cs, ce]) => {
    let h = 0;
    for (const { s, rec } of snaps) for (const r of s.regions) {
      const n = samplesOf(r, rec);
      if (n !== 0 && !(r.end < cs || ce < r.start)) h += (r.end - r.start) * n;
    }
    return h / (ce - cs);
  });
  const ranges = g.contig.map((c, i) => ({ c, h: heats[i]! }));
  const chosen = drawRange === "all" ? ranges : [ranges.reduce((best, x) => (x.h > best.h ? x : best), ranges[0]!)];
  return chosen.map(({ c }) => ({ records: g.records, time: [g.startTime, g.endTime] as [number, number], addr: c }));
}

/** The pixel grid of one address range. */
export function heatmapGrid(records: DamonRecord[], time: [number, number], addr: [number, number], rows: number, cols: number): HeatmapGrid {
  const [tStart, tEnd] = time, [aStart, aEnd] = addr;
  const timeUnit = Math.floor((tEnd - tStart) / rows) || 1;
  const addrUnit = Math.floor((aEnd - aStart) / cols) || 1;
  const heat = new Float64Array(rows * cols).fill(NaN);
  const aEndDrawn = aStart + addrUnit * cols;
  let lastEnd = -Infinity;
  for (const rec of records) {
    const aggrNs = (rec.intervals?.aggr_us ?? 0) * 1000;
    for (const s of rec.snapshots) {
      for (const r of s.regions) {
        if (r.end < aStart || aEndDrawn < r.start) continue;
        const n = samplesOf(r, rec);
        const obsStart = s.start_time - ageAggrsOf(r, rec) * aggrNs;
        const from = Math.max(obsStart, lastEnd);
        const r0 = Math.trunc((from - tStart) / timeUnit), r1 = Math.trunc((s.end_time - tStart) / timeUnit);
        const c0 = Math.trunc((r.start - aStart) / addrUnit), c1 = Math.trunc((r.end - aStart) / addrUnit);
        for (let i = Math.max(0, r0); i <= Math.min(rows - 1, r1); i++) {
          const pt = tStart + i * timeUnit;
          const t = Math.min(s.end_time, pt + timeUnit) - Math.max(obsStart, pt);
          for (let j = Math.max(0, c0); j <= Math.min(cols - 1, c1); j++) {
            const pa = aStart + j * addrUnit;
            const b = Math.min(r.end, pa + addrUnit) - Math.max(r.start, pa);
            const k = i * cols + j;
            const prev = Number.isNaN(heat[k]!) ? 0 : heat[k]!;
            heat[k] = prev + (n * t * b) / (timeUnit * addrUnit);
          }
        }
      }
      lastEnd = s.end_time;
    }
  }
  return { tStart, tEnd, aStart, aEnd, timeUnit, addrUnit, rows, cols, heat };
}

const GRAY_FG = [237, 239, 241, 243, 245, 247, 249, 251, 253, 255];

/** damo's terminal rendering: a digit per pixel (oldest row first) and the axis comments. */
export function heatmapAscii(g: HeatmapGrid, color: boolean): string {
  let lowest = Infinity, highest = -Infinity;
  for (const h of g.heat) if (!Number.isNaN(h)) {
    lowest = Math.min(lowest, h);
    highest = Math.max(highest, h);
  }
  if (lowest === Infinity) lowest = highest = 0;
  const unit = (highest + 1 - lowest) / 9;
  const cell = (level: number | null): string => {
    const ch = level === null ? " " : String(level);
    const fg = GRAY_FG[level ?? 4]!;
    return color ? `\x1b[48;5;232m\x1b[38;5;${fg}m${ch}` : ch;
  };
  const lines: string[] = [];
  for (let i = 0; i < g.rows; i++) {
    let row = "";
    for (let j = 0; j < g.cols; j++) {
      const h = g.heat[i * g.cols + j]!;
      row += cell(Number.isNaN(h) ? null : Math.min(9, Math.trunc((h - lowest) / unit)));
    }
    lines.push(color ? `${row}\x1b[0m` : row);
  }
  const levels = Array.from({ length: 10 }, (_, l) => cell(l)).join("");
  lines.push(`# access_frequency: ${levels}${color ? "\x1b[0m" : ""}`);
  const aLen = g.addrUnit * g.cols, tLen = g.tEnd - g.tStart;
  lines.push(`# x-axis: space [${formatSz(g.aStart)}, ${formatSz(g.aStart + aLen)}) (${formatSz(aLen)})`);
  lines.push(`# y-axis: time [${formatTimeNs(g.tStart)}, ${formatTimeNs(g.tStart + g.timeUnit * g.rows)}) (${formatTimeNs(tLen)})`);
  lines.push(`# resolution: ${g.cols}x${g.rows} (${formatSz(aLen / g.cols)} and ${formatTimeNs(tLen / g.rows)} for each character)`);
  return lines.join("\n") + "\n";
}

/** Python's str(float): "0.0", "12.5", "1e+16", "2.5e-05". */
export function pyFloatStr(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e16 || a < 1e-4)) {
    const [m, e] = x.toExponential().split("e");
    const exp = Number(e);
    return `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return Number.isInteger(x) ? `${x}.0` : String(x);
}

/** damo's `--output raw`: one "<time>\t<addr>\t<heat>" line per pixel, relative unless absolute is asked. */
export function heatmapRaw(g: HeatmapGrid, absTime = false, absAddr = false): string {
  const out: string[] = [];
  for (let i = 0; i < g.rows; i++) {
    const t = g.tStart + i * g.timeUnit - (absTime ? 0 : g.tStart);
    for (let j = 0; j < g.cols; j++) {
      const a = g.aStart + j * g.addrUnit - (absAddr ? 0 : g.aStart);
      out.push(`${t}\t${a}\t${pyFloatStr(g.heat[i * g.cols + j]!)}`);
    }
  }
  return out.join("\n") + "\n";
}

