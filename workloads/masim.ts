// Runs masim configurations (parsed by workloads/masim-config.ts, re-exported here) as Workloads
// with masim's meaning: every region is allocated up front, laid out as glibc malloc would (small
// ones in the brk heap, large ones mmap'ed, each behind a 16-byte chunk header; or hugetlb
// mappings with -h); phases run in file order; within a phase, until its duration of simulated
// time has elapsed (checked between bursts, never inside one), a pattern is drawn with probability
// proportional to its weight and performs `nr_accesses_per_region` (131,072) one-byte accesses:
// uniformly random offsets, or a sequential walk that advances by `stride` before each access (so
// the first byte touched is offset `stride`) and wraps to 0 at the region end. ro reads, wo
// writes, rw reads then writes the same byte (AccessKind.MODIFY). After the last phase (and
// repeat) the program ends.

import { basename, extname } from "node:path";
import { AccessKind, type AccessBatch } from "../hw/batch.ts";
import { buildProcess, type AreaRequest, type WorkloadLayout } from "../hw/layout.ts";
import type { ThreadProgram, Workload, WorkloadRun } from "../hw/program.ts";
import { SimError } from "../sim/errors.ts";
import type { Rng, RngRoot } from "../sim/rng.ts";
import { MS } from "../sim/time.ts";
import { HUGE_PAGE_SIZE, KiB } from "../sim/units.ts";
import { loadMasimConfig, type MasimConfig, type RwMode } from "./masim-config.ts";

export * from "./masim-config.ts";

/** masim's batch of accesses per pattern selection (1024 * 128). */
export const MASIM_NR_ACCESSES_PER_REGION = 131_072;
/** glibc malloc's default mmap threshold: larger allocations get their own mapping. */
const MALLOC_MMAP_THRESHOLD = 128 * KiB;
/** malloc chunk header in front of the returned pointer (2 * sizeof(size_t)). */
const MALLOC_HEADER = 16;

export interface MasimOptions {
  /** Times to run the whole config (masim --repeat). Default 1. */
  repeat?: number;
  /** Mode of patterns without one (masim --default_rw_mode). Default "wo". */
  defaultRwMode?: RwMode;
  /** Accesses per pattern selection. Default 131,072. */
  nrAccessesPerRegion?: number;
  /** masim -h: regions are MAP_HUGETLB mappings (2 MiB pages) instead of malloc'ed. */
  hugetlb?: boolean;
  /** Non-memory ops charged before each access (masim's loop overhead). Default 0. */
  gap?: number;
  /** End the program after this many ns of simulated time even if phases remain (default: never). */
  duration?: number;
  /** Process id (and tid of its one thread). Default 1000. */
  pid?: number;
  /** Workload name (seeds its random stream). Default "masim:<file name>". */
  name?: string;
}

export interface MasimLayout {
  layout: WorkloadLayout;
  /** Address of each region's first byte, in config order. */
  bases: number[];
}

/** Lays the regions out as masim allocates them: malloc (small: brk heap; large: mmap) or hugetlb mmap. */
export function masimLayout(cfg: MasimConfig, options: MasimOptions = {}): MasimLayout {
  const pid = options.pid ?? 1000;
  const heap: AreaRequest[] = [];
  const mmap: AreaRequest[] = [];
  const key = (i: number): string => `${cfg.regions[i]!.name}#${i}`;
  cfg.regions.forEach((r, i) => {
    if (options.hugetlb) mmap.push({ name: key(i), size: Math.ceil(r.size / HUGE_PAGE_SIZE) * HUGE_PAGE_SIZE, hugepages: true });
    else (r.size + MALLOC_HEADER >= MALLOC_MMAP_THRESHOLD ? mmap : heap).push({ name: key(i), size: r.size + MALLOC_HEADER });
  });
  const { process, areas } = buildProcess({ pid, name: "masim", textSize: 64 * KiB, heap, mmap, threads: [{ tid: pid }] });
  // Name the VMAs after the regions (the keys only made them unique).
  const bases = cfg.regions.map((r, i) => {
    const v = areas.get(key(i))!;
    v.name = r.name;
    return v.start + (options.hugetlb ? 0 : MALLOC_HEADER);
  });
  return { layout: { processes: [process] }, bases };
}

