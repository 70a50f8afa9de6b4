// Splitting a transparent huge page: the 2 MiB mapping becomes 512 4 KiB PTEs (new PTE slots, in
// the page table and the reverse map) over the same frames, and the huge folio becomes 512 small
// folios that keep its LRU list and bits, PG_idle and PG_young (split_huge_pmd followed by
// split_folio in the kernel: reclaim splits the PMD mapping to unmap a THP, and MADV_PAGEOUT /
// MADV_COLD split a THP the range covers only partly). The old 2 MiB slot is left dead: not
// present, no frame, out of the page table and the reverse map.

import type { MmHost } from "./mm-host.ts";
import { FrameFlag, HUGE_FRAMES } from "./memory.ts";
import { PteFlag, pageKey2m, pageKey4k } from "./pagetable.ts";
import { shootdown } from "./shootdown.ts";

/** Splits the huge mapping in PTE slot `pte`; returns the cost (shootdown IPIs), ns. */
export function splitHugeMapping(m: MmHost, pte: number): number {
  const ptes = m.ptes;
  if (!ptes.isHuge(pte) || (ptes.flags[pte]! & PteFlag.PRESENT) === 0) return 0;
  const head = ptes.frame[pte]!;
  const vpn0 = ptes.vpn[pte]!;
  const asid = ptes.asid[pte]!;
  const vma = ptes.vma[pte]!;
  const flags = ptes.flags[pte]! & ~PteFlag.HUGE;
  const owners = ptes.trapOwners[pte]!;
  const ipis = shootdown(m, pte);
  const pt = m.spaces[asid]!.pageTable;
  pt.delete(pageKey2m(vpn0));
  const bits = m.memory.flags.get(head) & (FrameFlag.IDLE | FrameFlag.YOUNG);
  for (let i = 0; i < HUGE_FRAMES; i++) {
    const s = ptes.add(asid, vpn0 + i, head + i, flags, vma);
    ptes.trapOwners[s] = owners;
    pt.set(pageKey4k(vpn0 + i), s);
    m.memory.flags.set(head + i, FrameFlag.ALLOCATED | bits);
    m.memory.rmapHead.set(head + i, s);
  }
  ptes.flags[pte] = 0;
  ptes.trapOwners[pte] = 0;
  ptes.frame[pte] = -1;
  ptes.rmapNext[pte] = -1;
  m.lru.split(head);
  m.thpSplits++;
  if (m.truth) m.truth.ensurePages(ptes.size);
  return m.config.costs.shootdownNs * ipis;
}
