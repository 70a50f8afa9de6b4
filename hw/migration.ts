// Page migration (migrate_pages for DAMOS migrate_hot/cold and NUMA balancing): the folio moves to
// a frame on the target node, every PTE mapping it is repointed (each with a TLB shootdown) and
// relinked in the new frame's reverse map, the new frame keeps the old one's PG_idle/PG_young, LRU
// list and page-cache entry, and the old frame's lines leave the caches before it is freed. The
// allocation never reclaims: a full node fails the migration at once, as the kernel's does for
// DAMON and NUMA balancing. With copyTraffic the copy reads the source node's memory and writes the
// destination's through their bandwidth models.

import { folioOf } from "./folio.ts";
import { FrameFlag, HUGE_FRAMES } from "./memory.ts";
import type { MmHost } from "./mm-host.ts";
import { PteFlag } from "./pagetable.ts";
import { forEachMapping, rmapAdd } from "./rmap.ts";
import { invalidateFrameLines, shootdown } from "./shootdown.ts";

/**
 * Migrates the page mapped by `pte` (all its mappings) to `node`. Returns the cost in ns (copy +
 * shootdown IPIs) for the caller to charge, 0 when it is already there, or -1 when the PTE is not
 * present, the node does not exist or has no free frame (nothing changes).
 */
export function migratePage(m: MmHost, pte: number, node: number, copyTraffic: boolean): number {
  const ptes = m.ptes;
  if ((ptes.flags[pte]! & PteFlag.PRESENT) === 0 || node < 0 || node >= m.memory.nodes.length) return -1;
  const oldFrame = ptes.frame[pte]!;
  const huge = ptes.isHuge(pte);
  const oldNode = m.memory.nodeOf(oldFrame);
  if (oldNode === node) return 0;
  const newFrame = huge ? m.memory.allocHuge(node) : m.memory.alloc(node);
  if (newFrame < 0) {
    m.migrationFailures++;
    return -1;
  }
  if (copyTraffic) {
    const bytes = (huge ? HUGE_FRAMES : 1) * 4096;
    m.memory.nodes[oldNode]!.transfer(m.sched.now, bytes, false);
    m.memory.nodes[node]!.transfer(m.sched.now, bytes, true);
    m.migrationCopyBytes += bytes;
  }
  const maps: number[] = [];
  forEachMapping(m, oldFrame, (s) => maps.push(s));
  let ipis = 0;
  for (const s of maps) {
    ptes.frame[s] = newFrame;
    ipis += shootdown(m, s);
  }
  for (const s of maps) rmapAdd(m, newFrame, s);
  const fl = m.memory.flags.get(oldFrame) & (FrameFlag.IDLE | FrameFlag.YOUNG);
  m.memory.flags.set(newFrame, m.memory.flags.get(newFrame) | fl);
  invalidateFrameLines(m, oldFrame, huge ? HUGE_FRAMES : 1);
  m.pageCache.set(m.vmas[ptes.vma[pte]!]!, ptes.vpn[pte]!, newFrame);
  m.lru.transfer(oldFrame, newFrame);
  if (huge) m.memory.freeHuge(oldFrame);
  else m.memory.free(oldFrame);
  m.migrations++;
  const pages = huge ? HUGE_FRAMES : 1;
  m.migratedBytesTo[node]! += pages * 4096;
  return m.config.costs.migrateNs * pages + m.config.costs.shootdownNs * ipis;
}

/**
 * Migrates the folio holding physical frame `frame` (paddr's view: through its reverse map) to
 * `node`, as migratePage(). -1 when the frame is not an allocated, mapped page or the node is full.
 */
export function migrateFolio(m: MmHost, frame: number, node: number, copyTraffic: boolean): number {
  const head = folioOf(m, frame);
  const pte = head < 0 ? -1 : m.memory.rmapHead.get(head);
  return pte < 0 ? -1 : migratePage(m, pte, node, copyTraffic);
}
