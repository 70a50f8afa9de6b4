// Access patterns: the per-thread address generators workload programs are made of. A Pattern
// appends rows to an AccessBatch for one thread; it owns its address range, its access size, its
// read/write mix and its gap (non-memory ops before each access), and draws randomness only from
// the Rng of its thread. Patterns are created once per run and never allocate per access.

import { AccessKind, type AccessBatch } from "../hw/batch.ts";
import { SimError } from "../sim/errors.ts";
import type { Rng } from "../sim/rng.ts";

export interface Pattern {
  /** A phase using this pattern starts at simulated time `start` (ns). Time-driven patterns anchor here. */
  begin(start: number): void;
  /**
   * Appends exactly `count` rows for the owning thread (the caller guarantees room); `now` is the
   * thread's simulated clock in ns at the start of the batch.
   */
  fill(out: AccessBatch, count: number, now: number): void;
}

/** How each access of a pattern is issued. */
export interface AccessStyle {
  /** Bytes per access, 1..255. */
  accessSize: number;
  /** Fraction of accesses that write, in [0, 1]. */
  writeFraction: number;
  /** What a write is: AccessKind.WRITE, or AccessKind.MODIFY (read and write of the same bytes). */
  writeKind: AccessKind;
  /** Non-memory operations executed before each access. */
  gap: number;
}

export const DEFAULT_STYLE: Readonly<AccessStyle> = { accessSize: 8, writeFraction: 0, writeKind: AccessKind.WRITE, gap: 0 };

/** The address range a pattern works on: [base, base + size). */
export interface Target {
  base: number;
  size: number;
}

/** What a pattern needs from its thread. */
export interface PatternContext {
  tid: number;
  rng: Rng;
  /** Build-time memo shared by the threads of one run (e.g. one Zipf table for a shared region). */
  memo?: Map<string, unknown>;
}

/** Checks a style and a target; throws a SimError (callers validate user input before this). */
export function checkStyle(style: AccessStyle, target: Target): void {
  const { accessSize, writeFraction, writeKind, gap } = style;
  if (!Number.isInteger(accessSize) || accessSize < 1 || accessSize > 255) throw new SimError(`access size must be 1..255 bytes, got ${accessSize}`);
  if (!(writeFraction >= 0 && writeFraction <= 1)) throw new SimError(`write fraction must be in [0, 1], got ${writeFraction}`);
  if (writeKind !== AccessKind.WRITE && writeKind !== AccessKind.MODIFY) throw new SimError(`write kind must be WRITE or MODIFY, got ${writeKind}`);
  if (!Number.isInteger(gap) || gap < 0 || gap > 0xffffffff) throw new SimError(`gap must be a non-negative 32-bit integer, got ${gap}`);
  if (!Number.isSafeInteger(target.base) || target.base < 0) throw new SimError(`target base must be a non-negative integer, got ${target.base}`);
  if (!Number.isSafeInteger(target.size) || target.size < accessSize) throw new SimError(`target size ${target.size} is smaller than one ${accessSize}-byte access`);
}

/** Shared plumbing: range, style, thread id, randomness and the read/write choice. */
export abstract class PatternBase implements Pattern {
  protected readonly tid: number;
  protected readonly rng: Rng;
  protected readonly base: number;
  protected readonly size: number;
  protected readonly accessSize: number;
  protected readonly gap: number;
  private readonly writeFraction: number;
  private readonly writeKind: number;

  constructor(target: Target, style: AccessStyle, ctx: PatternContext) {
    checkStyle(style, target);
    this.tid = ctx.tid;
    this.rng = ctx.rng;
    this.base = target.base;
    this.size = target.size;
    this.accessSize = style.accessSize;
    this.gap = style.gap;
    this.writeFraction = style.writeFraction;
    this.writeKind = style.writeKind;
  }

  begin(_start: number): void {}

  abstract fill(out: AccessBatch, count: number, now: number): void;

  /** The kind of the next access; draws a random number only for a real mix of reads and writes. */
  protected nextKind(): number {
    const w = this.writeFraction;
    if (w <= 0) return AccessKind.READ;
    if (w >= 1) return this.writeKind;
    return this.rng.next() < w ? this.writeKind : AccessKind.READ;
  }
}
