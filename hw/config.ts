// Machine configuration: a plain object (or JSON file) describing NUMA nodes, CPUs, caches, TLBs and
// the costs the model charges. validateMachineConfig() checks every field, refuses unknown ones
// (with the nearest known name) and names the offending one; loadMachineConfig() reads a JSON file
// (syntax errors at file:line:column) and reports the file too. checkHostCapacity() refuses a
// machine whose model (cache and TLB state) would not fit in this host's memory, naming the field
// that asks for it and the largest value that fits, instead of failing inside an allocation.

import { constants as bufferConstants } from "node:buffer";
import { totalmem } from "node:os";
import { didYouMean, InputError } from "../sim/errors.ts";
import { readInputText } from "../sim/input-text.ts";
import { parseJsonText } from "../sim/json-text.ts";
import { formatSize, isPowerOfTwo, parseSize } from "../sim/units.ts";
import { waySetsBytes, type CacheConfig } from "./cache.ts";

export type { CacheConfig, ReplacementPolicy } from "./cache.ts";

export interface TlbConfig {
  entries: number;
  assoc: number;
}

export interface NodeConfig {
  id: number;
  /** Memory capacity in bytes (a number, or a size string like "64GiB" in JSON). */
  capacity: number;
  /** "dram" for a socket's local memory, "cxl" for a CPU-less expansion tier. */
  kind: "dram" | "cxl";
  /** Idle load latency from a CPU on this node's own socket (or the nearest socket for CPU-less nodes), ns. */
  latencyNs: number;
  /** Peak bandwidth in bytes per ns (= GB/s). */
  bandwidthGBps: number;
}

export interface MachineConfig {
  name: string;
  description?: string;
  /** Nodes, ids 0..n-1 in order. */
  nodes: NodeConfig[];
  /** SLIT-style distance matrix (10 = local), nodes x nodes. */
  distance: number[][];
  /** Load latency in ns from CPUs of node i (row) to memory of node j (column); rows of CPU-less nodes are unused. */
  latencyNs: number[][];
  /** CPUs: the node each CPU sits on; CPU ids are the indices. */
  cpus: { node: number }[];
  cpuGHz: number;
  /** ns per non-memory op (CPI / GHz). */
  nsPerOp: number;
  caches: { l1d: CacheConfig; l1i: CacheConfig; l2: CacheConfig; llc: CacheConfig };
  tlb: { l1d: TlbConfig; l1dHuge: TlbConfig; l1i: TlbConfig; l2: TlbConfig; l2HitNs: number; walkNs: number };
  costs: {
    /** First-touch (demand paging) fault: allocate and zero a 4 KiB page, ns. */
    faultNs: number;
    /** Same for a 2 MiB huge page. */
    hugeFaultNs: number;
    /** Migrating one 4 KiB page (copy + remap), ns; a huge page costs 512x. */
    migrateNs: number;
    /** A TLB shootdown IPI, per remote CPU, ns. */
    shootdownNs: number;
    /** Setting the Dirty bit on a write through a clean TLB entry (microcode assist), ns. */
    dirtyAssistNs: number;
    /** Major fault: swap-in (or file refault) of a 4 KiB page from the backing device, ns (default DEFAULT_MM_COSTS). */
    majorFaultNs?: number;
    /** Reclaiming one 4 KiB page: isolate, unmap through rmap, swap slot and write submission, ns (default DEFAULT_MM_COSTS). */
    pageoutNs?: number;
    /** Reclaim's scan of one folio: LRU isolation and the rmap reference walk, ns (default DEFAULT_MM_COSTS). */
    reclaimScanNs?: number;
  };
}

