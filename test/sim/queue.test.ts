// The event queue against a naive reference model (a sorted array): any interleaving of
// push / pop / cancel / reschedule must pop the same events in the same order.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { EventQueue } from "../../sim/queue.ts";
import { SimError } from "../../sim/errors.ts";
import { RngRoot } from "../../sim/rng.ts";

interface ModelEvent {
  time: number;
  prio: number;
  seq: number;
  target: number;
  arg: number;
  handle: number;
}

/** Reference model: a plain array kept sorted by (time, priority, sequence). */
class ModelQueue {
  events: ModelEvent[] = [];
  seq = 0;
  private insertSorted(e: ModelEvent): void {
    let lo = 0, hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const x = this.events[mid]!;
      if (x.time < e.time || (x.time === e.time && (x.prio < e.prio || (x.prio === e.prio && x.seq < e.seq)))) lo = mid + 1;
      else hi = mid;
    }
    this.events.splice(lo, 0, e);
  }
  push(time: number, prio: number, target: number, arg: number, handle: number): void {
    this.insertSorted({ time, prio, seq: this.seq++, target, arg, handle });
  }
  pop(): ModelEvent | undefined {
    return this.events.shift();
  }
  remove(handle: number): void {
    this.events = this.events.filter((e) => e.handle !== handle);
  }
  reschedule(handle: number, time: number, prio: number | undefined): void {
    const e = this.events.find((x) => x.handle === handle)!;
    this.remove(handle);
    e.time = time;
    if (prio !== undefined) e.prio = prio;
    e.seq = this.seq++;
    this.insertSorted(e);
  }
}

type Op =
  | { kind: "push"; time: number; prio: number }
  | { kind: "pop" }
  | { kind: "cancel"; pick: number }
  | { kind: "reschedule"; pick: number; time: number; prio: number | undefined }
  | { kind: "cancelStale"; pick: number };

/** Delays from "now" (the last popped time): dense ties, moderate spreads and huge jumps. */
const delayArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 40 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 100_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 ** 50 }) },
  { weight: 1, arbitrary: fc.constant(0) },
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("push" as const), time: delayArb, prio: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("pop" as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("cancel" as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("reschedule" as const),
      pick: fc.nat(),
      time: delayArb,
      prio: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("cancelStale" as const), pick: fc.nat() }) },
);

function runBoth(ops: Op[], initialCapacity: number): void {
  const q = new EventQueue(initialCapacity);
  const m = new ModelQueue();
  const stale: number[] = [];
  let nextArg = 0;
  let now = 0;
  for (const op of ops) {
    switch (op.kind) {
      case "push": {
        const arg = nextArg++;
        const h = q.push(now + op.time, op.prio, arg % 7, arg);
        m.push(now + op.time, op.prio, arg % 7, arg, h);
        break;
      }
      case "pop": {
        const expected = m.pop();
        const got = q.pop();
        expect(got).toBe(expected !== undefined);
        if (expected) {
          expect([q.time, q.priority, q.target, q.arg, q.handle]).toEqual([expected.time, expected.prio, expected.target, expected.arg, expected.handle]);
          expect(q.isPending(expected.handle)).toBe(false);
          now = expected.time;
          stale.push(expected.handle);
        }
        break;
      }
      case "cancel": {
        if (m.events.length === 0) break;
        const e = m.events[op.pick % m.events.length]!;
        q.cancel(e.handle);
        m.remove(e.handle);
        stale.push(e.handle);
        break;
      }
      case "reschedule": {
        if (m.events.length === 0) break;
        const e = m.events[op.pick % m.events.length]!;
        const h = q.reschedule(e.handle, now + op.time, op.prio);
        m.reschedule(e.handle, now + op.time, op.prio);
        expect(q.isPending(e.handle)).toBe(false);
        stale.push(e.handle);
        e.handle = h;
        expect(q.timeOf(h)).toBe(now + op.time);
        break;
      }
      case "cancelStale": {
        if (stale.length === 0) break;
        const h = stale[op.pick % stale.length]!;
        expect(() => q.cancel(h)).toThrow(SimError);
        break;
      }
    }
    expect(q.size).toBe(m.events.length);
  }
  // Drain: the rest must come out in model order too.
  for (let e = m.pop(); e !== undefined; e = m.pop()) {
    expect(q.pop()).toBe(true);
    expect([q.time, q.priority, q.arg]).toEqual([e.time, e.prio, e.arg]);
  }
  expect(q.pop()).toBe(false);
  expect(q.peekTime()).toBe(Infinity);
}

