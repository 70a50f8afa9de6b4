// Builds small machines and explicit-row workloads for hardware tests.

import { AccessBatch, type AccessKind } from "../../hw/batch.ts";
import { validateMachineConfig, type MachineConfig } from "../../hw/config.ts";
import { buildProcess, type LayoutRequest, type VmaSpec, type WorkloadLayout } from "../../hw/layout.ts";
import { Machine, type MachineOptions } from "../../hw/machine.ts";
import { preset } from "../../hw/presets.ts";
import type { ThreadProgram, Workload } from "../../hw/program.ts";
import { RngRoot } from "../../sim/rng.ts";
import { Scheduler } from "../../sim/scheduler.ts";

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

/** The tiny machine plus a CPU-less CXL node of 256 MiB (node 1, 170 ns): small caches, so memory-side counters see traffic. */
export function tinyCxl(): MachineConfig {
  const c = preset("tiny")!;
  c.name = "tiny-cxl";
  c.nodes.push({ id: 1, capacity: 256 * 1024 * 1024, kind: "cxl", latencyNs: 170, bandwidthGBps: 20 });
  c.distance = [[10, 20], [20, 10]];
  c.latencyNs = [[90, 170], [170, 170]];
  return validateMachineConfig(c);
}
