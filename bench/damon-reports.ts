// damon.reports: the cost of the damon_report_access() path (damon/report-buffer/), two measures.
//   * drain: reports drained per second into 1000 regions (one vaddr target; region sizes 1..64
//     pages with 0..3-page holes between them) by ReportDrain with binary search versus its
//     linear scan (the RFC's O(reports x regions) loop). Reports sit at uniformly random 8-byte
//     addresses of the monitored bytes (seeded), all inside regions and within the sample window,
//     so every report credits a region. Both buffer designs at their kernel capacity: per-CPU rings
//     (16 CPUs x 256 = 4096 reports per drain, refilled before each drain, outside the timing) and
//     the shared array (999 visible reports; 1000 would wrap len to 0 and hide them all; it is not
//     consumed, so it is drained again as it is). Eight report sets are used in turn. Before timing,
//     every set is drained both ways and the region credits (accessed flag, reporting primitives,
//     written) must be identical. Timed: drain.run() alone (region snapshot + the drain); blocks
//     of >= 0.2 s per mode, binary and linear interleaved, median of 5 blocks each.
//     value = binary reports/s over linear reports/s, measured in the same run.
//   * e2e: host accesses per second of a whole simulation (machine + kdamond + primitive) with
//     DAMON (vaddr, default attributes) and one primitive, against the same run with no monitoring:
//     built-in `mt` with 2 threads on CPUs 0 and 8 (one per socket) and 300 non-memory ops per
//     access, on 2s-ddr5, seed 1, 300 ms simulated (~2 s of host time). Primitive parameters are
//     the comparison scenarios' "dense enough for short runs" ones, with NUMA balancing's scan
//     delay and minimum period at 50 ms so that it scans within the run. Ground truth recording is
//     off in every run. One untimed warm-up run of each variant, then 3 repetitions, variants
//     rotated between repetitions; medians. value = accesses/s over those of "none".

import { Machine } from "../hw/machine.ts";
import { preset } from "../hw/presets.ts";
import { defaultAttrs } from "../damon/attrs.ts";
import { DamonContext } from "../damon/context.ts";
import { createMonitor, type Monitor } from "../damon/monitor.ts";
import type { DamonOps } from "../damon/context.ts";
import { Region } from "../damon/region.ts";
import { PRIMITIVES, type PrimitiveName } from "../damon/primitives/index.ts";
import { ArrayReportBuffer, DROP_REASON_NAMES, Jiffies, RingReportBuffer, type ReportBuffer, type ReportInput } from "../damon/report-buffer/buffer.ts";
import { ReportDrain } from "../damon/report-buffer/drain.ts";
import { VADDR_REPORTS } from "../damon/vaddr.ts";
import { parsePrimitiveParams } from "../cli/run-setup.ts";
import { resolveWorkload } from "../workloads/registry.ts";
import { RngRoot, type Rng } from "../sim/rng.ts";
import { Scheduler } from "../sim/scheduler.ts";
import { MS, SEC } from "../sim/time.ts";
import { median, round, type Benchmark, type BenchResult } from "./harness.ts";

// ---- drain ---------------------------------------------------------------------------------------

const REGIONS = 1000;
const PID = 1000;
const PAGE = 4096;
const CPUS = 16;
const RING = 256;
const ARRAY_CAP = 1000;
const SETS = 8;
const BLOCKS = 5;
const BLOCK_SECONDS = 0.2;
/** The drain happens at 1 s; reports are made during the millisecond before it. */
const NOW = 1 * SEC;
const REPORT_STEP_NS = 200; // > the array's 100 ns trylock hold: no report is dropped as busy
const REPORTING: PrimitiveName[] = ["fault", "numa-hint", "perf-mem", "ibs"];

const noOps: DamonOps = { name: "none", init: () => undefined, update: () => undefined, prepareAccessChecks: () => undefined, checkAccesses: () => 0 };

/** One fill of a buffer, as parallel arrays. */
interface ReportSet {
  vaddr: Float64Array;
  cpu: Int32Array;
  tid: Int32Array;
  write: Uint8Array;
  primitive: Uint8Array;
}