/**
 * Defaults of the optional memory-management costs (machine configs written before reclaim and
 * swap were modelled omit them, so presets and JSON files keep loading unchanged):
 * - majorFaultNs 100 us: a 4 KiB random read from an NVMe SSD swap device is ~50 us on a current
 *   M.2 drive (Samsung 9100 Pro, ~80 MB/s at QD1 4K random read) and ~150 us in the classic
 *   "latency numbers" table; 100 us sits between them and includes the fault handling.
 * - pageoutNs 2 us: an estimate, the order of a minor fault (hardware.md 1.6: 1.6-2.9 us measured
 *   for allocate + zero); the write itself is asynchronous and is not waited for.
 * - reclaimScanNs 150 ns: an estimate, the same as DAMON's rmap visit of one mapping (damon/costs.ts).
 */
export const DEFAULT_MM_COSTS = { majorFaultNs: 100_000, pageoutNs: 2_000, reclaimScanNs: 150 } as const;

/** The memory-management costs of a config with the defaults filled in. */
export function mmCosts(c: MachineConfig): { majorFaultNs: number; pageoutNs: number; reclaimScanNs: number } {
  return {
    majorFaultNs: c.costs.majorFaultNs ?? DEFAULT_MM_COSTS.majorFaultNs,
    pageoutNs: c.costs.pageoutNs ?? DEFAULT_MM_COSTS.pageoutNs,
    reclaimScanNs: c.costs.reclaimScanNs ?? DEFAULT_MM_COSTS.reclaimScanNs,
  };
}

const CACHE_FIELDS = ["size", "assoc", "line", "latencyNs"] as const;

/** Every field a machine config may have, by place (cache levels and TLBs share theirs). */
const KNOWN_FIELDS = {
  root: ["name", "description", "nodes", "distance", "latencyNs", "cpus", "cpuGHz", "nsPerOp", "caches", "tlb", "costs"],
  node: ["id", "capacity", "kind", "latencyNs", "bandwidthGBps"],
  cpu: ["node"],
  caches: ["l1d", "l1i", "l2", "llc"],
  cache: ["size", "assoc", "line", "latencyNs", "policy"],
  tlb: ["l1d", "l1dHuge", "l1i", "l2", "l2HitNs", "walkNs"],
  tlbLevel: ["entries", "assoc"],
  costs: ["faultNs", "hugeFaultNs", "migrateNs", "shootdownNs", "dirtyAssistNs", "majorFaultNs", "pageoutNs", "reclaimScanNs"],
} as const;

/** Frame numbers are 31-bit integers in the page tables: at most 2^31 - 1 frames of 4 KiB (8 TiB). */
export const MAX_TOTAL_CAPACITY = (2 ** 31 - 1) * 4096;

/** Refuses keys of `o` (at `prefix`) that are not in `known`. */
function checkKeys(o: unknown, known: readonly string[], prefix: string, fail: (field: string, msg: string) => never): void {
  if (typeof o !== "object" || o === null || Array.isArray(o)) return;
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) fail(prefix ? `${prefix}.${k}` : k, `unknown field '${k}'${didYouMean(k, known)} (known here: ${known.join(", ")})`);
  }
}

