// The operations sets' action side of DAMOS on the simulated machine (ops.apply_scheme of
// mm/damon/paddr.c and vaddr.c; damos.md 1 "Actions" and "Migration details", 5 "Filters"), and
// the memory state the scheme core's goal metrics and watermarks read (damos.md 3, 4).
//
// paddr (regions in physical bytes, frame * 4096) walks the frames of [start, end), a folio at a
// time (a huge folio once: in the region holding its head frame, which stands for the kernel's
// last_applied), runs the ops filters on each (first match decides, else opsDefaultReject; a
// region a core filter allowed admits every folio) and acts: pageout (PG_referenced and PG_young
// cleared, then reclaim with the reference check: reclaim_pages(list, false); a temporary "reject
// young" filter is appended when the user gave no young filter), lru_prio (folio_mark_accessed),
// lru_deprio (folio_deactivate), migrate_hot/cold (to targetNid only, allocation without reclaim:
// a full node refuses and the page counts 0), stat (only with ops filters: sums the bytes of
// folios that pass). applied = pages reclaimed / migrated / marked or deactivated x 4096;
// filterPassed = bytes of folios that passed the filters.
//
// vaddr (regions in a process's virtual addresses) walks the PTEs of [start, end). The madvise
// actions ignore ops filters and skip folios mapped more than once (as MADV_COLD/PAGEOUT do);
// they apply len = end - start, or 0 when the range has a hole outside every VMA (madvise's
// -ENOMEM, though the mapped parts were done): willneed swaps paged-out pages in (as if the
// readahead completed at once; kdamond pays a minor fault per page, nobody stalls), cold clears
// the Accessed bit (flushing the TLB entry), PG_referenced and PG_young and deactivates, pageout
// reclaims unconditionally (references ignored), hugepage/nohugepage set the VMA range's THP hint
// for later faults (the machine models THP: existing pages are neither collapsed nor split). A THP
// the range covers only partly is split by cold and pageout. migrate_hot/cold honour the ops
// filters (young through the PTE itself) and place each folio on targetNid, or with dests by
// weighted interleave (ilx = vm_pgoff >> order + (addr - vm_start) >> (12 + order); t = ilx mod
// sum of weights; the first dest whose weight exceeds what is left of t), skipping folios already
// there; applied = migrated pages x 4096 and, as the kernel's vaddr, no filter-passed bytes.
// stat sums the folio bytes that pass the ops filters (only when there are ops filters).
//
// costNs: SCHEME_WALK_PAGE_NS per page step of the walk, plus what the machine charges for the
// migrations (copy + shootdown IPIs), pageouts, splits, swap-ins and TLB flushes done.

import { folioActive, folioAnon, folioMapcount, folioMapped, folioMemcg, folioOf, folioPages, folioTestClearYoung } from "../../hw/folio.ts";
import { CHUNK_ENTRIES } from "../../hw/chunked.ts";
import type { Machine } from "../../hw/machine.ts";
import { FrameFlag, HUGE_FRAMES } from "../../hw/memory.ts";
import { LruList } from "../../hw/lru.ts";
import { PteFlag } from "../../hw/pagetable.ts";
import type { AddressSpace, Vma } from "../../hw/process.ts";
import { SCHEME_WALK_PAGE_NS } from "../costs.ts";
import type { ActionRequest, ActionResult, ActionTarget, DamosAction, DamosFilter, MemoryState, MigrateDest, SchemeActions } from "./types.ts";

const PAGE = 4096;

export interface MachineActionsOptions {
  /** kdamond's time per page step of an action walk, ns (default SCHEME_WALK_PAGE_NS). */
  walkPageNs?: number;
}

const PADDR_ACTIONS: ReadonlySet<DamosAction> = new Set<DamosAction>(["pageout", "lru_prio", "lru_deprio", "migrate_hot", "migrate_cold", "stat"]);
const VADDR_ACTIONS: ReadonlySet<DamosAction> = new Set<DamosAction>(["willneed", "cold", "pageout", "hugepage", "nohugepage", "migrate_hot", "migrate_cold", "stat"]);

