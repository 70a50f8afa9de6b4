// The figures every output reports, each defined here once (README "Figures" defines them in words):
//   overhead %  monitoring CPU time as a percentage of the workload's own (user) CPU time, where
//               monitoring CPU time is every category spent for access checking and its results:
//               PROT_NONE traps, sample handling, PTE scans, kdamond and migration. Demand-paging
//               faults are the workload's own cost and count in neither.
//   slowdown %  how much longer the monitored run needs than the unmonitored baseline on the same
//               workload: by the time all threads finished when both finished, otherwise (both cut
//               at the same simulated time) by how many fewer accesses it made.
//   reports     reports made (delivered to damon_report_access() by every primitive) and dropped
//               (refused by the report buffer, every reason together).
//   fast-tier % of the workload's memory accesses (demand line fills after LLC misses, and dirty
//               write-backs; migration copies are not the workload's), the share the fast node
//               served.
//   vs DRAM %   slowdown % (as above) against the all-DRAM reference run: the same workload with
//               every node as fast as the fast node, instead of against the unmonitored run.
// run's summary.json, check's results and compare's tables all take their figures from here.

import { CpuTime } from "../hw/cpu.ts";

/** The CPU time categories that count as monitoring overhead. */
export const MONITORING_CPU_TIME: readonly number[] = [CpuTime.TRAP, CpuTime.SAMPLING, CpuTime.SCAN, CpuTime.KDAMOND, CpuTime.MIGRATE];

/** Something that knows its CPU time by CpuTime category (a Machine). */
export interface CpuTimeSource {
  cpuTime(category: number): number;
}

/** Monitoring CPU time, ns (see MONITORING_CPU_TIME). */
export function monitoringCpuNs(m: CpuTimeSource): number {
  let ns = 0;
  for (const k of MONITORING_CPU_TIME) ns += m.cpuTime(k);
  return ns;
}

/** Overhead %: monitoring CPU time over user CPU time, x 100 (0 without user time). */
export function overheadPercent(m: CpuTimeSource): number {
  const user = m.cpuTime(CpuTime.USER);
  return user > 0 ? (monitoringCpuNs(m) / user) * 100 : 0;
}

/** What slowdown needs of a run: when its threads all finished (or null), and its accesses by then. */
export interface RunProgress {
  finishNs: number | null;
  simulatedNs: number;
  accesses: number;
}

/** Slowdown % of `run` against `base` (null when they cannot be compared, or run is the base). */
export function slowdownPercent(run: RunProgress, base: RunProgress | null): number | null {
  if (!base || run === base) return null;
  if (run.finishNs !== null && base.finishNs !== null && base.finishNs > 0) return (run.finishNs / base.finishNs - 1) * 100;
  if (run.accesses > 0 && base.accesses > 0 && run.simulatedNs === base.simulatedNs) return (base.accesses / run.accesses - 1) * 100;
  return null;
}

/** Reports made: the sum of the per-primitive delivered counts. */
export function reportsMade(delivered: Record<string, number>): number {
  return Object.values(delivered).reduce((a, n) => a + n, 0);
}

/** Reports dropped: the sum over every drop reason. */
export function reportsDropped(dropped: Record<string, number>): number {
  return Object.values(dropped).reduce((a, n) => a + n, 0);
}

/** Fast-tier fraction (0..1) between two cumulative per-node counts of memory accesses served; null when none reached memory. */
export function fastTierFraction(cur: ArrayLike<number>, prev: ArrayLike<number>, fastNode: number): number | null {
  let all = 0;
  for (let n = 0; n < cur.length; n++) all += cur[n]! - (prev[n] ?? 0);
  return all > 0 ? (cur[fastNode]! - (prev[fastNode] ?? 0)) / all : null;
}
