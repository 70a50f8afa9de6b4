// `report access`: the regions of each snapshot as damo's `damo report access` prints them by
// default: a snapshot time head (when records have several snapshots), an 80-column temperature
// heatmap of the address space with its min/max comment, the intervals line, one line per region
// ("<index> addr <start> size <size> access <hz> age <age>", columns padded like damo's), the
// memory bandwidth estimate and the total size, a blank line between snapshots, and the record's
// intervals at the end. Optional damon-sim columns: probe hits (data attributes).

import type { DamonRecord, RecordSnapshot } from "./record-file.ts";
import { formatHz, formatNr, formatSz, formatTimeNs, formatTimeUs, pyFixed } from "./format.ts";
import { ageUsOf, DEFAULT_TEMPERATURE_WEIGHTS, hzOf, percentOf, samplesOf, snapshotAggrUs, temperatureOf, type TemperatureWeights } from "./regions.ts";

export type SortKey = "address" | "access_rate" | "age" | "size" | "temperature";

export interface AccessReportOptions {
  raw?: boolean;
  /** Wrap heatmap digits in ANSI gray-scale colours as damo does. */
  color?: boolean;
  sortBy?: SortKey;
  sortDesc?: boolean;
  temperatureWeights?: TemperatureWeights;
  /** Only these snapshot indexes (negative counts from the end); default all. */
  snapshots?: number[];
  heatmapWidth?: number;
}

const GRAY_FG = [237, 239, 241, 243, 245, 247, 249, 251, 253, 255];

interface Row {
  start: number;
  end: number;
  percent: number;
  hz: number;
  ageUs: number;
  samples: number;
  temperature: number;
  probes: number[] | undefined;
}

function rowsOf(s: RecordSnapshot, rec: DamonRecord, w: TemperatureWeights): Row[] {
  return s.regions.map((r) => {
    const percent = percentOf(r, rec);
    const ageUs = ageUsOf(r, rec);
    return {
      start: r.start,
      end: r.end,
      percent,
      hz: hzOf(r, s, rec),
      ageUs,
      samples: samplesOf(r, rec),
      temperature: temperatureOf(r.end - r.start, percent, ageUs, w),
      probes: r.probe_hits,
    };
  });
}

/** damo's snapshot heatmap line: `width` columns of 0-9 temperature levels, gaps as '.' or '[...]'. */
export function snapshotHeatmap(rows: Row[], width: number, raw: boolean, color: boolean): { dots: string; comment: string } {
  if (rows.length === 0) return { dots: "n/a (no region)", comment: "" };
  const total = rows.reduce((a, r) => a + r.end - r.start, 0);
  const unit = total / width;
  const pixels: Array<{ start: number; end: number; temp: number | null }> = [];
  let min = Infinity, max = -Infinity;
  let start = rows[0]!.start;
  const lastEnd = rows[rows.length - 1]!.end;
  while (start < lastEnd) {
    const end = start + unit;
    let sum = 0;
    let hit = false;
    for (const r of rows) {
      if (r.end <= start) continue;
      if (end <= r.start) break;
      const s = Math.max(r.start, start), e = Math.min(r.end, end);
      sum += r.temperature * (e - s);
      hit = true;
    }
    if (!hit) {
      const next = rows.find((r) => r.start > end);
      if (next === undefined) break;
      const ns = Math.floor(next.start / unit) * unit;
      pixels.push({ start, end: ns, temp: null });
      start = ns;
      continue;
    }
    const t = sum / (end - start);
    if (t < min) min = t;
    if (t > max) max = t;
    pixels.push({ start, end, temp: t });
    start = end;
  }
  let lv = (max - min) / 9;
  if (lv === 0) lv = max / 9;
  if (lv === 0) lv = 1;
  let dots = "";
  for (const p of pixels) {
    if (p.temp === null) {
      const n = (p.end - p.start) / unit;
      dots += n > 4 ? "[...]" : ".".repeat(Math.trunc(n));
      continue;
    }
    const level = Math.min(9, Math.max(0, Math.trunc((p.temp - min) / lv)));
    dots += color ? `\x1b[48;5;232m\x1b[38;5;${GRAY_FG[level]}m${level}\x1b[0m` : String(level);
  }
  const comment = `# min/max temperatures: ${formatNr(min, raw)}, ${formatNr(max, raw)}, column size: ${formatSz(unit, raw)}`;
  return { dots, comment };
}

