// AccuracyTracker (damon/accuracy.ts) against hand-computed windows and brute-force oracles. A rig
// builds a tiny machine whose pages are mapped by demand faults, records ground-truth accesses in
// chosen sample intervals (GroundTruth.record, as the CPUs do), and drives a real DamonContext
// with scripted regions (a no-op operations set; the test sets each region's nr_accesses), so
// every window's truth and snapshot are known exactly. Also: spearman() against an independent
// average-rank Pearson oracle, phase-change detection on a scripted sequence, and the tracker
// on a real DAMON run checked window by window against a page-by-page oracle.

import { describe, expect, it } from "vitest";
import fc, { type Arbitrary } from "fast-check";
import { AccuracyTracker, spearman, type WindowAccuracy } from "../../damon/accuracy.ts";
import { defaultAttrs } from "../../damon/attrs.ts";
import { DamonContext, type Snapshot } from "../../damon/context.ts";
import { createMonitor } from "../../damon/monitor.ts";
import type { DamonOps } from "../../damon/context.ts";
import { Region } from "../../damon/region.ts";
import { AccessKind } from "../../hw/batch.ts";
import { AccessRecord } from "../../hw/hooks.ts";
import { buildProcess, type ProcessSpec } from "../../hw/layout.ts";
import { TruthChannel, type ChannelFilter } from "../../hw/truth-channel.ts";
import type { Machine } from "../../hw/machine.ts";
import { RngRoot } from "../../sim/rng.ts";
import { resolveWorkload } from "../../workloads/registry.ts";
import { listWorkload, makeMachine, type Step } from "../hw/helpers.ts";

const PAGE = 4096;
const SAMPLE_US = 1000;
const SAMPLE_NS = SAMPLE_US * 1000;
/** Samples per aggregation window in every scripted rig. */
const S = 8;
const WINDOW_NS = S * SAMPLE_NS;

/** Regions are the test's business: the operations set does nothing. */
const scriptedOps: DamonOps = {
  name: "scripted",
  init: () => {},
  update: () => {},
  prepareAccessChecks: () => {},
  checkAccesses: () => 0,
};

/** [start, end, nr_accesses] of one DAMON region. */
type R = [number, number, number];
/** [process index, page index, sample intervals with an access (0..S), writes only / reads only (default: mixed)]. */
type Touch = [number, number, number, boolean?];

interface RigOptions {
  /** Pages mapped per process. */
  pages: number;
  /** Number of processes (pids 1, 2, ...). */
  processes: number;
  /** Monitored processes by index, or "paddr" for one physical target. */
  targets: number[] | "paddr";
  theta?: number;
  /** Score against a filtered truth channel, fed the same accesses (not attached to the CPUs). */
  channel?: ChannelFilter;
}

/** A machine with mapped pages, its ground truth and a scripted DAMON context scored by a tracker. */
class Rig {
  readonly m: Machine;
  readonly ctx: DamonContext;
  readonly tracker: AccuracyTracker;
  /** PTE slot of page i of process p: pte[p][i]. */
  readonly pte: number[][] = [];
  /** Virtual address of page i of process p (the same in every process). */
  readonly va: number[] = [];
  /** Physical address of page i of process p. */
  readonly pa: number[][] = [];
  readonly channel: TruthChannel | null;
  private readonly rec = new AccessRecord();
  private dup = 0;
  private snaps: Snapshot[] = [];

  constructor(o: RigOptions) {
    const procs: ProcessSpec[] = [];
    for (let p = 0; p < o.processes; p++) {
      procs.push(buildProcess({ pid: p + 1, name: `p${p + 1}`, mmap: [{ name: "a", size: o.pages * PAGE }], threads: [{ tid: 100 + p, cpus: [0] }] }).process);
    }
    const { m } = makeMachine("tiny", { truth: { windowNs: 0, subWindowNs: SAMPLE_NS, frames: o.targets === "paddr" } });
    this.m = m;
    m.load(listWorkload({ processes: procs }, new Map(procs.map((_, p) => [100 + p, [] as Step[]]))));
    const area = procs[0]!.vmas.find((v) => v.name === "a")!;
    for (let i = 0; i < o.pages; i++) this.va.push(area.start + i * PAGE);
    for (let p = 0; p < o.processes; p++) {
      const th = m.threads.get(100 + p)!;
      this.pte.push(this.va.map((a) => m.demandFault(m.cpus[0]!, th, a)));
      this.pa.push(this.pte[p]!.map((s) => m.ptes.frame[s]! * PAGE));
    }
    this.ctx = new DamonContext({
      attrs: { ...defaultAttrs(), sampleUs: SAMPLE_US, aggrUs: S * SAMPLE_US, opsUpdateUs: 1e12, minNrRegions: 1000, maxNrRegions: 100_000 },
      ops: scriptedOps,
      rng: new RngRoot(1).stream("damon"),
      minRegionSz: 1,
    });
    if (o.targets === "paddr") this.ctx.addTarget(null);
    else for (const p of o.targets) this.ctx.addTarget(p + 1);
    this.ctx.onAggregation((_c, snaps) => (this.snaps = snaps));
    this.channel = o.channel ? new TruthChannel(m, o.channel, SAMPLE_NS) : null;
    this.tracker = new AccuracyTracker(m, this.ctx, { ...(o.theta !== undefined ? { theta: o.theta } : {}), ...(this.channel ? { channel: this.channel } : {}) });
    this.ctx.start(0);
  }

