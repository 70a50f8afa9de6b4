// Builds small machines and explicit-row workloads for hardware tests.

import { AccessBatch, type AccessKind } from "../../hw/batch.ts";
import { validateMachineConfig, type MachineConfig } from "../../hw/config.ts";
import { buildProcess, type AreaRequest, type LayoutRequest, type VmaSpec, type WorkloadLayout } from "../../hw/layout.ts";
import { Machine, type MachineOptions } from "../../hw/machine.ts";
import { preset } from "../../hw/presets.ts";
import type { ThreadProgram, Workload } from "../../hw/program.ts";
import { RngRoot } from "../../sim/rng.ts";
import { Scheduler } from "../../sim/scheduler.ts";
import { mmProblems } from "./mm-invariants.ts";

export interface Row {
  addr: number;
  size?: number;
  kind: AccessKind;
  gap?: number;
}

/** A step of a scripted thread: an access, or an action run when the thread reaches it. */
export type Step = Row | { action: (now: number) => void };

/**
 * A program that plays a fixed list of steps, `perBatch` accesses at a time. An action ends the
 * current batch, so it runs after every access before it has executed (in program order).
 */
export class ListProgram implements ThreadProgram {
  private i = 0;
  constructor(readonly tid: number, private readonly steps: Step[], private readonly perBatch = 1024) {}
  next(out: AccessBatch, now: number): number {
    out.clear();
    while (this.i < this.steps.length && out.length < Math.min(out.capacity, this.perBatch)) {
      const r = this.steps[this.i]!;
      if ("action" in r) {
        if (out.length > 0) break;
        r.action(now);
        this.i++;
        continue;
      }
      this.i++;
      out.push(r.addr, r.size ?? 8, r.kind, this.tid, r.gap ?? 0);
    }
    return out.length;
  }
}

export function listWorkload(layout: WorkloadLayout, rows: Map<number, Step[]>, perBatch = 1024): Workload {
  return {
    name: "list",
    layout,
    start: () => ({ kind: "threads", threads: [...rows].map(([tid, r]) => new ListProgram(tid, r, perBatch)) }),
  };
}

export function oneProcess(req: LayoutRequest): { layout: WorkloadLayout; areas: Map<string, VmaSpec> } {
  const { process, areas } = buildProcess(req);
  return { layout: { processes: [process] }, areas };
}

export function makeMachine(config: MachineConfig | string = "tiny", options: MachineOptions = {}, seed = 1): { m: Machine; sched: Scheduler } {
  const cfg = typeof config === "string" ? preset(config)! : config;
  const sched = new Scheduler();
  const m = new Machine(cfg, sched, new RngRoot(seed), options);
  return { m, sched };
}

/** The tiny preset with a second (CPU-less) node; capacities in 4 KiB frames. */
export function twoNodeTiny(frames0: number, frames1: number): MachineConfig {
  const c = preset("tiny")!;
  c.nodes = [
    { id: 0, capacity: frames0 * 4096, kind: "dram", latencyNs: 90, bandwidthGBps: 20 },
    { id: 1, capacity: frames1 * 4096, kind: "cxl", latencyNs: 200, bandwidthGBps: 10 },
  ];
  c.distance = [[10, 20], [20, 10]];
  c.latencyNs = [[90, 200], [200, 200]];
  return validateMachineConfig(c);
}

/** The tiny preset with `frames` 4 KiB frames of memory and some costs changed. */
export function tinyWith(frames: number, costs: Partial<MachineConfig["costs"]> = {}): MachineConfig {
  const c = preset("tiny")!;
  c.nodes[0]!.capacity = frames * 4096;
  c.costs = { ...c.costs, ...costs };
  return validateMachineConfig(c);
}

/**
 * Runs one process (pid 1; thread 1 on CPU 0) over the steps made from its areas' start addresses,
 * to the end; throws if it did not finish or left the memory bookkeeping inconsistent.
 */
export function runProcess(
  cfg: MachineConfig,
  mmap: AreaRequest[],
  steps: (a: Map<string, number>, m: Machine) => Step[],
  o: { options?: MachineOptions; memcg?: number } = {},
): { m: Machine; a: Map<string, number> } {
  const { process, areas } = buildProcess({ pid: 1, mmap, threads: [{ tid: 1, cpus: [0] }], ...(o.memcg !== undefined ? { memcg: o.memcg } : {}) });
  const a = new Map([...areas].map(([k, v]) => [k, v.start]));
  const { m, sched } = makeMachine(cfg, o.options ?? {});
  m.load(listWorkload({ processes: [process] }, new Map([[1, steps(a, m)]])));
  sched.run(10_000_000_000);
  if (!m.finished) throw new Error("the workload did not finish");
  const bad = mmProblems(m);
  if (bad.length > 0) throw new Error(`memory bookkeeping: ${bad.slice(0, 5).join("; ")}`);
  return { m, a };
}

/** The tiny machine plus a CPU-less CXL node of 256 MiB (node 1, 170 ns): small caches, so memory-side counters see traffic. */
export function tinyCxl(): MachineConfig {
  const c = preset("tiny")!;
  c.name = "tiny-cxl";
  c.nodes.push({ id: 1, capacity: 256 * 1024 * 1024, kind: "cxl", latencyNs: 170, bandwidthGBps: 20 });
  c.distance = [[10, 20], [20, 10]];
  c.latencyNs = [[90, 170], [170, 170]];
  return validateMachineConfig(c);
}
