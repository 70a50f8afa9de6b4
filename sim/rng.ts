// Seeded randomness, the only source of random numbers in damon-sim. A run has one root seed; each
// component draws from a named sub-stream (`root.stream("damon.sampling")`) whose seed is a hash of
// (root seed, name), so adding a component or a draw never changes another component's numbers.
// Generator: seedrandom's xor4096 (Brent's xorgens, period 2^4096-1, ~4 ns a call on this machine;
// the default ARC4 is ~10x slower). State can be saved and restored exactly.

import { createHash } from "node:crypto";
import seedrandom from "seedrandom";
import { SimError } from "./errors.ts";

export type RngState = seedrandom.State.Xor4096;

const TWO32 = 0x100000000;

/** One independent stream of random numbers. */
export class Rng {
  private readonly prng: seedrandom.StatefulPRNG<RngState>;

  constructor(readonly name: string, seedOrState: string | RngState) {
    this.prng = typeof seedOrState === "string"
      ? seedrandom.xor4096(seedOrState, { state: true })
      : seedrandom.xor4096("", { state: cloneState(seedOrState) });
  }

  /** Uniform in [0, 1) with 32 random bits (fast). */
  next(): number {
    return this.prng();
  }

  /** Uniform in [0, 1) with 53 random bits. */
  double(): number {
    return this.prng.double();
  }

  /** Uniform unsigned 32-bit integer. */
  uint32(): number {
    return this.prng.int32() >>> 0;
  }

  /** Uniform integer in [0, n). Exact (no modulo bias) for any n up to 2^53. */
  int(n: number): number {
    if (n <= TWO32) {
      // Rejection sampling on 32 bits keeps the result unbiased.
      const limit = TWO32 - (TWO32 % n);
      let x = this.prng.int32() >>> 0;
      while (x >= limit) x = this.prng.int32() >>> 0;
      return x % n;
    }
    return Math.floor(this.prng.double() * n);
  }

  /** Uniform integer in [lo, hi). Matches the kernel's damon_rand(l, r) contract. */
  range(lo: number, hi: number): number {
    if (!(hi > lo)) throw new SimError(`empty random range [${lo}, ${hi})`);
    return lo + this.int(hi - lo);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.prng.double() < p;
  }

  /** Exponentially distributed value with the given mean. */
  exponential(mean: number): number {
    return -Math.log(1 - this.prng.double()) * mean;
  }

  state(): RngState {
    return cloneState(this.prng.state());
  }
}

function cloneState(s: RngState): RngState {
  return { i: s.i, w: s.w, X: s.X.slice() };
}

/** The root of a run's randomness: hands out named, independent, memoised sub-streams. */
export class RngRoot {
  private readonly streams = new Map<string, Rng>();

  constructor(readonly seed: number | string) {
    if (typeof seed === "number" && !Number.isSafeInteger(seed)) throw new SimError(`seed must be an integer, got ${seed}`);
  }

  /** The stream called `name` (the same object every time it is asked for). */
  stream(name: string): Rng {
    let r = this.streams.get(name);
    if (r === undefined) {
      r = new Rng(name, deriveSeed(this.seed, name));
      this.streams.set(name, r);
    }
    return r;
  }

  /** Saves every stream created so far, in name order. */
  saveState(): { seed: number | string; streams: Record<string, RngState> } {
    const streams: Record<string, RngState> = {};
    for (const name of [...this.streams.keys()].sort()) streams[name] = this.streams.get(name)!.state();
    return { seed: this.seed, streams };
  }

  /** A root that continues exactly where `saved` left off. */
  static restore(saved: { seed: number | string; streams: Record<string, RngState> }): RngRoot {
    const root = new RngRoot(saved.seed);
    for (const [name, st] of Object.entries(saved.streams)) root.streams.set(name, new Rng(name, st));
    return root;
  }
}

/** The seed string of sub-stream `name` under root seed `seed` (SHA-256, so nearby names are unrelated). */
export function deriveSeed(seed: number | string, name: string): string {
  return createHash("sha256").update(`damon-sim\0${typeof seed}:${String(seed)}\0${name}`).digest("hex");
}