  /**
   * One aggregation window: each touched page is accessed in `count` distinct sample intervals
   * (some of them twice in the same interval, which must count once), then DAMON's regions are
   * set per target and the context steps through the window's S samples.
   */
  window(touch: Touch[], regions: R[][]): WindowAccuracy {
    const t0 = this.ctx.now;
    const truth = this.m.truth!;
    const access = (p: number, pte: number, frame: number, write: boolean, t: number): void => {
      truth.record(pte, frame, write, t);
      if (this.channel) {
        const r = this.rec;
        r.cpu = 0;
        r.tid = 100 + p;
        r.pid = p + 1;
        r.kind = write ? AccessKind.WRITE : AccessKind.READ;
        r.time = t;
        r.pte = pte;
        this.channel.onAccess(r);
      }
    };
    for (const [p, i, count, write] of touch) {
      const pte = this.pte[p]![i]!, frame = this.pa[p]![i]! / PAGE;
      for (let j = 0; j < count; j++) {
        const t = t0 + j * SAMPLE_NS + 100;
        access(p, pte, frame, write ?? (this.dup & 1) === 1, t);
        if (this.dup++ % 3 === 0) access(p, pte, frame, write ?? false, t + 5000);
      }
    }
    regions.forEach((rs, k) => {
      this.ctx.targets[k]!.regions = rs.map(([a, b, nr]) => {
        const r = new Region(a, b);
        r.nrAccesses = nr;
        r.nrAccessesBp = nr * 10000;
        return r;
      });
    });
    const before = this.tracker.windows.length;
    for (let s = 1; s <= S; s++) this.ctx.step(t0 + s * SAMPLE_NS);
    expect(this.tracker.windows.length).toBe(before + 1);
    // the snapshot scored is exactly the scripted layout (nothing merged or split before it)
    expect(this.snaps.map((sn) => sn.regions.map((r): R => [r.start, r.end, r.nrAccesses]))).toEqual(regions);
    expect(this.snaps.every((sn) => sn.startNs === t0 && sn.endNs === t0 + WINDOW_NS)).toBe(true);
    return this.tracker.windows[before]!;
  }

  /** Region [page a, page b) of the vaddr layout. */
  vr(a: number, b: number, nr: number): R {
    return [this.va[0]! + a * PAGE, this.va[0]! + b * PAGE, nr];
  }
}

// ---- independent oracles ------------------------------------------------------------------

/** Average ranks by counting: rank = #smaller + (#equal + 1) / 2. */
function avgRanks(x: readonly number[]): number[] {
  return x.map((v) => {
    let less = 0, eq = 0;
    for (const y of x) {
      if (y < v) less++;
      else if (y === v) eq++;
    }
    return less + (eq + 1) / 2;
  });
}

function pearson(a: readonly number[], b: readonly number[]): number | null {
  const n = a.length;
  if (n < 2) return null;
  const ma = a.reduce((s, v) => s + v, 0) / n, mb = b.reduce((s, v) => s + v, 0) / n;
  let cov = 0, va = 0, vb = 0;
  for (let i = 0; i < n; i++) {
    cov += (a[i]! - ma) * (b[i]! - mb);
    va += (a[i]! - ma) ** 2;
    vb += (b[i]! - mb) ** 2;
  }
  return va === 0 || vb === 0 ? null : cov / Math.sqrt(va * vb);
}

const spearmanOracle = (a: readonly number[], b: readonly number[]): number | null => pearson(avgRanks(a), avgRanks(b));

interface OraclePage {
  addr: number;
  bytes: number;
  rate: number;
}

type OracleWindow = Pick<WindowAccuracy, "precision" | "recall" | "rateError" | "spearman" | "wssTrue" | "wssDamon" | "hotTrue" | "hotDamon" | "regions" | "coldPrecision" | "coldRecall">;

/**
 * The header's definitions, page by page: every (region, page) pair's overlap is computed
 * directly, with no assumption on ordering. `targets[k]` holds target k's regions and its pages.
 */