/** Checks a config; throws an InputError naming the field. Returns the config for chaining. */
export function validateMachineConfig(c: MachineConfig, file?: string): MachineConfig {
  const fail = (field: string, msg: string): never => {
    throw new InputError(msg, file ? { file, field } : { field });
  };
  if (typeof c !== "object" || c === null || Array.isArray(c)) fail("(root)", "machine config must be an object");
  checkKeys(c, KNOWN_FIELDS.root, "", fail);
  if (typeof c.name !== "string" || c.name === "") fail("name", "must be a non-empty string");
  if (!Array.isArray(c.nodes) || c.nodes.length === 0) fail("nodes", "needs at least one node");
  const n = c.nodes.length;
  c.nodes.forEach((node, i) => {
    const f = `nodes[${i}]`;
    if (typeof node !== "object" || node === null) fail(f, "must be an object");
    checkKeys(node, KNOWN_FIELDS.node, f, fail);
    if (node.id !== i) fail(`${f}.id`, `node ids must be 0..${n - 1} in order, got ${node.id}`);
    if (!Number.isSafeInteger(node.capacity) || node.capacity <= 0 || node.capacity % 4096 !== 0) fail(`${f}.capacity`, `must be a positive multiple of 4096 bytes, got ${node.capacity}`);
    if (node.kind !== "dram" && node.kind !== "cxl") fail(`${f}.kind`, `must be 'dram' or 'cxl', got '${String(node.kind)}'`);
    if (!(node.latencyNs > 0)) fail(`${f}.latencyNs`, "must be a positive number of ns");
    if (!(node.bandwidthGBps > 0)) fail(`${f}.bandwidthGBps`, "must be positive (bytes per ns)");
  });
  const totalCapacity = c.nodes.reduce((a, node) => a + node.capacity, 0);
  if (totalCapacity > MAX_TOTAL_CAPACITY) fail("nodes", `${formatSize(totalCapacity)} of memory in all; the model numbers 4 KiB frames with 31-bit integers, so at most ${formatSize(MAX_TOTAL_CAPACITY)}`);
  checkMatrix(c.distance, n, "distance", fail, (v) => Number.isInteger(v) && v >= 10);
  c.distance.forEach((row, i) => {
    if (row[i] !== 10) fail(`distance[${i}][${i}]`, "the local distance must be 10");
  });
  checkMatrix(c.latencyNs, n, "latencyNs", fail, (v) => v > 0);
  if (!Array.isArray(c.cpus) || c.cpus.length === 0) fail("cpus", "needs at least one CPU");
  if (c.cpus.length > 1024) fail("cpus", "at most 1024 CPUs");
  c.cpus.forEach((cpu, i) => {
    if (typeof cpu !== "object" || cpu === null) fail(`cpus[${i}]`, "must be an object such as { \"node\": 0 }");
    checkKeys(cpu, KNOWN_FIELDS.cpu, `cpus[${i}]`, fail);
    if (!Number.isInteger(cpu.node) || cpu.node < 0 || cpu.node >= n) fail(`cpus[${i}].node`, `must be a node id in [0, ${n - 1}], got ${cpu.node}`);
  });
  if (!(c.cpuGHz > 0)) fail("cpuGHz", "must be positive");
  if (!(c.nsPerOp >= 0)) fail("nsPerOp", "must be >= 0");
  if (typeof c.caches !== "object" || c.caches === null) fail("caches", "is missing (l1d, l1i, l2, llc)");
  checkKeys(c.caches, KNOWN_FIELDS.caches, "caches", fail);
  for (const level of ["l1d", "l1i", "l2", "llc"] as const) {
    const cc = c.caches?.[level];
    const f = `caches.${level}`;
    if (!cc) fail(f, "is missing");
    checkKeys(cc, KNOWN_FIELDS.cache, f, fail);
    for (const k of CACHE_FIELDS) if (!(cc[k] > 0)) fail(`${f}.${k}`, "must be positive");
    if (!isPowerOfTwo(cc.line)) fail(`${f}.line`, `line size must be a power of two, got ${cc.line}`);
    if (!Number.isInteger(cc.assoc)) fail(`${f}.assoc`, "must be an integer");
    if (!Number.isSafeInteger(cc.size)) fail(`${f}.size`, `must be a whole number of bytes, got ${cc.size}`);
    const sets = cc.size / (cc.assoc * cc.line);
    if (!Number.isInteger(sets) || !isPowerOfTwo(sets)) fail(`${f}.size`, `size / (assoc * line) must be a power-of-two set count, got ${sets}`);
    if (cc.policy !== undefined && cc.policy !== "lru" && cc.policy !== "plru") fail(`${f}.policy`, `must be 'lru' or 'plru', got '${String(cc.policy)}'`);
    if (cc.policy === "plru" && !isPowerOfTwo(cc.assoc)) fail(`${f}.assoc`, "tree-PLRU needs a power-of-two associativity");
  }
  if (c.caches.l1d.line !== c.caches.l2.line || c.caches.l2.line !== c.caches.llc.line || c.caches.l1i.line !== c.caches.l1d.line) fail("caches", "all cache levels must use the same line size");
  if (typeof c.tlb !== "object" || c.tlb === null) fail("tlb", "is missing (l1d, l1dHuge, l1i, l2, l2HitNs, walkNs)");
  checkKeys(c.tlb, KNOWN_FIELDS.tlb, "tlb", fail);
  for (const t of ["l1d", "l1dHuge", "l1i", "l2"] as const) {
    const tc = c.tlb?.[t];
    const f = `tlb.${t}`;
    if (!tc) fail(f, "is missing");
    checkKeys(tc, KNOWN_FIELDS.tlbLevel, f, fail);
    if (!Number.isInteger(tc.entries) || tc.entries <= 0) fail(`${f}.entries`, "must be a positive integer");
    if (!Number.isInteger(tc.assoc) || tc.assoc <= 0 || tc.entries % tc.assoc !== 0) fail(`${f}.assoc`, "must divide entries");
    if (!isPowerOfTwo(tc.entries / tc.assoc)) fail(`${f}.entries`, "entries / assoc must be a power of two");
  }
  if (!(c.tlb.l2HitNs >= 0)) fail("tlb.l2HitNs", "must be >= 0");
  if (!(c.tlb.walkNs >= 0)) fail("tlb.walkNs", "must be >= 0");
  checkKeys(c.costs, KNOWN_FIELDS.costs, "costs", fail);
  for (const k of ["faultNs", "hugeFaultNs", "migrateNs", "shootdownNs", "dirtyAssistNs"] as const) {
    if (!(c.costs?.[k] >= 0)) fail(`costs.${k}`, "must be a number of ns >= 0");
  }
  for (const k of ["majorFaultNs", "pageoutNs", "reclaimScanNs"] as const) {
    const v = c.costs[k];
    if (v !== undefined && !(typeof v === "number" && v >= 0)) fail(`costs.${k}`, "must be a number of ns >= 0 (or absent for the default)");
  }
  return c;
}

