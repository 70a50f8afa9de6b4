// The reverse map, frame -> the PTE slots mapping it: a singly linked list threaded through the
// PTE store (PhysicalMemory.rmapHead[frame] is the first slot, PteStore.rmapNext the next; a huge
// page's list hangs off its head frame). Migration, pageout, reclaim and DAMON's paddr operations
// walk it. The hot loops (swap.ts, reclaim.ts, folio.ts) walk the two arrays inline, allocation-free.

import { FrameFlag, HUGE_FRAMES, type PhysicalMemory } from "./memory.ts";
import type { PteStore } from "./pagetable.ts";

/** What the reverse map lives in: the machine's memory and PTE store. */
export interface Mapped {
  readonly memory: PhysicalMemory;
  readonly ptes: PteStore;
}

/** Links PTE slot `pte` into `frame`'s reverse map (at its head). */
export function rmapAdd(m: Mapped, frame: number, pte: number): void {
  m.ptes.rmapNext[pte] = m.memory.rmapHead.get(frame);
  m.memory.rmapHead.set(frame, pte);
}

/** Calls fn for every PTE slot mapping `frame` (a head frame for huge pages). */
export function forEachMapping(m: Mapped, frame: number, fn: (pte: number) => void): void {
  for (let s = m.memory.rmapHead.get(frame); s >= 0; s = m.ptes.rmapNext[s]!) fn(s);
}

/** PTE slot mapping the 4 KiB frame `frame` first (resolving huge tails to their head), or -1. */
export function firstMapping(m: Mapped, frame: number): number {
  const fl = m.memory.flags.get(frame);
  if ((fl & FrameFlag.HUGE_TAIL) !== 0) frame -= frame % HUGE_FRAMES;
  return m.memory.rmapHead.get(frame);
}
