// sim.queue: hold-model throughput of the scheduler (dispatch one event, schedule its successor)
// with 10^3, 10^5 and 10^6 pending events, plus the queue's bytes per pending event.
// Target (issue 2): >= 10 M events/s at 10^5 pending on one core, <= 48 bytes per pending event.

import { RngRoot } from "../sim/rng.ts";
import { Scheduler, type EventHandler } from "../sim/scheduler.ts";
import { EventQueue, QUEUE_BYTES_PER_SLOT } from "../sim/queue.ts";
import { round, timeMedian, type Benchmark, type BenchResult } from "./harness.ts";

const INCREMENTS = 1 << 16;

function increments(seed: number): Float64Array {
  const r = new RngRoot(seed).stream("bench.hold");
  const inc = new Float64Array(INCREMENTS);
  for (let i = 0; i < INCREMENTS; i++) inc[i] = 1 + Math.round(r.exponential(1000));
  return inc;
}

class HoldHandler implements EventHandler {
  i = 0;
  id = -1;
  constructor(private readonly sched: Scheduler, private readonly inc: Float64Array) {}
  handleEvent(_arg: number, now: number): void {
    this.sched.schedule(this.id, now + this.inc[this.i++ & (INCREMENTS - 1)]!);
  }
}

function holdScheduler(pending: number, events: number, inc: Float64Array): { seconds: number; bytesPerPending: number } {
  const sched = new Scheduler(16);
  const h = new HoldHandler(sched, inc);
  h.id = sched.register(h, "hold");
  for (let i = 0; i < pending; i++) sched.schedule(h.id, inc[(i * 7) & (INCREMENTS - 1)]! * (1 + (i % 100)));
  // warm up the JIT on the same instance
  for (let i = 0; i < Math.min(events, 200_000); i++) sched.step();
  const t = timeMedian(5, () => {
    for (let i = 0; i < events; i++) sched.step();
  });
  return { seconds: t.median, bytesPerPending: sched.queue.allocatedBytes() / sched.pending };
}

function holdRawQueue(pending: number, events: number, inc: Float64Array): number {
  const q = new EventQueue(16);
  for (let i = 0; i < pending; i++) q.push(inc[(i * 7) & (INCREMENTS - 1)]! * (1 + (i % 100)), 128, 0, 0);
  let k = 0;
  const once = (): void => {
    for (let i = 0; i < events; i++) {
      q.pop();
      q.push(q.time + inc[k++ & (INCREMENTS - 1)]!, 128, 0, 0);
    }
  };
  once();
  return timeMedian(5, once).median;
}

export const benchmarks: Benchmark[] = [
  {
    name: "sim.queue",
    description: "hold-model schedule+dispatch throughput and memory of the event queue",
    *run(): Iterable<BenchResult> {
      const inc = increments(1);
      for (const pending of [1_000, 100_000, 1_000_000]) {
        const events = 2_000_000;
        const s = holdScheduler(pending, events, inc);
        const raw = holdRawQueue(pending, events, inc);
        yield {
          name: "sim.queue",
          unit: "events/s",
          value: round(events / s.seconds),
          pending,
          measure: "scheduler hold model (dispatch + schedule), median of 5",
          rawQueueEventsPerSec: round(events / raw),
          bytesPerPendingEvent: round(s.bytesPerPending),
          bytesPerSlot: QUEUE_BYTES_PER_SLOT,
          target: pending === 100_000 ? ">= 1e7 events/s, <= 48 bytes/pending" : undefined,
        };
      }
    },
  },
];