function sortRows(rows: Row[], key: SortKey, desc: boolean): Row[] {
  const k = (r: Row): number => (key === "address" ? r.start : key === "access_rate" ? r.percent : key === "age" ? r.ageUs : key === "size" ? r.end - r.start : r.temperature);
  const out = [...rows].sort((a, b) => k(a) - k(b));
  return desc ? out.reverse() : out;
}

const pad = (s: string, n: number): string => (s.length >= n ? s : s + " ".repeat(n - s.length));

function maxHzText(sampleUs: number): string {
  const hz = 1e6 / sampleUs;
  return hz >= 10 ? formatNr(hz) : pyFixed(hz, 3);
}

export function accessReport(records: DamonRecord[], o: AccessReportOptions = {}): string {
  const raw = o.raw ?? false;
  const w = o.temperatureWeights ?? DEFAULT_TEMPERATURE_WEIGHTS;
  const width = o.heatmapWidth ?? 80;
  const multiSnap = records.some((r) => r.snapshots.length > 1);
  const lines: string[] = [];
  for (const rec of records) {
    const snaps = rec.snapshots;
    if (records.length > 1 && snaps.length > 0) {
      const dur = snaps[snaps.length - 1]!.end_time - snaps[0]!.start_time;
      lines.push(`kdamond ${rec.kdamond_idx ?? "None"} / context ${rec.context_idx ?? "None"} / scheme ${rec.scheme_idx ?? "None"} / target id ${rec.target_id} / recorded for ${formatTimeNs(dur, raw)} from ${formatTimeNs(snaps[0]!.start_time, raw)}`);
    }
    const chosen = pickSnapshots(snaps.length, o.snapshots);
    chosen.forEach((si, n) => {
      const s = snaps[si]!;
      if (n > 0) lines.push("");
      const rows = rowsOf(s, rec, w);
      const hm = snapshotHeatmap(rows, width, raw, o.color ?? false);
      if (multiSnap) {
        const base = snaps[0]!.start_time;
        lines.push(`snapshot time: [${formatTimeNs(s.start_time - base, raw)}, ${formatTimeNs(s.end_time - base, raw)}] (${formatTimeNs(s.end_time - s.start_time, raw)})`);
        lines.push(hm.dots);
      } else {
        lines.push(`heatmap: ${hm.dots}`);
      }
      if (hm.comment) lines.push(hm.comment);
      if (rec.intervals) {
        const sample = s.sample_interval_us ?? rec.intervals.sample_us;
        lines.push(`intervals: sample ${formatTimeUs(sample, raw)} aggr ${formatTimeUs(snapshotAggrUs(s, rec), raw)} (max access hz ${maxHzText(sample)})`);
      }
      sortRows(rows, o.sortBy ?? "address", o.sortDesc ?? false).forEach((r, i) => {
        let line = `${pad(formatNr(i, raw), 3)} addr ${pad(formatSz(r.start, raw), 12)} size ${pad(formatSz(r.end - r.start, raw), 11)} access ${pad(formatHz(r.hz, raw), 6)} age ${pad(formatTimeUs(r.ageUs, raw), 13)}`;
        if (r.probes !== undefined) line += ` hits ${r.probes.join(" ")}`;
        lines.push(line);
      });
      const aggrSec = snapshotAggrUs(s, rec) / 1e6;
      const bw = rows.reduce((a, r) => a + (r.end - r.start) * r.samples, 0) / aggrSec;
      lines.push(`memory bw estimate: ${formatSz(bw, raw)} per second`);
      lines.push(`total size: ${formatSz(s.total_bytes ?? rows.reduce((a, r) => a + r.end - r.start, 0), raw)}`);
    });
    if (rec.intervals) lines.push(`record DAMON intervals: sample ${formatTimeUs(rec.intervals.sample_us, raw)}, aggr ${formatTimeUs(rec.intervals.aggr_us, raw)}`);
  }
  return lines.join("\n") + "\n";
}

/** Snapshot indexes to show: all by default, else the given ones (negative from the end), in order. */
export function pickSnapshots(n: number, wanted: number[] | undefined): number[] {
  if (!wanted || wanted.length === 0) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  for (const w of wanted) {
    const i = w < 0 ? n + w : w;
    if (i >= 0 && i < n && !out.includes(i)) out.push(i);
  }
  return out.sort((a, b) => a - b);
}
