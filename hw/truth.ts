// Ground truth: the machine's exact record of which pages were accessed, kept apart from anything
// being judged. For every virtual page (PTE slot) and, optionally, every physical frame it counts
// reads and writes in the current window, and in how many sub-windows (e.g. DAMON sample intervals)
// the page was touched at least once, which is what DAMON's nr_accesses estimates. Windows are
// closed by a timer at OBSERVER priority; listeners read the counts through the touched lists
// before they are reset, so memory stays proportional to touched pages, never to run length.
// Accesses are stamped with the executing CPU's clock, so attribution to windows has the CPU
// quantum as its skew. Totals over the whole run are kept too.

import { SimError } from "../sim/errors.ts";
import { Priority, type Scheduler } from "../sim/scheduler.ts";
import { checkTime } from "../sim/time.ts";
import { CHUNK_MASK, ChunkedFloat64 } from "./chunked.ts";

export interface TruthOptions {
  /** Window length in ns (0 = one window for the whole run, closed by closeWindow()). */
  windowNs: number;
  /** Sub-window length in ns for the "touched in how many sub-windows" count. */
  subWindowNs: number;
  /** Also count by physical frame (needed for paddr monitoring). */
  frames: boolean;
}

export type TruthListener = (truth: GroundTruth, windowStart: number, windowEnd: number) => void;

export class GroundTruth {
  readonly windowNs: number;
  /** Length of a sub-window (DAMON's sample interval); changes only at closeWindow(). */
  subWindowNs: number;
  readonly frames: boolean;
  // Per PTE slot, current window, read through pageReads/pageWrites/pageSubCount. One page's
  // reads, writes, last sub-window and sub-window count sit side by side (V_STRIDE numbers at
  // pte * V_STRIDE), so recording an access to a page touches one host cache line, not four.
  private v = newPageCounts(1024);
  // per PTE slot, whole run up to the last closed window (see totalReads/totalWrites)
  private vTotalReads = new Float64Array(1024);
  private vTotalWrites = new Float64Array(1024);
  /** PTE slots touched in this window, [0, vTouchedCount). */
  vTouched = new Int32Array(1024);
  vTouchedCount = 0;
  // per frame (sparse), current window
  // (the same four numbers as a page's, side by side at frame * V_STRIDE, read through frameReads,
  // frameWrites, frameSubCount; the last sub-window is kept plus one, so 0 means none)
  private readonly f = new ChunkedFloat64(0);
  fTouched = new Int32Array(1024);
  fTouchedCount = 0;

  windowStart = 0;
  windowIndex = 0;
  private readonly listeners: TruthListener[] = [];
  // Sub-window of the last record(): every t in [subLo, subHi) has Math.floor(t / subWindowNs)
  // === subK (bounds from firstAtLeast), so most accesses skip the division.
  private subK = 0;
  private subLo = 0;
  private subHi = 0;

  constructor(opts: TruthOptions) {
    this.windowNs = checkTime(opts.windowNs, "truth window");
    this.subWindowNs = checkTime(opts.subWindowNs, "truth sub-window");
    if (this.subWindowNs <= 0) throw new SimError("truth sub-window must be positive");
    this.frames = opts.frames;
  }

  /** Reads of page (PTE slot) `pte` in the current window. */
  pageReads(pte: number): number {
    return this.v[pte * V_STRIDE + V_READS]!;
  }

  /** Writes of page `pte` in the current window. */
  pageWrites(pte: number): number {
    return this.v[pte * V_STRIDE + V_WRITES]!;
  }

  /** In how many sub-windows of the current window page `pte` was touched. */
  pageSubCount(pte: number): number {
    return this.v[pte * V_STRIDE + V_SUB_COUNT]!;
  }

  /** Reads of 4 KiB frame `frame` in the current window (frames: true). */
  frameReads(frame: number): number {
    return this.f.get(frame * V_STRIDE + V_READS);
  }

