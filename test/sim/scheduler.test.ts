// Scheduler semantics: time validation, run/runFor/step, closures, periodic timers, actors, and
// determinism of the event log for a given seed.

import { describe, expect, it } from "vitest";
import { Scheduler, Priority, type EventHandler } from "../../sim/scheduler.ts";
import { Actor } from "../../sim/actor.ts";
import { RngRoot } from "../../sim/rng.ts";
import { SimError } from "../../sim/errors.ts";
import { MAX_TIME, MS, US } from "../../sim/time.ts";

class Recorder implements EventHandler {
  seen: Array<[number, number]> = [];
  handleEvent(arg: number, now: number): void {
    this.seen.push([now, arg]);
  }
}

describe("Scheduler", () => {
  it("dispatches in (time, priority, FIFO) order and advances now", () => {
    const s = new Scheduler();
    const r = new Recorder();
    const id = s.register(r);
    s.schedule(id, 20, 1, Priority.NORMAL);
    s.schedule(id, 10, 2, Priority.KERNEL);
    s.schedule(id, 10, 3, Priority.CPU);
    s.schedule(id, 10, 4, Priority.CPU);
    expect(s.run(15)).toBe(3);
    expect(s.now).toBe(15);
    expect(r.seen).toEqual([[10, 3], [10, 4], [10, 2]]);
    s.runFor(10);
    expect(r.seen.at(-1)).toEqual([20, 1]);
    expect(s.now).toBe(25);
  });

  it("rejects negative, fractional, past and too-large times with clear errors", () => {
    const s = new Scheduler();
    const id = s.register(new Recorder());
    expect(() => s.schedule(id, -1)).toThrow(/must not be negative/);
    expect(() => s.schedule(id, 1.5)).toThrow(/integer number of nanoseconds/);
    expect(() => s.schedule(id, MAX_TIME + 2)).toThrow(/past the simulated time limit/);
    expect(() => s.schedule(id, Number.NaN)).toThrow(SimError);
    expect(() => s.schedule(id, 5, 0, 300)).toThrow(/priority/);
    expect(() => s.schedule(id, 5, 0, 1.5)).toThrow(/priority/);
    expect(() => s.schedule(99, 5)).toThrow(/unknown event handler/);
    s.run(100);
    expect(() => s.schedule(id, 50)).toThrow(/in the past/);
    expect(() => s.run(10)).toThrow(/before now/);
    expect(() => s.runFor(-5)).toThrow(/negative/);
    expect(() => s.run(2 ** 60)).toThrow(/time limit/);
  });

  it("cancels, reschedules and refuses to cancel twice", () => {
    const s = new Scheduler();
    const r = new Recorder();
    const id = s.register(r);
    const a = s.schedule(id, 10, 1);
    const b = s.schedule(id, 20, 2);
    s.cancel(a);
    expect(() => s.cancel(a)).toThrow(/not pending/);
    s.reschedule(b, 5);
    s.run();
    expect(r.seen).toEqual([[5, 2]]);
    expect(() => s.cancel(b)).toThrow(/not pending/);
  });

  it("step() dispatches exactly one event", () => {
    const s = new Scheduler();
    const r = new Recorder();
    const id = s.register(r);
    s.schedule(id, 7, 1);
    s.schedule(id, 9, 2);
    expect(s.step()).toBe(true);
    expect(s.now).toBe(7);
    expect(r.seen).toEqual([[7, 1]]);
    expect(s.step()).toBe(true);
    expect(s.step()).toBe(false);
  });

  it("runs closures and cancels them", () => {
    const s = new Scheduler();
    const log: string[] = [];
    s.at(5, (t) => log.push(`a${t}`));
    const h = s.after(3, (t) => log.push(`b${t}`));
    s.at(4, () => s.after(0, (t) => log.push(`c${t}`)));
    s.cancel(h);
    s.run();
    expect(log).toEqual(["c4", "a5"]);
  });

  it("periodic timers fire every period until cancelled, and stop() ends a run", () => {
    const s = new Scheduler();
    const fired: number[] = [];
    const t = s.every(10, (now) => {
      fired.push(now);
      if (now === 30) t.setPeriod(5);
    });
    s.run(45);
    expect(fired).toEqual([10, 20, 30, 35, 40, 45]);
    t.cancel();
    expect(() => t.cancel()).toThrow(/already cancelled/);
    s.run(100);
    expect(fired.length).toBe(6);
    const s2 = new Scheduler();
    s2.every(1, (now) => { if (now === 3) s2.stop(); });
    s2.run(100);
    expect(s2.now).toBe(3);
  });

  it("actors sleep, get woken early, and park", () => {
    const s = new Scheduler();
    const log: Array<[string, number, number]> = [];
    class Sleeper extends Actor {
      protected run(now: number, reason: number): void {
        log.push([this.name, now, reason]);
      }
    }
    const a = new Sleeper(s, "a");
    const b = new Sleeper(s, "b");
    a.sleepUntil(100, 1);
    b.sleepFor(50, 2);
    s.at(10, () => a.wake(3));
    s.run(200);
    expect(log).toEqual([["a", 10, 3], ["b", 50, 2]]);
    a.sleepFor(10);
    expect(a.sleeping).toBe(true);
    a.park();
    expect(a.sleeping).toBe(false);
    s.run(300);
    expect(log.length).toBe(2);
  });

  it("quantum-interleaved CPU actors stay within one quantum of each other", () => {
    const s = new Scheduler();
    const quantum = 2 * US;
    const rng = new RngRoot(5);
    class Cpu extends Actor {
      clock = 0;
      constructor(name: string, private readonly r = rng.stream(name)) {
        super(s, name, Priority.CPU);
      }
      protected run(now: number): void {
        this.clock = Math.max(now, this.clock);
        const end = now + quantum;
        while (this.clock < end) this.clock += 1 + this.r.int(100);
        this.sleepUntil(this.clock);
      }
    }
    const cpus = [new Cpu("c0"), new Cpu("c1"), new Cpu("c2")];
    for (const c of cpus) c.sleepUntil(0);
    let worst = 0;
    s.every(US, (now) => {
      for (const c of cpus) {
        expect(c.clock).toBeGreaterThanOrEqual(now - quantum - 100);
        worst = Math.max(worst, Math.abs(c.clock - now));
      }
    }, { priority: Priority.KERNEL });
    s.run(MS);
    expect(worst).toBeLessThanOrEqual(quantum + 100);
  });
});

/** A small random simulation whose whole event log is returned as text. */
function eventLog(seed: number): string {
  const s = new Scheduler();
  const root = new RngRoot(seed);
  const lines: string[] = [];
  s.setTracer((time, prio, target, arg) => lines.push(`${time} ${prio} ${s.handlerName(target)} ${arg}`));
  class Node extends Actor {
    private readonly r;
    constructor(name: string) {
      super(s, name, Priority.NORMAL);
      this.r = root.stream(`node.${name}`);
    }
    protected run(_now: number, reason: number): void {
      this.sleepFor(1 + this.r.int(1000), (reason + 1) % 7);
      if (this.r.chance(0.1)) s.after(this.r.int(50), () => undefined, this.r.int(256));
    }
  }
  for (let i = 0; i < 5; i++) new Node(`n${i}`).sleepUntil(0);
  s.run(200_000);
  return lines.join("\n");
}

describe("determinism", () => {
  it("the same seed gives a byte-identical event log; different seeds differ", () => {
    const a = eventLog(42);
    expect(a.length).toBeGreaterThan(1000);
    expect(eventLog(42)).toBe(a);
    expect(eventLog(43)).not.toBe(a);
  });
});
