// Processes (address spaces) and threads as the machine sees them: VMAs with their resolved
// attributes (anon/file, memcg, NUMA policy, huge pages), the page table, and per-thread state
// (its program, current batch, CPU, CPU time used).

import { SimError } from "../sim/errors.ts";
import { AccessBatch } from "./batch.ts";
import type { Backing, NumaPolicySpec, ProcessSpec, VmaKind, VmaSpec } from "./layout.ts";
import { PageTable } from "./pagetable.ts";
import type { ThreadProgram } from "./program.ts";

export class Vma {
  constructor(
    /** Machine-wide VMA id (index into Machine.vmas). */
    readonly id: number,
    readonly asid: number,
    readonly start: number,
    readonly end: number,
    readonly name: string,
    readonly kind: VmaKind,
    readonly backing: Backing,
    readonly fileId: string | null,
    /** Offset of `start` in the file, in pages (0 for anonymous memory). */
    readonly pgoff: number,
    readonly shared: boolean,
    readonly memcg: number,
    readonly policy: NumaPolicySpec,
    /** THP allowed (MADV_HUGEPAGE) over the whole VMA; madvise on part of it is in thpRanges. */
    public hugepages: boolean,
    readonly writable: boolean,
  ) {}

  /**
   * THP hint by range after madvise(MADV_[NO]HUGEPAGE) on part of the VMA: sorted, disjoint,
   * covering [start, end), neighbours with the same hint merged (the kernel splits and merges
   * VMAs by their VM_HUGEPAGE flag); null while the hint is the VMA's alone.
   */
  private thpRanges: Array<{ start: number; end: number; on: boolean }> | null = null;

  /** MADV_HUGEPAGE (on) / MADV_NOHUGEPAGE (off) over [start, end) ∩ the VMA. Existing pages are not changed. */
  setHugepageHint(start: number, end: number, on: boolean): void {
    const s = Math.max(start, this.start), e = Math.min(end, this.end);
    if (s >= e) return;
    const ranges = this.thpRanges ?? [{ start: this.start, end: this.end, on: this.hugepages }];
    const next: Array<{ start: number; end: number; on: boolean }> = [];
    const push = (r: { start: number; end: number; on: boolean }): void => {
      if (r.start >= r.end) return;
      const last = next[next.length - 1];
      if (last !== undefined && last.on === r.on && last.end === r.start) last.end = r.end;
      else next.push({ ...r });
    };
    for (const r of ranges) {
      push({ start: r.start, end: Math.min(r.end, s), on: r.on });
      if (r.end > s && r.start < e) push({ start: Math.max(r.start, s), end: Math.min(r.end, e), on });
      push({ start: Math.max(r.start, e), end: r.end, on: r.on });
    }
    if (next.length === 1) {
      this.hugepages = next[0]!.on;
      this.thpRanges = null;
    } else {
      this.thpRanges = next;
    }
  }

  /** May a 2 MiB page back [addr, addr + 2 MiB)? (anon VMA, the whole range inside it and hinted on) */
  hugeAllowed(addr: number): boolean {
    const end = addr + 2 * 1024 * 1024;
    if (this.backing !== "anon" || addr < this.start || end > this.end) return false;
    if (this.thpRanges === null) return this.hugepages;
    for (const r of this.thpRanges) if (addr >= r.start && addr < r.end) return r.on && end <= r.end;
    return false;
  }

  get anon(): boolean {
    return this.backing === "anon";
  }

  /** A shared file mapping: its pages live in the file's page cache, one frame for every process mapping them. */
  get sharedFile(): boolean {
    return this.fileId !== null && this.shared;
  }

  /** Offset of page `vpn` in the VMA's backing object, in pages (its file's; for anonymous memory, from the VMA's start). */
  pageOffset(vpn: number): number {
    return this.pgoff + vpn - this.start / 4096;
  }

  static fromSpec(id: number, asid: number, v: VmaSpec, proc: ProcessSpec): Vma {
    return new Vma(
      id,
      asid,
      v.start,
      v.end,
      v.name,
      v.kind,
      v.backing,
      v.file?.id ?? null,
      v.file ? v.file.offset / 4096 : 0,
      v.shared ?? false,
      v.memcg ?? proc.memcg ?? 0,
      v.policy ?? proc.policy ?? { mode: "local" },
      v.hugepages ?? false,
      v.writable ?? true,
    );
  }
}

export class AddressSpace {
  readonly pageTable = new PageTable(4096);
  readonly threads: ThreadState[] = [];
  /** Set once any 2 MiB mapping exists: until then walks and TLB lookups skip huge keys. */
  hasHuge = false;

  constructor(
    /** Dense index (the TLB's address space id). */
    readonly asid: number,
    readonly pid: number,
    readonly name: string,
    readonly vmas: Vma[],
  ) {}

  /** The VMA containing addr, or undefined (binary search over sorted VMAs). */
  findVma(addr: number): Vma | undefined {
    let lo = 0, hi = this.vmas.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.vmas[mid]!;
      if (addr < v.start) hi = mid - 1;
      else if (addr >= v.end) lo = mid + 1;
      else return v;
    }
    return undefined;
  }
}

export class ThreadState {
  /** The CPU the thread runs on. */
  cpu = -1;
  /** Current batch and the next row to execute. */
  readonly batch: AccessBatch;
  cursor = 0;
  /** The ops (gap) before the row at `cursor` have already been executed. */
  gapPaid = false;
  done = false;
  /** Simulated CPU time spent executing this thread, ns. */
  runtimeNs = 0;
  accesses = 0;

  constructor(
    readonly tid: number,
    readonly space: AddressSpace,
    readonly allowedCpus: number[],
    readonly program: ThreadProgram,
    batchSize: number,
  ) {
    if (program.tid !== tid) throw new SimError(`program for thread ${tid} reports tid ${program.tid}`);
    this.batch = new AccessBatch(batchSize);
  }
}
