// Scoring DAMON against the simulator's ground truth, one aggregation window at a time. At each
// aggregation the snapshot DAMON emits is compared with what the machine recorded in the same
// window (the truth window is closed right after, so both cover exactly the same time). A page's
// true access rate is the fraction of sample intervals in which it was accessed at least once,
// which is the quantity DAMON's nr_accesses / (aggr / sample) estimates. Definitions (also in the
// README, "How accuracy is measured"):
//   hot (true)        pages whose true rate >= theta (default 0.5)
//   hot (DAMON)       regions whose nr_accesses / samples >= theta
//   precision         bytes in both / bytes DAMON calls hot      (undefined if DAMON calls none)
//   recall            bytes in both / bytes truly hot            (undefined if none is)
//   rate error        sum over regions of bytes x |DAMON rate - true rate| / monitored bytes
//                     (a region's true rate is the byte-weighted mean of its pages' rates)
//   spearman          rank correlation of DAMON rate and true rate across regions (average ranks)
//   wss               bytes of regions with nr_accesses >= 1 vs bytes of pages accessed at all
//   idle precision /  bytes DAMON calls idle (nr_accesses 0) that had no access at all, over the
//   recall            bytes DAMON calls idle / over all bytes that had no access (KSM candidates)
//   phase changes     a window whose true hot set has Jaccard < 0.5 with the previous window's
//                     starts a phase; it is detected at the first window where DAMON's hot set
//                     reaches precision and recall >= 0.5 against the new truth.

import type { Machine } from "../hw/machine.ts";
import type { TruthChannel } from "../hw/truth-channel.ts";
import type { DamonContext, Snapshot } from "./context.ts";
import { nrSamplesPerAggr } from "./attrs.ts";

export interface WindowAccuracy {
  /** End of the window, ns. */
  t: number;
  precision: number | null;
  recall: number | null;
  rateError: number;
  spearman: number | null;
  wssTrue: number;
  wssDamon: number;
  hotTrue: number;
  hotDamon: number;
  regions: number;
  /** Bytes DAMON calls idle (nr_accesses 0) that truly had no access / all it calls idle / all truly idle. */
  coldPrecision: number | null;
  coldRecall: number | null;
  /** Per target: DAMON's estimate and the truth of accessed bytes x rate (bytes per sample interval). */
  targets: Array<{ id: number; pid: number | null; damon: number; truth: number }>;
  /** DAMON's hot ranges of this window ([target, start, end)), kept when asked for. */
  hotRanges?: Array<[number, number, number]>;
  /** The truly hot ranges of this window ([target, start, end), adjacent pages joined). */
  trueHotRanges?: Array<[number, number, number]>;
}

export interface AccuracySummary {
  windows: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  rateError: number | null;
  spearman: number | null;
  wssError: number | null;
  coldPrecision: number | null;
  coldRecall: number | null;
  phaseChanges: number;
  detected: number;
  meanDetectionNs: number | null;
}

/** Per-page truth for one window, as flat arrays sorted by address. */
interface PageTruth {
  addr: Float64Array;
  bytes: Float64Array;
  rate: Float64Array;
  n: number;
}

const mean = (xs: number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);

/** Spearman's rho with average ranks for ties; null when either side is constant. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number | null {
  const n = a.length;
  if (n < 2) return null;
  const rank = (x: ArrayLike<number>): number[] => {
    const idx = Array.from({ length: n }, (_, i) => i).sort((i, j) => x[i]! - x[j]!);
    const r = new Array<number>(n);
    for (let i = 0; i < n; ) {
      let j = i;
      while (j + 1 < n && x[idx[j + 1]!] === x[idx[i]!]) j++;
      const avg = (i + j) / 2 + 1;
      for (let k = i; k <= j; k++) r[idx[k]!] = avg;
      i = j + 1;
    }
    return r;
  };
  const ra = rank(a), rb = rank(b);
  const ma = ra.reduce((s, v) => s + v, 0) / n, mb = rb.reduce((s, v) => s + v, 0) / n;
  let num = 0, da = 0, db = 0;
  for (let i = 0; i < n; i++) {
    num += (ra[i]! - ma) * (rb[i]! - mb);
    da += (ra[i]! - ma) ** 2;
    db += (rb[i]! - mb) ** 2;
  }
  return da === 0 || db === 0 ? null : num / Math.sqrt(da * db);
}

export interface AccuracyOptions {
  /** Hot threshold as a fraction of the samples per aggregation. */
  theta?: number;
  /**
   * Which accesses count as truth: a filtered channel (only writes, only some CPUs or threads) for
   * filtered monitoring; default every access (the machine's ground truth).
   */
  channel?: TruthChannel;
  /** Keep each window's DAMON hot ranges (for cross-variant analyses). */
  keepHotRanges?: boolean;
}