export class MasimWorkload implements Workload {
  readonly name: string;
  readonly layout: WorkloadLayout;
  private readonly bases: number[];

  constructor(readonly config: MasimConfig, private readonly options: MasimOptions = {}) {
    const repeat = options.repeat ?? 1;
    if (!Number.isSafeInteger(repeat) || repeat < 1) throw new SimError(`masim repeat must be a positive integer, got ${repeat}`);
    const n = options.nrAccessesPerRegion ?? MASIM_NR_ACCESSES_PER_REGION;
    if (!Number.isSafeInteger(n) || n < 1) throw new SimError(`nr_accesses_per_region must be a positive integer, got ${n}`);
    this.name = options.name ?? `masim:${basename(config.file, extname(config.file))}`;
    const l = masimLayout(config, options);
    this.layout = l.layout;
    this.bases = l.bases;
  }

  start(rng: RngRoot): WorkloadRun {
    const tid = this.layout.processes[0]!.threads[0]!.tid;
    return { kind: "threads", threads: [new MasimProgram(tid, this.config, this.bases, rng.stream(`workload.${this.name}.t${tid}`), this.options)] };
  }
}

/** The one masim thread: flattened tables, no allocation per access. */
export class MasimProgram implements ThreadProgram {
  // Per pattern (all phases, flattened).
  private readonly pBase: Float64Array;
  private readonly pSize: Float64Array;
  private readonly pStride: Float64Array;
  private readonly pRandom: Uint8Array;
  private readonly pKind: Uint8Array;
  private readonly pOffset: Float64Array;
  /** End of the pattern's cumulative probability range within its phase. */
  private readonly pCumEnd: Float64Array;
  // Per phase.
  private readonly phFirst: Int32Array;
  private readonly phCount: Int32Array;
  private readonly phTotal: Float64Array;
  private readonly phDuration: Float64Array;
  private readonly nrAccesses: number;
  private readonly repeat: number;
  private readonly gap: number;
  private readonly stopAfter: number;

  private started = false;
  private t0 = 0;
  private ended = false;
  private phase = 0;
  private pass = 0;
  private phaseStart = 0;
  private burstsInPhase = 0;
  private cur = 0;
  private burstLeft = 0;
  private lastNow = 0;
  private lastRows = 0;
  private nsPerRow = 0;
  /** Selections made per pattern (for tests and reports). */
  readonly selections: Float64Array;

  constructor(readonly tid: number, cfg: MasimConfig, bases: readonly number[], private readonly rng: Rng, options: MasimOptions = {}) {
    const all = cfg.phases.flatMap((p) => p.patterns);
    const n = all.length;
    this.pBase = new Float64Array(n);
    this.pSize = new Float64Array(n);
    this.pStride = new Float64Array(n);
    this.pRandom = new Uint8Array(n);
    this.pKind = new Uint8Array(n);
    this.pOffset = new Float64Array(n);
    this.pCumEnd = new Float64Array(n);
    this.selections = new Float64Array(n);
    const np = cfg.phases.length;
    this.phFirst = new Int32Array(np);
    this.phCount = new Int32Array(np);
    this.phTotal = new Float64Array(np);
    this.phDuration = new Float64Array(np);
    const def = options.defaultRwMode ?? "wo";
    const kindOf = (m: RwMode): number => (m === "ro" ? AccessKind.READ : m === "wo" ? AccessKind.WRITE : AccessKind.MODIFY);
    let k = 0;
    cfg.phases.forEach((ph, i) => {
      this.phFirst[i] = k;
      this.phCount[i] = ph.patterns.length;
      this.phDuration[i] = ph.durationMs * MS;
      let cum = 0;
      for (const p of ph.patterns) {
        const r = cfg.regions[p.region]!;
        this.pBase[k] = bases[p.region]!;
        this.pSize[k] = r.size;
        this.pStride[k] = p.stride;
        this.pRandom[k] = p.random ? 1 : 0;
        this.pKind[k] = kindOf(p.mode ?? def);
        cum += p.probability;
        this.pCumEnd[k] = cum;
        k++;
      }
      this.phTotal[i] = cum;
    });
    this.nrAccesses = options.nrAccessesPerRegion ?? MASIM_NR_ACCESSES_PER_REGION;
    this.repeat = options.repeat ?? 1;
    this.gap = options.gap ?? 0;
    this.stopAfter = options.duration ?? Infinity;
    if (!(this.stopAfter >= 0)) throw new SimError(`duration must be non-negative, got ${this.stopAfter}`);
  }