/** The action side of DAMOS for an operations set on `machine`. */
export function machineActions(machine: Machine, ops: "vaddr" | "paddr", options: MachineActionsOptions = {}): SchemeActions {
  const walkNs = options.walkPageNs ?? SCHEME_WALK_PAGE_NS;
  return ops === "paddr" ? new PaddrActions(machine, walkNs) : new VaddrActions(machine, walkNs);
}

const NONE: ActionResult = Object.freeze({ appliedBytes: 0, filterPassedBytes: 0, costNs: 0 });

/** The kernel's young filter that paddr pageout installs for the call when the user gave none. */
const REJECT_YOUNG: DamosFilter = Object.freeze({ type: "young", matching: true, allow: false });

/**
 * damos_{pa,va}_filter_out: true when the folio is filtered out. `pte` is the mapping a vaddr walk
 * came through (its young check uses that PTE), or -1 for paddr (young through the reverse map).
 */
export function folioFilteredOut(m: Machine, filters: readonly DamosFilter[], defaultReject: boolean, coreAllowed: boolean, head: number, pte: number): boolean {
  if (coreAllowed) return false;
  for (const f of filters) if (filterPredicate(m, f, head, pte) === f.matching) return !f.allow;
  return defaultReject;
}

function filterPredicate(m: Machine, f: DamosFilter, head: number, pte: number): boolean {
  switch (f.type) {
    case "anon":
      return folioAnon(m, head);
    case "active":
      return folioActive(m, head);
    case "memcg":
      return folioMemcg(m, head) === f.memcgId;
    case "young":
      return pte >= 0 ? pteTestClearYoung(m, pte, head) : folioTestClearYoung(m, head);
    case "hugepage_size": {
      const bytes = folioPages(m, head) * PAGE;
      return bytes >= (f.min ?? 0) && bytes <= (f.max ?? Number.MAX_SAFE_INTEGER);
    }
    case "unmapped":
      return !folioMapped(m, head);
    default:
      return false; // core filter types have no folio predicate (the kernel's default case)
  }
}

/** damos_va_filter_young_match: this PTE's Accessed bit or the folio not idle; a young mapping is made old. */
function pteTestClearYoung(m: Machine, pte: number, head: number): boolean {
  const young = m.accessed(pte) || (m.memory.flags.get(head) & FrameFlag.IDLE) === 0;
  if (young) m.mkold(pte);
  return young;
}

/** Weighted interleave over dests (damos_va_migrate_dests_add): the chosen node, or -1 when the weights sum to 0. */
export function interleaveDest(dests: readonly MigrateDest[], ilx: number): number {
  let total = 0;
  for (const d of dests) total += d.weight;
  if (total <= 0) return -1;
  let t = ilx % total;
  for (const d of dests) {
    if (t < d.weight) return d.nid;
    t -= d.weight;
  }
  return -1;
}

/** The kernel's vm_pgoff: the file offset in pages, or the start page for private anonymous memory. */
export function vmPgoff(vma: Vma): number {
  if (vma.fileId !== null) return vma.pgoff;
  return vma.shared ? 0 : vma.start / PAGE;
}

/** Interleave index of the folio mapped at `addr` (its first byte) of `vma`, of order 0 or 9. */
export function interleaveIndex(vma: Vma, addr: number, huge: boolean): number {
  const order = huge ? 9 : 0;
  return Math.floor(vmPgoff(vma) / 2 ** order) + Math.floor((addr - vma.start) / 2 ** (12 + order));
}

/** Migrates a folio for DAMOS, fail-fast; returns [migrated pages, cost]. */
function migrateTo(m: Machine, pte: number, head: number, nid: number, out: Float64Array): void {
  out[0] = 0;
  out[1] = 0;
  if (nid < 0 || nid >= m.memory.nodes.length || m.memory.nodeOf(head) === nid) return;
  const c = m.migrate(pte, nid, true);
  if (c < 0) return;
  out[0] = folioPages(m, head);
  out[1] = c;
}

class PaddrActions implements SchemeActions {
  readonly opsName = "paddr";
  private readonly res = new Float64Array(2);

  constructor(private readonly m: Machine, private readonly walkNs: number) {}

