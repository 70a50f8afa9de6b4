// Dropping what other CPUs still hold of a page that changed: a TLB shootdown removes a PTE's
// translation from every CPU's TLBs (and their last-page fast paths) and counts the CPUs running
// the address space, who would get the IPI; a freed frame's lines are removed from every cache, so
// that the frame's next owner cannot hit stale lines.

import type { Cache } from "./cache.ts";
import type { MmHost } from "./mm-host.ts";

/** Drops a PTE's translation from every CPU's TLBs. Returns the CPUs that had to be told. */
export function shootdown(m: MmHost, pte: number): number {
  const asid = m.ptes.asid[pte]!;
  const vpn = m.ptes.vpn[pte]!;
  const huge = m.ptes.isHuge(pte);
  for (const c of m.cpus) c.invalidateTranslation(asid, vpn, huge);
  m.shootdowns++;
  return cpusRunning(m, asid);
}

/** Number of CPUs running threads of address space asid (who would get a shootdown IPI). */
export function cpusRunning(m: MmHost, asid: number): number {
  let n = 0;
  for (const c of m.cpus) if (c.runq.some((t) => t.space.asid === asid)) n++;
  return n;
}

/** Removes the lines of frames [frame, frame + frames) from every cache. */
export function invalidateFrameLines(m: MmHost, frame: number, frames: number): void {
  const first = frame * 64;
  const last = (frame + frames) * 64;
  // a cache that never missed never allocated a line (access() is its only way in): skip it
  const used: Cache[] = [];
  for (const c of m.cpus) for (const k of [c.l1d, c.l1i, c.l2]) if (k.misses > 0) used.push(k);
  for (const llc of m.llcs) if (llc && llc.misses > 0) used.push(llc);
  for (let line = first; line < last; line++) for (const k of used) k.invalidate(line);
}