export class AccuracyTracker {
  readonly windows: WindowAccuracy[] = [];
  private readonly theta: number;
  private prevHot: Set<number> | null = null;
  private pendingPhase: number | null = null;
  private phaseChanges = 0;
  private detections: number[] = [];
  private readonly channel: TruthChannel | null;
  private readonly keepHotRanges: boolean;

  constructor(private readonly m: Machine, private readonly ctx: DamonContext, o: AccuracyOptions = {}) {
    this.theta = o.theta ?? 0.5;
    this.channel = o.channel ?? null;
    this.keepHotRanges = o.keepHotRanges ?? false;
    if (!m.truth) throw new Error("accuracy needs the machine's ground truth");
    // the tracker closes the truth window at each aggregation, and rates are counted per sample
    // interval: a window timer of the truth's own, or another sub-window, would skew every figure
    if (m.truth.windowNs !== 0) throw new Error("accuracy needs a ground truth without a window timer (windowNs 0): the tracker closes windows at aggregations");
    const sub = this.channel ? this.channel.subWindowNs : m.truth.subWindowNs;
    if (sub !== ctx.sampleNs) throw new Error(`accuracy needs truth counted per sample interval: sub-window ${sub} ns, sample interval ${ctx.sampleNs} ns`);
    ctx.onAggregation((_c, snaps) => this.evaluate(snaps));
  }

  /** Truth pages of the current window for target `tid` (vaddr: its process's pages; paddr: frames). */
  private pageTruth(pid: number | null, samples: number): { pages: PageTruth; ids: number[] } {
    const t = this.m.truth!;
    const list: Array<[number, number, number, number]> = [];
    const ch = this.channel;
    if (ch !== null) {
      const space = pid === null ? undefined : this.m.spaceOf(pid);
      for (let i = 0; i < ch.touchedCount; i++) {
        const p = ch.touched[i]!;
        const rate = Math.min(1, ch.subCount[p]! / samples);
        if (pid === null) list.push([this.m.ptes.frame[p]! * 4096, this.m.ptes.bytes(p), rate, p]);
        else if (space && this.m.ptes.asid[p] === space.asid) list.push([this.m.ptes.vpn[p]! * 4096, this.m.ptes.bytes(p), rate, p]);
      }
    } else if (pid === null) {
      for (let i = 0; i < t.fTouchedCount; i++) {
        const f = t.fTouched[i]!;
        list.push([f * 4096, 4096, Math.min(1, t.frameSubCount(f) / samples), f]);
      }
    } else {
      const space = this.m.spaceOf(pid);
      for (let i = 0; i < t.vTouchedCount; i++) {
        const p = t.vTouched[i]!;
        if (!space || this.m.ptes.asid[p] !== space.asid) continue;
        list.push([this.m.ptes.vpn[p]! * 4096, this.m.ptes.bytes(p), Math.min(1, t.pageSubCount(p) / samples), p]);
      }
    }
    list.sort((a, b) => a[0] - b[0]);
    const pages: PageTruth = { addr: new Float64Array(list.length), bytes: new Float64Array(list.length), rate: new Float64Array(list.length), n: list.length };
    const ids: number[] = [];
    list.forEach(([a, b, r, id], i) => {
      pages.addr[i] = a;
      pages.bytes[i] = b;
      pages.rate[i] = r;
      ids.push(id);
    });
    return { pages, ids };
  }