function checkMatrix(m: number[][], n: number, name: string, fail: (f: string, msg: string) => never, ok: (v: number) => boolean): void {
  if (!Array.isArray(m) || m.length !== n) fail(name, `must be a ${n}x${n} matrix`);
  m.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== n) fail(`${name}[${i}]`, `must have ${n} entries`);
    row.forEach((v, j) => {
      if (typeof v !== "number" || !ok(v)) fail(`${name}[${i}][${j}]`, `invalid value ${String(v)}`);
    });
  });
}

/** Reads a machine config from JSON; sizes may be given as strings ("64GiB"). */
export function loadMachineConfig(path: string): MachineConfig {
  const raw = parseJsonText(readInputText(path, "machine config"), path);
  return checkHostCapacity(validateMachineConfig(normaliseSizes(raw, path) as MachineConfig, path), path);
}


/** Host memory the model may take: half of the machine's (or of the cgroup limit, when lower). */
export function hostModelBudget(): number {
  const limit = typeof process.constrainedMemory === "function" ? process.constrainedMemory() : 0;
  const host = limit && limit > 0 ? Math.min(limit, totalmem()) : totalmem();
  return Math.floor(host / 2);
}

/** Model state of each cache level and TLB of a machine, in bytes (every instance of it). */
export function modelFootprint(c: MachineConfig): Array<{ field: string; bytes: number; oneBuffer: number; per: string }> {
  const cpus = c.cpus.length;
  const llcs = c.nodes.filter((n) => c.cpus.some((cpu) => cpu.node === n.id)).length;
  const out: Array<{ field: string; bytes: number; oneBuffer: number; per: string }> = [];
  for (const level of ["l1d", "l1i", "l2", "llc"] as const) {
    const cc = c.caches[level];
    const sets = cc.size / (cc.assoc * cc.line);
    const lru = (cc.policy ?? "lru") === "lru";
    // the ways (hw/cache.ts WaySets, exactly as allocated) and a PLRU word per set
    const one = waySetsBytes(sets, cc.assoc, lru) + (lru ? 0 : 4 * sets);
    const n = level === "llc" ? llcs : cpus;
    out.push({ field: `caches.${level}.size`, bytes: one * n, oneBuffer: one, per: level === "llc" ? `${n} node(s) with CPUs` : `${n} CPU(s)` });
  }
  for (const t of ["l1d", "l1dHuge", "l1i", "l2"] as const) {
    // LRU ways with one extra word (the PTE slot) per entry, as hw/tlb.ts allocates them
    const one = waySetsBytes(c.tlb[t].entries / c.tlb[t].assoc, c.tlb[t].assoc, true, 1);
    out.push({ field: `tlb.${t}.entries`, bytes: one * cpus, oneBuffer: one, per: `${cpus} CPU(s)` });
  }
  return out;
}

