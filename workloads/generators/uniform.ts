// Uniform random accesses: every access picks a slot uniformly at random from the range, where
// slots are `align` bytes apart (default: the access size, so accesses are naturally aligned).

import type { AccessBatch } from "../../hw/batch.ts";
import { SimError } from "../../sim/errors.ts";
import type { Fields } from "../json-fields.ts";
import { PatternBase, type AccessStyle, type PatternContext, type Target } from "../pattern.ts";

export interface UniformParams {
  /** Distance between possible access addresses, bytes; defaults to the access size. */
  align?: number;
}

export function parseUniformParams(f: Fields): UniformParams {
  return f.has("align") ? { align: f.size("align", undefined, 1) } : {};
}

export class UniformPattern extends PatternBase {
  private readonly align: number;
  /** Number of possible access addresses. */
  readonly slots: number;

  constructor(target: Target, style: AccessStyle, params: UniformParams, ctx: PatternContext) {
    super(target, style, ctx);
    this.align = params.align ?? style.accessSize;
    if (!Number.isSafeInteger(this.align) || this.align < 1) throw new SimError(`align must be a positive integer, got ${this.align}`);
    this.slots = Math.floor((this.size - this.accessSize) / this.align) + 1;
  }

  fill(out: AccessBatch, count: number): void {
    const { base, align, slots, accessSize, tid, gap, rng } = this;
    for (let i = 0; i < count; i++) out.push(base + rng.int(slots) * align, accessSize, this.nextKind(), tid, gap);
  }
}
