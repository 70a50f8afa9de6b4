// Phase changes over simulated time: a thread program that runs a list of phases, each a pattern
// for a simulated duration, optionally repeating the list, then ends. Phase boundaries are fixed
// on the thread's clock (t0 + the durations so far, t0 being the clock at the first batch), so
// there is no drift; a batch belongs wholly to the phase holding its start time. To land close to
// a boundary, a batch is cut short using the previous batch's time per access as the estimate.

import type { AccessBatch } from "../../hw/batch.ts";
import type { ThreadProgram } from "../../hw/program.ts";
import { SimError } from "../../sim/errors.ts";
import type { Pattern } from "../pattern.ts";

export interface Phase {
  name: string;
  /** Simulated duration in ns; Infinity for an open-ended last phase. */
  duration: number;
  pattern: Pattern;
}

export interface PhasedOptions {
  /** Times the phase list runs (Infinity: forever). Default 1. */
  repeat?: number;
  /** The thread ends this many ns after its first batch (default: never). */
  stopAfter?: number;
}

export class PhasedProgram implements ThreadProgram {
  private readonly repeat: number;
  private readonly stopAfter: number;
  /** Sum of the phase durations (Infinity with an open-ended phase). */
  private readonly cycle: number;
  private started = false;
  private ended = false;
  private t0 = 0;
  private index = 0;
  private pass = 0;
  private phaseStart = 0;
  private lastNow = 0;
  private lastRows = 0;
  private nsPerRow = 0;

  constructor(readonly tid: number, readonly phases: readonly Phase[], options: PhasedOptions = {}) {
    if (phases.length === 0) throw new SimError(`thread ${tid}: a phased program needs at least one phase`);
    this.repeat = options.repeat ?? 1;
    this.stopAfter = options.stopAfter ?? Infinity;
    if (!(this.repeat >= 1) || (Number.isFinite(this.repeat) && !Number.isInteger(this.repeat))) throw new SimError(`repeat must be a positive integer or Infinity, got ${this.repeat}`);
    if (!(this.stopAfter >= 0)) throw new SimError(`stopAfter must be non-negative, got ${this.stopAfter}`);
    let total = 0;
    phases.forEach((p, i) => {
      if (!(p.duration >= 0)) throw new SimError(`phase '${p.name}': duration must be non-negative, got ${p.duration}`);
      if (p.duration === Infinity && i !== phases.length - 1) throw new SimError(`phase '${p.name}': only the last phase may be open-ended`);
      total += p.duration;
    });
    if (total === 0) throw new SimError(`thread ${tid}: the phases last 0 ns in total`);
    this.cycle = total;
  }

  /** Index of the current phase (for tests and reports). */
  get phaseIndex(): number {
    return this.index;
  }

  get done(): boolean {
    return this.ended;
  }

  next(out: AccessBatch, now: number): number {
    out.clear();
    if (this.ended) return 0;
    if (!this.started) {
      this.started = true;
      this.t0 = now;
      this.phaseStart = now;
      this.phases[0]!.pattern.begin(now);
    } else if (this.lastRows > 0 && now > this.lastNow) {
      this.nsPerRow = (now - this.lastNow) / this.lastRows;
    }
    this.lastNow = now;
    this.lastRows = 0;
    const stopAt = this.t0 + this.stopAfter;
    if (now >= stopAt) return this.finish();
    // Move past every phase whose scheduled end is behind us.
    let phase = this.phases[this.index]!;
    while (now >= this.phaseStart + phase.duration) {
      if (this.index === 0 && now - this.phaseStart >= this.cycle) {
        // Whole passes behind (a long stall): skip them arithmetically.
        const k = Math.min(Math.floor((now - this.phaseStart) / this.cycle), this.repeat - this.pass);
        this.phaseStart += k * this.cycle;
        this.pass += k;
        if (this.pass >= this.repeat) return this.finish();
        phase.pattern.begin(this.phaseStart);
        continue;
      }
      this.phaseStart += phase.duration;
      if (++this.index === this.phases.length) {
        this.index = 0;
        if (++this.pass >= this.repeat) return this.finish();
      }
      phase = this.phases[this.index]!;
      phase.pattern.begin(this.phaseStart);
    }
    let rows = out.capacity;
    const end = Math.min(this.phaseStart + phase.duration, stopAt);
    if (end !== Infinity && this.nsPerRow > 0) {
      const est = Math.ceil((end - now) / this.nsPerRow);
      if (est < rows) rows = Math.max(1, est);
    }
    phase.pattern.fill(out, rows, now);
    this.lastRows = rows;
    return rows;
  }

  private finish(): number {
    this.ended = true;
    return 0;
  }
}