function oracle(targets: Array<{ regions: R[]; pages: OraclePage[] }>, samples: number, theta: number): OracleWindow {
  let hotD = 0, hotT = 0, both = 0, wssT = 0, wssD = 0, err = 0, bytes = 0, coldD = 0, coldT = 0, coldBoth = 0, n = 0;
  const dr: number[] = [], tr: number[] = [];
  for (const { regions, pages } of targets) {
    for (const pg of pages) {
      wssT += pg.bytes;
      if (pg.rate >= theta) hotT += pg.bytes;
    }
    for (const [s, e, nr] of regions) {
      const size = e - s;
      const d = Math.min(1, nr / samples);
      const dHot = d >= theta;
      let weighted = 0, touched = 0;
      for (const pg of pages) {
        const ov = Math.max(0, Math.min(e, pg.addr + pg.bytes) - Math.max(s, pg.addr));
        weighted += ov * pg.rate;
        if (pg.rate > 0) touched += ov;
        if (dHot && pg.rate >= theta) both += ov;
      }
      if (dHot) hotD += size;
      if (nr >= 1) wssD += size;
      coldT += size - touched;
      if (nr === 0) {
        coldD += size;
        coldBoth += size - touched;
      }
      err += Math.abs(size * d - weighted);
      bytes += size;
      dr.push(d);
      tr.push(weighted / size);
      n++;
    }
  }
  return {
    precision: hotD > 0 ? both / hotD : null,
    recall: hotT > 0 ? both / hotT : null,
    rateError: bytes > 0 ? err / bytes : 0,
    spearman: spearmanOracle(dr, tr),
    wssTrue: wssT,
    wssDamon: wssD,
    hotTrue: hotT,
    hotDamon: hotD,
    regions: n,
    coldPrecision: coldD > 0 ? coldBoth / coldD : null,
    coldRecall: coldT > 0 ? coldBoth / coldT : null,
  };
}

