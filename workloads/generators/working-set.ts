// A working set that grows and shrinks over simulated time: accesses stay inside the first
// wss(t) bytes of the range, where wss follows a periodic shape between `minBytes` and `maxBytes`
// (rounded down to `granularity`), t being the time since the phase began. Inside the window the
// accesses are uniform ("random") or a sequential sweep that wraps at the current window end.
// The window is computed once per batch, from the batch's `now`.

import type { AccessBatch } from "../../hw/batch.ts";
import { SimError } from "../../sim/errors.ts";
import { SEC } from "../../sim/time.ts";
import { PAGE_SIZE } from "../../sim/units.ts";
import type { Fields } from "../json-fields.ts";
import { PatternBase, type AccessStyle, type PatternContext, type Target } from "../pattern.ts";

export const WSS_SHAPES = ["triangle", "sine", "sawtooth", "square"] as const;
export type WssShape = (typeof WSS_SHAPES)[number];

export interface WorkingSetParams {
  /** Smallest window, bytes (0 = one granule). */
  minBytes: number;
  /** Largest window, bytes (0 = the whole range). */
  maxBytes: number;
  /** Length of one grow-and-shrink cycle, ns. */
  period: number;
  shape: WssShape;
  access: "random" | "sequential";
  /** The window grows and shrinks in steps of this many bytes. */
  granularity: number;
}

export function parseWorkingSetParams(f: Fields): WorkingSetParams {
  const period = f.duration("period", SEC);
  if (period <= 0) f.fail("period", "must be positive");
  return {
    minBytes: f.size("minBytes", 0),
    maxBytes: f.size("maxBytes", 0),
    period,
    shape: f.oneOf("shape", WSS_SHAPES, "triangle"),
    access: f.oneOf("access", ["random", "sequential"] as const, "random"),
    granularity: f.size("granularity", PAGE_SIZE, 1),
  };
}

/** The shape's level in [0, 1] at phase x in [0, 1) of the period. */
export function shapeLevel(shape: WssShape, x: number): number {
  switch (shape) {
    case "triangle":
      return 1 - Math.abs(2 * x - 1);
    case "sine":
      return (1 - Math.cos(2 * Math.PI * x)) / 2;
    case "sawtooth":
      return x;
    case "square":
      return x < 0.5 ? 0 : 1;
  }
}

/** Throws a SimError unless the parameters fit the target. Returns the effective [min, max] window. */
export function checkWorkingSet(target: Target, style: AccessStyle, params: WorkingSetParams): { min: number; max: number } {
  const g = params.granularity;
  if (!Number.isSafeInteger(g) || g < 1) throw new SimError(`granularity must be a positive integer, got ${g}`);
  const min = params.minBytes === 0 ? Math.min(target.size, Math.max(g, style.accessSize)) : params.minBytes;
  const max = params.maxBytes === 0 ? target.size : params.maxBytes;
  if (min < style.accessSize) throw new SimError(`minBytes ${min} is smaller than one ${style.accessSize}-byte access`);
  if (max > target.size) throw new SimError(`maxBytes ${max} is larger than the ${target.size}-byte range`);
  if (min > max) throw new SimError(`minBytes ${min} is larger than maxBytes ${max}`);
  if (!(params.period > 0) || !Number.isFinite(params.period)) throw new SimError(`period must be positive, got ${params.period}`);
  return { min, max };
}

export class WorkingSetPattern extends PatternBase {
  readonly minBytes: number;
  readonly maxBytes: number;
  private readonly period: number;
  private readonly shape: WssShape;
  private readonly sequential: boolean;
  private readonly granularity: number;
  private start = Number.NaN;
  private offset = 0;

  constructor(target: Target, style: AccessStyle, params: WorkingSetParams, ctx: PatternContext) {
    super(target, style, ctx);
    const { min, max } = checkWorkingSet(target, style, params);
    this.granularity = params.granularity;
    this.minBytes = min;
    this.maxBytes = max;
    this.period = params.period;
    this.shape = params.shape;
    this.sequential = params.access === "sequential";
  }

  override begin(start: number): void {
    this.start = start;
  }

  /** The window size at simulated time `now` (bytes). */
  windowAt(now: number): number {
    if (Number.isNaN(this.start)) this.start = now;
    const t = Math.max(0, now - this.start) % this.period;
    const raw = this.minBytes + (this.maxBytes - this.minBytes) * shapeLevel(this.shape, t / this.period);
    const stepped = Math.floor(raw / this.granularity) * this.granularity;
    return Math.min(this.maxBytes, Math.max(this.minBytes, stepped));
  }

  fill(out: AccessBatch, count: number, now: number): void {
    const { base, accessSize, tid, gap, rng } = this;
    const wss = this.windowAt(now);
    if (this.sequential) {
      const last = wss - accessSize;
      let off = this.offset > last ? 0 : this.offset;
      for (let i = 0; i < count; i++) {
        out.push(base + off, accessSize, this.nextKind(), tid, gap);
        off += accessSize;
        if (off > last) off = 0;
      }
      this.offset = off;
    } else {
      const slots = Math.floor(wss / accessSize);
      for (let i = 0; i < count; i++) out.push(base + rng.int(slots) * accessSize, accessSize, this.nextKind(), tid, gap);
    }
  }
}
