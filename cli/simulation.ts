// The one builder of a simulation, used by every command that simulates: run and check (through
// run-setup's buildRun), compare's variants (experiment/variant.ts) and stat. It makes the
// scheduler and the machine (seeded; ground truth counted per sample interval, by frame when the
// operations set needs it), loads the workload, registers the end-of-workload callback, and puts
// DAMON on the machine (created, not started), or nothing for an unmonitored baseline.

import { RngRoot } from "../sim/rng.ts";
import { Scheduler } from "../sim/scheduler.ts";
import type { MachineConfig } from "../hw/config.ts";
import { Machine } from "../hw/machine.ts";
import type { Workload } from "../hw/program.ts";
import { createMonitor, type Monitor, type MonitorOptions } from "../damon/monitor.ts";
import { opsSet, type OpsName } from "../damon/ops-sets.ts";

export interface SimulationOptions {
  config: MachineConfig;
  workload: Workload;
  seed: number;
  /** CPU quantum, ns (default: the machine's). */
  quantumNs?: number;
  flushTlbOnMkold?: boolean;
  /** Ground truth counted per sub-window of subWindowNs (the sample interval), as `ops` needs it; false: none. Windows close at DAMON's aggregations. */
  truth: { subWindowNs: number; ops: OpsName } | false;
  /** Called when every thread has ended (registered before DAMON is created). */
  onFinish?: (now: number) => void;
  /** DAMON: createMonitor's options, a function building it on the loaded machine, or null (no monitoring). */
  monitor: MonitorOptions | ((machine: Machine) => Monitor) | null;
}

export interface Simulation {
  sched: Scheduler;
  machine: Machine;
  monitor: Monitor | null;
}

export function buildSimulation(o: SimulationOptions): Simulation {
  const sched = new Scheduler();
  const machine = new Machine(o.config, sched, new RngRoot(o.seed), {
    ...(o.quantumNs !== undefined ? { quantumNs: o.quantumNs } : {}),
    flushTlbOnMkold: o.flushTlbOnMkold === true,
    // windows are closed at DAMON's aggregations, not by a timer, so they follow tuned intervals
    truth: o.truth === false ? false : { windowNs: 0, subWindowNs: o.truth.subWindowNs, frames: opsSet(o.truth.ops).truthFrames },
  });
  machine.load(o.workload);
  if (o.onFinish) machine.onAllThreadsDone(o.onFinish);
  const m = o.monitor;
  const monitor = m === null ? null : typeof m === "function" ? m(machine) : createMonitor(machine, m);
  return { sched, machine, monitor };
}
