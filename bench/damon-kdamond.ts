// damon.kdamond: DAMON's cost per sample must be O(regions), independent of monitored memory size.
// A process with 1 GiB and one with 64 GiB of address space (a thread touching random pages of it
// slowly) are monitored with default attributes (vaddr, and paddr over a matching machine); we
// report kdamond's simulated CPU time per sample and the host wall time per sample (kdamond's
// step only), and the 64 GiB / 1 GiB ratios. Target (issue 5): ratio < 1.5.

import { AccessKind, type AccessBatch } from "../hw/batch.ts";
import { validateMachineConfig } from "../hw/config.ts";
import { buildProcess } from "../hw/layout.ts";
import { Machine } from "../hw/machine.ts";
import { preset } from "../hw/presets.ts";
import type { ThreadProgram, Workload } from "../hw/program.ts";
import { defaultAttrs } from "../damon/attrs.ts";
import { createMonitor, type OpsName } from "../damon/monitor.ts";
import { RngRoot, type Rng } from "../sim/rng.ts";
import { Scheduler } from "../sim/scheduler.ts";
import { SEC } from "../sim/time.ts";
import { GiB } from "../sim/units.ts";
import { round, type Benchmark, type BenchResult } from "./harness.ts";

class SparseToucher implements ThreadProgram {
  readonly tid = 1;
  constructor(private readonly rng: Rng, private readonly base: number, private readonly size: number) {}
  next(out: AccessBatch): number {
    out.clear();
    while (!out.full) out.push(this.base + this.rng.int(this.size), 8, AccessKind.READ, 1, 20_000);
    return out.length;
  }
}

function measure(ops: OpsName, bytes: number): { simNsPerSample: number; wallNsPerSample: number; regions: number } {
  const { process: proc, areas } = buildProcess({ mmap: [{ name: "big", size: bytes }], threads: [{ tid: 1, cpus: [0] }] });
  const big = areas.get("big")!;
  const wl: Workload = { name: "sparse", layout: { processes: [proc] }, start: (rng) => ({ kind: "threads", threads: [new SparseToucher(rng.stream("w"), big.start, bytes)] }) };
  const cfg = preset("2s-ddr5")!;
  // paddr monitors all of physical memory: size the machine like the monitored memory
  cfg.nodes[0]!.capacity = bytes;
  cfg.nodes[1]!.capacity = bytes;
  const sched = new Scheduler();
  const m = new Machine(validateMachineConfig(cfg), sched, new RngRoot(1), { truth: false });
  m.load(wl);
  const mon = createMonitor(m, { ops, attrs: { ...defaultAttrs(), opsUpdateUs: 1_000_000 } });
  let wallNs = 0;
  const step = mon.ctx.step.bind(mon.ctx);
  mon.ctx.step = (now: number): number => {
    const t0 = process.hrtime.bigint();
    const r = step(now);
    wallNs += Number(process.hrtime.bigint() - t0);
    return r;
  };
  mon.kdamond.start();
  sched.run(1 * SEC); // warm up: regions adapt, JIT settles
  const cost0 = mon.kdamond.totalCostNs, samples0 = mon.ctx.samples;
  wallNs = 0;
  sched.run(sched.now + 4 * SEC);
  const samples = mon.ctx.samples - samples0;
  return { simNsPerSample: (mon.kdamond.totalCostNs - cost0) / samples, wallNsPerSample: wallNs / samples, regions: mon.ctx.nrRegions() };
}

export const benchmarks: Benchmark[] = [
  {
    name: "damon.kdamond",
    description: "kdamond cost per sample at 1 GiB vs 64 GiB of monitored memory (must not grow with size)",
    *run(): Iterable<BenchResult> {
      for (const ops of ["vaddr", "paddr"] as const) {
        const small = measure(ops, 1 * GiB);
        const large = measure(ops, 64 * GiB);
        yield {
          name: "damon.kdamond",
          unit: "ratio",
          value: round(large.wallNsPerSample / small.wallNsPerSample),
          ops,
          measure: "64 GiB / 1 GiB host wall time per sample",
          simulatedCpuNsPerSample1GiB: round(small.simNsPerSample),
          simulatedCpuNsPerSample64GiB: round(large.simNsPerSample),
          simulatedCpuRatio: round(large.simNsPerSample / small.simNsPerSample),
          wallNsPerSample1GiB: round(small.wallNsPerSample),
          wallNsPerSample64GiB: round(large.wallNsPerSample),
          regions1GiB: small.regions,
          regions64GiB: large.regions,
          sampleInterval: "5 ms",
          target: "< 1.5",
        };
      }
    },
  },
];
