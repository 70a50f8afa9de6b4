// An independent, brute-force check of the machine's memory bookkeeping, for small machines: frame
// conservation per node (allocated frames found by flag scan + the free pool = capacity, no frame
// in both or twice), PTE slots against frames and the reverse map, the LRU against allocated
// folios, and the page tables against the slots.

import { FrameFlag, HUGE_FRAMES } from "../../hw/memory.ts";
import type { Machine } from "../../hw/machine.ts";
import { LruList } from "../../hw/lru.ts";
import { PteFlag } from "../../hw/pagetable.ts";

/** Everything wrong with the machine's memory state (empty when consistent). */
export function mmProblems(m: Machine): string[] {
  const bad: string[] = [];
  const mem = m.memory;
  const ptes = m.ptes;
  // frames: allocated by flag scan, free pool from the allocator
  for (const node of mem.nodes) {
    let allocated = 0;
    for (let f = node.base; f < node.base + node.frames; f++) if ((mem.flags.get(f) & FrameFlag.ALLOCATED) !== 0) allocated++;
    if (allocated !== node.used) bad.push(`node ${node.id}: ${allocated} frames flagged allocated, used = ${node.used}`);
    const free = node.freeFrameList();
    const seen = new Set<number>();
    for (const f of free) {
      if (seen.has(f)) bad.push(`node ${node.id}: frame ${f} twice in the free pool`);
      seen.add(f);
      if (f < node.base || f >= node.base + node.frames) bad.push(`node ${node.id}: foreign frame ${f} in the free pool`);
      if ((mem.flags.get(f) & FrameFlag.ALLOCATED) !== 0) bad.push(`node ${node.id}: frame ${f} both free and allocated`);
    }
    if (free.length + allocated !== node.frames) bad.push(`node ${node.id}: free ${free.length} + allocated ${allocated} != ${node.frames}`);
  }
  // PTE slots -> frames
  const mappingsOf = new Map<number, number[]>();
  for (let s = 0; s < ptes.size; s++) {
    const fl = ptes.flags[s]!;
    const f = ptes.frame[s]!;
    if ((fl & PteFlag.PRESENT) !== 0) {
      if ((fl & PteFlag.SWAPPED) !== 0) bad.push(`slot ${s}: present and swapped`);
      const ff = mem.flags.get(f);
      if ((ff & FrameFlag.ALLOCATED) === 0) bad.push(`slot ${s}: maps unallocated frame ${f}`);
      if ((ff & FrameFlag.HUGE_TAIL) !== 0) bad.push(`slot ${s}: maps the tail frame ${f}`);
      if (((fl & PteFlag.HUGE) !== 0) !== ((ff & FrameFlag.HUGE_HEAD) !== 0)) bad.push(`slot ${s}: huge flag disagrees with frame ${f}`);
      const list = mappingsOf.get(f) ?? [];
      list.push(s);
      mappingsOf.set(f, list);
    } else if (f !== -1) {
      bad.push(`slot ${s}: not present but keeps frame ${f}`);
    }
    if ((fl & (PteFlag.PRESENT | PteFlag.SWAPPED)) !== 0) {
      const space = m.spaces[ptes.asid[s]!]!;
      const found = m.pteAt(space.asid, ptes.vpn[s]! * 4096);
      if (found !== s) bad.push(`slot ${s}: the page table gives slot ${found} for its address`);
    }
  }
  // frames -> reverse map, LRU
  let lruPages = 0;
  for (let f = 0; f < mem.totalFrames; f++) {
    const ff = mem.flags.get(f);
    const rmap: number[] = [];
    for (let s = mem.rmapHead.get(f); s >= 0 && rmap.length <= ptes.size; s = ptes.rmapNext[s]!) rmap.push(s);
    const want = (mappingsOf.get(f) ?? []).slice().sort((a, b) => a - b);
    const got = rmap.slice().sort((a, b) => a - b);
    if (want.join() !== got.join()) bad.push(`frame ${f}: reverse map [${got.join()}], mapped by [${want.join()}]`);
    const head = (ff & FrameFlag.ALLOCATED) !== 0 && (ff & FrameFlag.HUGE_TAIL) === 0;
    if (head !== m.lru.isOnLru(f)) bad.push(`frame ${f}: ${head ? "allocated folio off the LRU" : "on the LRU but not an allocated folio"}`);
    if (head) {
      const pages = (ff & FrameFlag.HUGE_HEAD) !== 0 ? HUGE_FRAMES : 1;
      if (m.lru.pagesOf(f) !== pages) bad.push(`frame ${f}: LRU counts ${m.lru.pagesOf(f)} pages, folio has ${pages}`);
      lruPages += pages;
    }
  }
  let listed = 0;
  for (let n = 0; n < mem.nodes.length; n++) {
    for (const list of [LruList.INACTIVE, LruList.ACTIVE]) {
      let pages = 0;
      m.lru.forEach(n, list, (f) => {
        pages += m.lru.pagesOf(f);
        if (mem.nodeOf(f) !== n) bad.push(`frame ${f} of node ${mem.nodeOf(f)} on node ${n}'s list`);
        if (m.lru.isActive(f) !== (list === LruList.ACTIVE)) bad.push(`frame ${f}: PG_active disagrees with its list`);
      });
      if (pages !== m.lru.pages(n, list)) bad.push(`node ${n} list ${list}: ${pages} pages linked, counted ${m.lru.pages(n, list)}`);
      listed += pages;
    }
  }
  if (listed !== lruPages) bad.push(`LRU lists hold ${listed} pages, allocated folios ${lruPages}`);
  return bad;
}
