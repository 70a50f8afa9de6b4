// hw.primitives: what the push-based access check primitives cost the simulator itself. Accesses
// per second (wall time) through the full access path on one core with each primitive enabled,
// against none, on the same access stream prepared in memory beforehand (hot-cold: 90 % of
// accesses in a 64 KiB hot set, 10 % over 64 MiB, 25 % writes, 0..15 non-memory ops before each).
// Each run first executes the whole stream once (every page faulted in, JIT warm), then is timed
// over exactly one more pass of the same rows, so every variant executes the same accesses.
// Reported as a ratio to the run with no primitive (1.0 = free). Variants are interleaved across
// repetitions and the median is taken, because the machine is shared and noisy.
//   none            no sampler, no trap handler
//   perf-mem        PerfMemSampler with its defaults (ldlat 30, load period 5003, store 100 007)
//   perf-mem-dense  load period 101, store period 1009: many samples, throttling active
//   ibs             IbsSampler with its default period 10 000 ops
//   ibs-dense       IBS period 160: a sample every ~100 ops, throttling active
//   numa-balancing  NumaBalancing with scaled-down delays and a 16 MB scan size (a pass every ~6 ms),
//                   hint faults through the trap dispatcher; the buffer is bound to node 1 so the
//                   single-threaded process's pages are remote and not skipped (no migration
//                   under bind): every pass traps 4096 PTEs and they fault again
// Every primitive delivers to a sink that only counts, so the figure is the primitive's own cost.

import { AccessKind, type AccessBatch } from "../hw/batch.ts";
import { buildProcess } from "../hw/layout.ts";
import { Machine } from "../hw/machine.ts";
import { preset } from "../hw/presets.ts";
import { IbsSampler } from "../hw/primitives/ibs.ts";
import { NumaBalancing } from "../hw/primitives/numa-balancing.ts";
import { PerfMemSampler } from "../hw/primitives/perf-mem.ts";
import type { PrimitiveSink } from "../hw/primitives/sample.ts";
import { TrapDispatch } from "../hw/primitives/trap-dispatch.ts";
import type { ThreadProgram, Workload } from "../hw/program.ts";
import { RngRoot } from "../sim/rng.ts";
import { Scheduler } from "../sim/scheduler.ts";
import { KiB, MiB } from "../sim/units.ts";
import { median, round, type Benchmark, type BenchResult } from "./harness.ts";

const ROWS = 1_000_000;
const REPEATS = 5;

interface Stream {
  offset: Float64Array;
  kind: Uint8Array;
  gap: Uint32Array;
}

/** Plays the stream twice; calls onWarm once the first pass has been handed out. */
class TwoPassProgram implements ThreadProgram {
  readonly tid = 1;
  private i = 0;
  constructor(private readonly s: Stream, private readonly base: number, private readonly onWarm: () => void) {}
  next(out: AccessBatch): number {
    out.clear();
    const total = this.s.offset.length;
    if (this.i === total) this.onWarm();
    // batches stop at the end of the first pass so it ends exactly on a batch boundary
    const n = Math.min(out.capacity, (this.i < total ? total : 2 * total) - this.i);
    for (let k = 0; k < n; k++) {
      const j = this.i++ % total;
      out.addr[k] = this.base + this.s.offset[j]!;
      out.kind[k] = this.s.kind[j]!;
      out.size[k] = 8;
      out.tid[k] = 1;
      out.gap[k] = this.s.gap[j]!;
    }
    out.length = n;
    return n;
  }
}

function prepare(): Stream {
  const rng = new RngRoot(1).stream("bench.hw.primitives");
  const s: Stream = { offset: new Float64Array(ROWS), kind: new Uint8Array(ROWS), gap: new Uint32Array(ROWS) };
  for (let i = 0; i < ROWS; i++) {
    s.offset[i] = (rng.next() < 0.9 ? rng.int(64 * KiB) : rng.int(64 * MiB)) & ~7;
    s.kind[i] = rng.next() < 0.25 ? AccessKind.WRITE : AccessKind.READ;
    s.gap[i] = rng.int(16);
  }
  return s;
}

