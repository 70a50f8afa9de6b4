// DAMOS watermarks (damos.md 4; core.c damos_wmark_wait_us): before every kdamond iteration each
// scheme reads its metric (free_mem_rate: free pages x 1000 / total pages, system-wide) and is
// deactivated above `high` or below `low`, stays inactive between `mid` and `high`, and is
// activated otherwise. It returns how long kdamond should wait before the next check (its
// interval while inactive, 0 while active); the metric `none` always answers 0 and leaves the
// scheme as it is.

import type { MemoryState, Watermarks } from "./types.ts";

/** The part of a scheme damos_wmark_wait_us reads and sets. */
export interface WatermarkState {
  readonly wmarks: Watermarks;
  activated: boolean;
}

/** damos_wmark_wait_us: 0 when the scheme is (now) active, else its check interval in us. */
export function wmarkWaitUs(s: WatermarkState, memory: MemoryState): number {
  const w = s.wmarks;
  if (w.metric !== "free_mem_rate") return 0;
  const m = memory.freeMemRatePermil();
  if (m > w.high || m < w.low) {
    s.activated = false;
    return w.intervalUs;
  }
  if (m >= w.mid && m <= w.high && !s.activated) return w.intervalUs;
  s.activated = true;
  return 0;
}
