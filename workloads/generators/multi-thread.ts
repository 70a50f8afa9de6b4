// Multi-threaded workloads: a layout (processes, their regions and their threads with CPU
// affinity) plus one program plan per thread. Each run builds every thread's program from its own
// random stream `workload.<name>.t<tid>`, so threads are independent and the run is reproducible;
// regions are shared when several threads' patterns name the same one, private otherwise. Also
// lays out pthread stacks the way glibc does (mmap'ed, with a guard page).

import type { ThreadProgram, Workload, WorkloadRun } from "../../hw/program.ts";
import { validateLayout, type AreaRequest, type WorkloadLayout } from "../../hw/layout.ts";
import { SimError } from "../../sim/errors.ts";
import type { RngRoot } from "../../sim/rng.ts";
import { MiB } from "../../sim/units.ts";
import type { PatternContext } from "../pattern.ts";

/** glibc's default pthread stack size (RLIMIT_STACK, usually 8 MiB). */
export const PTHREAD_STACK_SIZE = 8 * MiB;

export interface ThreadPlan {
  tid: number;
  /** Builds the thread's program for one run. */
  build(ctx: PatternContext): ThreadProgram;
}

export class ThreadedWorkload implements Workload {
  constructor(
    readonly name: string,
    readonly layout: WorkloadLayout,
    private readonly plans: readonly ThreadPlan[],
  ) {
    validateLayout(layout);
    const inLayout = new Set(layout.processes.flatMap((p) => p.threads.map((t) => t.tid)));
    const planned = new Set<number>();
    for (const p of plans) {
      if (!inLayout.has(p.tid)) throw new SimError(`workload '${name}': thread ${p.tid} has a program but is not in the layout`);
      if (planned.has(p.tid)) throw new SimError(`workload '${name}': thread ${p.tid} has two programs`);
      planned.add(p.tid);
    }
    for (const t of inLayout) if (!planned.has(t)) throw new SimError(`workload '${name}': thread ${t} has no program`);
  }

  start(rng: RngRoot): WorkloadRun {
    const memo = new Map<string, unknown>();
    const threads = this.plans.map((p) => p.build({ tid: p.tid, rng: rng.stream(`workload.${this.name}.t${p.tid}`), memo }));
    return { kind: "threads", threads };
  }
}

/** mmap areas for the stacks of every thread but the first (which uses the process stack). */
export function threadStackAreas(tids: readonly number[], size = PTHREAD_STACK_SIZE): AreaRequest[] {
  if (size <= 0) return [];
  return tids.slice(1).map((tid) => ({ name: `[stack:${tid}]`, size }));
}
