// The discrete-event scheduler: simulated time `now`, the event queue, registered event handlers,
// and run/step control. Ordering of events (documented, and relied on by every layer):
//   1. earlier time first;
//   2. at equal time, smaller priority number first (see Priority);
//   3. at equal time and priority, the event scheduled (or rescheduled) first fires first.
// Handlers are registered once and addressed by a small integer id, so scheduling an event
// allocates nothing. One-off closures are also accepted (at/after) for code off the hot path.

import { SimError } from "./errors.ts";
import { EventQueue, MAX_PRIORITY } from "./queue.ts";
import { MAX_TIME, checkTime } from "./time.ts";

/** Something that receives events. `arg` is the small integer given when the event was scheduled. */
export interface EventHandler {
  handleEvent(arg: number, now: number): void;
}

/** Conventional priorities: lower fires first at equal time. Any integer in [0, 255] is allowed. */
export const Priority = {
  /** Hardware that must act before software looks at the same instant (interrupt delivery). */
  HARDWARE: 32,
  /** Simulated CPUs executing their batches of accesses. */
  CPU: 96,
  /** Default for everything else. */
  NORMAL: 128,
  /** Kernel threads and timers that observe the machine (kdamond, scanners). */
  KERNEL: 160,
  /** Bookkeeping that must see everything else at that instant (stats windows, snapshots). */
  OBSERVER: 224,
} as const;

export type DispatchTracer = (time: number, priority: number, target: number, arg: number) => void;

const CLOSURE_TARGET = -1;

export class Scheduler {
  /** Current simulated time in ns. */
  now = 0;
  /** Events dispatched since creation. */
  dispatched = 0;
  readonly queue: EventQueue;
  private readonly handlers: EventHandler[] = [];
  private readonly handlerNames: string[] = [];
  private readonly closures: Array<((now: number) => void) | undefined> = [];
  private stopped = false;
  private tracer: DispatchTracer | null = null;

  constructor(initialCapacity = 1024) {
    this.queue = new EventQueue(initialCapacity);
  }

  /** Registers a handler and returns its id, used as the target of scheduled events. */
  register(handler: EventHandler, name = `handler${this.handlers.length}`): number {
    this.handlers.push(handler);
    this.handlerNames.push(name);
    return this.handlers.length - 1;
  }

  handlerName(id: number): string {
    return id === CLOSURE_TARGET ? "closure" : (this.handlerNames[id] ?? `#${id}`);
  }

  /** Calls `tracer` before every dispatch (for event logs); null turns it off. */
  setTracer(tracer: DispatchTracer | null): void {
    this.tracer = tracer;
  }

  /** Schedules an event for handler `target` at absolute `time`. Returns a handle. */
  schedule(target: number, time: number, arg = 0, priority: number = Priority.NORMAL): number {
    if (!(time >= this.now && time <= MAX_TIME && Number.isInteger(time))) this.badTime(time);
    if (!(priority >= 0 && priority <= MAX_PRIORITY && (priority | 0) === priority)) this.badPriority(priority);
    if (!(target >= 0 && target < this.handlers.length)) throw new SimError(`unknown event handler id ${target}`);
    return this.queue.push(time, priority, target, arg | 0);
  }

  /** Schedules an event `delay` ns from now. */
  scheduleIn(target: number, delay: number, arg = 0, priority: number = Priority.NORMAL): number {
    return this.schedule(target, this.now + delay, arg, priority);
  }

  /** Runs a closure at absolute `time` (convenience for code off the hot path). */
  at(time: number, fn: (now: number) => void, priority: number = Priority.NORMAL): number {
    if (!(time >= this.now && time <= MAX_TIME && Number.isInteger(time))) this.badTime(time);
    if (!(priority >= 0 && priority <= MAX_PRIORITY && (priority | 0) === priority)) this.badPriority(priority);
    const h = this.queue.push(time, priority, CLOSURE_TARGET, 0);
    this.closures[h % 2 ** 26] = fn;
    return h;
  }

  after(delay: number, fn: (now: number) => void, priority: number = Priority.NORMAL): number {
    return this.at(this.now + delay, fn, priority);
  }

  cancel(handle: number): void {
    this.queue.cancel(handle);
    this.closures[handle % 2 ** 26] = undefined;
  }