  supports(action: DamosAction): boolean {
    return PADDR_ACTIONS.has(action);
  }

  apply(_target: ActionTarget, start: number, end: number, req: ActionRequest): ActionResult {
    const m = this.m;
    const action = req.action;
    if (!this.supports(action)) return NONE;
    if (action === "stat" && req.opsFilters.length === 0) return NONE;
    let filters = req.opsFilters;
    if (action === "pageout" && !filters.some((f) => f.type === "young")) filters = [...filters, REJECT_YOUNG];
    let applied = 0, passed = 0, cost = 0;
    const steps = this.forEachFolio(start, end, (head, pages) => {
      if (folioFilteredOut(m, filters, req.opsDefaultReject, req.coreFiltersAllowed, head, -1)) return;
      passed += pages * PAGE;
      switch (action) {
        case "pageout": {
          m.lru.testClearReferenced(head);
          m.memory.flags.set(head, m.memory.flags.get(head) & ~FrameFlag.YOUNG);
          const c = m.pageout(head, true);
          if (c >= 0) {
            applied += pages;
            cost += c;
          }
          break;
        }
        case "lru_prio":
          m.markAccessed(head);
          applied += pages;
          break;
        case "lru_deprio":
          m.deactivate(head);
          applied += pages;
          break;
        case "migrate_hot":
        case "migrate_cold": {
          const pte = m.memory.rmapHead.get(head);
          if (pte < 0) break;
          migrateTo(m, pte, head, req.targetNid, this.res);
          applied += this.res[0]!;
          cost += this.res[1]!;
          break;
        }
        default:
          break; // stat
      }
    });
    return { appliedBytes: applied * PAGE, filterPassedBytes: passed, costNs: steps * this.walkNs + cost };
  }

  /**
   * Visits every LRU folio whose head frame lies in [start, end) (bytes), head first; returns the
   * page steps the walk took (a step per frame without a folio, one per folio; frames never
   * allocated are skipped a chunk at a time but still counted).
   */
  private forEachFolio(start: number, end: number, visit: (head: number, pages: number) => void): number {
    const m = this.m;
    const f0 = Math.max(0, Math.floor(start / PAGE));
    const f1 = Math.min(Math.ceil(end / PAGE), m.memory.totalFrames);
    let steps = 0;
    let f = f0;
    while (f < f1) {
      if (m.memory.flags.peekChunk(f) === undefined) {
        const next = Math.min(f1, (Math.floor(f / CHUNK_ENTRIES) + 1) * CHUNK_ENTRIES);
        steps += next - f;
        f = next;
        continue;
      }
      steps++;
      const head = folioOf(m, f);
      if (head < 0 || !m.lru.isOnLru(head)) {
        f++;
        continue;
      }
      const pages = folioPages(m, head);
      if (head >= f0) visit(head, pages); // a folio headed before the range was the previous region's
      f = head + pages;
    }
    return steps;
  }
}

class VaddrActions implements SchemeActions {
  readonly opsName = "vaddr";
  private readonly res = new Float64Array(2);
  /** Cost of splits made by the last walk, ns. */
  private splitNs = 0;

  constructor(private readonly m: Machine, private readonly walkNs: number) {}

  supports(action: DamosAction): boolean {
    return VADDR_ACTIONS.has(action);
  }

