// Process layouts: the address spaces a workload runs in. A layout lists processes, each with its
// VMAs (heap, mmap areas, stack, text; anonymous or file-backed; a memory cgroup; a NUMA policy)
// and its threads (with CPU affinity). Workload generators and trace headers carry layouts; the
// machine builds page tables from them. buildLayout() places areas the way Linux does on x86-64,
// so DAMON's vaddr "three regions" see realistic gaps (heap .. mmap .. stack).

import { InputError } from "../sim/errors.ts";
import { MiB, PAGE_SIZE } from "../sim/units.ts";

export type VmaKind = "text" | "data" | "heap" | "mmap" | "stack";
export type Backing = "anon" | "file";
export type NumaMode = "local" | "bind" | "interleave" | "preferred";

export interface NumaPolicySpec {
  mode: NumaMode;
  /** Nodes for bind/interleave (a set) and preferred (the first is preferred). */
  nodes?: number[];
}

export interface VmaSpec {
  /** [start, end), page aligned. */
  start: number;
  end: number;
  /** A label: "[heap]", "[stack]", a masim region name, a file path. */
  name: string;
  kind: VmaKind;
  backing: Backing;
  /** File-backed VMAs: the file's identity and the offset of `start` in it (page aligned). */
  file?: { id: string; offset: number };
  /** MAP_SHARED: processes mapping the same file pages share frames. */
  shared?: boolean;
  /** Memory cgroup id of the pages (defaults to the process's). */
  memcg?: number;
  /** NUMA policy of the VMA (defaults to the process's). */
  policy?: NumaPolicySpec;
  /** Back with 2 MiB pages where the range allows (THP "always" for this VMA). */
  hugepages?: boolean;
  /** Defaults to true; text is usually mapped read-only. */
  writable?: boolean;
}

export interface ThreadSpec {
  tid: number;
  /** CPUs the thread may run on (default: all). */
  cpus?: number[];
}

export interface ProcessSpec {
  pid: number;
  name: string;
  vmas: VmaSpec[];
  threads: ThreadSpec[];
  memcg?: number;
  policy?: NumaPolicySpec;
}

export interface WorkloadLayout {
  processes: ProcessSpec[];
}

// Linux x86-64 defaults (no ASLR): PIE text at 0x555555554000, mmap base just below the stack
// guard gap, stack top at 0x7ffffffff000.
export const TEXT_BASE = 0x555555554000;
export const MMAP_TOP = 0x7ffff7fff000;
export const STACK_TOP = 0x7ffffffff000;

export interface AreaRequest {
  name: string;
  size: number;
  backing?: Backing;
  file?: { id: string; offset: number };
  shared?: boolean;
  memcg?: number;
  policy?: NumaPolicySpec;
  hugepages?: boolean;
}

export interface LayoutRequest {
  pid?: number;
  name?: string;
  textSize?: number;
  /** Areas carved from the heap (brk), lowest address first. */
  heap?: AreaRequest[];
  /** Areas mapped top-down from the mmap base, in request order (first is highest). */
  mmap?: AreaRequest[];
  stackSize?: number;
  threads?: ThreadSpec[];
  memcg?: number;
  policy?: NumaPolicySpec;
}

const pageUp = (x: number): number => Math.ceil(x / PAGE_SIZE) * PAGE_SIZE;
const hugeUp = (x: number): number => Math.ceil(x / (2 * MiB)) * 2 * MiB;

/** Builds one process laid out like a Linux x86-64 process. Returns the process and each area's VMA. */
export function buildProcess(req: LayoutRequest): { process: ProcessSpec; areas: Map<string, VmaSpec> } {
  const vmas: VmaSpec[] = [];
  const areas = new Map<string, VmaSpec>();
  const textEnd = TEXT_BASE + pageUp(req.textSize ?? 64 * 1024);
  vmas.push({ start: TEXT_BASE, end: textEnd, name: "[text]", kind: "text", backing: "file", file: { id: req.name ?? "a.out", offset: 0 }, writable: false });
  // The heap starts a little after the data segment (brk randomisation is off here).
  let brk = textEnd + 0x1000000;
  for (const a of req.heap ?? []) {
    const start = a.hugepages ? hugeUp(brk) : brk;
    const v = areaVma(a, start, "heap");
    vmas.push(v);
    areas.set(a.name, v);
    brk = v.end;
  }
  let top = MMAP_TOP;
  for (const a of req.mmap ?? []) {
    let start = top - pageUp(a.size);
    if (a.hugepages) start = Math.floor(start / (2 * MiB)) * 2 * MiB;
    const v = areaVma(a, start, "mmap");
    vmas.push(v);
    areas.set(a.name, v);
    top = start - PAGE_SIZE; // keep a guard page between mappings, as separate mmaps usually are
  }
  const stackSize = pageUp(req.stackSize ?? 132 * 1024);
  vmas.push({ start: STACK_TOP - stackSize, end: STACK_TOP, name: "[stack]", kind: "stack", backing: "anon" });
  vmas.sort((a, b) => a.start - b.start);
  const pid = req.pid ?? 1;
  const process: ProcessSpec = {
    pid,
    name: req.name ?? `proc${pid}`,
    vmas,
    threads: req.threads ?? [{ tid: pid }],
    ...(req.memcg !== undefined ? { memcg: req.memcg } : {}),
    ...(req.policy ? { policy: req.policy } : {}),
  };
  return { process, areas };
}

