// Sequential and strided sweeps: the offset starts at 0 and advances by `stride` bytes after each
// access, wrapping to 0 when the next access would not fit in the range (a loop over an array,
// restarted at the end). stride = access size is a plain sequential scan; stride = 4096 touches
// one byte range per page.

import type { AccessBatch } from "../../hw/batch.ts";
import { SimError } from "../../sim/errors.ts";
import type { Fields } from "../json-fields.ts";
import { PatternBase, type AccessStyle, type PatternContext, type Target } from "../pattern.ts";

export interface SequentialParams {
  /** Bytes between consecutive accesses (>= 1); defaults to the access size. */
  stride?: number;
}

export function parseSequentialParams(f: Fields): SequentialParams {
  return f.has("stride") ? { stride: f.size("stride", undefined, 1) } : {};
}

export class SequentialPattern extends PatternBase {
  private readonly stride: number;
  /** Largest offset an access may start at. */
  private readonly lastStart: number;
  private offset = 0;

  constructor(target: Target, style: AccessStyle, params: SequentialParams, ctx: PatternContext) {
    super(target, style, ctx);
    this.stride = params.stride ?? style.accessSize;
    if (!Number.isSafeInteger(this.stride) || this.stride < 1) throw new SimError(`stride must be a positive integer, got ${this.stride}`);
    this.lastStart = this.size - this.accessSize;
  }

  fill(out: AccessBatch, count: number): void {
    const { base, stride, lastStart, accessSize, tid, gap } = this;
    let off = this.offset;
    for (let i = 0; i < count; i++) {
      out.push(base + off, accessSize, this.nextKind(), tid, gap);
      off += stride;
      if (off > lastStart) off = 0;
    }
    this.offset = off;
  }
}
