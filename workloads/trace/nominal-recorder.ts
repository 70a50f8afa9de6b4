// Recording a workload without a machine: NominalRecorder drives a Workload's thread programs on a
// nominal clock and hands their accesses, interleaved, to a sink (a TraceWriter). Each thread's
// clock is round(accesses x nsPerAccess + gap ops x nsPerOp), computed from its running totals so
// rounding never drifts. The thread with the smallest clock (lowest index on ties) runs next, for
// one quantum of its own time, batch by batch; programs see their own clock as `now`, so
// time-driven workloads (masim phases) advance as they would on a machine of that speed. An access
// happens at its thread's clock after its gap ops; recording stops when every thread has ended or
// at `durationNs`, keeping exactly the accesses that happen before it. A merged workload (one
// pre-interleaved stream) runs on a single clock the same way. Defaults: 1.67 ns per access and
// 0.33 ns per op (an L1 hit and one op per cycle at 3 GHz, as in the hw presets), 10 us quanta.
// Everything is a pure function of the workload and seed.

import { RngRoot } from "../../sim/rng.ts";
import { SimError } from "../../sim/errors.ts";
import { AccessBatch, type AccessSource } from "../../hw/batch.ts";
import type { ThreadProgram, Workload } from "../../hw/program.ts";

export interface NominalClock {
  nsPerAccess: number;
  nsPerOp: number;
  quantumNs: number;
}

export const DEFAULT_NOMINAL_CLOCK: NominalClock = { nsPerAccess: 1.67, nsPerOp: 0.33, quantumNs: 10_000 };

export interface RecordOptions {
  seed: number;
  /** Stop at this nominal time (ns); default: when every thread ends. */
  durationNs?: number;
  clock?: Partial<NominalClock>;
  /** Rows per batch asked of a program (default 4096). */
  batchSize?: number;
}

interface ThreadState {
  program: ThreadProgram | null;
  source: AccessSource | null;
  accesses: number;
  ops: number;
  clock: number;
  ended: boolean;
}

export class NominalRecorder {
  private readonly threads: ThreadState[];
  private readonly batch: AccessBatch;
  private readonly clock: NominalClock;
  private readonly durationNs: number;
  private total = 0;

  constructor(workload: Workload, opts: RecordOptions) {
    this.clock = { ...DEFAULT_NOMINAL_CLOCK, ...opts.clock };
    const { nsPerAccess, nsPerOp, quantumNs } = this.clock;
    if (!(nsPerAccess > 0 && nsPerOp >= 0)) throw new SimError("nominal clock: ns per access must be > 0 and ns per op >= 0");
    if (!(quantumNs > 0)) throw new SimError("nominal clock: the quantum must be positive");
    this.durationNs = opts.durationNs ?? Infinity;
    this.batch = new AccessBatch(opts.batchSize ?? 4096);
    const run = workload.start(new RngRoot(opts.seed));
    const fresh = { accesses: 0, ops: 0, clock: 0, ended: false };
    this.threads = run.kind === "threads"
      ? run.threads.map((program) => ({ program, source: null, ...fresh }))
      : [{ program: null, source: run.source, ...fresh }];
  }

  /** Accesses handed to the sink so far. */
  get accesses(): number {
    return this.total;
  }

  /** The largest thread clock so far (nominal ns). */
  get now(): number {
    let t = 0;
    for (const th of this.threads) if (th.clock > t) t = th.clock;
    return t;
  }

  get done(): boolean {
    return this.threads.every((t) => t.ended);
  }

  /**
   * Runs quanta until at least `budget` more accesses went to `sink` or the recording is over;
   * returns false once it is over. The sink must consume the batch before returning.
   */
  step(sink: (batch: AccessBatch) => void, budget = 1 << 20): boolean {
    const target = this.total + budget;
    while (this.total < target) {
      const th = this.pickThread();
      if (th === null) return false;
      this.runQuantum(th, sink);
    }
    return !this.done;
  }

  private pickThread(): ThreadState | null {
    let best: ThreadState | null = null;
    for (const t of this.threads) if (!t.ended && (best === null || t.clock < best.clock)) best = t;
    return best;
  }

  private runQuantum(th: ThreadState, sink: (batch: AccessBatch) => void): void {
    const { nsPerAccess, nsPerOp, quantumNs } = this.clock;
    const end = th.clock + quantumNs;
    const b = this.batch;
    while (!th.ended && th.clock < end) {
      const n = th.program !== null ? th.program.next(b, th.clock) : th.source!.next(b);
      if (n === 0) {
        th.ended = true;
        break;
      }
      let a = th.accesses;
      let o = th.ops;
      const gap = b.gap;
      let keep = n;
      for (let i = 0; i < n; i++) {
        const g = gap[i]!;
        if (Math.round(a * nsPerAccess + (o + g) * nsPerOp) >= this.durationNs) {
          keep = i;
          th.ended = true;
          break;
        }
        a++;
        o += g;
      }
      th.accesses = a;
      th.ops = o;
      th.clock = Math.round(a * nsPerAccess + o * nsPerOp);
      if (keep > 0) {
        b.length = keep;
        sink(b);
        this.total += keep;
      }
    }
  }
}
