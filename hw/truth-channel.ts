// A filtered ground-truth channel: per-page counts of only the accesses that match a filter (from
// some CPUs, from some threads, writes only), and optionally counts split by the node of the CPU
// that made them. It watches the access stream as an AccessSampler (it costs the CPU nothing) so
// filtered monitoring (DAMON with CPU / thread / write filters) can be scored against the matching
// truth. Like GroundTruth it counts, per window, accesses and the sub-windows with an access, and
// keeps a list of touched pages; the owner closes windows.

import { attachSampler, type AccessRecord, type AccessSampler } from "./hooks.ts";
import type { Machine } from "./machine.ts";

export interface ChannelFilter {
  cpus?: ReadonlySet<number>;
  tids?: ReadonlySet<number>;
  writesOnly?: boolean;
}

export class TruthChannel implements AccessSampler {
  counts = new Float64Array(1024);
  subLast = new Float64Array(1024).fill(-1);
  subCount = new Int32Array(1024);
  /** counts by CPU node: byNode[pte * nodes + node] (only with splitByNode). */
  byNode: Float64Array;
  touched = new Int32Array(1024);
  touchedCount = 0;
  private readonly cpuOk: Uint8Array;
  private readonly tidOk: Set<number> | null;
  private readonly nodes: number;

  constructor(
    private readonly m: Machine,
    private readonly filter: ChannelFilter,
    /** DAMON's sample interval; changes only at closeWindow(). */
    private sub: number,
    private readonly splitByNode = false,
  ) {
    this.cpuOk = new Uint8Array(m.cpus.length).fill(filter.cpus ? 0 : 1);
    if (filter.cpus) for (const c of filter.cpus) if (c < m.cpus.length) this.cpuOk[c] = 1;
    this.tidOk = filter.tids ? new Set(filter.tids) : null;
    this.nodes = m.config.nodes.length;
    this.byNode = new Float64Array(splitByNode ? 1024 * this.nodes : 0);
  }

  attach(): this {
    attachSampler(this.m.samplers, this);
    return this;
  }

  private ensure(pte: number): void {
    if (pte < this.counts.length) return;
    let cap = this.counts.length;
    while (cap <= pte) cap *= 2;
    const grow = <T extends Float64Array | Int32Array>(a: T, n: number, fill: number): T => {
      const b = (a instanceof Float64Array ? new Float64Array(n) : new Int32Array(n)) as T;
      if (fill !== 0) b.fill(fill);
      b.set(a);
      return b;
    };
    this.counts = grow(this.counts, cap, 0);
    this.subLast = grow(this.subLast, cap, -1);
    this.subCount = grow(this.subCount, cap, 0);
    if (this.splitByNode) this.byNode = grow(this.byNode, cap * this.nodes, 0);
  }

  onAccess(rec: AccessRecord): number {
    if (this.cpuOk[rec.cpu] !== 1) return 0;
    if (this.tidOk !== null && !this.tidOk.has(rec.tid)) return 0;
    const write = rec.kind === 1 || rec.kind === 3;
    if (this.filter.writesOnly && !write) return 0;
    const p = rec.pte;
    this.ensure(p);
    if (this.counts[p] === 0) {
      if (this.touchedCount === this.touched.length) {
        const t = new Int32Array(this.touched.length * 2);
        t.set(this.touched);
        this.touched = t;
      }
      this.touched[this.touchedCount++] = p;
    }
    this.counts[p]!++;
    const sub = Math.floor(rec.time / this.sub);
    if (this.subLast[p] !== sub) {
      this.subLast[p] = sub;
      this.subCount[p]!++;
    }
    if (this.splitByNode) this.byNode[p * this.nodes + rec.cpuNode]!++;
    return 0;
  }

  get subWindowNs(): number {
    return this.sub;
  }

  /** Resets the window's counts; the next window is counted per `nextSubWindowNs` when given. */
  closeWindow(nextSubWindowNs = this.sub): void {
    this.sub = nextSubWindowNs;
    for (let i = 0; i < this.touchedCount; i++) {
      const p = this.touched[i]!;
      this.counts[p] = 0;
      this.subCount[p] = 0;
      this.subLast[p] = -1;
      if (this.splitByNode) this.byNode.fill(0, p * this.nodes, (p + 1) * this.nodes);
    }
    this.touchedCount = 0;
  }
}
