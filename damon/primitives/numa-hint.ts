// NUMA hinting faults as a DAMON primitive: Linux NUMA balancing (hw/primitives/numa-balancing.ts,
// a shared kernel service that also runs without DAMON, --numa-balancing) makes PTEs PROT_NONE
// behind its scanner; with this primitive each hint fault is also reported through
// damon_report_access() in process context, before any migration. Reporting is switched on when
// kdamond starts and off when it stops; the scanner runs from install, as the kernel's does.

import { NUMA_BALANCING_DEFAULTS, type NumaBalancing, type NumaBalancingOptions } from "../../hw/primitives/index.ts";
import type { PrimitiveDef } from "./types.ts";

/** The options --param sets (enabled and reportToSink belong to the monitor). */
export type NumaHintOptions = Omit<NumaBalancingOptions, "enabled" | "reportToSink">;

const d = NUMA_BALANCING_DEFAULTS;
const sysctl = (name: string): string => `the kernel's ${name} default`;

export const numaHint = {
  name: "numa-hint",
  summary: "NUMA hinting faults: NUMA balancing's scanner makes PTEs PROT_NONE; each hint fault reports address, CPU, thread and read/write",
  reports: true,
  sample: "none",
  evidence: "numa-hint-reported",
  params: {
    migrate: { type: "boolean", unit: null, default: null, defaultText: "on when the machine has more than one node", source: "mpol_misplaced on a multi-node machine", help: "migrate misplaced pages on hint faults" },
    scanDelayMs: { type: "number", unit: "ms", default: d.scanDelayMs, source: sysctl("numa_balancing_scan_delay_ms"), help: "a task's first scan after it starts" },
    scanPeriodMinMs: { type: "number", unit: "ms", default: d.scanPeriodMinMs, source: sysctl("numa_balancing_scan_period_min_ms"), help: "shortest scan period" },
    scanPeriodMaxMs: { type: "number", unit: "ms", default: d.scanPeriodMaxMs, source: sysctl("numa_balancing_scan_period_max_ms"), help: "longest scan period" },
    scanSizeMb: { type: "number", unit: "MB", default: d.scanSizeMb, source: sysctl("numa_balancing_scan_size_mb"), help: "memory scanned per pass (whole 4 KiB pages)", aliases: ["scan-size-mb"] },
    tickNs: { type: "integer", unit: "ns", default: d.tickNs, source: "HZ = 1000", help: "the scheduler tick on which threads' CPU time is checked" },
    pteUpdateNs: { type: "number", unit: "ns", default: d.pteUpdateNs, source: "measured ~104 ns per PTE (hardware.md 1.6)", help: "CPU time per PTE made PROT_NONE" },
    localFlushNs: { type: "number", unit: "ns", default: d.localFlushNs, source: "an estimate", help: "local TLB flush per 2 MB chunk with updates (remote CPUs add the machine's shootdownNs)" },
    hintFaultNs: { type: "number", unit: "ns", default: d.hintFaultNs, source: "measured ~0.95 us (hardware.md 1.6)", help: "CPU time of one hint fault, the report's cost added" },
    adaptPeriod: { type: "boolean", unit: null, default: d.adaptPeriod, source: "update_task_scan_period, always on in the kernel", help: "adapt each task's scan period to its fault locality" },
  },
  scenarioParams: { scanDelayMs: 200, scanPeriodMinMs: 200 },
  // hint faults come once per page per scan period, behind a scanner that migrates what it finds
  filteredScenarios: false,
  install(env): NumaBalancing {
    const numa = env.services.numaBalancing(env.params);
    numa.sink = env.sink;
    return numa;
  },
  start(numa: NumaBalancing): void {
    numa.reportToSink = true;
  },
  stop(numa: NumaBalancing): void {
    numa.reportToSink = false;
  },
  registerStats(): void {}, // NUMA balancing's counters (system.numaBalancing) are the services'
} as const satisfies PrimitiveDef<"numa-hint", NumaHintOptions, NumaBalancing>;
