// The page LRU of each node, in the classic two-list style of mm/swap.c and mm/vmscan.c (the
// kernel without MGLRU): an inactive and an active list of folios (a 4 KiB frame or a 2 MiB huge
// page's head frame), each a doubly-linked list through per-frame link words, newest at the head,
// scanned from the tail. Per-folio PG_active and PG_referenced bits. The rules kept:
//   * a new folio (first-touch fault, swap-in) goes to the head of the inactive list, not
//     referenced: folio_add_lru of anonymous faults since v5.9 (b518154e59aa, "protect the
//     workingset on anonymous LRU") and of page-cache insertions (refault activation by the
//     workingset code is not modelled);
//   * folio_mark_accessed: a folio that is not referenced becomes referenced; a referenced
//     inactive folio is activated (moved to the active head) and loses the referenced bit;
//   * folio_deactivate (lru_deactivate): an active folio moves to the inactive head and loses both
//     PG_active and PG_referenced; an inactive one is left where it is;
//   * migration keeps PG_active and PG_referenced and puts the new folio at the head of its list
//     on the destination node (the kernel's putback of the new folio through folio_add_lru);
//   * splitting a huge folio leaves its 512 pages on the head's list with its bits.
// The kernel keeps anon and file folios on separate list pairs balanced by swappiness; this model
// keeps one pair per node. Nothing here runs per access: the PTE Accessed bit is the evidence, and
// reclaim (hw/reclaim.ts) reads it through the reverse map.

import { SimError } from "../sim/errors.ts";
import { ChunkedInt32, ChunkedUint8 } from "./chunked.ts";

export const LruList = {
  INACTIVE: 0,
  ACTIVE: 1,
} as const;

const ON_LRU = 1;
const ACTIVE = 2;
const REFERENCED = 4;
const HUGE = 8;
const HUGE_PAGES = 512;

export class Lru {
  private readonly next = new ChunkedInt32(-1);
  private readonly prev = new ChunkedInt32(-1);
  private readonly state = new ChunkedUint8(0);
  /** Index into memcgIds of each folio's memcg. */
  private readonly memcgSlot = new ChunkedInt32(0);
  /** Head and tail folio of list (node * 2 + LruList), -1 when empty. */
  private readonly heads: Int32Array;
  private readonly tails: Int32Array;
  /** Pages and folios on each list. */
  private readonly pageCount: Float64Array;
  private readonly folioCount: Float64Array;
  private readonly memcgIds: number[] = [];
  private readonly memcgIndex = new Map<number, number>();
  /** Pages on the LRU of each memcg, per node (indexed like memcgIds). */
  private readonly memcgPageCount: Float64Array[] = [];
  /** Pages of huge folios on every list. */
  hugePages = 0;

  constructor(
    readonly nrNodes: number,
    private readonly nodeOf: (frame: number) => number,
  ) {
    this.heads = new Int32Array(nrNodes * 2).fill(-1);
    this.tails = new Int32Array(nrNodes * 2).fill(-1);
    this.pageCount = new Float64Array(nrNodes * 2);
    this.folioCount = new Float64Array(nrNodes * 2);
  }

  // ---- queries ---------------------------------------------------------------------------

  isOnLru(folio: number): boolean {
    return (this.state.get(folio) & ON_LRU) !== 0;
  }

  isActive(folio: number): boolean {
    return (this.state.get(folio) & ACTIVE) !== 0;
  }

  isReferenced(folio: number): boolean {
    return (this.state.get(folio) & REFERENCED) !== 0;
  }

  /** Pages of a folio on the LRU (1 or 512; 0 when it is not on the LRU). */
  pagesOf(folio: number): number {
    const s = this.state.get(folio);
    return (s & ON_LRU) === 0 ? 0 : (s & HUGE) !== 0 ? HUGE_PAGES : 1;
  }

  /** memcg id the folio was charged to (-1 when it is not on the LRU). */
  memcgOf(folio: number): number {
    return this.isOnLru(folio) ? this.memcgIds[this.memcgSlot.get(folio)]! : -1;
  }

  /** Pages on a node's list. */
  pages(node: number, list: number): number {
    return this.pageCount[node * 2 + list]!;
  }

  /** Folios on a node's list. */
  folios(node: number, list: number): number {
    return this.folioCount[node * 2 + list]!;
  }

  /** Pages of memcg `memcg` on node's lists (0 for an unknown memcg). */
  memcgPages(node: number, memcg: number): number {
    const i = this.memcgIndex.get(memcg);
    return i === undefined ? 0 : this.memcgPageCount[i]![node]!;
  }

  /** Sum of a list over every node. */
  totalPages(list: number): number {
    let n = 0;
    for (let node = 0; node < this.nrNodes; node++) n += this.pageCount[node * 2 + list]!;
    return n;
  }

  /** Oldest folio of a node's list, or -1. */
  tail(node: number, list: number): number {
    return this.tails[node * 2 + list]!;
  }

  /** Next older folio after `folio` on its list, or -1. */
  older(folio: number): number {
    return this.prev.get(folio);
  }

  /** Calls fn for every folio of a node's list, newest first (tests, invariant checks). */
  forEach(node: number, list: number, fn: (folio: number) => void): void {
    for (let f = this.heads[node * 2 + list]!; f >= 0; f = this.next.get(f)) fn(f);
  }

  // ---- list changes ----------------------------------------------------------------------

