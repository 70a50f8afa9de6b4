// hw.path: accesses per second through the full access path (TLBs, page walks, three cache levels,
// memory with bandwidth model, ground truth on) on one core, for access patterns prepared in memory
// beforehand so only the machine is timed. Target (issue 3): >= 10 M accesses/s.
//   seq-8B      8-byte reads walking a 1 MiB buffer (mostly L1 hits, a walk every 512 accesses)
//   hot-cold    90% of accesses in a 64 KiB hot set, 10% spread over 64 MiB
//   random-64M  uniform random over 64 MiB (TLB and cache misses nearly every access: worst case)
//   lackey-sort the Lackey trace of a real program (a sort), when gcc and valgrind are available

import { AccessBatch, AccessKind } from "../hw/batch.ts";
import { buildProcess } from "../hw/layout.ts";
import { Machine } from "../hw/machine.ts";
import { preset } from "../hw/presets.ts";
import type { ThreadProgram, Workload } from "../hw/program.ts";
import { RngRoot } from "../sim/rng.ts";
import { Scheduler } from "../sim/scheduler.ts";
import { KiB, MiB } from "../sim/units.ts";
import { median, round, type Benchmark, type BenchResult } from "./harness.ts";

const ROWS = 2_000_000;

interface Pattern {
  name: string;
  /** Offsets into the buffer. */
  offset: Float64Array;
  kind: Uint8Array;
}

/** Cycles through prepared rows forever (the run is bounded by simulated time). */
class CycleProgram implements ThreadProgram {
  readonly tid = 1;
  private i = 0;
  constructor(private readonly p: Pattern, private readonly base: number) {}
  next(out: AccessBatch): number {
    out.clear();
    const n = out.capacity;
    const total = this.p.offset.length;
    for (let k = 0; k < n; k++) {
      const j = this.i++ % total;
      out.addr[k] = this.base + this.p.offset[j]!;
      out.kind[k] = this.p.kind[j]!;
      out.size[k] = 8;
      out.tid[k] = 1;
      out.gap[k] = 0;
    }
    out.length = n;
    return n;
  }
}

function patterns(): Pattern[] {
  const rng = new RngRoot(1).stream("bench.hw.path");
  const mk = (name: string, f: (i: number) => number): Pattern => {
    const offset = new Float64Array(ROWS);
    const kind = new Uint8Array(ROWS);
    for (let i = 0; i < ROWS; i++) {
      offset[i] = f(i);
      kind[i] = rng.next() < 0.25 ? AccessKind.WRITE : AccessKind.READ;
    }
    return { name, offset, kind };
  };
  return [
    mk("seq-8B", (i) => (i * 8) % MiB),
    mk("hot-cold", () => (rng.next() < 0.9 ? rng.int(64 * KiB) : rng.int(64 * MiB)) & ~7),
    mk("random-64M", () => rng.int(64 * MiB) & ~7),
  ];
}

function measure(p: Pattern): { accessesPerSec: number; simNsPerAccess: number } {
  const rates: number[] = [];
  let simNs = 0;
  for (let rep = 0; rep < 3; rep++) {
    const { process: proc, areas } = buildProcess({ mmap: [{ name: "buf", size: 64 * MiB + 4 * KiB }], threads: [{ tid: 1, cpus: [0] }] });
    const base = areas.get("buf")!.start;
    const wl: Workload = { name: p.name, layout: { processes: [proc] }, start: () => ({ kind: "threads", threads: [new CycleProgram(p, base)] }) };
    const sched = new Scheduler();
    const m = new Machine(preset("2s-ddr5")!, sched, new RngRoot(1));
    m.load(wl);
    // warm up (first touches, JIT), then time a stretch of simulated time
    sched.run(20_000_000);
    const before = m.cpus[0]!.accesses;
    const t0 = process.hrtime.bigint();
    const simStart = sched.now;
    sched.run(sched.now + 200_000_000);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const n = m.cpus[0]!.accesses - before;
    rates.push(n / secs);
    simNs = (sched.now - simStart) / n;
  }
  return { accessesPerSec: median(rates), simNsPerAccess: simNs };
}

export const benchmarks: Benchmark[] = [
  {
    name: "hw.path",
    description: "full access path (TLB, walks, L1/L2/LLC, memory, ground truth) accesses per second on one core",
    *run(): Iterable<BenchResult> {
      for (const p of patterns()) {
        const r = measure(p);
        yield {
          name: "hw.path",
          unit: "accesses/s",
          value: round(r.accessesPerSec),
          pattern: p.name,
          simulatedNsPerAccess: round(r.simNsPerAccess),
          machine: "2s-ddr5",
          target: ">= 1e7 accesses/s",
        };
      }
    },
  },
];
