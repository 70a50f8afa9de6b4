// `report wss`: working-set-size distribution as damo's `damo report wss` prints it. The working
// set of a snapshot is the bytes of regions with at least --acc_thres samples (and at least
// --sz_thres bytes); the first --exclude_samples snapshots of each record are dropped (20, so
// DAMON's warm-up is not counted), targets are summed snapshot by snapshot, values are sorted by
// size, and percentiles 0..100 step 25 are printed with 59-column bars.

import type { DamonRecord } from "./record-file.ts";
import { formatSz } from "./format.ts";
import { samplesOf } from "./regions.ts";

export interface WssOptions {
  raw?: boolean;
  accThres?: number;
  szThres?: number;
  excludeSamples?: number;
  /** [start, end, step) of percentiles, damo's --range (default 0 101 25). */
  range?: [number, number, number];
  sortBy?: "size" | "time";
  allWss?: boolean;
  perTarget?: boolean;
}

/** Working set size of every kept snapshot, per target id. */
export function wssSeries(records: DamonRecord[], o: WssOptions = {}): Map<number, number[]> {
  const acc = o.accThres ?? 1, sz = o.szThres ?? 1, skip = o.excludeSamples ?? 20;
  const per = new Map<number, number[]>();
  for (const rec of records) {
    const vals = rec.snapshots.slice(skip).map((s) => s.regions.reduce((a, r) => (samplesOf(r, rec) >= acc && r.end - r.start >= sz ? a + r.end - r.start : a), 0));
    const prev = per.get(rec.target_id);
    if (prev) vals.forEach((v, i) => (prev[i] = (prev[i] ?? 0) + v));
    else per.set(rec.target_id, vals);
  }
  if (o.perTarget) return per;
  const sum: number[] = [];
  for (const vals of per.values()) vals.forEach((v, i) => (sum[i] = (sum[i] ?? 0) + v));
  return new Map([[0, sum]]);
}

export function wssReport(records: DamonRecord[], o: WssOptions = {}): string {
  const raw = o.raw ?? false;
  const [from, to, step] = o.range ?? [0, 101, 25];
  const lines: string[] = [];
  for (const [tid, series] of wssSeries(records, o)) {
    const vals = o.sortBy === "time" ? series : [...series].sort((a, b) => a - b);
    lines.push(`# target_id\t${tid}`);
    if (o.allWss) {
      vals.forEach((v, i) => lines.push(`${i} ${formatSz(v, raw)}`));
      continue;
    }
    lines.push("# <percentile> <wss>");
    if (vals.length === 0) {
      lines.push("# no snapshot");
      continue;
    }
    lines.push(`# avr:\t${formatSz(Math.trunc(vals.reduce((a, b) => a + b, 0) / vals.length), raw)}`);
    const ps: number[] = [];
    for (let p = from; p < to; p += step) ps.push(p);
    const at = (p: number): number => vals[Math.min(vals.length - 1, Math.trunc((p / 100) * vals.length))]!;
    const maxVal = Math.max(...ps.map(at));
    const perCol = (maxVal > 0 ? maxVal : 1) / 59;
    for (const p of ps) {
      const v = at(p);
      const cols = Math.trunc(v / perCol);
      lines.push(`${String(p).padStart(3)} ${formatSz(v, raw).padStart(15)} |${"*".repeat(cols)}${" ".repeat(Math.max(0, 59 - cols))}|`);
    }
  }
  return lines.join("\n") + "\n";
}

/** The p-th percentile (damo's index rule) of a series, for tests and summaries. */
export function wssPercentile(series: number[], p: number): number {
  const vals = [...series].sort((a, b) => a - b);
  return vals[Math.min(vals.length - 1, Math.trunc((p / 100) * vals.length))]!;
}
