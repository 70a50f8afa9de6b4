// `report numa`: per region, how much of its access comes from CPUs of the page's own node
// (local) versus other nodes (remote), as DAMON's local/remote probes estimate it and as the
// machine measured it, for one snapshot, plus the byte-weighted mean error over all snapshots.

import type { NumaSnapshot } from "../numa.ts";
import { formatSz, formatTimeNs } from "./format.ts";

const pct = (x: number | null): string => (x === null ? "-" : `${(x * 100).toFixed(1)} %`);

/** Byte-weighted mean |estimated - true| local share over regions where both are known. */
export function numaError(snaps: readonly NumaSnapshot[]): number | null {
  let err = 0, w = 0;
  for (const s of snaps) for (const r of s.regions) {
    if (r.estLocal === null || r.trueLocal === null) continue;
    const b = r.end - r.start;
    err += b * Math.abs(r.estLocal - r.trueLocal);
    w += b;
  }
  return w > 0 ? err / w : null;
}

export function numaReport(snaps: readonly NumaSnapshot[], which: number, raw = false): string {
  if (snaps.length === 0) return "# no snapshot\n";
  const i = which < 0 ? snaps.length + which : which;
  const s = snaps[Math.max(0, Math.min(snaps.length - 1, i))]!;
  const lines = [`# snapshot ending at ${formatTimeNs(s.t, raw)}, target ${s.targetId}: share of accesses made from the page's own node (local) vs other nodes (remote)`];
  lines.push(`${"#".padEnd(4)} ${"addr".padEnd(16)} ${"size".padEnd(12)} ${"est local".padStart(10)} ${"true local".padStart(11)} ${"est remote".padStart(11)} ${"true remote".padStart(12)}  accessed bytes by node`);
  s.regions.forEach((r, k) => {
    if (r.accesses === 0 && r.estLocal === null) return;
    lines.push(
      `${String(k).padEnd(4)} ${`0x${r.start.toString(16)}`.padEnd(16)} ${formatSz(r.end - r.start, raw).padEnd(12)} ${pct(r.estLocal).padStart(10)} ${pct(r.trueLocal).padStart(11)} ${pct(r.estLocal === null ? null : 1 - r.estLocal).padStart(11)} ${pct(r.trueLocal === null ? null : 1 - r.trueLocal).padStart(12)}  ${r.bytesByNode.map((b, n) => `node${n} ${formatSz(b, raw)}`).join(", ")}`,
    );
  });
  const e = numaError(snaps);
  lines.push(`# byte-weighted mean error of the local share over ${snaps.length} snapshots: ${e === null ? "-" : `${(e * 100).toFixed(1)} points`}`);
  return lines.join("\n") + "\n";
}
