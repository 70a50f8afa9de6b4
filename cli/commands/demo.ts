// `damon-sim demo`: a tiny, self-contained simulation that exercises the event kernel: CPU actors
// run batches of synthetic memory accesses in quanta on their own clocks, and a periodic observer
// samples them, the way kdamond will. It prints what happened and the statistics.

import { intOpt, stringOpt, type CommandSpec } from "../args.ts";
import type { Command } from "../command.ts";
import { Actor } from "../../sim/actor.ts";
import { UsageError } from "../../sim/errors.ts";
import { RngRoot, type Rng } from "../../sim/rng.ts";
import { Priority, Scheduler } from "../../sim/scheduler.ts";
import { Stats, type Counter, type Histogram } from "../../sim/stats.ts";
import { MS, formatDuration, parseDuration } from "../../sim/time.ts";

const spec: CommandSpec = {
  name: "demo",
  summary: "Run a tiny demo simulation: CPU actors execute batches of accesses in quanta while a periodic observer samples them.",
  usage: "[options]",
  positionals: { min: 0, max: 0 },
  options: {
    seed: { type: "string", value: "N", description: "root random seed", default: "1" },
    duration: { type: "string", value: "T", description: "simulated time to run", default: "100ms" },
    cpus: { type: "string", value: "N", description: "number of simulated CPUs", default: "2" },
    quantum: { type: "string", value: "T", description: "CPU batch quantum", default: "10us" },
    stats: { type: "boolean", description: "also print gem5-style stats.txt" },
    json: { type: "boolean", description: "print the statistics as JSON only" },
  },
};

/** A stand-in CPU: each access costs 1 ns (hit) or 80 ns (miss), drawn from its own stream. */
class DemoCpu extends Actor {
  clock = 0;
  accesses = 0;
  constructor(
    sched: Scheduler,
    idx: number,
    private readonly rng: Rng,
    private readonly quantum: number,
    private readonly latency: Histogram,
    private readonly batches: Counter,
  ) {
    super(sched, `cpu${idx}`, Priority.CPU);
  }
  protected run(now: number): void {
    this.clock = Math.max(this.clock, now);
    const end = now + this.quantum;
    const start = this.clock;
    while (this.clock < end) {
      this.clock += this.rng.next() < 0.95 ? 1 : 80;
      this.accesses++;
    }
    this.latency.record(this.clock - start);
    this.batches.add();
    this.sleepUntil(this.clock);
  }
}

export const command: Command = {
  spec,
  async run(args) {
    const seed = intOpt(spec, args, "seed") ?? 1;
    const duration = parseDuration(stringOpt(args, "duration") ?? "100ms", "ns", "--duration");
    const quantum = parseDuration(stringOpt(args, "quantum") ?? "10us", "ns", "--quantum");
    const ncpu = intOpt(spec, args, "cpus", 1, 1024) ?? 2;
    if (quantum <= 0) throw new UsageError("demo: --quantum must be positive");
    const sched = new Scheduler();
    const root = new RngRoot(seed);
    const stats = new Stats();
    const latency = stats.histogram("system.cpu.batchTime", "simulated time per CPU batch", "Nanosecond");
    const batches = stats.counter("system.cpu.batches", "CPU batches executed");
    const cpus: DemoCpu[] = [];
    for (let i = 0; i < ncpu; i++) {
      const cpu = new DemoCpu(sched, i, root.stream(`demo.cpu${i}`), quantum, latency, batches);
      cpu.sleepUntil(0);
      cpus.push(cpu);
    }
    const skew = stats.histogram("system.observer.skew", "largest CPU clock minus smallest, seen by the observer", "Nanosecond");
    sched.every(5 * MS, () => {
      let lo = Infinity, hi = -Infinity;
      for (const c of cpus) {
        lo = Math.min(lo, c.clock);
        hi = Math.max(hi, c.clock);
      }
      skew.record(hi - lo);
    }, { priority: Priority.KERNEL, name: "observer" });
    stats.gauge("system.accesses", "accesses executed by all CPUs", () => cpus.reduce((a, c) => a + c.accesses, 0));
    stats.gauge("sim.events", "events dispatched", () => sched.dispatched);
    stats.gauge("simSeconds", "simulated seconds", () => sched.now / 1e9, "Second");
    const t0 = performance.now();
    sched.run(duration);
    const wall = (performance.now() - t0) / 1000;
    if (args.values.json === true) {
      process.stdout.write(JSON.stringify(stats.toJSON(), null, 2) + "\n");
      return 0;
    }
    const acc = stats.value("system.accesses");
    process.stdout.write(
      [
        `damon-sim demo: ${ncpu} CPUs, quantum ${formatDuration(quantum)}, seed ${seed}`,
        `simulated ${formatDuration(sched.now)} in ${wall.toFixed(3)} s of wall time`,
        `events dispatched: ${sched.dispatched}`,
        `accesses executed: ${acc} (${(acc / Math.max(wall, 1e-9) / 1e6).toFixed(1)} M/s of wall time)`,
        `CPU batch time p50/p99: ${latency.percentile(50)} / ${latency.percentile(99)} ns`,
        `largest CPU skew seen by the observer: ${formatDuration(skew.max)} (bound: quantum + one access = ${formatDuration(quantum + 80)})`,
        "",
      ].join("\n"),
    );
    if (args.values.stats === true) process.stdout.write(stats.toStatsTxt());
    return 0;
  },
};