  /** Writes of frame `frame` in the current window. */
  frameWrites(frame: number): number {
    return this.f.get(frame * V_STRIDE + V_WRITES);
  }

  /** In how many sub-windows of the current window frame `frame` was touched. */
  frameSubCount(frame: number): number {
    return this.f.get(frame * V_STRIDE + V_SUB_COUNT);
  }

  /** Reads of a page over the whole run so far (closed windows plus the current one). */
  totalReads(pte: number): number {
    return this.vTotalReads[pte]! + this.v[pte * V_STRIDE + V_READS]!;
  }

  totalWrites(pte: number): number {
    return this.vTotalWrites[pte]! + this.v[pte * V_STRIDE + V_WRITES]!;
  }

  /** Starts the window timer on a scheduler (when windowNs > 0). */
  attach(sched: Scheduler): void {
    this.windowStart = sched.now;
    if (this.windowNs > 0) sched.every(this.windowNs, (now) => this.closeWindow(now), { priority: Priority.OBSERVER, name: "truth.window" });
  }

  onWindow(fn: TruthListener): void {
    this.listeners.push(fn);
  }

  /** Makes room for PTE slots [0, n). */
  ensurePages(n: number): void {
    if (n <= this.vTotalReads.length) return;
    let cap = this.vTotalReads.length;
    while (cap < n) cap *= 2;
    const v = newPageCounts(cap);
    v.set(this.v);
    this.v = v;
    this.vTotalReads = growF64(this.vTotalReads, cap, 0);
    this.vTotalWrites = growF64(this.vTotalWrites, cap, 0);
  }

  /** Records one access (hot path). `frame` is the 4 KiB frame touched; `t` the CPU clock. */
  record(pte: number, frame: number, write: boolean, t: number): void {
    const sub = t >= this.subLo && t < this.subHi ? this.subK : this.enterSubWindow(t);
    const v = this.v, at = pte * V_STRIDE;
    const r = v[at + V_READS]!, w = v[at + V_WRITES]!;
    if (r + w === 0) this.touchV(pte);
    if (write) v[at + V_WRITES] = w + 1;
    else v[at + V_READS] = r + 1;
    if (v[at + V_SUB_LAST] !== sub) {
      v[at + V_SUB_LAST] = sub;
      v[at + V_SUB_COUNT]!++;
    }
    if (this.frames) this.recordFrame(frame, write, sub);
  }

  /** Math.floor(t / subWindowNs), remembering the range of times that give the same answer. */
  private enterSubWindow(t: number): number {
    const s = this.subWindowNs;
    const k = Math.floor(t / s);
    this.subK = k;
    const lo = firstAtLeast(k, s);
    const hi = firstAtLeast(k + 1, s);
    if (lo <= t && t < hi) {
      this.subLo = lo;
      this.subHi = hi;
    } else {
      this.subLo = this.subHi = 0; // a negative t, or bounds not found: nothing cached
    }
    return k;
  }

  private recordFrame(frame: number, write: boolean, sub: number): void {
    const at = frame * V_STRIDE;
    // a frame's four numbers never straddle a chunk (chunks hold a multiple of V_STRIDE entries)
    const c = this.f.chunk(at), j = at & CHUNK_MASK;
    const r = c[j + V_READS]!, w = c[j + V_WRITES]!;
    if (r + w === 0) {
      if (this.fTouchedCount === this.fTouched.length) this.fTouched = growI32(this.fTouched, this.fTouched.length * 2);
      this.fTouched[this.fTouchedCount++] = frame;
    }
    if (write) c[j + V_WRITES] = w + 1;
    else c[j + V_READS] = r + 1;
    if (c[j + V_SUB_LAST] !== sub + 1) {
      c[j + V_SUB_LAST] = sub + 1;
      c[j + V_SUB_COUNT]!++;
    }
  }