  /** folio_add_lru: puts a folio at the head of its node's inactive (or active) list. */
  add(folio: number, pages: number, memcg: number, active = false, referenced = false): void {
    if (this.isOnLru(folio)) throw new SimError(`LRU: frame ${folio} is already on a list`);
    let slot = this.memcgIndex.get(memcg);
    if (slot === undefined) {
      slot = this.memcgIds.length;
      this.memcgIds.push(memcg);
      this.memcgIndex.set(memcg, slot);
      this.memcgPageCount.push(new Float64Array(this.nrNodes));
    }
    this.memcgSlot.set(folio, slot);
    this.state.set(folio, ON_LRU | (active ? ACTIVE : 0) | (referenced ? REFERENCED : 0) | (pages === HUGE_PAGES ? HUGE : 0));
    this.link(folio);
    if (pages === HUGE_PAGES) this.hugePages += pages;
  }

  /** Takes a folio off its list (the frame is being freed); no-op when it is not on one. */
  remove(folio: number): void {
    if (!this.isOnLru(folio)) return;
    const pages = this.pagesOf(folio);
    this.unlink(folio);
    this.state.set(folio, 0);
    if (pages === HUGE_PAGES) this.hugePages -= pages;
  }

  /** Migration: the new frame takes the old one's memcg and bits, at the head of its list. */
  transfer(oldFolio: number, newFolio: number): void {
    if (!this.isOnLru(oldFolio)) return;
    const s = this.state.get(oldFolio);
    const memcg = this.memcgOf(oldFolio);
    this.remove(oldFolio);
    this.add(newFolio, (s & HUGE) !== 0 ? HUGE_PAGES : 1, memcg, (s & ACTIVE) !== 0, (s & REFERENCED) !== 0);
  }

  /** A huge folio became 512 small ones (frames head..head+511) with the head's list and bits. */
  split(head: number): void {
    if (!this.isOnLru(head)) return;
    const s = this.state.get(head);
    const memcg = this.memcgOf(head);
    this.remove(head);
    for (let i = HUGE_PAGES - 1; i >= 0; i--) this.add(head + i, 1, memcg, (s & ACTIVE) !== 0, (s & REFERENCED) !== 0);
  }

  /** Moves a folio to the head of the active list and sets PG_active (keeps PG_referenced). */
  activate(folio: number): void {
    this.unlink(folio);
    this.state.set(folio, this.state.get(folio) | ACTIVE);
    this.link(folio);
  }

  /** folio_deactivate: an active folio goes to the inactive head, losing PG_active and PG_referenced. */
  deactivate(folio: number): void {
    if (!this.isActive(folio)) return;
    this.unlink(folio);
    this.state.set(folio, this.state.get(folio) & ~(ACTIVE | REFERENCED));
    this.link(folio);
  }

  /** shrink_active_list's deactivation: to the inactive head, losing PG_active only. */
  demote(folio: number): void {
    this.unlink(folio);
    this.state.set(folio, this.state.get(folio) & ~ACTIVE);
    this.link(folio);
  }

  /** Moves a folio back to the head of the list it is on (reclaim's "keep" and "rotate"). */
  rotate(folio: number): void {
    this.unlink(folio);
    this.link(folio);
  }

  /** folio_mark_accessed: referenced once; a second time an inactive folio is activated. */
  markAccessed(folio: number): void {
    const s = this.state.get(folio);
    if ((s & ON_LRU) === 0) return;
    if ((s & REFERENCED) === 0) {
      this.state.set(folio, s | REFERENCED);
    } else if ((s & ACTIVE) === 0) {
      this.unlink(folio);
      this.state.set(folio, (s | ACTIVE) & ~REFERENCED);
      this.link(folio);
    }
  }

  setReferenced(folio: number): void {
    if (this.isOnLru(folio)) this.state.set(folio, this.state.get(folio) | REFERENCED);
  }

  /** folio_test_clear_referenced. */
  testClearReferenced(folio: number): boolean {
    const s = this.state.get(folio);
    if ((s & REFERENCED) === 0) return false;
    this.state.set(folio, s & ~REFERENCED);
    return true;
  }

  // ---- links -----------------------------------------------------------------------------

  private listOf(folio: number): number {
    return this.nodeOf(folio) * 2 + ((this.state.get(folio) & ACTIVE) !== 0 ? LruList.ACTIVE : LruList.INACTIVE);
  }

  /** Links a folio at the head of the list its state names and counts it. */
  private link(folio: number): void {
    const l = this.listOf(folio);
    const h = this.heads[l]!;
    this.prev.set(folio, -1);
    this.next.set(folio, h);
    if (h >= 0) this.prev.set(h, folio);
    else this.tails[l] = folio;
    this.heads[l] = folio;
    const pages = (this.state.get(folio) & HUGE) !== 0 ? HUGE_PAGES : 1;
    this.pageCount[l]! += pages;
    this.folioCount[l]! += 1;
    this.memcgPageCount[this.memcgSlot.get(folio)]![this.nodeOf(folio)]! += pages;
  }

  /** Unlinks a folio from the list its state names and uncounts it. */
  private unlink(folio: number): void {
    const l = this.listOf(folio);
    const p = this.prev.get(folio), n = this.next.get(folio);
    if (p >= 0) this.next.set(p, n);
    else this.heads[l] = n;
    if (n >= 0) this.prev.set(n, p);
    else this.tails[l] = p;
    this.prev.set(folio, -1);
    this.next.set(folio, -1);
    const pages = (this.state.get(folio) & HUGE) !== 0 ? HUGE_PAGES : 1;
    this.pageCount[l]! -= pages;
    this.folioCount[l]! -= 1;
    this.memcgPageCount[this.memcgSlot.get(folio)]![this.nodeOf(folio)]! -= pages;
  }
}
