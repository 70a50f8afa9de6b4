// Walker's alias method (Vose's construction): O(n) set-up from a list of weights, then O(1)
// sampling with one uniform draw: pick a column uniformly, keep it with probability prob[col],
// otherwise take its alias. Used for Zipfian and other weighted choices on the per-access path.

import { SimError } from "../sim/errors.ts";
import type { Rng } from "../sim/rng.ts";

export class AliasTable {
  readonly n: number;
  /** Probability of keeping column i (in [0, 1]). */
  readonly prob: Float64Array;
  /** The other outcome of column i. */
  readonly alias: Uint32Array;

  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    if (n === 0) throw new SimError("alias table needs at least one weight");
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i]!;
      if (!(w >= 0) || !Number.isFinite(w)) throw new SimError(`alias table weight ${i} is ${w}; weights must be finite and non-negative`);
      total += w;
    }
    if (!(total > 0)) throw new SimError("alias table weights sum to zero");
    this.n = n;
    this.prob = new Float64Array(n);
    this.alias = new Uint32Array(n);
    // Scaled weights: mean 1. Columns below 1 are "small" and get topped up from a "large" one.
    const scaled = new Float64Array(n);
    const small = new Uint32Array(n);
    const large = new Uint32Array(n);
    let ns = 0, nl = 0;
    for (let i = 0; i < n; i++) {
      scaled[i] = (weights[i]! * n) / total;
      if (scaled[i]! < 1) small[ns++] = i;
      else large[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
      const s = small[--ns]!;
      const l = large[nl - 1]!;
      this.prob[s] = scaled[s]!;
      this.alias[s] = l;
      scaled[l] = scaled[l]! + scaled[s]! - 1;
      if (scaled[l]! < 1) {
        nl--;
        small[ns++] = l;
      }
    }
    // What is left is 1 up to rounding error.
    while (nl > 0) {
      const l = large[--nl]!;
      this.prob[l] = 1;
      this.alias[l] = l;
    }
    while (ns > 0) {
      const s = small[--ns]!;
      this.prob[s] = 1;
      this.alias[s] = s;
    }
  }

  /** One outcome in [0, n), distributed like the weights. One 53-bit uniform draw. */
  sample(rng: Rng): number {
    const u = rng.double() * this.n;
    const i = Math.floor(u);
    return u - i < this.prob[i]! ? i : this.alias[i]!;
  }

  /** The exact probability of outcome k implied by the table (for tests). */
  probabilityOf(k: number): number {
    let p = this.prob[k]!;
    for (let i = 0; i < this.n; i++) if (i !== k && this.alias[i] === k) p += 1 - this.prob[i]!;
    return p / this.n;
  }
}