  private touchV(pte: number): void {
    if (this.vTouchedCount === this.vTouched.length) this.vTouched = growI32(this.vTouched, this.vTouched.length * 2);
    this.vTouched[this.vTouchedCount++] = pte;
  }

  /**
   * Ends the current window at `now`: listeners read it, then the window counts are reset. The
   * next window is counted per `nextSubWindowNs` when given (DAMON re-tuned its sample interval):
   * sub-window indexes are only compared within a window, so the new scale starts clean.
   */
  closeWindow(now: number, nextSubWindowNs = this.subWindowNs): void {
    for (const l of this.listeners) l(this, this.windowStart, now);
    const v = this.v;
    for (let i = 0; i < this.vTouchedCount; i++) {
      const p = this.vTouched[i]!;
      const at = p * V_STRIDE;
      this.vTotalReads[p]! += v[at + V_READS]!;
      this.vTotalWrites[p]! += v[at + V_WRITES]!;
      v[at + V_READS] = 0;
      v[at + V_WRITES] = 0;
      v[at + V_SUB_LAST] = -1;
      v[at + V_SUB_COUNT] = 0;
    }
    this.vTouchedCount = 0;
    for (let i = 0; i < this.fTouchedCount; i++) {
      const f = this.fTouched[i]!;
      const at = f * V_STRIDE;
      const c = this.f.chunk(at), j = at & CHUNK_MASK;
      c[j + V_READS] = 0;
      c[j + V_WRITES] = 0;
      c[j + V_SUB_LAST] = 0;
      c[j + V_SUB_COUNT] = 0;
    }
    this.fTouchedCount = 0;
    this.windowStart = now;
    this.windowIndex++;
    if (nextSubWindowNs !== this.subWindowNs) {
      const s = checkTime(nextSubWindowNs, "truth sub-window");
      if (s <= 0) throw new SimError("truth sub-window must be positive");
      this.subWindowNs = s;
      this.subLo = this.subHi = 0;
    }
  }
}

// Layout of GroundTruth's per-page counts.
const V_STRIDE = 4;
const V_READS = 0;
const V_WRITES = 1;
const V_SUB_LAST = 2;
const V_SUB_COUNT = 3;

/** Per-page counts for `pages` pages, every last sub-window -1 (none yet). */
function newPageCounts(pages: number): Float64Array<ArrayBuffer> {
  const v = new Float64Array(pages * V_STRIDE);
  for (let at = V_SUB_LAST; at < v.length; at += V_STRIDE) v[at] = -1;
  return v;
}

const f64Scratch = new Float64Array(1);
const i64Scratch = new BigInt64Array(f64Scratch.buffer);

/** The next double above (dir 1) or below (dir -1) a positive finite x. */
function nextDouble(x: number, dir: 1 | -1): number {
  f64Scratch[0] = x;
  i64Scratch[0] = i64Scratch[0]! + BigInt(dir);
  return f64Scratch[0]!;
}

/**
 * The smallest double x >= 0 with Math.floor(x / s) >= k (k >= 0, s > 0), or NaN if not found in a
 * few steps. Correctly rounded division is monotonic in x, so Math.floor(t / s) === k exactly for
 * every t in [firstAtLeast(k, s), firstAtLeast(k + 1, s)).
 */
export function firstAtLeast(k: number, s: number): number {
  if (k <= 0) return 0;
  let x = k * s; // within an ulp or so of the answer
  for (let i = 0; i < 64 && Math.floor(x / s) < k; i++) x = nextDouble(x, 1);
  if (Math.floor(x / s) < k) return NaN;
  for (let i = 0; i < 64 && x > 0; i++) {
    const y = nextDouble(x, -1);
    if (Math.floor(y / s) < k) return x;
    x = y;
  }
  return NaN;
}

function growF64(a: Float64Array, cap: number, fill: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(cap);
  if (fill !== 0) b.fill(fill);
  b.set(a);
  return b;
}

function growI32(a: Int32Array, cap: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(cap);
  b.set(a);
  return b;
}
