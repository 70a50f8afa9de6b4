// hw.path: accesses per second through the full access path (TLBs, page walks, three cache levels,
// memory with bandwidth model, ground truth on) on one core, for access patterns prepared in memory
// beforehand so only the machine is timed. Targets (issue 14): >= 10 M accesses/s on every pattern,
// >= 40 M/s on the sequential (L1-resident) stream.
//   seq-8B        8-byte reads walking a 1 MiB buffer (mostly L1 hits, a walk every 512 accesses)
//   hot-cold      90% of accesses in a 64 KiB hot set, 10% spread over 64 MiB
//   stairs-4K-10M masim stairs' phase pattern: 1-byte writes walking a 10 MB region with a 4 KiB
//                 stride (a new page every access: STLB misses and walks, L1/L2 misses, LLC hits)
//   random-10M    uniform random 8-byte accesses over 10 MB (25% writes): TLB misses, L2/LLC hits
//   random-64M    uniform random over 64 MiB (TLB and cache misses nearly every access: worst case)
//   lackey-sort   replay of the Lackey trace of a real program (test/fixtures/c/sort.c, a merge sort
//                 of 20,000 numbers, built with gcc), imported to .dst and replayed through
//                 traceWorkload to the end (trace decoding included, its share reported), when gcc
//                 and valgrind are available
// Each figure is the median of 3 runs on fresh machines (2s-ddr5 preset), with the host seconds a
// simulated second costs per busy CPU at that rate and the figure before the speed work ("before").

import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { AccessBatch, AccessKind } from "../hw/batch.ts";
import { buildProcess } from "../hw/layout.ts";
import { Machine } from "../hw/machine.ts";
import { preset } from "../hw/presets.ts";
import type { ThreadProgram, Workload } from "../hw/program.ts";
import { RngRoot } from "../sim/rng.ts";
import { Scheduler } from "../sim/scheduler.ts";
import { KiB, MiB } from "../sim/units.ts";
import { traceWorkload } from "../workloads/trace/workload.ts";
import { median, round, timeMedian, type Benchmark, type BenchResult } from "./harness.ts";
import { decodeAll, importLackey } from "./workloads-trace.ts";

const ROOT = resolve(import.meta.dirname, "..");

/**
 * The "before" column: accesses/s of each pattern when the speed issue (14) was filed, measured on
 * a quiet machine at commit a344cd4. The machine is shared, so compare a run's figures with a run
 * of the old commit at the same time rather than with these.
 */
const BEFORE: Record<string, number> = {
  "seq-8B": 26.8e6,
  "hot-cold": 9.6e6,
  "stairs-4K-10M": 4.2e6,
  "random-10M": 4.9e6,
  "random-64M": 3.7e6,
  "lackey-sort": 27.2e6,
};

/** Host seconds one busy simulated CPU costs per simulated second at this rate. */
const hostPerSimSecond = (accessesPerSec: number, simNsPerAccess: number): number => 1e9 / simNsPerAccess / accessesPerSec;
const ROWS = 2_000_000;
const STAIRS_REGION = 10_000_000;

export interface Pattern {
  name: string;
  /** Offsets into the buffer. */
  offset: Float64Array;
  kind: Uint8Array;
  /** Bytes per access. */
  size: number;
}

/** Cycles through prepared rows forever (the run is bounded by simulated time). */
export class CycleProgram implements ThreadProgram {
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
      out.size[k] = this.p.size;
      out.tid[k] = 1;
      out.gap[k] = 0;
    }
    out.length = n;
    return n;
  }
}

/** The in-memory patterns, in report order. */
export function patterns(): Pattern[] {
  const rng = new RngRoot(1).stream("bench.hw.path");
  const mk = (name: string, f: (i: number) => number, size = 8, kindOf?: (i: number) => number): Pattern => {
    const offset = new Float64Array(ROWS);
    const kind = new Uint8Array(ROWS);
    for (let i = 0; i < ROWS; i++) {
      offset[i] = f(i);
      kind[i] = kindOf ? kindOf(i) : rng.next() < 0.25 ? AccessKind.WRITE : AccessKind.READ;
    }
    return { name, offset, kind, size };
  };
  return [
    mk("seq-8B", (i) => (i * 8) % MiB),
    mk("hot-cold", () => (rng.next() < 0.9 ? rng.int(64 * KiB) : rng.int(64 * MiB)) & ~7),
    // masim's sequential walk: advance by the stride before each access, wrap at the region end
    mk("stairs-4K-10M", (i) => ((i + 1) * 4096) % STAIRS_REGION, 1, () => AccessKind.WRITE),
    mk("random-10M", () => rng.int(STAIRS_REGION) & ~7),
    mk("random-64M", () => rng.int(64 * MiB) & ~7),
  ];
}

