// workloads.gen: how fast the access generators fill batches (accesses per second of wall time),
// through each workload's thread program exactly as the machine calls it: batches of 4096 rows,
// the thread clock advancing a nominal 5 ns per access. Median of 5 runs after a warm-up.

import { AccessBatch } from "../hw/batch.ts";
import type { ThreadProgram } from "../hw/program.ts";
import { RngRoot } from "../sim/rng.ts";
import { resolveWorkload } from "../workloads/registry.ts";
import { round, timeMedian, type Benchmark, type BenchResult } from "./harness.ts";

const GENERATORS = ["seq", "uniform", "zipf", "chase", "hotcold", "wss", "mt", "stairs", "tiering-hotcold"];
const ACCESSES = 4_000_000;
const NS_PER_ACCESS = 5;

function drive(threads: ThreadProgram[], batch: AccessBatch, clocks: number[], accesses: number): number {
  let done = 0;
  while (done < accesses) {
    for (let t = 0; t < threads.length; t++) {
      const n = threads[t]!.next(batch, clocks[t]!);
      clocks[t] = clocks[t]! + n * NS_PER_ACCESS;
      done += n;
    }
  }
  return done;
}

export const benchmarks: Benchmark[] = [
  {
    name: "workloads.gen",
    description: "access generation rate of built-in generators and masim configs (accesses/s of wall time)",
    *run(): Iterable<BenchResult> {
      for (const name of GENERATORS) {
        const w = resolveWorkload(name);
        const run = w.start(new RngRoot(1));
        if (run.kind !== "threads") continue;
        const batch = new AccessBatch(4096);
        const clocks = run.threads.map(() => 0);
        drive(run.threads, batch, clocks, ACCESSES / 4); // warm up the JIT
        let made = 0;
        const t = timeMedian(5, () => {
          made = drive(run.threads, batch, clocks, ACCESSES);
        });
        yield {
          name: "workloads.gen",
          unit: "accesses/s",
          value: round(made / t.median),
          generator: name,
          threads: run.threads.length,
          measure: `${ACCESSES} accesses in 4096-row batches, median of 5`,
        };
      }
    },
  },
];