  apply(target: ActionTarget, start: number, end: number, req: ActionRequest): ActionResult {
    const m = this.m;
    const action = req.action;
    if (!this.supports(action) || target.pid === null) return NONE;
    const space = m.spaceOf(target.pid);
    if (space === undefined) return NONE;
    const ptes = m.ptes;
    // damos_madvise: start = PAGE_ALIGN(r.start), len = PAGE_ALIGN(size of the region)
    const len = Math.ceil((end - start) / PAGE) * PAGE;
    let cost = 0;
    switch (action) {
      case "hugepage":
      case "nohugepage": {
        for (const vma of space.vmas) if (vma.end > start && vma.start < end) vma.setHugepageHint(start, end, action === "hugepage");
        return { appliedBytes: hasHole(space, start, end) ? 0 : len, filterPassedBytes: 0, costNs: 0 };
      }
      case "willneed": {
        const node = homeNode(m, space);
        let failed = false;
        const steps = this.walk(space, start, end, false, (pte) => {
          if (failed || (ptes.flags[pte]! & PteFlag.SWAPPED) === 0) return;
          const c = m.swapInPte(pte, node);
          if (c < 0) failed = true; // no frame: readahead is best effort
          else cost += c;
        });
        return { appliedBytes: hasHole(space, start, end) ? 0 : len, filterPassedBytes: 0, costNs: steps * this.walkNs + cost };
      }
      case "cold":
      case "pageout": {
        const steps = this.walk(space, start, end, true, (pte) => {
          if (!m.present(pte)) return;
          const head = ptes.frame[pte]!;
          if (!m.lru.isOnLru(head) || folioMapcount(m, head) > 1) return;
          if (action === "cold") {
            if (m.accessed(pte)) {
              ptes.flags[pte] = ptes.flags[pte]! & ~PteFlag.ACCESSED;
              cost += m.config.costs.shootdownNs * m.shootdown(pte);
            }
            m.lru.testClearReferenced(head);
            m.memory.flags.set(head, m.memory.flags.get(head) & ~FrameFlag.YOUNG);
            m.deactivate(head);
          } else {
            const c = m.pageout(head, false);
            if (c >= 0) cost += c;
          }
        });
        return { appliedBytes: hasHole(space, start, end) ? 0 : len, filterPassedBytes: 0, costNs: steps * this.walkNs + cost + this.splitNs };
      }
      case "migrate_hot":
      case "migrate_cold": {
        let applied = 0;
        const steps = this.walk(space, start, end, false, (pte, vma, addr, headInRange) => {
          if (!headInRange || !m.present(pte)) return;
          const head = ptes.frame[pte]!;
          if (!m.lru.isOnLru(head)) return;
          if (folioFilteredOut(m, req.opsFilters, req.opsDefaultReject, req.coreFiltersAllowed, head, pte)) return;
          const nid = req.dests.length === 0 ? req.targetNid : interleaveDest(req.dests, interleaveIndex(vma, addr, ptes.isHuge(pte)));
          migrateTo(m, pte, head, nid, this.res);
          applied += this.res[0]!;
          cost += this.res[1]!;
        });
        return { appliedBytes: applied * PAGE, filterPassedBytes: 0, costNs: steps * this.walkNs + cost };
      }
      case "stat": {
        if (req.opsFilters.length === 0) return NONE;
        let passed = 0;
        const steps = this.walk(space, start, end, false, (pte, _vma, _addr, headInRange) => {
          if (!headInRange || !m.present(pte)) return;
          const head = ptes.frame[pte]!;
          if (!m.lru.isOnLru(head)) return;
          if (!folioFilteredOut(m, req.opsFilters, req.opsDefaultReject, req.coreFiltersAllowed, head, pte)) passed += folioPages(m, head) * PAGE;
        });
        return { appliedBytes: 0, filterPassedBytes: passed, costNs: steps * this.walkNs };
      }
      default:
        return NONE;
    }
  }

  /**
   * Walks the PTE slots (present or paged out) of [start, end) inside the space's VMAs, a huge
   * mapping once, calling visit(pte, vma, address of the mapping's first byte, whether that first
   * byte lies in the range). With splitPartial a present huge mapping the range covers only partly
   * is split first and its 4 KiB pages inside the range are visited. Returns the page steps (one
   * per PTE position in a populated page table, one per 2 MiB without one).
   */
  private walk(space: AddressSpace, start: number, end: number, splitPartial: boolean, visit: (pte: number, vma: Vma, addr: number, headInRange: boolean) => void): number {
    const m = this.m;
    const ptes = m.ptes;
    const pt = space.pageTable;
    this.splitNs = 0;
    let steps = 0;
    for (const vma of space.vmas) {
      if (vma.end <= start) continue;
      if (vma.start >= end) break;
      const v0 = Math.floor(Math.max(start, vma.start) / PAGE);
      const v1 = Math.ceil(Math.min(end, vma.end) / PAGE);
      let vpn = v0;
      while (vpn < v1) {
        steps++;
        if (!pt.hasLeaf(vpn)) {
          vpn = (Math.floor(vpn / HUGE_FRAMES) + 1) * HUGE_FRAMES;
          continue;
        }
        const pte = m.pteAt(space.asid, vpn * PAGE);
        if (pte < 0) {
          vpn++;
          continue;
        }
        if (!ptes.isHuge(pte)) {
          visit(pte, vma, vpn * PAGE, true);
          vpn++;
          continue;
        }
        const hv = ptes.vpn[pte]!;
        const covered = hv >= v0 && hv + HUGE_FRAMES <= v1;
        if (!covered && splitPartial && m.present(pte)) {
          this.splitNs += m.splitHuge(pte);
          steps--; // the same position is walked again through its new PTEs
          continue;
        }
        visit(pte, vma, hv * PAGE, hv >= v0);
        vpn = hv + HUGE_FRAMES;
      }
    }
    return steps;
  }
}

