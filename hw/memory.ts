// Physical memory: NUMA nodes of 4 KiB frames with an allocator, per-frame flags and reverse-map
// heads (sparse: only touched frames cost memory), and each node's bandwidth model.
//
// Frame numbers are global: node i owns [base_i, base_i + frames_i). Allocation hands out frames by
// a bump pointer, then reuses freed ones (LIFO); 2 MiB huge pages take 512 contiguous, 512-aligned
// frames from the bump pointer (a huge page freed is kept whole for the next huge allocation).
//
// Bandwidth: each node serves 64-byte lines at `bandwidthGBps` bytes/ns. Utilisation rho is
// measured over 10 us windows of simulated time and smoothed; a line transfer waits an extra
// service * rho / (1 - rho) ns (an M/M/1-style loaded-latency curve, rho capped at 0.95). The
// model only looks at simulated times, so it is deterministic and tolerates CPU clock skew.
// A node may carry a memory-side observer (hooks.ts MemoryObserver, e.g. a CXL CHMU) that the CPUs
// tell of every line the node serves or absorbs.

import { SimError } from "../sim/errors.ts";
import { PAGE_SIZE } from "../sim/units.ts";
import { ChunkedInt32, ChunkedUint8 } from "./chunked.ts";
import type { MachineConfig, NodeConfig } from "./config.ts";
import type { MemoryObserver } from "./hooks.ts";

export const FrameFlag = {
  ALLOCATED: 1,
  /** PG_idle: set by DAMON/idle tracking, cleared when the page is found young. */
  IDLE: 2,
  /** PG_young: the Accessed bit was seen set when it was cleared (keeps reclaim's view). */
  YOUNG: 4,
  HUGE_HEAD: 8,
  HUGE_TAIL: 16,
} as const;

export const HUGE_FRAMES = 512;
const BW_WINDOW_NS = 10_000;
const RHO_CAP = 0.95;

export class NodeMemory {
  readonly base: number;
  readonly frames: number;
  private nextFresh: number;
  private free4k = new Int32Array(256);
  private nFree4k = 0;
  private freeHuge: number[] = [];
  used = 0;
  // bandwidth model
  readonly serviceNs: number;
  private winStart = 0;
  private winBytes = 0;
  private rho = 0;
  readBytes = 0;
  writeBytes = 0;
  /** Told of every line this node serves or absorbs (a memory-side monitor); null: none. */
  observer: MemoryObserver | null = null;

  constructor(readonly cfg: NodeConfig, base: number, lineBytes: number) {
    this.base = base;
    this.frames = cfg.capacity / PAGE_SIZE;
    this.nextFresh = base;
    this.serviceNs = lineBytes / cfg.bandwidthGBps;
  }

  get id(): number {
    return this.cfg.id;
  }

  get freeFrames(): number {
    return this.frames - this.used;
  }

  /** A free 4 KiB frame, or -1 when the node is full. */
  alloc(): number {
    if (this.nFree4k > 0) {
      this.used++;
      return this.free4k[--this.nFree4k]!;
    }
    if (this.nextFresh < this.base + this.frames) {
      this.used++;
      return this.nextFresh++;
    }
    // Break up a free huge page if that is all that is left.
    const h = this.freeHuge.pop();
    if (h === undefined) return -1;
    for (let i = HUGE_FRAMES - 1; i >= 1; i--) this.pushFree(h + i);
    this.used++;
    return h;
  }

  /** A free 512-aligned run of 512 frames (head frame), or -1. */
  allocHuge(): number {
    const h = this.freeHuge.pop();
    if (h !== undefined) {
      this.used += HUGE_FRAMES;
      return h;
    }
    const start = Math.ceil(this.nextFresh / HUGE_FRAMES) * HUGE_FRAMES;
    if (start + HUGE_FRAMES > this.base + this.frames) return -1;
    // frames skipped for alignment stay usable for 4 KiB allocations
    for (let f = this.nextFresh; f < start; f++) this.pushFree(f);
    this.nextFresh = start + HUGE_FRAMES;
    this.used += HUGE_FRAMES;
    return start;
  }

  free(frame: number): void {
    this.used--;
    this.pushFree(frame);
  }

  freeHugePage(head: number): void {
    this.used -= HUGE_FRAMES;
    this.freeHuge.push(head);
  }