  /** Moves a pending event; returns its new handle (the old one stops being pending). */
  reschedule(handle: number, time: number, priority?: number): number {
    if (!(time >= this.now && time <= MAX_TIME && Number.isInteger(time))) this.badTime(time);
    if (priority !== undefined && !(priority >= 0 && priority <= MAX_PRIORITY && (priority | 0) === priority)) this.badPriority(priority);
    const oldSlot = handle % 2 ** 26;
    const fn = this.closures[oldSlot];
    const h = this.queue.reschedule(handle, time, priority);
    if (fn !== undefined) {
      this.closures[oldSlot] = undefined;
      this.closures[h % 2 ** 26] = fn;
    }
    return h;
  }

  isPending(handle: number): boolean {
    return this.queue.isPending(handle);
  }

  /** Number of pending events. */
  get pending(): number {
    return this.queue.size;
  }

  /** Time of the next pending event, or Infinity. */
  nextEventTime(): number {
    return this.queue.peekTime();
  }

  /**
   * Dispatches every event with time <= until, then sets now = until. Without `until`, runs until
   * the queue is empty (now stays at the last event's time). stop() ends it early.
   * Returns the number of events dispatched.
   */
  run(until?: number): number {
    const limit = until === undefined ? MAX_TIME : checkTime(until, "run limit");
    if (limit < this.now) throw new SimError(`cannot run until ${limit} ns: it is before now (${this.now} ns)`);
    this.stopped = false;
    const q = this.queue;
    let count = 0;
    while (!this.stopped) {
      const t = q.peekTime();
      if (t > limit) break;
      q.pop();
      this.now = t;
      this.dispatch(q);
      count++;
    }
    if (until !== undefined && !this.stopped) this.now = limit;
    return count;
  }

  /** Runs for `duration` ns of simulated time from now. */
  runFor(duration: number): number {
    checkTime(duration, "run duration");
    return this.run(this.now + duration);
  }

  /** Dispatches the single earliest event. Returns false when none is pending. */
  step(): boolean {
    const q = this.queue;
    if (!q.pop()) return false;
    this.now = q.time;
    this.dispatch(q);
    return true;
  }

  /** Makes the current run()/runFor() return after the event being dispatched. */
  stop(): void {
    this.stopped = true;
  }

  /** Calls `fn` every `period` ns, first at `start` (default now + period). */
  every(period: number, fn: (now: number) => void, options: { start?: number; priority?: number; name?: string } = {}): PeriodicTimer {
    return new PeriodicTimer(this, period, fn, options);
  }

  private dispatch(q: EventQueue): void {
    this.dispatched++;
    const target = q.target;
    if (this.tracer !== null) this.tracer(q.time, q.priority, target, q.arg);
    if (target === CLOSURE_TARGET) {
      const fn = this.closures[q.slot];
      this.closures[q.slot] = undefined;
      fn!(this.now);
    } else {
      this.handlers[target]!.handleEvent(q.arg, this.now);
    }
  }

  private badTime(time: number): never {
    checkTime(time, "event time");
    throw new SimError(`event time ${time} ns is in the past (now is ${this.now} ns)`);
  }

  private badPriority(priority: number): never {
    throw new SimError(`event priority must be an integer in [0, ${MAX_PRIORITY}], got ${priority}`);
  }
}

/** A repeating timer. Cancel it with cancel(); change its period with setPeriod(). */
export class PeriodicTimer implements EventHandler {
  private readonly id: number;
  private handle = -1;
  private periodNs: number;
  private readonly priority: number;
  private active = true;

  constructor(
    private readonly sched: Scheduler,
    period: number,
    private readonly fn: (now: number) => void,
    options: { start?: number; priority?: number; name?: string } = {},
  ) {
    this.periodNs = checkPeriod(period);
    this.priority = options.priority ?? Priority.NORMAL;
    this.id = sched.register(this, options.name ?? "timer");
    this.handle = sched.schedule(this.id, options.start ?? sched.now + period, 0, this.priority);
  }

  get period(): number {
    return this.periodNs;
  }

  /** The new period is used the next time the timer schedules itself: after the pending firing, or
   *  right away when called from the timer's own callback. */
  setPeriod(period: number): void {
    this.periodNs = checkPeriod(period);
  }

  cancel(): void {
    if (!this.active) throw new SimError("periodic timer is already cancelled");
    this.active = false;
    if (this.sched.isPending(this.handle)) this.sched.cancel(this.handle);
  }

  handleEvent(_arg: number, now: number): void {
    this.fn(now);
    if (this.active) this.handle = this.sched.schedule(this.id, now + this.periodNs, 0, this.priority);
  }
}

function checkPeriod(period: number): number {
  checkTime(period, "timer period");
  if (period === 0) throw new SimError("timer period must be positive");
  return period;
}
