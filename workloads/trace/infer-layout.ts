// Infers a process layout from the addresses of a trace that has none (a Valgrind Lackey log).
// It records which 4 KiB pages were touched (and whether by fetches, reads or writes) in an
// open-addressing hash set, which grows with the footprint, not with the trace length. At the
// end the touched pages, sorted, are grouped into VMAs: neighbours closer than `gapBytes`
// (default 1 MiB) share a VMA, so a program's text, libraries, heap and stack come out as a few
// VMAs separated by large unmapped gaps, which is what DAMON's vaddr "three regions" needs.
// A VMA spans its first to last touched page. Naming: VMAs with fetches and no writes are
// read-only file-backed text; the highest VMA without fetches is the stack; the rest are
// anonymous data/mmap areas. Every thread id seen becomes a thread of one process.

import { InputError } from "../../sim/errors.ts";
import { MiB, PAGE_SIZE } from "../../sim/units.ts";
import { AccessKind, type AccessBatch } from "../../hw/batch.ts";
import type { VmaSpec, WorkloadLayout } from "../../hw/layout.ts";

export const DEFAULT_INFER_GAP = 1 * MiB;

const FETCHED = 1;
const READ = 2;
const WRITTEN = 4;
const FLAG_OF_KIND = new Uint8Array(4);
FLAG_OF_KIND[AccessKind.READ] = READ;
FLAG_OF_KIND[AccessKind.WRITE] = WRITTEN;
FLAG_OF_KIND[AccessKind.IFETCH] = FETCHED;
FLAG_OF_KIND[AccessKind.MODIFY] = READ | WRITTEN;
const USER_LIMIT = 2 ** 47;
const PAGE = PAGE_SIZE;
const TWO32 = 0x100000000;

export interface InferLayoutOptions {
  /** Touched pages closer than this share a VMA (bytes, default 1 MiB). */
  gapBytes?: number;
  /** Process name (default "trace"). */
  name?: string;
  /** Process id (default: the smallest thread id seen). */
  pid?: number;
}

export class LayoutInferrer {
  private keys = new Float64Array(1 << 12).fill(-1);
  private flags = new Uint8Array(1 << 12);
  private count = 0;
  private lastPage = -1;
  private lastFlags = 0;
  private lastTid = Number.NaN;
  private readonly tids: number[] = [];
  private maxEnd = 0;

  /** Distinct pages touched so far. */
  get pages(): number {
    return this.count;
  }

  /** Thread ids seen so far, ascending. */
  threads(): number[] {
    return [...this.tids].sort((a, b) => a - b);
  }

  observe(batch: AccessBatch, from = 0, n = batch.length - from): void {
    const addr = batch.addr;
    const size = batch.size;
    const kind = batch.kind;
    const tid = batch.tid;
    const end = from + n;
    for (let i = from; i < end; i++) {
      const a = addr[i]!;
      const s = size[i]!;
      const f = FLAG_OF_KIND[kind[i]! & 3]!;
      const page = Math.floor(a / PAGE);
      if (page !== this.lastPage || (this.lastFlags & f) === 0) this.touch(page, f);
      const last = s > 1 ? Math.floor((a + s - 1) / PAGE) : page;
      if (last !== page) this.touch(last, f);
      if (a + s > this.maxEnd) this.maxEnd = a + s;
      const t = tid[i]!;
      if (t !== this.lastTid) this.seeTid(t);
    }
  }

  private seeTid(t: number): void {
    this.lastTid = t;
    if (!this.tids.includes(t)) this.tids.push(t);
  }

  private touch(page: number, f: number): void {
    const keys = this.keys;
    const mask = keys.length - 1;
    let h = (Math.imul((page | 0) ^ ((page / TWO32) | 0), 0x9e3779b1) >>> 0) & mask;
    for (;;) {
      const k = keys[h]!;
      if (k === page) {
        this.flags[h]! |= f;
        this.lastFlags = this.flags[h]!;
        break;
      }
      if (k === -1) {
        keys[h] = page;
        this.flags[h] = f;
        this.lastFlags = f;
        if (++this.count * 2 > keys.length) this.grow();
        break;
      }
      h = (h + 1) & mask;
    }
    this.lastPage = page;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldFlags = this.flags;
    this.keys = new Float64Array(oldKeys.length * 2).fill(-1);
    this.flags = new Uint8Array(oldKeys.length * 2);
    this.count = 0;
    for (let i = 0; i < oldKeys.length; i++) if (oldKeys[i]! !== -1) this.touch(oldKeys[i]!, oldFlags[i]!);
    this.lastPage = -1;
  }

  /** Builds the layout from everything observed; throws an InputError if nothing was. */
  layout(opts: InferLayoutOptions = {}): WorkloadLayout {
    if (this.count === 0) throw new InputError("the trace has no accesses, so no layout can be inferred from it");
    if (this.maxEnd > USER_LIMIT) throw new InputError(`the trace touches address 0x${(this.maxEnd - 1).toString(16)}, beyond the 2^47-byte user address space a layout can map`);
    const gapPages = Math.max(1, Math.ceil((opts.gapBytes ?? DEFAULT_INFER_GAP) / PAGE));
    // page * 8 + flags sorts by page (pages < 2^35, so the product is exact)
    const packed = new Float64Array(this.count);
    let j = 0;
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i]! !== -1) packed[j++] = this.keys[i]! * 8 + this.flags[i]!;
    packed.sort();
    const clusters: Array<{ first: number; last: number; flags: number }> = [];
    for (let i = 0; i < packed.length; i++) {
      const page = Math.floor(packed[i]! / 8);
      const f = packed[i]! - page * 8;
      const c = clusters[clusters.length - 1];
      if (c !== undefined && page - c.last - 1 < gapPages) {
        c.last = page;
        c.flags |= f;
      } else clusters.push({ first: page, last: page, flags: f });
    }
    let stack = -1;
    for (let i = clusters.length - 1; i >= 0; i--) {
      if ((clusters[i]!.flags & FETCHED) === 0) {
        stack = i;
        break;
      }
    }
    const name = opts.name ?? "trace";
    let texts = 0;
    let areas = 0;
    const vmas: VmaSpec[] = clusters.map((c, i): VmaSpec => {
      const start = c.first * PAGE;
      const end = (c.last + 1) * PAGE;
      if ((c.flags & FETCHED) !== 0 && (c.flags & WRITTEN) === 0) {
        texts++;
        return { start, end, name: texts === 1 ? "[text]" : `[text ${texts}]`, kind: "text", backing: "file", file: { id: `${name}:0x${start.toString(16)}`, offset: 0 }, writable: false };
      }
      if (i === stack && clusters.length > 1) return { start, end, name: "[stack]", kind: "stack", backing: "anon" };
      areas++;
      return { start, end, name: `[area ${areas}]`, kind: (c.flags & FETCHED) !== 0 ? "data" : "mmap", backing: "anon" };
    });
    const threads = this.threads();
    const pid = opts.pid ?? threads[0]!;
    return { processes: [{ pid, name, vmas, threads: threads.map((tid) => ({ tid })) }] };
  }
}
