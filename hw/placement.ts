// Threads on CPUs. Loading a workload builds each process's address space (its VMAs from the
// layout) and its threads (programs started from the machine's seeded RNG; a merged trace is
// demultiplexed per thread), and puts each thread on the CPU of its affinity with the fewest
// threads so far (the lowest id on ties), where it stays: there is no migration between CPUs.
// Counts live threads and tells listeners when the last one finishes.

import { SimError } from "../sim/errors.ts";
import type { RngRoot } from "../sim/rng.ts";
import type { Scheduler } from "../sim/scheduler.ts";
import type { Cpu } from "./cpu.ts";
import { validateLayout } from "./layout.ts";
import { AddressSpace, ThreadState, Vma } from "./process.ts";
import type { ThreadProgram, Workload } from "./program.ts";
import { demuxMerged } from "./replay.ts";

/** What loading needs of the machine: its CPUs, its address spaces and VMAs (appended to), its scheduler and RNG. */
export interface PlacementHost {
  readonly cpus: readonly Cpu[];
  readonly spaces: AddressSpace[];
  readonly vmas: Vma[];
  readonly sched: Scheduler;
  readonly rng: RngRoot;
  /** Rows per batch a thread program fills. */
  readonly batchSize: number;
}

export class Placement {
  readonly threads = new Map<number, ThreadState>();
  private readonly spaceByPid = new Map<number, AddressSpace>();
  private liveThreads = 0;
  private readonly doneListeners: Array<(now: number) => void> = [];

  constructor(private readonly m: PlacementHost) {}

  /** Builds the workload's address spaces and threads, places threads and starts the CPUs. */
  load(workload: Workload): void {
    const m = this.m;
    validateLayout(workload.layout, `workload '${workload.name}' layout`);
    const run = workload.start(m.rng);
    const programs = new Map<number, ThreadProgram>();
    if (run.kind === "threads") {
      for (const p of run.threads) programs.set(p.tid, p);
    } else {
      const tids = workload.layout.processes.flatMap((p) => p.threads.map((t) => t.tid));
      for (const p of demuxMerged(run.source, tids, m.batchSize)) programs.set(p.tid, p);
    }
    for (const proc of workload.layout.processes) {
      if (this.spaceByPid.has(proc.pid)) throw new SimError(`process ${proc.pid} is already loaded`);
      const asid = m.spaces.length;
      const vmas = proc.vmas.map((v) => {
        const vma = Vma.fromSpec(m.vmas.length, asid, v, proc);
        m.vmas.push(vma);
        return vma;
      });
      const space = new AddressSpace(asid, proc.pid, proc.name, vmas);
      m.spaces.push(space);
      this.spaceByPid.set(proc.pid, space);
      for (const t of proc.threads) {
        const prog = programs.get(t.tid);
        if (!prog) throw new SimError(`workload '${workload.name}' has no program for thread ${t.tid}`);
        const allowed = (t.cpus ?? m.cpus.map((_, i) => i)).filter((c) => c >= 0 && c < m.cpus.length);
        if (allowed.length === 0) throw new SimError(`thread ${t.tid} may not run on any of this machine's ${m.cpus.length} CPUs`);
        const th = new ThreadState(t.tid, space, allowed, prog, m.batchSize);
        this.threads.set(t.tid, th);
        space.threads.push(th);
        this.place(th);
      }
    }
    for (const cpu of m.cpus) if (cpu.runq.length > 0 && !cpu.sleeping) cpu.sleepUntil(m.sched.now);
  }

  /** Puts a thread on the allowed CPU with the fewest threads (lowest id on ties). */
  private place(th: ThreadState): void {
    const cpus = this.m.cpus;
    let best = th.allowedCpus[0]!;
    for (const c of th.allowedCpus) if (cpus[c]!.runq.length < cpus[best]!.runq.length) best = c;
    th.cpu = best;
    cpus[best]!.runq.push(th);
    this.liveThreads++;
  }

  /** A CPU retired a thread whose program ended; the last one tells the listeners. */
  threadFinished(_th: ThreadState): void {
    if (--this.liveThreads === 0) for (const fn of this.doneListeners) fn(this.m.sched.now);
  }

  /** True once every loaded thread has finished. */
  get finished(): boolean {
    return this.liveThreads === 0 && this.threads.size > 0;
  }

  onAllThreadsDone(fn: (now: number) => void): void {
    this.doneListeners.push(fn);
  }

  /** The address space of process `pid`, once loaded. */
  spaceOf(pid: number): AddressSpace | undefined {
    return this.spaceByPid.get(pid);
  }
}