function buildContext(rng: Rng): { ctx: DamonContext; cum: Float64Array } {
  const ctx = new DamonContext({ attrs: defaultAttrs(), ops: noOps, rng, minRegionSz: PAGE });
  const t = ctx.addTarget(PID);
  // cum[k]: monitored bytes before region k (to pick uniformly random monitored bytes)
  const cum = new Float64Array(REGIONS + 1);
  let addr = 0x7f00_0000_0000;
  for (let k = 0; k < REGIONS; k++) {
    const size = (1 + rng.int(64)) * PAGE;
    t.regions.push(new Region(addr, addr + size));
    cum[k + 1] = cum[k]! + size;
    addr += size + rng.int(4) * PAGE;
  }
  return { ctx, cum };
}

function makeSet(rng: Rng, regions: readonly Region[], cum: Float64Array, n: number, cpuOf: (i: number) => number): ReportSet {
  const s: ReportSet = { vaddr: new Float64Array(n), cpu: new Int32Array(n), tid: new Int32Array(n), write: new Uint8Array(n), primitive: new Uint8Array(n) };
  const total = cum[REGIONS]!;
  for (let i = 0; i < n; i++) {
    const off = rng.int(total) & ~7;
    let lo = 0, hi = REGIONS - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (cum[mid]! <= off) lo = mid;
      else hi = mid - 1;
    }
    s.vaddr[i] = regions[lo]!.start + (off - cum[lo]!);
    s.cpu[i] = cpuOf(i);
    s.tid[i] = PID + 1 + rng.int(8);
    s.write[i] = rng.next() < 0.25 ? 1 : 0;
    s.primitive[i] = rng.int(REPORTING.length);
  }
  return s;
}

const rep: ReportInput = { time: 0, cpu: 0, tid: 0, pid: PID, vaddr: 0, paddr: 0, size: 8, isWrite: false, primitive: "fault", context: "process" };

function fill(b: ReportBuffer, s: ReportSet): void {
  const n = s.vaddr.length;
  for (let i = 0; i < n; i++) {
    rep.time = NOW - 1 * MS + i * REPORT_STEP_NS;
    rep.cpu = s.cpu[i]!;
    rep.tid = s.tid[i]!;
    rep.vaddr = s.vaddr[i]!;
    rep.paddr = s.vaddr[i]!;
    rep.isWrite = s.write[i] === 1;
    rep.primitive = REPORTING[s.primitive[i]!]!;
    if (!b.submit(rep)) throw new Error(`damon.reports: the ${b.kind} buffer dropped report ${i} of a fill`);
  }
}

