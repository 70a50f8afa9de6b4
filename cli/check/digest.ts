// Stable digests of DAMON snapshots for `damon-sim check`. One aggregation's snapshots (one per
// target) are written as canonical text, one line per target and per region:
//   "T <targetId> <endNs>" then "<start> <end> <nr_accesses> <age>" for each region in order,
// every number in JavaScript's decimal form (exact for the integers these are; ECMAScript fixes
// the number-to-string algorithm, so no locale or platform enters), and hashed with SHA-256; the
// digest is the first 16 hex digits. Equal digests mean equal region lists, boundaries, counters
// and ages at the same time (up to a 2^-64 chance of collision).

import { createHash } from "node:crypto";
import type { Snapshot } from "../../damon/context.ts";

/** Digest of one aggregation's snapshots (all targets). */
export function snapshotDigest(snaps: readonly Snapshot[]): string {
  const h = createHash("sha256");
  for (const s of snaps) {
    let text = `T ${s.targetId} ${s.endNs}\n`;
    for (const r of s.regions) text += `${r.start} ${r.end} ${r.nrAccesses} ${r.age}\n`;
    h.update(text);
  }
  return h.digest("hex").slice(0, 16);
}

/** Histogram bin of a region age: 0 for 0, then k for ages in [2^(k-1), 2^k). */
export function ageBin(age: number): number {
  if (age <= 0) return 0;
  return age >= 2 ** 31 ? 32 : 32 - Math.clz32(age);
}

/** The ages a bin holds, for messages: "0", "1", "2-3", "4-7", ... */
export function ageBinLabel(bin: number): string {
  if (bin === 0) return "0";
  if (bin === 1) return "1";
  return `${2 ** (bin - 1)}-${2 ** bin - 1}`;
}
