// Direct reclaim, after mm/vmscan.c's classic (non-MGLRU) LRU scan, run when an allocation finds
// every node its policy allows full (the kernel would have woken kswapd earlier; there is no
// background reclaim here). For each allowed node in policy order, until SWAP_CLUSTER_MAX (32)
// pages are reclaimed or the node's lists were scanned several times over:
//   * shrink_active_list when the inactive list is low (inactive_is_low: inactive * ratio < active,
//     ratio = int_sqrt(10 * GiB of the node's LRU), 1 under 1 GiB): up to 32 folios from the
//     active tail are deactivated, except referenced executable file folios (VM_EXEC: the VMA is
//     "text" and file backed), which rotate to the active head. The reference check clears the
//     Accessed bits it finds;
//   * shrink_inactive_list: up to 32 folios from the inactive tail, each judged by
//     folio_check_references: referenced PTEs (Accessed bits found and cleared through the reverse
//     map, plus PG_young, test-and-clear) set PG_referenced and spare the folio: it is activated if
//     it was already referenced, has more than one referenced mapping or is an executable file
//     page, else it stays on the inactive list for another trip (second chance); an unreferenced
//     folio is paged out (hw/swap.ts). A folio that would need a swap write when there is no swap
//     device stays (as if the anon list were not scanned).
// The kernel keeps anon and file folios on separate lists balanced by swappiness; here they share
// one pair per node. Costs: costs.reclaimScanNs per folio scanned plus each pageout's cost.

import type { MmHost } from "./mm-host.ts";
import { folioOf, folioPages } from "./folio.ts";
import { LruList } from "./lru.ts";
import { FrameFlag } from "./memory.ts";
import { PteFlag } from "./pagetable.ts";
import { pageoutFolio, pageoutPossible } from "./swap.ts";

/** SWAP_CLUSTER_MAX: pages a direct reclaim aims for, and folios isolated per scan batch. */
export const SWAP_CLUSTER_MAX = 32;

export class Reclaimer {
  private readonly batch = new Int32Array(SWAP_CLUSTER_MAX);
  /** Set by referenced(): a mapping's VMA is executable file memory. */
  private execFile = false;
  /** Cost of the last direct()/reclaimFolio() call, ns. */
  private cost = 0;
  /** Folios scanned by reclaim in all. */
  scanned = 0;

  constructor(private readonly m: MmHost) {}

  /**
   * folio_referenced: the folio's mappings whose Accessed bit is set (cleared as they are found,
   * with no TLB flush, as x86's ptep_clear_flush_young), plus one if PG_young was set (cleared).
   * A folio found referenced through its PTEs loses PG_idle.
   */
  referenced(head: number): number {
    const m = this.m;
    let refs = 0;
    this.execFile = false;
    for (let s = m.memory.rmapHead.get(head); s >= 0; s = m.ptes.rmapNext[s]!) {
      const fl = m.ptes.flags[s]!;
      if ((fl & PteFlag.ACCESSED) !== 0) {
        m.ptes.flags[s] = fl & ~PteFlag.ACCESSED;
        refs++;
        const vma = m.vmas[m.ptes.vma[s]!]!;
        if (vma.kind === "text" && !vma.anon) this.execFile = true;
      }
    }
    let ff = m.memory.flags.get(head);
    if (refs > 0) ff &= ~FrameFlag.IDLE;
    if ((ff & FrameFlag.YOUNG) !== 0) {
      ff &= ~FrameFlag.YOUNG;
      refs++;
    }
    m.memory.flags.set(head, ff);
    return refs;
  }

  /**
   * Reclaims from `nodes` in order until SWAP_CLUSTER_MAX pages are free; returns the time it
   * took (ns). Counts a direct reclaim and the pages it got.
   */
  direct(nodes: readonly number[]): number {
    const m = this.m;
    this.cost = 0;
    let got = 0;
    for (const node of nodes) {
      got += this.shrinkNode(node, SWAP_CLUSTER_MAX - got);
      if (got >= SWAP_CLUSTER_MAX) break;
    }
    m.directReclaims++;
    m.directReclaimed += got;
    return this.cost;
  }