function areaVma(a: AreaRequest, start: number, kind: VmaKind): VmaSpec {
  const v: VmaSpec = { start, end: start + pageUp(a.size), name: a.name, kind, backing: a.backing ?? "anon" };
  if (a.file) v.file = a.file;
  if (a.shared) v.shared = true;
  if (a.memcg !== undefined) v.memcg = a.memcg;
  if (a.policy) v.policy = a.policy;
  if (a.hugepages) v.hugepages = true;
  return v;
}

/** Checks a layout and throws an InputError naming the offending field. */
export function validateLayout(layout: WorkloadLayout, where = "layout"): void {
  if (!layout || !Array.isArray(layout.processes) || layout.processes.length === 0) {
    throw new InputError("needs at least one process", { field: `${where}.processes` });
  }
  const pids = new Set<number>();
  const tids = new Set<number>();
  layout.processes.forEach((p, pi) => {
    const pf = `${where}.processes[${pi}]`;
    if (!Number.isSafeInteger(p.pid) || p.pid <= 0) throw new InputError(`pid must be a positive integer, got ${p.pid}`, { field: `${pf}.pid` });
    if (pids.has(p.pid)) throw new InputError(`duplicate pid ${p.pid}`, { field: `${pf}.pid` });
    pids.add(p.pid);
    if (!Array.isArray(p.vmas) || p.vmas.length === 0) throw new InputError("needs at least one VMA", { field: `${pf}.vmas` });
    let prevEnd = -1;
    p.vmas.forEach((v, vi) => {
      const vf = `${pf}.vmas[${vi}]`;
      for (const k of ["start", "end"] as const) {
        if (!Number.isSafeInteger(v[k]) || v[k] < 0) throw new InputError(`must be a non-negative integer address, got ${v[k]}`, { field: `${vf}.${k}` });
        if (v[k] % PAGE_SIZE !== 0) throw new InputError(`must be page aligned (4096), got 0x${v[k].toString(16)}`, { field: `${vf}.${k}` });
      }
      if (v.end <= v.start) throw new InputError(`end 0x${v.end.toString(16)} must be above start 0x${v.start.toString(16)}`, { field: `${vf}.end` });
      if (v.start < prevEnd) throw new InputError("VMAs must be sorted by address and must not overlap", { field: `${vf}.start` });
      if (v.end > 2 ** 47) throw new InputError("user addresses end at 2^47 (128 TiB)", { field: `${vf}.end` });
      if (v.backing !== "anon" && v.backing !== "file") throw new InputError(`backing must be 'anon' or 'file', got '${String(v.backing)}'`, { field: `${vf}.backing` });
      if (v.backing === "file" && (!v.file || typeof v.file.id !== "string")) throw new InputError("a file-backed VMA needs file.id", { field: `${vf}.file` });
      if (v.file && (!Number.isSafeInteger(v.file.offset) || v.file.offset % PAGE_SIZE !== 0)) throw new InputError("file.offset must be page aligned", { field: `${vf}.file.offset` });
      if (v.policy) validatePolicy(v.policy, `${vf}.policy`);
      prevEnd = v.end;
    });
    if (p.policy) validatePolicy(p.policy, `${pf}.policy`);
    if (!Array.isArray(p.threads) || p.threads.length === 0) throw new InputError("needs at least one thread", { field: `${pf}.threads` });
    p.threads.forEach((t, ti) => {
      if (!Number.isSafeInteger(t.tid) || t.tid <= 0) throw new InputError(`tid must be a positive integer, got ${t.tid}`, { field: `${pf}.threads[${ti}].tid` });
      if (tids.has(t.tid)) throw new InputError(`duplicate tid ${t.tid}`, { field: `${pf}.threads[${ti}].tid` });
      tids.add(t.tid);
    });
  });
}

function validatePolicy(p: NumaPolicySpec, field: string): void {
  const modes: NumaMode[] = ["local", "bind", "interleave", "preferred"];
  if (!modes.includes(p.mode)) throw new InputError(`mode must be one of ${modes.join(", ")}, got '${String(p.mode)}'`, { field: `${field}.mode` });
  if (p.mode !== "local" && (!Array.isArray(p.nodes) || p.nodes.length === 0)) throw new InputError(`policy '${p.mode}' needs a non-empty node list`, { field: `${field}.nodes` });
}

/** Total bytes of all VMAs of a layout. */
export function layoutBytes(layout: WorkloadLayout): number {
  let n = 0;
  for (const p of layout.processes) for (const v of p.vmas) n += v.end - v.start;
  return n;
}
