// Pageout and swap-in. Paging a folio out (try_to_unmap + the swap or file write-back of
// shrink_folio_list) turns every PTE mapping it into a paged-out PTE (not present, PteFlag.SWAPPED,
// no frame; the slot, its page-table entry and its ground-truth identity stay), shoots the TLB
// entries down, drops the frame's lines from the caches, takes it off the LRU and frees it. A huge
// folio has its PMD mapping split first (TTU_SPLIT_HUGE_PMD) and all 512 pages go.
//
// Write-back: an anonymous page always needs a swap write, a file page only when dirty (a clean
// one is dropped from the page cache); private file pages that were written are swap-backed like
// anonymous ones. The write is a DMA read of the page from its node's memory (bandwidth model) and
// is asynchronous: the reclaimer pays only costs.pageoutNs per page (plus shootdown IPIs), never
// the device time. Without a swap device (MachineOptions.swap false) a page that needs a swap
// write cannot be paged out. A shared file page leaves the page cache, and every process mapping
// it refaults.
//
// Swap-in (do_swap_page / filemap_fault): a later walk meeting a paged-out PTE takes a major fault
// costing costs.majorFaultNs (the thread waits: memory stall) and gets a new frame under its VMA's
// NUMA policy, with direct reclaim when memory is full; the page is written into the new frame's
// memory (bandwidth model) and goes to the inactive LRU. A shared file page another process has
// already read back is found in the page cache: a minor fault (costs.faultNs). MADV_WILLNEED swaps
// pages in the same way without a fault: no stall, kdamond pays faultNs per page (the read is
// asynchronous readahead in the kernel).

import type { MmHost } from "./mm-host.ts";
import { folioOf, folioPages } from "./folio.ts";
import { PteFlag } from "./pagetable.ts";
import { rmapAdd } from "./rmap.ts";
import { invalidateFrameLines, shootdown } from "./shootdown.ts";
import { splitHugeMapping } from "./thp.ts";

/** Mappings of the frame being paged out (reused). */
let maps = new Int32Array(16);

const WRITE_NONE = 0;
const WRITE_FILE = 1;
const WRITE_SWAP = 2;

/** What paging out a frame of anonymous / shared-file memory writes: nothing (a clean file page), its file (a dirty shared file page) or swap. */
function writeKind(m: MmHost, frame: number, anon: boolean, sharedFile: boolean): number {
  if (anon) return WRITE_SWAP;
  for (let s = m.memory.rmapHead.get(frame); s >= 0; s = m.ptes.rmapNext[s]!) {
    // a written private file page is an anonymous copy (swap-backed); a written shared one goes back to its file
    if ((m.ptes.flags[s]! & PteFlag.DIRTY) !== 0) return sharedFile ? WRITE_FILE : WRITE_SWAP;
  }
  return WRITE_NONE;
}

/** Can the folio be paged out (a swap write needs a swap device)? */
export function pageoutPossible(m: MmHost, head: number): boolean {
  if (m.swap) return true;
  const pte = m.memory.rmapHead.get(head);
  if (pte < 0) return true;
  const vma = m.vmas[m.ptes.vma[pte]!]!;
  return writeKind(m, head, vma.anon, vma.sharedFile) !== WRITE_SWAP;
}

/**
 * Pages out the folio holding `frame` unconditionally. Returns the cost in ns, or -1 when the frame
 * is not an allocated page on the LRU, or needs a swap write and there is no swap device.
 */
export function pageoutFolio(m: MmHost, frame: number, now: number): number {
  const head = folioOf(m, frame);
  if (head < 0 || !m.lru.isOnLru(head) || !pageoutPossible(m, head)) return -1;
  const pages = folioPages(m, head);
  if (pages === 1) return pageoutPage(m, head, now);
  let cost = splitHugeMapping(m, m.memory.rmapHead.get(head));
  for (let i = 0; i < pages; i++) cost += pageoutPage(m, head + i, now);
  return cost;
}

/** Unmaps and frees one 4 KiB page (on the LRU, mapped or not). */
function pageoutPage(m: MmHost, frame: number, now: number): number {
  const ptes = m.ptes;
  let n = 0;
  for (let s = m.memory.rmapHead.get(frame); s >= 0; s = ptes.rmapNext[s]!) {
    if (n === maps.length) {
      const a = new Int32Array(n * 2);
      a.set(maps);
      maps = a;
    }
    maps[n++] = s;
  }
  let write = WRITE_NONE;
  let ipis = 0;
  if (n > 0) {
    const vma = m.vmas[ptes.vma[maps[0]!]!]!;
    write = writeKind(m, frame, vma.anon, vma.sharedFile);
    m.pageCache.delete(vma, ptes.vpn[maps[0]!]!);
  }
  for (let i = 0; i < n; i++) {
    const s = maps[i]!;
    ipis += shootdown(m, s);
    ptes.flags[s] = (ptes.flags[s]! & PteFlag.WRITABLE) | PteFlag.SWAPPED;
    ptes.trapOwners[s] = 0;
    ptes.frame[s] = -1;
    ptes.rmapNext[s] = -1;
  }
  const node = m.memory.nodeOf(frame);
  if (write !== WRITE_NONE) {
    m.memory.nodes[node]!.transfer(now, 4096, false);
    m.pageWrites++;
  }
  invalidateFrameLines(m, frame, 1);
  m.lru.remove(frame);
  m.memory.free(frame);
  m.pagesOut++;
  return m.mmCosts.pageoutNs + m.config.costs.shootdownNs * ipis;
}

/**
 * Brings paged-out PTE `pte` back: a frame under its VMA's policy (first-touch node `cpuNode`),
 * or the page-cache frame of a shared file page already read back. `demand`: a thread's fault
 * (major fault counted, its device time is memory stall); otherwise MADV_WILLNEED (allocation may
 * fail quietly). Returns the cost in ns (fault handling, device time for a demand major fault,
 * direct reclaim), or -1 when no frame could be had (willneed only; a fault throws out-of-memory).
 */
export function swapInPage(m: MmHost, pte: number, cpuNode: number, now: number, demand: boolean): number {
  const ptes = m.ptes;
  const fl = ptes.flags[pte]!;
  if ((fl & PteFlag.SWAPPED) === 0) return 0;
  const vma = m.vmas[ptes.vma[pte]!]!;
  const vpn = ptes.vpn[pte]!;
  let frame = m.pageCache.frame(vma, vpn);
  const read = frame < 0;
  let cost = m.config.costs.faultNs;
  if (read) {
    frame = m.allocate(vma, vpn, cpuNode, false, !demand);
    cost += m.takeReclaimNs();
    if (frame < 0) return -1;
    m.lru.add(frame, 1, vma.memcg);
    m.pageCache.set(vma, vpn, frame);
    m.memory.nodes[m.memory.nodeOf(frame)]!.transfer(now, 4096, true);
    m.swapIns++;
    if (demand) {
      cost += m.mmCosts.majorFaultNs - m.config.costs.faultNs;
      m.majorFaults++;
      m.memStallNs += m.mmCosts.majorFaultNs;
    }
  }
  ptes.frame[pte] = frame;
  ptes.flags[pte] = (fl & PteFlag.WRITABLE) | PteFlag.PRESENT;
  rmapAdd(m, frame, pte);
  if (demand) m.faultsTotal++;
  return cost;
}
