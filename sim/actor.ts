// Actors: components with their own thread of control on the scheduler (a CPU, kdamond, a
// sampler). An actor sleeps until a time or until another component wakes it; at most one wake-up
// is pending per actor, so sleeping again moves the pending wake-up instead of adding one.
//
// How a CPU runs (quantum-based interleaving, as fast parallel simulators bound skew):
//   * A CPU actor is woken at global time T. It executes a batch of accesses on its *own* clock,
//     starting at T and adding each access's latency, until its clock reaches T + quantum (or its
//     batch ends, or it blocks). It then sleeps until its own clock value and yields.
//   * Other actors (kdamond, samplers, other CPUs) run between batches, so any two CPUs are at
//     most one quantum (plus one access) apart, and an observer at time T sees every CPU's work up
//     to at least T - quantum. Smaller quanta give tighter interleaving; larger ones run faster.
//   * Costs charged to a CPU (a fault handler, an NMI) are added to its clock, which delays the
//     next batch: that is how overhead turns into slowdown.

import { Priority, type EventHandler, type Scheduler } from "./scheduler.ts";

export abstract class Actor implements EventHandler {
  readonly id: number;
  private wakeHandle = -1;

  constructor(
    protected readonly sched: Scheduler,
    readonly name: string,
    protected readonly priority: number = Priority.NORMAL,
  ) {
    this.id = sched.register(this, name);
  }

  /** Called when the actor wakes up. `reason` is the arg given to sleepUntil/wake. */
  protected abstract run(now: number, reason: number): void;

  handleEvent(arg: number, now: number): void {
    this.wakeHandle = -1;
    this.run(now, arg);
  }

  /** True while a wake-up is pending. */
  get sleeping(): boolean {
    return this.wakeHandle >= 0;
  }

  /** Sleeps until absolute time t (replacing any pending wake-up). */
  sleepUntil(t: number, reason = 0): void {
    if (this.wakeHandle >= 0) this.sched.cancel(this.wakeHandle);
    this.wakeHandle = this.sched.schedule(this.id, t, reason, this.priority);
  }

  sleepFor(duration: number, reason = 0): void {
    this.sleepUntil(this.sched.now + duration, reason);
  }

  /** Wakes the actor at the current time (after events already queued for this instant). */
  wake(reason = 0): void {
    this.sleepUntil(this.sched.now, reason);
  }

  /** Drops the pending wake-up: the actor stays idle until someone wakes it. */
  park(): void {
    if (this.wakeHandle >= 0) this.sched.cancel(this.wakeHandle);
    this.wakeHandle = -1;
  }
}