  /**
   * One isolated folio through shrink_folio_list with its references checked (DAMON paddr's
   * pageout: reclaim_pages(list, false)): returns the pageout cost, or -1 when the folio was kept
   * (referenced: rotated or activated; or it cannot be written).
   */
  reclaimFolio(frame: number, now: number): number {
    const head = folioOf(this.m, frame);
    if (head < 0 || !this.m.lru.isOnLru(head)) return -1;
    if (!this.judge(head)) return -1;
    return pageoutFolio(this.m, head, now);
  }

  /** Reclaims up to `want` pages from one node; returns the pages reclaimed. */
  private shrinkNode(node: number, want: number): number {
    const lru = this.m.lru;
    let got = 0;
    let budget = 4 * (lru.folios(node, LruList.ACTIVE) + lru.folios(node, LruList.INACTIVE)) + 2 * SWAP_CLUSTER_MAX;
    while (got < want && budget > 0) {
      const inactive = lru.pages(node, LruList.INACTIVE);
      const active = lru.pages(node, LruList.ACTIVE);
      if (inactive + active === 0) break;
      let scanned = 0;
      if (inactiveIsLow(inactive, active)) scanned += this.shrinkActive(node);
      const before = this.m.pagesOut;
      scanned += this.shrinkInactive(node, want - got);
      got += this.m.pagesOut - before;
      if (scanned === 0) break;
      budget -= scanned;
    }
    return got;
  }

  /** Isolates up to SWAP_CLUSTER_MAX folios from the tail of a list into `batch`; returns how many. */
  private isolate(node: number, list: number): number {
    let n = 0;
    for (let f = this.m.lru.tail(node, list); f >= 0 && n < SWAP_CLUSTER_MAX; f = this.m.lru.older(f)) this.batch[n++] = f;
    this.scanned += n;
    this.cost += n * this.m.mmCosts.reclaimScanNs;
    return n;
  }

  private shrinkActive(node: number): number {
    const lru = this.m.lru;
    const n = this.isolate(node, LruList.ACTIVE);
    for (let i = 0; i < n; i++) {
      const f = this.batch[i]!;
      if (this.referenced(f) > 0 && this.execFile) lru.rotate(f);
      else lru.demote(f);
    }
    return n;
  }

  /** Returns the folios scanned; pages stop being reclaimed once `want` is reached. */
  private shrinkInactive(node: number, want: number): number {
    const m = this.m;
    const n = this.isolate(node, LruList.INACTIVE);
    let got = 0;
    for (let i = 0; i < n; i++) {
      const f = this.batch[i]!;
      if (got >= want) {
        m.lru.rotate(f);
        continue;
      }
      if (!this.judge(f)) continue;
      const pages = folioPages(m, f);
      const c = pageoutFolio(m, f, m.sched.now);
      if (c >= 0) {
        this.cost += c;
        got += pages;
      }
    }
    return n;
  }

  /**
   * folio_check_references on an isolated inactive folio: true to reclaim it; false after putting
   * it back (activated, or rotated to the inactive head).
   */
  private judge(f: number): boolean {
    const lru = this.m.lru;
    const refs = this.referenced(f);
    const refFolio = lru.testClearReferenced(f);
    if (refs > 0) {
      lru.setReferenced(f);
      if (refFolio || refs > 1 || this.execFile) {
        if (lru.isActive(f)) lru.rotate(f);
        else lru.activate(f);
      } else {
        lru.rotate(f);
      }
      return false;
    }
    if (!pageoutPossible(this.m, f)) {
      lru.rotate(f);
      return false;
    }
    return true;
  }
}

/** inactive_is_low: ratio = int_sqrt(10 * GiB of the LRU), 1 below 1 GiB. */
export function inactiveIsLow(inactivePages: number, activePages: number): boolean {
  const gib = Math.floor((inactivePages + activePages) / 262_144);
  const ratio = gib > 0 ? Math.floor(Math.sqrt(10 * gib)) : 1;
  return inactivePages * ratio < activePages;
}