/** Equal within 1e-9 (relative to max(1, |expected|)), null matching null. */
function close(got: number | null, want: number | null, what: string): void {
  if (want === null) {
    expect(got, what).toBeNull();
    return;
  }
  expect(got, what).not.toBeNull();
  expect(Math.abs(got! - want), `${what}: got ${got}, want ${want}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want)));
}

function expectWindow(w: WindowAccuracy, o: OracleWindow): void {
  for (const k of ["precision", "recall", "rateError", "spearman", "wssTrue", "wssDamon", "hotTrue", "hotDamon", "regions", "coldPrecision", "coldRecall"] as const) close(w[k], o[k], k);
}

// ---- spearman -------------------------------------------------------------------------------

describe("spearman", () => {
  it("known values: monotone 1, reversed -1, hand-computed ties, null when undefined", () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3], [1, 8, 27])).toBeCloseTo(1, 12); // monotone, not linear
    expect(spearman([1, 2, 3, 4, 5], [5, 4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(spearman(new Float64Array([0.1, 0.9]), new Float64Array([3, -3]))).toBeCloseTo(-1, 12);
    // a = [1,2,2,3] has ranks [1,2.5,2.5,4]; b = [1,2,3,4] ranks [1,2,3,4]; both mean 2.5
    // cov = 2.25 + 0 + 0 + 2.25 = 4.5; var a = 4.5; var b = 5 -> 4.5 / sqrt(22.5) = sqrt(0.9)
    expect(spearman([1, 2, 2, 3], [1, 2, 3, 4])).toBeCloseTo(Math.sqrt(0.9), 12);
    // a = [3,1,2] ranks [3,1,2]; b = [2,1,3] ranks [2,1,3]: deviations [1,-1,0], [0,-1,1] -> 1/2
    expect(spearman([0.75, 0, 0.5], [0.5, 0.1, 0.9])).toBeCloseTo(0.5, 12);
    expect(spearman([5, 5, 5], [1, 2, 3])).toBeNull();
    expect(spearman([1, 2, 3], [7, 7, 7])).toBeNull();
    expect(spearman([1], [2])).toBeNull();
    expect(spearman([], [])).toBeNull();
  });

  it("equals Pearson's correlation of average ranks (brute force) on random inputs with ties", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 24 }).chain((n) => fc.tuple(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: n, maxLength: n }), fc.array(fc.oneof(fc.integer({ min: -3, max: 3 }), fc.double({ min: -1, max: 1, noNaN: true })), { minLength: n, maxLength: n }))),
        ([a, b]) => {
          const got = spearman(a, b), want = spearmanOracle(a, b);
          if (want === null) expect(got).toBeNull();
          else {
            expect(got).not.toBeNull();
            expect(Math.abs(got! - want)).toBeLessThan(1e-9);
            expect(Math.abs(got!)).toBeLessThanOrEqual(1 + 1e-12);
          }
          // symmetric, and invariant under a strictly increasing transform of either side
          const sym = spearman(b, a);
          if (got === null) expect(sym).toBeNull();
          else expect(sym!).toBeCloseTo(got, 9);
          const t = spearman(a.map((x) => Math.exp(x) * 3 + 1), b);
          if (got === null) expect(t).toBeNull();
          else expect(t!).toBeCloseTo(got, 9);
        },
      ),
      { numRuns: 300 },
    );
  }, 60_000);
});

// ---- hand-computed windows ------------------------------------------------------------------

describe("AccuracyTracker: hand-computed windows", () => {
  // Eight pages P0..P7 of one process, S = 8 samples per window, theta = 0.5. Sample intervals
  // with an access: P0 8, P1 6, P2 4, P3 0, P4 4, P5 0, P6 5, P7 0, so the true rates are
  //   P0 1, P1 0.75, P2 0.5, P3 0, P4 0.5, P5 0, P6 0.625, P7 0.
  // DAMON's regions: R0 = [P0, P4) nr 6 (rate 0.75, hot), R1 = [P4, P6) nr 0 (idle),
  //                  R2 = [P6, P8) nr 7 (rate 0.875, hot).
  const touches: Touch[] = [[0, 0, 8], [0, 1, 6], [0, 2, 4], [0, 4, 4], [0, 6, 5]];
  const layout = (rig: Rig): R[][] => [[rig.vr(0, 4, 6), rig.vr(4, 6, 0), rig.vr(6, 8, 7)]];

  it("precision, recall, rate error, spearman, WSS and idle precision/recall", () => {
    const rig = new Rig({ pages: 8, processes: 1, targets: [0] });
    const w = rig.window(touches, layout(rig));
    // truly hot: P0 P1 P2 P4 P6 = 5 pages; DAMON hot: R0 + R2 = 6 pages; in both: P0 P1 P2 P6 = 4
    expect(w.hotTrue).toBe(5 * PAGE);
    expect(w.hotDamon).toBe(6 * PAGE);
    expect(w.precision).toBeCloseTo(4 / 6, 12);
    expect(w.recall).toBeCloseTo(4 / 5, 12);
    // true region rates: R0 (1 + .75 + .5 + 0) / 4 = 0.5625, R1 (.5 + 0) / 2 = 0.25, R2 .625 / 2 = 0.3125
    // rate error = (4 x |.75 - .5625| + 2 x |0 - .25| + 2 x |.875 - .3125|) / 8 = (.75 + .5 + 1.125) / 8
    expect(w.rateError).toBeCloseTo(2.375 / 8, 12);
    // DAMON rates [.75, 0, .875] rank [2, 1, 3]; true rates [.5625, .25, .3125] rank [3, 1, 2] -> 0.5
    expect(w.spearman).toBeCloseTo(0.5, 12);
    // accessed at all: P0 P1 P2 P4 P6 = 5 pages; DAMON nr >= 1: R0 + R2 = 6 pages
    expect(w.wssTrue).toBe(5 * PAGE);
    expect(w.wssDamon).toBe(6 * PAGE);
    // no access at all inside regions: P3 (R0), P5 (R1), P7 (R2) = 3 pages; DAMON idle: R1 = 2 pages,
    // of which P5 truly idle -> idle precision 1/2, idle recall 1/3
    expect(w.coldPrecision).toBeCloseTo(1 / 2, 12);
    expect(w.coldRecall).toBeCloseTo(1 / 3, 12);
    expect(w.regions).toBe(3);
    expect(w.t).toBe(WINDOW_NS);
    // per target: DAMON 4 pages x .75 + 2 pages x .875 = 4.75 pages; truth 1+.75+.5+.5+.625 = 3.375 pages
    expect(w.targets).toEqual([{ id: 0, pid: 1, damon: 4.75 * PAGE, truth: 3.375 * PAGE }]);
  });

  it("theta moves both hot sets (theta = 0.75)", () => {
    const rig = new Rig({ pages: 8, processes: 1, targets: [0], theta: 0.75 });
    const w = rig.window(touches, layout(rig));
    // truly hot: P0 (1), P1 (.75) = 2 pages; DAMON hot: R0 (.75) and R2 (.875) = 6 pages; both: P0 P1
    expect(w.hotTrue).toBe(2 * PAGE);
    expect(w.hotDamon).toBe(6 * PAGE);
    expect(w.precision).toBeCloseTo(2 / 6, 12);
    expect(w.recall).toBeCloseTo(1, 12);
    expect(w.rateError).toBeCloseTo(2.375 / 8, 12); // theta plays no part in the rate error
  });

  it("only the target's own process counts (another process touching the same addresses is ignored)", () => {
    const rig = new Rig({ pages: 8, processes: 2, targets: [0] });
    // process 2 has its own pages at the very same virtual addresses, all hot
    const noise: Touch[] = Array.from({ length: 8 }, (_, i): Touch => [1, i, 8]);
    const w = rig.window([...touches, ...noise], layout(rig));
    expect(w.hotTrue).toBe(5 * PAGE);
    expect(w.precision).toBeCloseTo(4 / 6, 12);
    expect(w.recall).toBeCloseTo(4 / 5, 12);
    expect(w.rateError).toBeCloseTo(2.375 / 8, 12);
    expect(w.wssTrue).toBe(5 * PAGE);
  });

  it("a filtered truth channel (writes only) is what DAMON is scored against", () => {
    const rig = new Rig({ pages: 8, processes: 1, targets: [0], channel: { writesOnly: true } });
    // P0 written in 8 intervals, P1 only read (in 8), P2 written in 2
    const touch: Touch[] = [[0, 0, 8, true], [0, 1, 8, false], [0, 2, 2, true]];
    const w = rig.window(touch, [[rig.vr(0, 1, 8), rig.vr(1, 8, 0)]]);
    // written: P0 rate 1 (hot), P2 rate 2/8; the reads of P1 do not count
    expect(w.hotTrue).toBe(PAGE);
    expect(w.precision).toBeCloseTo(1, 12);
    expect(w.recall).toBeCloseTo(1, 12);
    expect(w.wssTrue).toBe(2 * PAGE);
    // R0 exact; R1 [P1, P8): true rate (2/8) / 7 against 0 -> 7 pages x (0.25 / 7) / 8 pages
    expect(w.rateError).toBeCloseTo(0.25 / 8, 12);
    // idle: R1 is 7 pages, of which 6 never written
    expect(w.coldPrecision).toBeCloseTo(6 / 7, 12);
    expect(w.coldRecall).toBeCloseTo(1, 12);
    // the next window starts from zero: the channel was closed with the window
    const w2 = rig.window([[0, 1, 8, true]], [[rig.vr(0, 1, 8), rig.vr(1, 8, 0)]]);
    expect([w2.hotTrue, w2.wssTrue, w2.precision, w2.recall]).toEqual([PAGE, PAGE, 0, 0]);
  });

  it("paddr: truth by physical frame, regions over physical addresses", () => {
    const rig = new Rig({ pages: 8, processes: 1, targets: "paddr" });
    // one DAMON region per frame, in address order: each page's own nr_accesses
    // P0 8, P1 6, P2 0, P3 0, P4 2, P5 0, P6 4, P7 0 (rates 1, .75, 0, 0, .25, 0, .5, 0)
    const nr = [8, 6, 0, 0, 2, 0, 4, 0];
    const regions: R[] = rig.pa[0]!.map((a, i): R => [a, a + PAGE, nr[i]!]).sort((x, y) => x[0] - y[0]);
    const w = rig.window(touches, [regions]);
    // truly hot: P0 P1 P2 P4 P6 (5); DAMON hot: P0 P1 P6 (3), all truly hot -> precision 1, recall 3/5
    expect(w.precision).toBeCloseTo(1, 12);
    expect(w.recall).toBeCloseTo(3 / 5, 12);
    // per-page errors: P0 0, P1 0, P2 .5, P3 0, P4 |.25 - .5| = .25, P5 0, P6 |.5 - .625| = .125, P7 0
    expect(w.rateError).toBeCloseTo((0.5 + 0.25 + 0.125) / 8, 12);
    expect(w.wssTrue).toBe(5 * PAGE);
    expect(w.wssDamon).toBe(4 * PAGE); // P0 P1 P4 P6
    // DAMON idle: P2 P3 P5 P7 (4 pages), truly idle among them P3 P5 P7; all truly idle: P3 P5 P7
    expect(w.coldPrecision).toBeCloseTo(3 / 4, 12);
    expect(w.coldRecall).toBeCloseTo(1, 12);
    expect(w.targets).toEqual([{ id: 0, pid: null, damon: (1 + 0.75 + 0.25 + 0.5) * PAGE, truth: 3.375 * PAGE }]);
  });

  it("undefined cases are null, and the summary averages only what is defined", () => {
    const rig = new Rig({ pages: 8, processes: 1, targets: [0] });
    // A: DAMON calls nothing hot (both regions nr 0); truth: P0 8 (hot), P5 2.
    //    precision null, recall 0/1 page = 0; DAMON rates constant -> spearman null
    //    rate error: R0 [P0,P4) true 1/4, R1 [P4,P8) true .25/4 -> (4 x .25 + 4 x .0625) / 8 = 0.15625
    //    idle: DAMON 8 pages, truly idle 6 of them (all but P0 and P5) -> 6/8 and 6/6
    const a = rig.window([[0, 0, 8], [0, 5, 2]], [[rig.vr(0, 4, 0), rig.vr(4, 8, 0)]]);
    expect(a.precision).toBeNull();
    expect(a.recall).toBe(0);
    expect(a.spearman).toBeNull();
    expect(a.rateError).toBeCloseTo(0.15625, 12);
    expect(a.coldPrecision).toBeCloseTo(0.75, 12);
    expect(a.coldRecall).toBeCloseTo(1, 12);
    expect([a.wssTrue, a.wssDamon]).toEqual([2 * PAGE, 0]);
    // B: nothing truly hot (P1 3, P6 1); DAMON R0 [P0,P2) nr 8 hot, R1 [P2,P8) nr 2.
    //    recall null, precision 0/2 pages = 0; no region idle -> idle precision null; truly idle
    //    bytes 6 pages, none called idle -> idle recall 0. Two regions: d [1, .25], t [.1875, 1/48] -> 1
    //    rate error: (2 x |1 - .1875| + 6 x |.25 - 1/48|) / 8 = (1.625 + 1.375) / 8 = 0.375
    const b = rig.window([[0, 1, 3], [0, 6, 1]], [[rig.vr(0, 2, 8), rig.vr(2, 8, 2)]]);
    expect(b.recall).toBeNull();
    expect(b.precision).toBe(0);
    expect(b.coldPrecision).toBeNull();
    expect(b.coldRecall).toBe(0);
    expect(b.spearman).toBeCloseTo(1, 12);
    expect(b.rateError).toBeCloseTo(0.375, 12);
    expect([b.wssTrue, b.wssDamon]).toEqual([2 * PAGE, 8 * PAGE]);
    // C: no access at all, one idle region: everything about hotness undefined, idle perfect
    const c = rig.window([], [[rig.vr(0, 8, 0)]]);
    expect([c.precision, c.recall, c.spearman]).toEqual([null, null, null]);
    expect([c.coldPrecision, c.coldRecall, c.rateError, c.wssTrue, c.hotTrue]).toEqual([1, 1, 0, 0, 0]);
    expect(c.t).toBe(3 * WINDOW_NS);

    const s = rig.tracker.summary();
    expect(s.windows).toBe(3);
    expect(s.precision).toBe(0); // B only
    expect(s.recall).toBe(0); // A only
    expect(s.f1).toBeNull(); // precision + recall = 0
    expect(s.spearman).toBeCloseTo(1, 12); // B only
    expect(s.rateError).toBeCloseTo((0.15625 + 0.375 + 0) / 3, 12);
    // WSS error over windows with a true WSS: A |0 - 2| / 2 = 1, B |8 - 2| / 2 = 3
    expect(s.wssError).toBeCloseTo(2, 12);
    expect(s.coldPrecision).toBeCloseTo((0.75 + 1) / 2, 12); // A and C
    expect(s.coldRecall).toBeCloseTo((1 + 0 + 1) / 3, 12);
    // skipping the first window
    const s1 = rig.tracker.summary(1);
    expect(s1.windows).toBe(2);
    expect(s1.recall).toBeNull();
    expect(s1.wssError).toBeCloseTo(3, 12);
    expect(s1.coldRecall).toBeCloseTo(0.5, 12);
  });

  it("summary F1 is the harmonic mean of the mean precision and recall", () => {
    const rig = new Rig({ pages: 8, processes: 1, targets: [0] });
    rig.window(touches, layout(rig)); // precision 2/3, recall 4/5
    // second window: truly hot P0 P1 (8 each); DAMON hot [P0, P1) only -> precision 1, recall 1/2
    rig.window([[0, 0, 8], [0, 1, 8]], [[rig.vr(0, 1, 8), rig.vr(1, 8, 0)]]);
    const s = rig.tracker.summary();
    const p = (2 / 3 + 1) / 2, r = (4 / 5 + 1 / 2) / 2;
    expect(s.precision).toBeCloseTo(p, 12);
    expect(s.recall).toBeCloseTo(r, 12);
    expect(s.f1).toBeCloseTo((2 * p * r) / (p + r), 12);
  });
});

// ---- phase changes --------------------------------------------------------------------------

describe("AccuracyTracker: phase changes", () => {
  it("a hot set with Jaccard < 0.5 starts a phase, detected when DAMON reaches precision and recall >= 0.5", () => {
    const rig = new Rig({ pages: 8, processes: 1, targets: [0] });
    const hot = (...pages: number[]): Touch[] => pages.map((i): Touch => [0, i, 8]);
    const ph = (): [number, number, number | null] => {
      const s = rig.tracker.summary();
      return [s.phaseChanges, s.detected, s.meanDetectionNs];
    };
    const ms = 1_000_000;
    // W1 (t = 8 ms): hot {P0,P1}, DAMON right; first window: no phase
    rig.window(hot(0, 1), [[rig.vr(0, 2, 8), rig.vr(2, 8, 0)]]);
    // W2 (16 ms): same hot set
    rig.window(hot(0, 1), [[rig.vr(0, 2, 8), rig.vr(2, 8, 0)]]);
    expect(ph()).toEqual([0, 0, null]);
    // W3 (24 ms): hot moves to {P4,P5} (Jaccard 0): a phase; DAMON still on P0-P1 (precision 0)
    rig.window(hot(4, 5), [[rig.vr(0, 2, 8), rig.vr(2, 8, 0)]]);
    expect(ph()).toEqual([1, 0, null]);
    // W4 (32 ms): DAMON hot [P4, P7): precision 2/3, recall 1 -> detected 32 - 24 = 8 ms
    rig.window(hot(4, 5), [[rig.vr(0, 4, 0), rig.vr(4, 7, 8), rig.vr(7, 8, 0)]]);
    expect(ph()).toEqual([1, 1, 8 * ms]);
    // W5 (40 ms): {P4..P7}: Jaccard exactly 1/2 with {P4,P5}: not a phase
    rig.window(hot(4, 5, 6, 7), [[rig.vr(0, 4, 0), rig.vr(4, 8, 8)]]);
    expect(ph()).toEqual([1, 1, 8 * ms]);
    // W6 (48 ms): {P7}: Jaccard 1/4 -> phase; DAMON exactly right in the same window -> 0 ms
    rig.window(hot(7), [[rig.vr(0, 7, 0), rig.vr(7, 8, 8)]]);
    expect(ph()).toEqual([2, 2, 4 * ms]);
    // W7 (56 ms): {P0..P3}: Jaccard 0 -> phase; DAMON calls nothing hot (precision undefined)
    rig.window(hot(0, 1, 2, 3), [[rig.vr(0, 8, 1)]]);
    expect(ph()).toEqual([3, 2, 4 * ms]);
    // W8 (64 ms): same hot set; DAMON hot [P0, P1) only: precision 1 but recall 1/4 -> not yet
    rig.window(hot(0, 1, 2, 3), [[rig.vr(0, 1, 8), rig.vr(1, 8, 0)]]);
    expect(ph()).toEqual([3, 2, 4 * ms]);
    // W9 (72 ms): DAMON hot [P0, P8): precision exactly 1/2, recall 1 -> detected 72 - 56 = 16 ms;
    // mean (8 + 0 + 16) / 3 = 8 ms
    rig.window(hot(0, 1, 2, 3), [[rig.vr(0, 8, 8)]]);
    expect(ph()).toEqual([3, 3, 8 * ms]);
    expect(rig.tracker.windows.map((w) => w.t)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => k * 8 * ms));
  });
});

// ---- brute-force oracle on random layouts ---------------------------------------------------

/** A region layout drawn independently of where the memory is: cut points as fractions of a span. */
interface Shape {
  cuts: Array<[number, number]>;
  nrs: number[];
  gaps: boolean[];
}

const shapeArb: Arbitrary<Shape> = fc.record({
  // a cut at fraction u / 1e6 of the span, kept as is (0), aligned down to a page (1) or to a page
  // plus one byte (2)
  cuts: fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 2 })), { minLength: 2, maxLength: 10, selector: (c) => c[0] }),
  nrs: fc.array(fc.integer({ min: 0, max: S }), { minLength: 10, maxLength: 10 }),
  gaps: fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }),
});

/** Sorted, disjoint regions over [lo, hi) (page-aligned lo) following a shape; some gaps left. */
function regionsOf(shape: Shape, lo: number, hi: number): R[] {
  const xs = shape.cuts.map(([u, snap]) => {
    const x = Math.floor(((hi - lo) * u) / 1_000_000);
    return lo + (snap === 0 ? x : Math.floor(x / PAGE) * PAGE + (snap === 2 ? 1 : 0));
  });
  const c = [...new Set(xs)].sort((a, b) => a - b);
  const out: R[] = [];
  for (let i = 0; i + 1 < c.length; i++) if (!shape.gaps[i] || out.length === 0) out.push([c[i]!, c[i + 1]!, shape.nrs[i]!]);
  return out;
}

describe("AccuracyTracker against a page-by-page oracle", () => {
  const N = 12;
  it("random regions and random per-page rates, vaddr (two targets, one unmonitored process) and paddr", () => {
    const windowArb = fc.record({
      // sample intervals with an access, for N pages of each of 3 processes
      counts: fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: S })), { minLength: 3 * N, maxLength: 3 * N }),
      shapes: fc.tuple(shapeArb, shapeArb),
    });
    fc.assert(
      fc.property(fc.boolean(), fc.constantFrom(0.5, 0.25, 0.375, 0.75, 1), fc.array(windowArb, { minLength: 1, maxLength: 3 }), (paddr, theta, windows) => {
        const rig = new Rig({ pages: N, processes: 3, targets: paddr ? "paddr" : [0, 1], theta });
        for (const { counts, shapes } of windows) {
          const touch: Touch[] = [];
          counts.forEach((c, k) => {
            if (c > 0) touch.push([Math.floor(k / N), k % N, c]);
          });
          const rate = (p: number, i: number): number => counts[p * N + i]! / S;
          // each target's truth as plain (address, bytes, rate) lists, and the span its regions cover
          const targets: Array<{ span: [number, number]; pages: OraclePage[] }> = [];
          if (paddr) {
            const all: OraclePage[] = [];
            for (let p = 0; p < 3; p++) for (let i = 0; i < N; i++) if (rate(p, i) > 0) all.push({ addr: rig.pa[p]![i]!, bytes: PAGE, rate: rate(p, i) });
            const frames = rig.pa.flat();
            targets.push({ span: [Math.min(...frames) - 2 * PAGE, Math.max(...frames) + 3 * PAGE], pages: all });
          } else {
            for (const p of [0, 1]) {
              const pages = rig.va.map((a, i) => ({ addr: a, bytes: PAGE, rate: rate(p, i) })).filter((pg) => pg.rate > 0);
              targets.push({ span: [rig.va[0]! - 2 * PAGE, rig.va[0]! + (N + 2) * PAGE], pages });
            }
          }
          const regions = targets.map((t, k) => regionsOf(shapes[k]!, t.span[0], t.span[1]));
          const w = rig.window(touch, regions);
          expectWindow(w, oracle(targets.map((t, k) => ({ regions: regions[k]!, pages: t.pages })), S, theta));
        }
      }),
      { numRuns: 60 },
    );
  }, 60_000);
});

// ---- a real DAMON run -----------------------------------------------------------------------

describe("AccuracyTracker on a real DAMON run", () => {
  it("every window matches the oracle fed with the machine's own truth and DAMON's snapshots", () => {
    const { m, sched } = makeMachine("tiny", { truth: { windowNs: 0, subWindowNs: 1_000_000, frames: false } }, 3);
    m.load(resolveWorkload("stairs"));
    const attrs = { ...defaultAttrs(), sampleUs: 1000, aggrUs: 10_000, minNrRegions: 10, maxNrRegions: 200 };
    const mon = createMonitor(m, { ops: "vaddr", attrs });
    const expected: OracleWindow[] = [];
    // registered before the tracker: reads the truth window before the tracker closes it
    mon.ctx.onAggregation((ctx, snaps: Snapshot[]) => {
      const t = m.truth!;
      const samples = Math.floor(snaps[0]!.aggrUs / snaps[0]!.sampleUs);
      expected.push(
        oracle(
          snaps.map((s) => {
            const asid = m.spaceOf(ctx.targets[s.targetId]!.pid!)!.asid;
            const pages: OraclePage[] = [];
            for (let i = 0; i < t.vTouchedCount; i++) {
              const p = t.vTouched[i]!;
              if (m.ptes.asid[p] === asid) pages.push({ addr: m.ptes.vpn[p]! * PAGE, bytes: m.ptes.bytes(p), rate: Math.min(1, t.pageSubCount(p) / samples) });
            }
            return { regions: s.regions.map((r): R => [r.start, r.end, r.nrAccesses]), pages };
          }),
          samples,
          0.5,
        ),
      );
    });
    const tracker = new AccuracyTracker(m, mon.ctx);
    mon.kdamond.start();
    sched.run(80_000_000);
    expect(tracker.windows.length).toBeGreaterThanOrEqual(7);
    expect(tracker.windows.length).toBe(expected.length);
    let hot = 0;
    tracker.windows.forEach((w, i) => {
      expectWindow(w, expected[i]!);
      if (w.hotTrue > 0) hot++;
    });
    expect(hot).toBeGreaterThan(0); // the run exercised the hot-set metrics
  }, 60_000);
});

describe("AccuracyTracker refuses a truth it cannot score against", () => {
  it("a truth with its own window timer, or counted per another sub-window, is an error", () => {
    const attrs = { ...defaultAttrs(), sampleUs: 1000, aggrUs: 10_000 };
    const timed = makeMachine("tiny", { truth: { windowNs: 100_000_000, subWindowNs: 1_000_000, frames: false } }, 3).m;
    expect(() => new AccuracyTracker(timed, createMonitor(timed, { ops: "paddr", attrs }).ctx)).toThrow(/window timer/);
    const coarse = makeMachine("tiny", { truth: { windowNs: 0, subWindowNs: 5_000_000, frames: false } }, 3).m;
    expect(() => new AccuracyTracker(coarse, createMonitor(coarse, { ops: "paddr", attrs }).ctx)).toThrow(/sub-window 5000000 ns, sample interval 1000000 ns/);
    const right = makeMachine("tiny", { truth: { windowNs: 0, subWindowNs: 1_000_000, frames: true } }, 3).m;
    expect(() => new AccuracyTracker(right, createMonitor(right, { ops: "paddr", attrs }).ctx)).not.toThrow();
  });
});

describe("AccuracyTracker under intervals auto-tuning", () => {
  it("the truth is counted per the sample interval in force in each window", () => {
    const { m, sched } = makeMachine("tiny", { truth: { windowNs: 0, subWindowNs: 1_000_000, frames: false } }, 3);
    m.load(resolveWorkload("stairs"));
    const attrs = { ...defaultAttrs(), sampleUs: 1000, aggrUs: 10_000, minNrRegions: 10, maxNrRegions: 200, intervalsGoal: { accessBp: 400, aggrs: 2, minSampleUs: 250, maxSampleUs: 8000 } };
    const mon = createMonitor(m, { ops: "vaddr", attrs });
    const seen: Array<[number, number]> = []; // [sample interval of the snapshot, truth sub-window while it was counted]
    let sub = m.truth!.subWindowNs;
    mon.ctx.onAggregation((_c, snaps: Snapshot[]) => {
      seen.push([snaps[0]!.sampleUs * 1000, sub]);
    });
    const tracker = new AccuracyTracker(m, mon.ctx);
    mon.ctx.onAggregation(() => {
      sub = m.truth!.subWindowNs; // after the tracker: what the next window is counted with
    });
    mon.kdamond.start();
    sched.run(150_000_000);
    expect(tracker.windows.length).toBeGreaterThan(5);
    const intervals = new Set(seen.map(([s]) => s));
    expect(intervals.size).toBeGreaterThan(1); // the tuning did move the sample interval
    // a snapshot reports the interval tuned at its end; the window was counted with the interval
    // in force before that, which is the previous snapshot's
    for (let i = 1; i < seen.length; i++) expect(seen[i]![1], `window ${i}`).toBe(seen[i - 1]![0]);
  }, 60_000);
});
