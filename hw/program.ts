// What the machine runs: a Workload is a process layout plus, per thread, a ThreadProgram that
// yields that thread's accesses batch by batch; or, for replayed traces, one merged stream of
// every thread's accesses in recorded order. Programs see their thread's simulated clock, so
// time-driven workloads (masim phases of N ms) follow simulated time, not wall time.

import type { RngRoot } from "../sim/rng.ts";
import type { AccessBatch, AccessSource } from "./batch.ts";
import type { WorkloadLayout } from "./layout.ts";

export interface ThreadProgram {
  readonly tid: number;
  /**
   * Clears `out` and fills it with this thread's next accesses (every row's tid is this thread's);
   * `now` is the thread's simulated clock in ns. Returns the row count; 0 means the thread ended.
   */
  next(out: AccessBatch, now: number): number;
}

export type WorkloadRun =
  | { kind: "threads"; threads: ThreadProgram[] }
  | { kind: "merged"; source: AccessSource };

export interface Workload {
  readonly name: string;
  readonly layout: WorkloadLayout;
  /** Starts a fresh, deterministic run; random choices draw from `rng` sub-streams. */
  start(rng: RngRoot): WorkloadRun;
}