  private evaluate(snaps: Snapshot[]): void {
    const samples = nrSamplesPerAggr({ sampleUs: snaps[0]?.sampleUs ?? this.ctx.attrs.sampleUs, aggrUs: snaps[0]?.aggrUs ?? this.ctx.attrs.aggrUs });
    let both = 0, hotT = 0, hotD = 0, wssT = 0, wssD = 0, errSum = 0, bytesSum = 0, nRegions = 0;
    const dRates: number[] = [], tRates: number[] = [];
    const hotIds = new Set<number>();
    let coldBoth = 0, coldD = 0, coldT = 0;
    const targets: WindowAccuracy["targets"] = [];
    const hotRanges: Array<[number, number, number]> = [];
    const trueHot: Array<[number, number, number]> = [];
    for (const s of snaps) {
      const target = this.ctx.targets[s.targetId]!;
      const { pages, ids } = this.pageTruth(target.pid, samples);
      let p = 0;
      let tDamon = 0, tTruth = 0;
      for (const r of s.regions) {
        const size = r.end - r.start;
        const dRate = Math.min(1, r.nrAccesses / samples);
        const dHot = dRate >= this.theta;
        if (dHot) {
          hotD += size;
          if (this.keepHotRanges) hotRanges.push([s.targetId, r.start, r.end]);
        }
        if (r.nrAccesses >= 1) wssD += size;
        while (p < pages.n && pages.addr[p]! + pages.bytes[p]! <= r.start) p++;
        let weighted = 0, touched = 0;
        for (let q = p; q < pages.n && pages.addr[q]! < r.end; q++) {
          const lo = Math.max(r.start, pages.addr[q]!), hi = Math.min(r.end, pages.addr[q]! + pages.bytes[q]!);
          const b = hi - lo;
          weighted += b * pages.rate[q]!;
          if (pages.rate[q]! > 0) touched += b;
          if (pages.rate[q]! >= this.theta && dHot) both += b;
        }
        const trueCold = size - touched;
        coldT += trueCold;
        if (r.nrAccesses === 0) {
          coldD += size;
          coldBoth += trueCold;
        }
        tDamon += size * dRate;
        tTruth += weighted;
        const tRate = weighted / size;
        errSum += size * Math.abs(dRate - tRate);
        bytesSum += size;
        dRates.push(dRate);
        tRates.push(tRate);
        nRegions++;
      }
      targets.push({ id: s.targetId, pid: target.pid, damon: tDamon, truth: tTruth });
      for (let q = 0; q < pages.n; q++) {
        wssT += pages.bytes[q]!;
        if (pages.rate[q]! >= this.theta) {
          hotT += pages.bytes[q]!;
          hotIds.add(ids[q]!);
          if (this.keepHotRanges) {
            const last = trueHot[trueHot.length - 1];
            const a = pages.addr[q]!, e = a + pages.bytes[q]!;
            if (last && last[0] === s.targetId && last[2] === a) last[2] = e;
            else trueHot.push([s.targetId, a, e]);
          }
        }
      }
    }
    const w: WindowAccuracy = {
      t: snaps[0]?.endNs ?? this.ctx.now,
      precision: hotD > 0 ? both / hotD : null,
      recall: hotT > 0 ? both / hotT : null,
      rateError: bytesSum > 0 ? errSum / bytesSum : 0,
      spearman: spearman(dRates, tRates),
      wssTrue: wssT,
      wssDamon: wssD,
      hotTrue: hotT,
      hotDamon: hotD,
      regions: nRegions,
      coldPrecision: coldD > 0 ? coldBoth / coldD : null,
      coldRecall: coldT > 0 ? coldBoth / coldT : null,
      targets,
      ...(this.keepHotRanges ? { hotRanges, trueHotRanges: trueHot } : {}),
    };
    this.windows.push(w);
    this.trackPhases(hotIds, w);
    // intervals auto-tuning re-tunes the sample interval just before the snapshot: the window
    // just scored was counted with the old interval, the next one is counted with the new one
    this.channel?.closeWindow(this.ctx.sampleNs);
    this.m.truth!.closeWindow(this.ctx.now, this.ctx.sampleNs);
  }

  private trackPhases(hot: Set<number>, w: WindowAccuracy): void {
    if (this.prevHot !== null && (this.prevHot.size > 0 || hot.size > 0)) {
      let inter = 0;
      for (const x of hot) if (this.prevHot.has(x)) inter++;
      const union = this.prevHot.size + hot.size - inter;
      if (union > 0 && inter / union < 0.5) {
        this.phaseChanges++;
        this.pendingPhase = w.t;
      }
    }
    if (this.pendingPhase !== null && (w.precision ?? 0) >= 0.5 && (w.recall ?? 0) >= 0.5) {
      this.detections.push(w.t - this.pendingPhase);
      this.pendingPhase = null;
    }
    this.prevHot = hot;
  }

  /** Means over the windows after `skip` warm-up windows. */
  summary(skip = 0): AccuracySummary {
    const ws = this.windows.slice(skip);
    const prec = mean(ws.map((w) => w.precision).filter((x): x is number => x !== null));
    const rec = mean(ws.map((w) => w.recall).filter((x): x is number => x !== null));
    return {
      windows: ws.length,
      precision: prec,
      recall: rec,
      f1: prec !== null && rec !== null && prec + rec > 0 ? (2 * prec * rec) / (prec + rec) : null,
      rateError: mean(ws.map((w) => w.rateError)),
      spearman: mean(ws.map((w) => w.spearman).filter((x): x is number => x !== null)),
      wssError: mean(ws.filter((w) => w.wssTrue > 0).map((w) => Math.abs(w.wssDamon - w.wssTrue) / w.wssTrue)),
      coldPrecision: mean(ws.map((w) => w.coldPrecision).filter((x): x is number => x !== null)),
      coldRecall: mean(ws.map((w) => w.coldRecall).filter((x): x is number => x !== null)),
      phaseChanges: this.phaseChanges,
      detected: this.detections.length,
      meanDetectionNs: mean(this.detections),
    };
  }
}
