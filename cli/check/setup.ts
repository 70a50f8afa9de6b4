// Builds the simulation of one regression case: the same machine, workload and monitor that
// `damon-sim run` would build from the case's `run` options (run-setup's option helpers do the
// parsing), except that the ground truth has no window timer: the accuracy tracker closes a truth
// window at every aggregation, so DAMON's snapshot and the truth cover exactly the same time.

import { intOpt, stringOpt } from "../args.ts";
import { attrsFromArgs, machineConfig, monitorOptionsFromArgs, type RunSetup } from "../run-setup.ts";
import { RngRoot } from "../../sim/rng.ts";
import { Scheduler } from "../../sim/scheduler.ts";
import { parseDuration } from "../../sim/time.ts";
import { Machine } from "../../hw/machine.ts";
import type { Variant } from "../../damon/aggregate.ts";
import { AttributeScorer } from "../../damon/attribute-truth.ts";
import { createMonitor, type OpsName } from "../../damon/monitor.ts";
import { resolveWorkload } from "../../workloads/registry.ts";
import { CASE_FILE, runArgs, runSpec, type CaseSpec } from "./case.ts";

/** The machine (workload loaded) and the kdamond (created, not started) of case `c`. */
export function buildCaseRun(c: CaseSpec): RunSetup {
  const args = runArgs(c);
  const spec = runSpec(`${c.name}/${CASE_FILE}`);
  const seed = intOpt(spec, args, "seed") ?? 1;
  const ops = (stringOpt(args, "ops") ?? "vaddr") as OpsName;
  const variant = (stringOpt(args, "variant") ?? "mainline") as Variant;
  const attrs = attrsFromArgs(spec, args);
  const durationNs = parseDuration(stringOpt(args, "duration")!, "s", "run.duration");
  const quantumNs = parseDuration(stringOpt(args, "quantum") ?? "10us", "ns", "run.quantum");
  const config = machineConfig(stringOpt(args, "machine") ?? "2s-ddr5");
  const workload = resolveWorkload(c.workloadArg);
  const sched = new Scheduler();
  const machine = new Machine(config, sched, new RngRoot(seed), {
    quantumNs,
    flushTlbOnMkold: args.values["flush-tlb-on-mkold"] === true,
    truth: { windowNs: 0, subWindowNs: attrs.sampleUs * 1000, frames: ops === "paddr" },
  });
  machine.load(workload);
  const cpu = intOpt(spec, args, "kdamond-cpu", 0, config.cpus.length - 1);
  const mon = monitorOptionsFromArgs(spec, args, config.cpus.length);
  const monitor = createMonitor(machine, { ops, attrs, variant, ...(cpu !== undefined ? { cpu } : {}), ...mon });
  // registered before the accuracy tracker, which closes the truth window it reads
  const attributes = monitor.ctx.probes.length > 0 ? new AttributeScorer(machine, monitor.ctx) : null;
  return { sched, machine, workload, monitor, durationNs, seed, probes: mon.probes?.length ?? 0, numa: null, attributes, options: { ...args.values, workload: c.workload } };
}