/** Per region: bit 0 credited, bits 1-5 the reporting primitives, bit 6 written. */
function credits(ctx: DamonContext, d: ReportDrain): Uint8Array {
  const regions = ctx.targets[0]!.regions;
  const out = new Uint8Array(regions.length);
  for (let k = 0; k < regions.length; k++) {
    out[k] = (d.reported(k) ? 1 : 0) | (d.reportedBy[k]! << 1) | (d.written[k]! << 6);
  }
  return out;
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** A buffer design to drain, at its kernel capacity. */
interface DrainCase {
  kind: "rings" | "array";
  perDrain: number;
  /** Untimed: fills (rings) or selects (array) set s for the given mode; returns the drain to run. */
  prepare(s: number, linear: boolean): ReportDrain;
}

function ringCase(sets: ReportSet[]): DrainCase {
  const jiffies = new Jiffies(250);
  const modes = [false, true].map((linear) => {
    const b = new RingReportBuffer(CPUS, jiffies, RING);
    return { b, d: new ReportDrain(b, [], "intended", linear) };
  });
  return {
    kind: "rings",
    perDrain: CPUS * RING,
    prepare(s, linear) {
      const m = modes[linear ? 1 : 0]!;
      fill(m.b, sets[s]!);
      return m.d;
    },
  };
}

function arrayCase(sets: ReportSet[]): DrainCase {
  const jiffies = new Jiffies(250);
  const drains = sets.map((set) => {
    const b = new ArrayReportBuffer(CPUS, jiffies, ARRAY_CAP);
    fill(b, set);
    return [new ReportDrain(b, [], "intended", false), new ReportDrain(b, [], "intended", true)] as const;
  });
  return { kind: "array", perDrain: ARRAY_CAP - 1, prepare: (s, linear) => drains[s]![linear ? 1 : 0] };
}

/** Drains set after set for at least BLOCK_SECONDS of drain time; returns reports per second. */
function block(c: DrainCase, ctx: DamonContext, linear: boolean): number {
  let ns = 0, reports = 0;
  for (let r = 0; ns < BLOCK_SECONDS * 1e9; r++) {
    const d = c.prepare(r % SETS, linear);
    const t0 = process.hrtime.bigint();
    reports += d.run(ctx, NOW, VADDR_REPORTS);
    ns += Number(process.hrtime.bigint() - t0);
  }
  return reports / (ns / 1e9);
}

function* drainBench(): Iterable<BenchResult> {
  const root = new RngRoot(1);
  const { ctx, cum } = buildContext(root.stream("bench.damon.reports.regions"));
  const regions = ctx.targets[0]!.regions;
  const rng = root.stream("bench.damon.reports.reports");
  const ringSets = Array.from({ length: SETS }, () => makeSet(rng, regions, cum, CPUS * RING, (i) => i % CPUS));
  const arraySets = Array.from({ length: SETS }, () => makeSet(rng, regions, cum, ARRAY_CAP - 1, () => rng.int(CPUS)));
  for (const c of [ringCase(ringSets), arrayCase(arraySets)]) {
    // equal work: every set credits the same regions, by the same primitives, both ways
    let regionsCredited = 0;
    for (let s = 0; s < SETS; s++) {
      const [bin, lin] = [false, true].map((linear) => {
        const d = c.prepare(s, linear);
        const before = d.stats.credited;
        const seen = d.run(ctx, NOW, VADDR_REPORTS);
        if (seen !== c.perDrain || d.stats.credited - before !== seen) throw new Error(`damon.reports: ${c.kind} set ${s}: ${seen} reports seen, ${d.stats.credited - before} credited, expected ${c.perDrain} of each`);
        return credits(ctx, d);
      }) as [Uint8Array, Uint8Array];
      if (!sameBytes(bin, lin)) throw new Error(`damon.reports: ${c.kind} set ${s}: binary search and linear scan credit different regions`);
      regionsCredited += bin.reduce((a, x) => a + (x & 1), 0);
    }
    const rates: [number[], number[]] = [[], []];
    for (let k = 0; k < BLOCKS; k++) {
      for (const linear of k % 2 ? [true, false] : [false, true]) rates[linear ? 1 : 0].push(block(c, ctx, linear));
    }
    const bin = median(rates[0]), lin = median(rates[1]);
    yield {
      name: "damon.reports.drain",
      unit: "ratio binary/linear",
      value: round(bin / lin),
      buffer: c.kind,
      binaryReportsPerSec: round(bin),
      linearReportsPerSec: round(lin),
      identical: true,
      regions: REGIONS,
      reportsPerDrain: c.perDrain,
      meanRegionsCreditedPerDrain: round(regionsCredited / SETS),
      measure: `ReportDrain.run, ${BLOCKS} interleaved blocks of >= ${BLOCK_SECONDS} s per mode, medians`,
    };
  }
}

// ---- end to end ---------------------------------------------------------------------------------

const MACHINE = "2s-ddr5";
const WORKLOAD = "mt";
const WORKLOAD_OPTIONS = { threads: 2, cpus: [0, 8], gap: 300 };
const SEED = 1;
const DURATION_NS = 300 * MS;
const WARMUP_NS = 30 * MS;
const REPEATS = 3;
const PARAMS = ["perf-mem.loadPeriod=1000", "perf-mem.storePeriod=1000", "ibs.period=4096", "numa-hint.scanDelayMs=50", "numa-hint.scanPeriodMinMs=50"];
const VARIANTS: Array<"none" | PrimitiveName> = ["none", ...PRIMITIVES];

interface E2eRun {
  seconds: number;
  accesses: number;
  simulatedNs: number;
  monitor: Monitor | null;
}

function e2eRun(v: "none" | PrimitiveName, durationNs: number): E2eRun {
  const sched = new Scheduler();
  const m = new Machine(preset(MACHINE)!, sched, new RngRoot(SEED), { truth: false });
  m.load(resolveWorkload(WORKLOAD, WORKLOAD_OPTIONS));
  let mon: Monitor | null = null;
  if (v !== "none") {
    mon = createMonitor(m, { ops: "vaddr", primitives: [v], params: parsePrimitiveParams(PARAMS) });
    mon.kdamond.start();
  }
  const t0 = process.hrtime.bigint();
  sched.run(durationNs);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  mon?.detach();
  return { seconds, accesses: m.cpus.reduce((a, c) => a + c.accesses, 0), simulatedNs: sched.now, monitor: mon };
}

function reportsOf(mon: Monitor | null): Record<string, number> | null {
  const b = mon?.buffer;
  if (!mon || !b) return null;
  const dropped = b.stats.dropsByReason.reduce((a, row) => a + row.reduce((x, n) => x + n, 0), 0);
  return { delivered: mon.counters.delivered.reduce((a, n) => a + n, 0), accepted: b.stats.accepted, dropped, drained: b.stats.drained, credited: mon.drain?.stats.credited ?? 0 };
}

function dropsOf(mon: Monitor | null): Record<string, number> | null {
  const b = mon?.buffer;
  if (!b) return null;
  return Object.fromEntries(DROP_REASON_NAMES.map((r, i) => [r, b.stats.dropsByReason[i]!.reduce((a, n) => a + n, 0)]).filter(([, n]) => (n as number) > 0));
}

function* e2eBench(): Iterable<BenchResult> {
  for (const v of VARIANTS) e2eRun(v, WARMUP_NS);
  const rates = new Map<string, number[]>(VARIANTS.map((v) => [v, []]));
  const walls = new Map<string, number[]>(VARIANTS.map((v) => [v, []]));
  const last = new Map<string, E2eRun>();
  for (let r = 0; r < REPEATS; r++) {
    for (let j = 0; j < VARIANTS.length; j++) {
      const v = VARIANTS[(r + j) % VARIANTS.length]!;
      const run = e2eRun(v, DURATION_NS);
      rates.get(v)!.push(run.accesses / run.seconds);
      walls.get(v)!.push(round(run.seconds));
      last.set(v, run);
    }
  }
  const none = median(rates.get("none")!);
  for (const v of VARIANTS) {
    const rate = median(rates.get(v)!);
    const l = last.get(v)!;
    yield {
      name: "damon.reports.e2e",
      unit: "ratio to none",
      value: round(rate / none),
      primitive: v,
      accessesPerSec: round(rate),
      accesses: l.accesses,
      simulatedMs: l.simulatedNs / MS,
      reports: reportsOf(l.monitor),
      drops: dropsOf(l.monitor),
      regions: l.monitor?.ctx.nrRegions() ?? null,
      samples: l.monitor?.ctx.samples ?? null,
      wallSeconds: walls.get(v)!,
      workload: `${WORKLOAD} ${JSON.stringify(WORKLOAD_OPTIONS)}`,
      machine: MACHINE,
      params: v === "none" || v === "pte" ? [] : PARAMS.filter((p) => p.startsWith(`${v}.`)),
    };
  }
}

export const benchmarks: Benchmark[] = [
  {
    name: "damon.reports",
    description: "report drain at 1000 regions, binary search vs linear scan (reports/s); end-to-end accesses/s with each primitive vs no monitoring",
    *run(): Iterable<BenchResult> {
      yield* drainBench();
      yield* e2eBench();
    },
  },
];