  private pushFree(frame: number): void {
    if (this.nFree4k === this.free4k.length) {
      const a = new Int32Array(this.free4k.length * 2);
      a.set(this.free4k);
      this.free4k = a;
    }
    this.free4k[this.nFree4k++] = frame;
  }

  /** Every free frame of the node: recycled 4 KiB frames, whole free huge pages, never-used frames (invariant checks). */
  freeFrameList(): number[] {
    const out = Array.from(this.free4k.subarray(0, this.nFree4k));
    for (const h of this.freeHuge) for (let i = 0; i < HUGE_FRAMES; i++) out.push(h + i);
    for (let f = this.nextFresh; f < this.base + this.frames; f++) out.push(f);
    return out;
  }

  /** Queueing delay for one line transfer at simulated time t (ns); counts the traffic. */
  transfer(t: number, bytes: number, write: boolean): number {
    if (t >= this.winStart + BW_WINDOW_NS) {
      const elapsed = Math.floor((t - this.winStart) / BW_WINDOW_NS);
      const windowRho = this.winBytes / (this.cfg.bandwidthGBps * BW_WINDOW_NS);
      this.rho = 0.5 * this.rho + 0.5 * windowRho;
      if (elapsed > 1) this.rho *= 0.5 ** Math.min(elapsed - 1, 64);
      this.winStart += elapsed * BW_WINDOW_NS;
      this.winBytes = 0;
    }
    this.winBytes += bytes;
    if (write) this.writeBytes += bytes;
    else this.readBytes += bytes;
    const r = this.rho < RHO_CAP ? this.rho : RHO_CAP;
    return (this.serviceNs * r) / (1 - r);
  }

  /** Smoothed utilisation (0..1) as last measured. */
  get utilisation(): number {
    return this.rho;
  }
}

export class PhysicalMemory {
  readonly nodes: NodeMemory[];
  readonly totalFrames: number;
  readonly flags = new ChunkedUint8(0);
  /** First PTE slot mapping the frame (huge pages: on the head frame), -1 when unmapped. */
  readonly rmapHead = new ChunkedInt32(-1);
  private readonly bases: number[];

  constructor(cfg: MachineConfig) {
    let base = 0;
    this.nodes = cfg.nodes.map((n) => {
      const node = new NodeMemory(n, base, cfg.caches.llc.line);
      base += node.frames;
      return node;
    });
    this.totalFrames = base;
    this.bases = this.nodes.map((n) => n.base);
    if (this.totalFrames >= 2 ** 31) throw new SimError(`physical memory of ${this.totalFrames} frames exceeds the 2^31-frame (8 TiB) limit`);
  }

  /** Node owning a frame. */
  nodeOf(frame: number): number {
    const b = this.bases;
    let n = b.length - 1;
    while (n > 0 && frame < b[n]!) n--;
    return n;
  }

  /** Allocates one frame on `node`; -1 if that node is full. */
  alloc(node: number): number {
    const f = this.nodes[node]!.alloc();
    if (f >= 0) this.flags.set(f, FrameFlag.ALLOCATED);
    return f;
  }

  allocHuge(node: number): number {
    const f = this.nodes[node]!.allocHuge();
    if (f >= 0) {
      this.flags.set(f, FrameFlag.ALLOCATED | FrameFlag.HUGE_HEAD);
      for (let i = 1; i < HUGE_FRAMES; i++) this.flags.set(f + i, FrameFlag.ALLOCATED | FrameFlag.HUGE_TAIL);
    }
    return f;
  }

  free(frame: number): void {
    if ((this.flags.get(frame) & FrameFlag.ALLOCATED) === 0) throw new SimError(`freeing frame ${frame}, which is not allocated`);
    this.flags.set(frame, 0);
    this.rmapHead.set(frame, -1);
    this.nodes[this.nodeOf(frame)]!.free(frame);
  }

  freeHuge(head: number): void {
    if ((this.flags.get(head) & FrameFlag.HUGE_HEAD) === 0) throw new SimError(`frame ${head} is not the head of a huge page`);
    for (let i = 0; i < HUGE_FRAMES; i++) this.flags.set(head + i, 0);
    this.rmapHead.set(head, -1);
    this.nodes[this.nodeOf(head)]!.freeHugePage(head);
  }

  /** Frame number of a physical address and back. */
  static frameOf(paddr: number): number {
    return Math.floor(paddr / PAGE_SIZE);
  }
}