/** Does [start, end) reach outside every VMA of the space (madvise's -ENOMEM)? */
function hasHole(space: AddressSpace, start: number, end: number): boolean {
  let cursor = start;
  for (const vma of space.vmas) {
    if (vma.end <= cursor) continue;
    if (vma.start > cursor) return true;
    cursor = vma.end;
    if (cursor >= end) return false;
  }
  return cursor < end;
}

/** The node a process runs on (its first thread's CPU's), for first-touch placement of readahead pages. */
function homeNode(m: Machine, space: AddressSpace): number {
  const th = space.threads[0];
  return th !== undefined && th.cpu >= 0 ? m.cpus[th.cpu]!.node : 0;
}

/** The simulated kernel's memory counters for goal metrics and watermarks. */
export function machineMemoryState(machine: Machine): MemoryState {
  const m = machine;
  const nodes = m.memory.nodes;
  const valid = (nid: number): boolean => Number.isInteger(nid) && nid >= 0 && nid < nodes.length;
  return {
    nrNodes: nodes.length,
    nodeTotalBytes: (nid) => (valid(nid) ? nodes[nid]!.frames * PAGE : 0),
    nodeFreeBytes: (nid) => (valid(nid) ? nodes[nid]!.freeFrames * PAGE : 0),
    memcgNodeBytes: (nid, memcg) => (valid(nid) ? m.lru.memcgPages(nid, memcg) * PAGE : 0),
    activeBytes: () => m.lru.totalPages(LruList.ACTIVE) * PAGE,
    inactiveBytes: () => m.lru.totalPages(LruList.INACTIVE) * PAGE,
    hugeBytes: () => m.lru.hugePages * PAGE,
    freeMemRatePermil: () => {
      let free = 0;
      for (const n of nodes) free += n.freeFrames;
      return Math.floor((free * 1000) / m.memory.totalFrames);
    },
    memStallTotalUs: () => Math.floor(m.memStallNs / 1000),
    physBytesOnNode: (start, end, nid) => physBytesOnNode(m, start, end, nid),
  };
}

/** Bytes of allocated frames overlapping physical [start, end) on node nid. */
function physBytesOnNode(m: Machine, start: number, end: number, nid: number): number {
  const node = m.memory.nodes[nid];
  if (node === undefined || !(end > start)) return 0;
  const lo = node.base * PAGE, hi = (node.base + node.frames) * PAGE;
  const s = Math.max(start, lo), e = Math.min(end, hi);
  if (s >= e) return 0;
  if (s === lo && e === hi) return node.used * PAGE;
  let bytes = 0;
  const flags = m.memory.flags;
  const f1 = Math.ceil(e / PAGE);
  for (let f = Math.floor(s / PAGE); f < f1; ) {
    if (flags.peekChunk(f) === undefined) {
      f = (Math.floor(f / CHUNK_ENTRIES) + 1) * CHUNK_ENTRIES;
      continue;
    }
    if ((flags.get(f) & FrameFlag.ALLOCATED) !== 0) bytes += Math.min(e, (f + 1) * PAGE) - Math.max(s, f * PAGE);
    f++;
  }
  return bytes;
}