/**
 * Refuses a machine whose cache and TLB model would not fit in `budget` bytes of host memory (by
 * default hostModelBudget()), or whose largest structure exceeds one buffer's limit, naming the
 * field that asks for the most and the largest power-of-two value of it that fits.
 */
export function checkHostCapacity(c: MachineConfig, file?: string, budget = hostModelBudget()): MachineConfig {
  const parts = modelFootprint(c);
  const total = parts.reduce((a, p) => a + p.bytes, 0);
  const biggest = parts.reduce((a, p) => (p.bytes > a.bytes ? p : a));
  const maxBuffer = bufferConstants.MAX_LENGTH;
  const overBuffer = parts.find((p) => p.oneBuffer > maxBuffer);
  if (total <= budget && overBuffer === undefined) return c;
  const p = overBuffer ?? biggest;
  // the largest power-of-two value of that field that brings the model within the limits
  const rest = total - p.bytes;
  const ratio = Math.min(overBuffer ? maxBuffer / p.oneBuffer : Infinity, (budget - rest) / p.bytes);
  const [group, level, key] = p.field.split(".") as [string, string, string];
  const cur = (c as unknown as Record<string, Record<string, Record<string, number>>>)[group]![level]![key]!;
  const fits = ratio > 0 ? 2 ** Math.floor(Math.log2(cur * ratio)) : 0;
  const value = key === "size" ? formatSize(cur) : `${cur}`;
  const fitText = key === "size" ? formatSize(fits) : `${fits}`;
  const why = overBuffer
    ? `one ${level} takes about ${formatSize(p.oneBuffer)} of model state, more than the ${formatSize(maxBuffer)} a single buffer can hold`
    : `the machine's caches and TLBs take about ${formatSize(total)} of model state (${formatSize(p.bytes)} for ${value} x ${p.per}), more than the ${formatSize(budget)} this host can give the model (half its memory)`;
  throw new InputError(`${value} is too large for this host: ${why}; at most about ${fitText} fits`, file ? { file, field: p.field } : { field: p.field });
}

/** Converts size strings in well-known size fields to numbers. */
function normaliseSizes(raw: unknown, file: string): unknown {
  if (typeof raw !== "object" || raw === null) return raw;
  const c = raw as Record<string, unknown>;
  const nodes = c.nodes;
  if (Array.isArray(nodes)) {
    nodes.forEach((node: Record<string, unknown>, i) => {
      if (typeof node?.capacity === "string") node.capacity = sizeField(node.capacity, `nodes[${i}].capacity`, file);
    });
  }
  const caches = c.caches as Record<string, Record<string, unknown>> | undefined;
  if (caches && typeof caches === "object") {
    for (const [level, cc] of Object.entries(caches)) {
      if (cc && typeof cc.size === "string") cc.size = sizeField(cc.size, `caches.${level}.size`, file);
    }
  }
  return raw;
}

function sizeField(v: string, field: string, file: string): number {
  try {
    return parseSize(v, field);
  } catch (e) {
    throw (e as InputError).within({ file });
  }
}
