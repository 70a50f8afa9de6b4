// Hot/cold split: a `hotFraction` of the range (at `hotOffset`) receives `hotProbability` of the
// accesses and the rest of the range (the cold part, possibly on both sides of the hot part) the
// others; inside each part accesses are uniform and aligned to the access size.

import type { AccessBatch } from "../../hw/batch.ts";
import { SimError } from "../../sim/errors.ts";
import type { Fields } from "../json-fields.ts";
import { PatternBase, type AccessStyle, type PatternContext, type Target } from "../pattern.ts";

export interface HotColdParams {
  /** Share of the range that is hot, in (0, 1). */
  hotFraction: number;
  /** Share of the accesses that go to the hot part, in [0, 1]. */
  hotProbability: number;
  /** Where the hot part starts, bytes from the start of the range. */
  hotOffset: number;
}

export function parseHotColdParams(f: Fields): HotColdParams {
  return {
    hotFraction: f.num("hotFraction", 0.1, { above: 0, max: 1 }),
    hotProbability: f.num("hotProbability", 0.9, { min: 0, max: 1 }),
    hotOffset: f.size("hotOffset", 0),
  };
}

/** Throws a SimError unless the parameters fit the target. Returns the hot slot range [lo, hi). */
export function checkHotCold(target: Target, style: AccessStyle, params: HotColdParams): { lo: number; hi: number; slots: number } {
  const a = style.accessSize;
  const slots = Math.floor(target.size / a);
  if (!(params.hotFraction > 0 && params.hotFraction <= 1)) throw new SimError(`hot fraction must be in (0, 1], got ${params.hotFraction}`);
  if (!(params.hotProbability >= 0 && params.hotProbability <= 1)) throw new SimError(`hot probability must be in [0, 1], got ${params.hotProbability}`);
  const hot = Math.max(1, Math.round((target.size * params.hotFraction) / a));
  if (!Number.isSafeInteger(params.hotOffset) || params.hotOffset % a !== 0) throw new SimError(`hot offset ${params.hotOffset} must be a multiple of the access size ${a}`);
  const lo = params.hotOffset / a;
  if (lo + hot > slots) throw new SimError(`hot part [${params.hotOffset}, +${hot * a}) does not fit in the ${target.size}-byte range`);
  if (slots - hot < 1 && params.hotProbability < 1) throw new SimError("the hot part covers the whole range: nothing is left to be cold");
  return { lo, hi: lo + hot, slots };
}

export class HotColdPattern extends PatternBase {
  /** Hot slots are [hotLo, hotHi) in units of the access size. */
  readonly hotLo: number;
  readonly hotHi: number;
  readonly slots: number;
  private readonly hotProbability: number;

  constructor(target: Target, style: AccessStyle, params: HotColdParams, ctx: PatternContext) {
    super(target, style, ctx);
    const { lo, hi, slots } = checkHotCold(target, style, params);
    this.hotLo = lo;
    this.hotHi = hi;
    this.slots = slots;
    this.hotProbability = params.hotProbability;
  }

  fill(out: AccessBatch, count: number): void {
    const { base, accessSize, tid, gap, rng, hotLo, hotHi, slots, hotProbability } = this;
    const hot = hotHi - hotLo;
    const cold = slots - hot;
    for (let i = 0; i < count; i++) {
      let slot: number;
      if (rng.next() < hotProbability) {
        slot = hotLo + rng.int(hot);
      } else {
        slot = rng.int(cold);
        if (slot >= hotLo) slot += hot;
      }
      out.push(base + slot * accessSize, accessSize, this.nextKind(), tid, gap);
    }
  }
}
