// Per-folio attributes as the kernel's folio tests give them, for DAMOS ops filters and actions: the
// folio holding a frame, its size, anon or file (folio_test_anon), memcg (folio_memcg), LRU state
// (folio_test_active), mapped or not (folio_mapped), and DAMON's young check with test-and-clear
// through the reverse map (damon_folio_young + damon_folio_mkold, mm/damon/ops-common.c).

import type { MmHost } from "./mm-host.ts";
import { FrameFlag, HUGE_FRAMES } from "./memory.ts";

/** Head frame of the folio holding `frame`, or -1 when the frame is not allocated. */
export function folioOf(m: MmHost, frame: number): number {
  if (frame < 0 || frame >= m.memory.totalFrames) return -1;
  const fl = m.memory.flags.get(frame);
  if ((fl & FrameFlag.ALLOCATED) === 0) return -1;
  return (fl & FrameFlag.HUGE_TAIL) !== 0 ? frame - (frame % HUGE_FRAMES) : frame;
}

/** 4 KiB pages of the folio whose head is `head` (512 for a huge page). */
export function folioPages(m: MmHost, head: number): number {
  return (m.memory.flags.get(head) & FrameFlag.HUGE_HEAD) !== 0 ? HUGE_FRAMES : 1;
}

/** The folio is mapped by at least one PTE. */
export function folioMapped(m: MmHost, head: number): boolean {
  return m.memory.rmapHead.get(head) >= 0;
}

/** Anonymous memory (the VMA of its first mapping is anon; an unmapped folio counts as file). */
export function folioAnon(m: MmHost, head: number): boolean {
  const pte = m.memory.rmapHead.get(head);
  return pte >= 0 && m.vmas[m.ptes.vma[pte]!]!.anon;
}

/** memcg the folio is charged to (its LRU entry's; else its first mapping's VMA; -1 if neither). */
export function folioMemcg(m: MmHost, head: number): number {
  const c = m.lru.memcgOf(head);
  if (c >= 0) return c;
  const pte = m.memory.rmapHead.get(head);
  return pte >= 0 ? m.vmas[m.ptes.vma[pte]!]!.memcg : -1;
}

/** PG_active. */
export function folioActive(m: MmHost, head: number): boolean {
  return m.lru.isActive(head);
}

/**
 * damon_folio_young: a mapped folio is young when a mapping has the Accessed bit set or the folio
 * lost PG_idle; an unmapped one when it is not idle. A young folio is then made old
 * (damon_folio_mkold: every mapping's Accessed bit cleared, PG_young and PG_idle set).
 * Returns whether it was young.
 */
export function folioTestClearYoung(m: MmHost, head: number): boolean {
  const idle = (m.memory.flags.get(head) & FrameFlag.IDLE) !== 0;
  let young = !idle;
  let first = m.memory.rmapHead.get(head);
  for (let pte = first; pte >= 0 && !young; pte = m.ptes.rmapNext[pte]!) if (m.accessed(pte)) young = true;
  if (!young) return false;
  if (first < 0) {
    m.memory.flags.set(head, m.memory.flags.get(head) | FrameFlag.IDLE);
    return true;
  }
  for (; first >= 0; first = m.ptes.rmapNext[first]!) m.mkold(first);
  return true;
}

/** Mappings of a folio (the reverse map's length). */
export function folioMapcount(m: MmHost, head: number): number {
  let n = 0;
  for (let pte = m.memory.rmapHead.get(head); pte >= 0; pte = m.ptes.rmapNext[pte]!) n++;
  return n;
}