type Variant = { name: string; remote?: boolean; install: (m: Machine, sink: PrimitiveSink) => void };

const VARIANTS: Variant[] = [
  { name: "none", install: () => {} },
  { name: "perf-mem", install: (m, sink) => void new PerfMemSampler(m, {}, sink).attach() },
  { name: "perf-mem-dense", install: (m, sink) => void new PerfMemSampler(m, { loadPeriod: 101, storePeriod: 1009 }, sink).attach() },
  { name: "ibs", install: (m, sink) => void new IbsSampler(m, {}, sink).attach() },
  { name: "ibs-dense", install: (m, sink) => void new IbsSampler(m, { period: 160 }, sink).attach() },
  {
    name: "numa-balancing",
    remote: true,
    install: (m, sink) => {
      const numa = new NumaBalancing(m, { scanDelayMs: 5, scanPeriodMinMs: 10, scanPeriodMaxMs: 100, scanSizeMb: 16, reportToSink: true });
      numa.sink = sink;
      new TrapDispatch(m).install().numa = numa;
    },
  },
];

function measure(stream: Stream, v: Variant): { rate: number; events: number; simNs: number; accesses: number } {
  const sched = new Scheduler();
  const policy = v.remote ? { policy: { mode: "bind" as const, nodes: [1] } } : {};
  const { process: proc, areas } = buildProcess({ mmap: [{ name: "buf", size: 64 * MiB + 4 * KiB, ...policy }], threads: [{ tid: 1, cpus: [0] }] });
  const base = areas.get("buf")!.start;
  const prog = new TwoPassProgram(stream, base, () => sched.stop());
  const wl: Workload = { name: v.name, layout: { processes: [proc] }, start: () => ({ kind: "threads", threads: [prog] }) };
  const m = new Machine(preset("2s-ddr5")!, sched, new RngRoot(1));
  m.onAllThreadsDone(() => sched.stop());
  let events = 0;
  v.install(m, () => {
    events++;
    return 0;
  });
  m.load(wl);
  sched.run();
  const before = m.cpus[0]!.accesses;
  const eventsBefore = events;
  const simStart = sched.now;
  const t0 = process.hrtime.bigint();
  sched.run();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (!m.finished) throw new Error(`hw.primitives ${v.name}: the run did not finish`);
  const n = m.cpus[0]!.accesses - before;
  return { rate: n / secs, events: events - eventsBefore, simNs: sched.now - simStart, accesses: n };
}

export const benchmarks: Benchmark[] = [
  {
    name: "hw.primitives",
    description: "accesses per second through the full access path with each push primitive enabled, as a ratio to none",
    *run(): Iterable<BenchResult> {
      const stream = prepare();
      const rates = new Map<string, number[]>(VARIANTS.map((v) => [v.name, []]));
      const last = new Map<string, { events: number; accesses: number; simNs: number }>();
      for (let rep = 0; rep < REPEATS; rep++) {
        for (const v of VARIANTS) {
          const r = measure(stream, v);
          rates.get(v.name)!.push(r.rate);
          last.set(v.name, { events: r.events, accesses: r.accesses, simNs: r.simNs });
        }
      }
      const none = median(rates.get("none")!);
      for (const v of VARIANTS) {
        const rate = median(rates.get(v.name)!);
        const l = last.get(v.name)!;
        yield {
          name: "hw.primitives",
          unit: "ratio to none",
          value: round(rate / none),
          primitive: v.name,
          accessesPerSec: round(rate),
          timedAccesses: l.accesses,
          sinkEvents: l.events,
          simulatedNsPerAccess: round(l.simNs / l.accesses),
          machine: "2s-ddr5",
        };
      }
    },
  },
];