/** Median accesses/s of the machine running pattern p on CPU 0 for 200 ms of simulated time. */
export function measure(p: Pattern): { accessesPerSec: number; simNsPerAccess: number } {
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

const has = (cmd: string): boolean => spawnSync(cmd, ["--version"], { stdio: "ignore" }).status === 0;

/** Builds the sort fixture, records its Lackey log and imports it as a .dst trace in `dir`. */
export function recordSortTrace(dir: string): string {
  const exe = join(dir, "sort");
  const build = spawnSync("gcc", ["-O1", "-o", exe, join(ROOT, "test/fixtures/c/sort.c")], { encoding: "utf8" });
  if (build.status !== 0) throw new Error(`hw.path: gcc failed on sort.c: ${build.stderr}`);
  const log = join(dir, "sort.lk");
  const fd = openSync(log, "w");
  try {
    const vg = spawnSync("valgrind", ["--tool=lackey", "--trace-mem=yes", "--log-fd=3", exe, "20000"], { stdio: ["ignore", "ignore", "pipe", fd], encoding: "utf8" });
    if (vg.status !== 0) throw new Error(`hw.path: valgrind lackey failed: ${vg.stderr}`);
  } finally {
    closeSync(fd);
  }
  const dst = join(dir, "sort.dst");
  importLackey(log, dst);
  rmSync(log);
  return dst;
}

/** Replays a .dst trace to its end on a fresh machine: wall seconds and accesses executed. */
export function replayTrace(dst: string): { seconds: number; accesses: number; simNs: number } {
  const sched = new Scheduler();
  const m = new Machine(preset("2s-ddr5")!, sched, new RngRoot(1));
  m.load(traceWorkload(dst));
  m.onAllThreadsDone(() => sched.stop());
  const t0 = process.hrtime.bigint();
  while (!m.finished) sched.run(sched.now + 1_000_000_000);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { seconds, accesses: m.cpus.reduce((a, c) => a + c.accesses, 0), simNs: sched.now };
}

export function* lackeySort(): Iterable<BenchResult> {
  if (!has("gcc") || !has("valgrind")) {
    yield { name: "hw.path", unit: "skipped", value: 0, pattern: "lackey-sort", reason: "gcc or valgrind not installed" };
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "bench-hw-path-"));
  try {
    const dst = recordSortTrace(dir);
    replayTrace(dst); // warm-up (JIT)
    const runs = [0, 1, 2].map(() => replayTrace(dst));
    const secs = median(runs.map((r) => r.seconds));
    const accesses = runs[0]!.accesses;
    const decode = timeMedian(3, () => decodeAll(dst));
    yield {
      name: "hw.path",
      unit: "accesses/s",
      value: round(accesses / secs),
      pattern: "lackey-sort",
      accesses,
      simulatedNsPerAccess: round(runs[0]!.simNs / accesses),
      hostSecondsPerSimulatedSecond: round(hostPerSimSecond(accesses / secs, runs[0]!.simNs / accesses)),
      before: BEFORE["lackey-sort"],
      decodeShare: round(decode.median / secs),
      machine: "2s-ddr5",
      measure: "traceWorkload replay of sort.c's Lackey trace to the end, decoding included, median of 3",
      target: ">= 1e7 accesses/s",
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
          hostSecondsPerSimulatedSecond: round(hostPerSimSecond(r.accessesPerSec, r.simNsPerAccess)),
          before: BEFORE[p.name],
          machine: "2s-ddr5",
          target: p.name === "seq-8B" ? ">= 4e7 accesses/s" : ">= 1e7 accesses/s",
        };
      }
      yield* lackeySort();
    },
  },
];
