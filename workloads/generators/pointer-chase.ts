// Pointer chase: the range is cut into elements of `granularity` bytes (cache lines by default)
// linked in one random cycle (Sattolo's algorithm), and each access loads the pointer at the start
// of the current element and moves to the element it points to. Every element is visited exactly
// once per cycle of n accesses, in an order caches and prefetchers cannot guess.

import type { AccessBatch } from "../../hw/batch.ts";
import { SimError } from "../../sim/errors.ts";
import { CACHE_LINE } from "../../sim/units.ts";
import type { Fields } from "../json-fields.ts";
import { PatternBase, type AccessStyle, type PatternContext, type Target } from "../pattern.ts";

/** Largest element count (the cycle costs 4 bytes per element). */
export const CHASE_MAX_ELEMENTS = 1 << 25;

export interface PointerChaseParams {
  /** Bytes per element. */
  granularity: number;
}

export function parsePointerChaseParams(f: Fields): PointerChaseParams {
  return { granularity: f.size("granularity", CACHE_LINE, 1) };
}

/** A uniformly random cyclic permutation of 0..n-1 (one cycle through every element). */
export function randomCycle(n: number, rng: { int(n: number): number }): Uint32Array {
  const next = new Uint32Array(n);
  for (let i = 0; i < n; i++) next[i] = i;
  // Sattolo: like Fisher-Yates but j < i strictly, which yields a single n-cycle.
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i);
    const t = next[i]!;
    next[i] = next[j]!;
    next[j] = t;
  }
  return next;
}

/** Throws a SimError unless the parameters fit the target. Returns the element count. */
export function checkPointerChase(target: Target, style: AccessStyle, params: PointerChaseParams): number {
  const g = params.granularity;
  if (!Number.isSafeInteger(g) || g < style.accessSize) throw new SimError(`granularity ${g} must be at least the access size ${style.accessSize}`);
  const n = Math.floor(target.size / g);
  if (n < 1) throw new SimError(`range of ${target.size} bytes holds no ${g}-byte element`);
  if (n > CHASE_MAX_ELEMENTS) throw new SimError(`${n} pointer-chase elements is more than ${CHASE_MAX_ELEMENTS}; use a larger granularity`);
  return n;
}

export class PointerChasePattern extends PatternBase {
  readonly elements: number;
  readonly next: Uint32Array;
  private readonly granularity: number;
  private cur = 0;

  constructor(target: Target, style: AccessStyle, params: PointerChaseParams, ctx: PatternContext) {
    super(target, style, ctx);
    this.elements = checkPointerChase(target, style, params);
    this.granularity = params.granularity;
    this.next = randomCycle(this.elements, this.rng);
  }

  fill(out: AccessBatch, count: number): void {
    const { base, granularity, accessSize, tid, gap, next } = this;
    let cur = this.cur;
    for (let i = 0; i < count; i++) {
      out.push(base + cur * granularity, accessSize, this.nextKind(), tid, gap);
      cur = next[cur]!;
    }
    this.cur = cur;
  }
}
