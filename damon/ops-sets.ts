// DAMON's operations sets by name: vaddr (processes' virtual address spaces) and paddr (physical
// memory). One definition of each: its name, whether the ground truth must count by frame, its
// default targets, its heatmaps' address axis, and the SamplingOps that implements it (where
// eligible_report lives). The
// CLI's --ops, experiment files and regression cases all validate against OPS_SET_NAMES.

import type { Machine } from "../hw/machine.ts";
import type { DamonContext } from "./context.ts";
import { PADDR_REPORTS, PaddrOps } from "./paddr.ts";
import type { ReportEligibility } from "./report-buffer/drain.ts";
import type { SamplingOps } from "./ops-common.ts";
import { VADDR_REPORTS, VaddrOps } from "./vaddr.ts";

/** One stretch of a heatmap's address axis: a VMA of a process (asid), or a node's memory (asid -1). */
export interface AddressSegment {
  name: string;
  asid: number;
  start: number;
  end: number;
}

export interface OpsSetDef<N extends string = string> {
  readonly name: N;
  readonly summary: string;
  /** eligible_report and the address a report lands at (the drain asks the set's SamplingOps, which use these). */
  readonly reports: ReportEligibility;
  /** The ground truth counts physical frames for it (paddr's regions are physical). */
  readonly truthFrames: boolean;
  create(machine: Machine): SamplingOps;
  /** Adds the default targets: vaddr one per pid (default: every process), paddr one physical target. */
  addTargets(ctx: DamonContext, machine: Machine, pids: readonly number[] | undefined): void;
  /** The address axis of heatmaps: the monitored memory laid end to end, sorted by (asid, start). */
  heatmapSegments(machine: Machine): AddressSegment[];
}

export const OPS_SETS = [
  {
    name: "vaddr",
    summary: "processes' virtual address spaces (one target per process)",
    reports: VADDR_REPORTS,
    truthFrames: false,
    create: (m: Machine): SamplingOps => new VaddrOps(m),
    addTargets(ctx: DamonContext, m: Machine, pids: readonly number[] | undefined): void {
      for (const pid of pids ?? m.spaces.map((s) => s.pid)) ctx.addTarget(pid);
    },
    /** Every VMA but text and stack. */
    heatmapSegments: (m: Machine): AddressSegment[] =>
      m.vmas
        .filter((v) => v.kind !== "text" && v.kind !== "stack")
        .map((v) => ({ name: `${m.spaces[v.asid]!.name}:${v.name}`, asid: v.asid, start: v.start, end: v.end }))
        .sort((a, b) => a.asid - b.asid || a.start - b.start),
  },
  {
    name: "paddr",
    summary: "physical memory (one target)",
    reports: PADDR_REPORTS,
    truthFrames: true,
    create: (m: Machine): SamplingOps => new PaddrOps(m),
    addTargets(ctx: DamonContext): void {
      ctx.addTarget(null);
    },
    /** Every node's range of frames. */
    heatmapSegments: (m: Machine): AddressSegment[] => m.memory.nodes.map((n) => ({ name: `node${n.id}`, asid: -1, start: n.base * 4096, end: (n.base + n.frames) * 4096 })),
  },
] as const satisfies readonly OpsSetDef[];

export type OpsName = (typeof OPS_SETS)[number]["name"];
export const OPS_SET_NAMES: readonly OpsName[] = OPS_SETS.map((o) => o.name);

export const isOpsName = (v: unknown): v is OpsName => typeof v === "string" && (OPS_SET_NAMES as readonly string[]).includes(v);

export function opsSet(name: OpsName): OpsSetDef<OpsName> {
  return OPS_SETS.find((o) => o.name === name)!;
}

/** `v` as an operations set name, or `fail` with "must be vaddr or paddr, got 'X'". */
export function parseOpsName(v: unknown, fail: (message: string) => Error): OpsName {
  if (isOpsName(v)) return v;
  throw fail(`must be ${OPS_SET_NAMES.join(" or ")}, got '${String(v)}'`);
}
