// kdamond as an actor on the event scheduler: it starts its context (initial regions, first
// access-check preparation), then wakes every sample interval (or, while DAMOS watermarks keep
// every scheme inactive, every watermark check interval) to run one loop iteration, and
// charges the CPU time that iteration cost to the CPU it runs on (KDAMOND category), so its
// overhead is measured the same way as every primitive's. It starts every installed primitive
// before its first sample and stops them when it stops.

import { CpuTime } from "../hw/cpu.ts";
import type { Machine } from "../hw/machine.ts";
import { Actor } from "../sim/actor.ts";
import { Priority } from "../sim/scheduler.ts";
import type { DamonContext } from "./context.ts";

/** What kdamond starts and stops: an installed access check primitive. */
export interface PrimitiveLifecycle {
  start(): void;
  stop(): void;
}

export class Kdamond extends Actor {
  /** Total CPU time kdamond has cost, ns. */
  totalCostNs = 0;
  running = false;

  constructor(
    private readonly machine: Machine,
    readonly ctx: DamonContext,
    /** The CPU kdamond runs on (default: the machine's last CPU). */
    readonly cpu: number = machine.cpus.length - 1,
    name = "kdamond.0",
    /** The installed primitives, started and stopped with kdamond (registry order). */
    readonly primitives: readonly PrimitiveLifecycle[] = [],
  ) {
    super(machine.sched, name, Priority.KERNEL);
  }

  start(): void {
    this.running = true;
    for (const p of this.primitives) p.start();
    const first = this.ctx.start(this.sched.now);
    this.charge();
    this.sleepFor(first);
  }

  stop(): void {
    this.running = false;
    this.park();
    this.ctx.ops.cleanup?.(this.ctx);
    for (const p of this.primitives) p.stop();
  }

  protected run(now: number): void {
    if (!this.running) return;
    const next = this.ctx.step(now);
    this.charge();
    this.sleepFor(next);
  }

  private charge(): void {
    const c = this.ctx.costNs;
    this.ctx.costNs = 0;
    if (c > 0) {
      this.totalCostNs += c;
      this.machine.charge(this.cpu, c, CpuTime.KDAMOND);
    }
  }
}