describe("EventQueue", () => {
  it("matches a sorted-array model under any interleaving of operations", () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 300 }), (ops) => runBoth(ops, 16)), { numRuns: 400 });
  });

  it("matches the model with many pending events (rungs, child rungs, growth, rebuilds)", () => {
    const q = new EventQueue(16);
    const m = new ModelQueue();
    const rng = new RngRoot(12345).stream("queue-test");
    const rand = (n: number): number => rng.int(n);
    let now = 0;
    for (let round = 0; round < 60_000; round++) {
      const r = round < 20_000 ? rand(60) : rand(100);
      if (r < 45) {
        const scale = round < 40_000 ? [1, 10, 100, 1000][rand(4)]! : rand(100) === 0 ? 2 ** 45 : [1, 10, 1000, 2 ** 20][rand(4)]!;
        const t = now + rand(scale);
        const prio = rand(3);
        const h = q.push(t, prio, 0, round);
        m.push(t, prio, 0, round, h);
      } else if (r < 85) {
        const e = m.pop();
        expect(q.pop()).toBe(e !== undefined);
        if (e) {
          expect([q.time, q.arg]).toEqual([e.time, e.arg]);
          now = e.time;
        }
      } else if (m.events.length > 0) {
        const i = rand(m.events.length);
        const e = m.events[i]!;
        q.cancel(e.handle);
        m.events.splice(i, 1);
      }
    }
    expect(q.size).toBe(m.events.length);
    expect(q.counters.topSpreads).toBeGreaterThanOrEqual(2);
    expect(q.counters.childSpreads).toBeGreaterThanOrEqual(3);
    expect(q.counters.maxRungs).toBeGreaterThanOrEqual(3);
  });

  it("rebuilds when cancelled events outnumber live ones, keeping order", () => {
    const q = new EventQueue(16);
    const keep: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const h = q.push(1000 + (i * 7919) % 5000, 0, 0, i);
      if (i % 10 === 0) keep.push(i);
      else q.cancel(h);
    }
    expect(q.counters.rebuilds).toBeGreaterThan(0);
    expect(q.size).toBe(keep.length);
    const times: number[] = [];
    while (q.pop()) times.push(q.time);
    expect(times.length).toBe(keep.length);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(q.capacity).toBeLessThan(20_000);
  });

  it("matches the model across growth of its arrays", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 500, maxLength: 3000 }), (ops) => runBoth(ops, 16)),
      { numRuns: 20 },
    );
  });

  it("orders equal times by priority, then FIFO", () => {
    const q = new EventQueue();
    q.push(10, 5, 0, 1);
    q.push(10, 1, 0, 2);
    q.push(10, 5, 0, 3);
    q.push(5, 9, 0, 4);
    q.push(10, 1, 0, 5);
    const out: number[] = [];
    while (q.pop()) out.push(q.arg);
    expect(out).toEqual([4, 2, 5, 1, 3]);
  });

  it("orders thousands of simultaneous events by priority, then FIFO, however they arrive", () => {
    const q = new EventQueue();
    const rng = new RngRoot(3).stream("ties");
    const expected: Array<[number, number, number]> = [];
    let arg = 0;
    // Spread arrivals over time so that the same instants are reached through Top, rungs and direct inserts.
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 2000; i++) {
        const t = 1000 + rng.int(3);
        const p = rng.int(4);
        q.push(t, p, 0, arg);
        expected.push([t, p, arg++]);
      }
      if (round === 2) {
        expect(q.pop()).toBe(true); // forces rungs to be built mid-way
        const first = expected.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]).shift()!;
        expect(q.arg).toBe(first[2]);
      }
    }
    expected.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
    const got: number[] = [];
    while (q.pop()) got.push(q.arg);
    expect(got).toEqual(expected.map((e) => e[2]));
  });

  it("a rescheduled event goes behind equal-time, equal-priority events", () => {
    const q = new EventQueue();
    const a = q.push(10, 0, 0, 1);
    q.push(10, 0, 0, 2);
    expect(q.isPending(q.reschedule(a, 10))).toBe(true);
    const out: number[] = [];
    while (q.pop()) out.push(q.arg);
    expect(out).toEqual([2, 1]);
  });

  it("rejects cancelling twice, cancelling a fired event and foreign handles", () => {
    const q = new EventQueue();
    const h = q.push(1, 0, 0, 0);
    q.cancel(h);
    expect(() => q.cancel(h)).toThrow(/not pending/);
    const h2 = q.push(2, 0, 0, 0);
    expect(q.pop()).toBe(true);
    expect(() => q.cancel(h2)).toThrow(/not pending/);
    expect(() => q.reschedule(h2, 5)).toThrow(/not pending/);
    const h3 = q.push(3, 0, 0, 0);
    const h4 = q.reschedule(h3, 4);
    expect(() => q.cancel(h3)).toThrow(/not pending/);
    q.cancel(h4);
    expect(() => q.cancel(-1)).toThrow(SimError);
    expect(() => q.cancel(1.5)).toThrow(SimError);
    expect(() => q.cancel(12345)).toThrow(SimError);
  });

  it("reuses slots without confusing old handles with new ones", () => {
    const q = new EventQueue();
    const h1 = q.push(1, 0, 0, 0);
    q.cancel(h1);
    const h2 = q.push(1, 0, 0, 0);
    expect(h2).not.toBe(h1);
    expect(q.isPending(h1)).toBe(false);
    expect(q.isPending(h2)).toBe(true);
  });

  it("keeps its footprint under 48 bytes per slot", () => {
    const q = new EventQueue(16);
    for (let i = 0; i < 100_000; i++) q.push(i, 0, 0, 0);
    expect(q.allocatedBytes() / q.size).toBeLessThanOrEqual(48);
  });
});