  /** Index of the running phase. */
  get phaseIndex(): number {
    return this.phase;
  }

  get done(): boolean {
    return this.ended;
  }

  next(out: AccessBatch, now: number): number {
    out.clear();
    if (this.ended) return 0;
    if (!this.started) {
      this.started = true;
      this.t0 = now;
      this.phaseStart = now;
    } else if (this.lastRows > 0 && now > this.lastNow) {
      this.nsPerRow = (now - this.lastNow) / this.lastRows;
    }
    this.lastNow = now;
    if (now - this.t0 >= this.stopAfter) {
      this.ended = true;
      return 0;
    }
    const cap = out.capacity;
    let rows = 0;
    while (rows < cap) {
      if (this.burstLeft === 0) {
        // A burst boundary: masim checks the phase clock here (never mid-burst).
        if (this.burstsInPhase > 0) {
          if (rows === 0) {
            if (now - this.phaseStart > this.phDuration[this.phase]! && !this.advance(now)) break;
          } else if (this.nsPerRow > 0 && now + rows * this.nsPerRow - this.phaseStart > this.phDuration[this.phase]!) {
            break; // probably past the end: let the next batch check the real clock
          }
        }
        this.cur = this.pick();
        this.selections[this.cur]!++;
        this.burstLeft = this.nrAccesses;
        this.burstsInPhase++;
      }
      const n = Math.min(this.burstLeft, cap - rows);
      this.emit(out, this.cur, n);
      this.burstLeft -= n;
      rows += n;
    }
    this.lastRows = rows;
    return rows;
  }

  /** Moves to the next phase (or pass); false when the program has ended. */
  private advance(now: number): boolean {
    if (++this.phase === this.phFirst.length) {
      this.phase = 0;
      if (++this.pass >= this.repeat) {
        this.ended = true;
        return false;
      }
    }
    this.phaseStart = now;
    this.burstsInPhase = 0;
    return true;
  }

  /** Draws r uniformly in [0, total) and returns the pattern whose range holds it. */
  private pick(): number {
    const first = this.phFirst[this.phase]!;
    const last = first + this.phCount[this.phase]! - 1;
    const r = this.rng.int(this.phTotal[this.phase]!);
    let k = first;
    while (k < last && r >= this.pCumEnd[k]!) k++;
    return k;
  }

  private emit(out: AccessBatch, k: number, n: number): void {
    const base = this.pBase[k]!;
    const size = this.pSize[k]!;
    const kind = this.pKind[k]!;
    const { tid, gap, rng } = this;
    if (this.pRandom[k]) {
      for (let i = 0; i < n; i++) out.push(base + rng.int(size), 1, kind, tid, gap);
      return;
    }
    const stride = this.pStride[k]!;
    let off = this.pOffset[k]!;
    for (let i = 0; i < n; i++) {
      off += stride;
      if (off >= size) off = 0;
      out.push(base + off, 1, kind, tid, gap);
    }
    this.pOffset[k] = off;
  }
}

/** Loads a config file and returns its Workload. */
export function loadMasimWorkload(path: string, options: MasimOptions = {}): MasimWorkload {
  return new MasimWorkload(loadMasimConfig(path), options);
}
