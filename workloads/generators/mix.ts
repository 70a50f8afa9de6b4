// A weighted mix of patterns running at once in one thread: every `burst` accesses (default 1, a
// per-access mix) one part is picked with probability weight / total and issues the next accesses.
// Parts keep their own state (a sequential part resumes where it stopped), so "70% of accesses to
// my private buffer, 30% to the shared table" is a mix of two parts.

import type { AccessBatch } from "../../hw/batch.ts";
import { SimError } from "../../sim/errors.ts";
import type { Rng } from "../../sim/rng.ts";
import type { Pattern } from "../pattern.ts";

export class MixPattern implements Pattern {
  /** Cumulative weights: part i is picked when u*total falls in [cum[i-1], cum[i]). */
  private readonly cum: Float64Array;
  private readonly total: number;
  private cur = 0;
  private left = 0;
  /** A part already picked for the access after the current run (-1: none). */
  private pending = -1;

  constructor(
    private readonly parts: readonly Pattern[],
    weights: readonly number[],
    private readonly rng: Rng,
    private readonly burst = 1,
  ) {
    if (parts.length === 0 || parts.length !== weights.length) throw new SimError("a mix needs one weight per part and at least one part");
    if (!Number.isSafeInteger(burst) || burst < 1) throw new SimError(`burst must be a positive integer, got ${burst}`);
    this.cum = new Float64Array(parts.length);
    let t = 0;
    weights.forEach((w, i) => {
      if (!(w >= 0) || !Number.isFinite(w)) throw new SimError(`mix weight ${i} must be finite and non-negative, got ${w}`);
      t += w;
      this.cum[i] = t;
    });
    if (!(t > 0)) throw new SimError("mix weights sum to zero");
    this.total = t;
  }

  begin(start: number): void {
    for (const p of this.parts) p.begin(start);
    this.left = 0;
    this.pending = -1;
  }

  private pick(): number {
    const u = this.rng.double() * this.total;
    const cum = this.cum;
    const last = cum.length - 1;
    let i = 0;
    while (i < last && u >= cum[i]!) i++;
    return i;
  }

  fill(out: AccessBatch, count: number, now: number): void {
    let remaining = count;
    while (remaining > 0) {
      if (this.left === 0) {
        if (this.pending >= 0) {
          this.cur = this.pending;
          this.pending = -1;
        } else {
          this.cur = this.pick();
        }
        this.left = this.burst;
        // Per-access mixing: every access still gets its own pick, but a run of equal picks is
        // handed to the part in one call (the first different pick is kept for later).
        if (this.burst === 1) {
          while (this.left < remaining) {
            const k = this.pick();
            if (k !== this.cur) {
              this.pending = k;
              break;
            }
            this.left++;
          }
        }
      }
      const n = this.left < remaining ? this.left : remaining;
      this.parts[this.cur]!.fill(out, n, now);
      this.left -= n;
      remaining -= n;
    }
  }
}
