// Machine configuration: a plain object (or JSON file) describing NUMA nodes, CPUs, caches, TLBs and
// the costs the model charges. validateMachineConfig() checks every field and names the offending
// one; loadMachineConfig() reads a JSON file and reports the file too.

import { readFileSync } from "node:fs";
import { InputError } from "../sim/errors.ts";
import { isPowerOfTwo, parseSize } from "../sim/units.ts";

export type ReplacementPolicy = "lru" | "plru";

export interface CacheConfig {
  size: number;
  assoc: number;
  line: number;
  /** Load-to-use latency of a hit, in ns. */
  latencyNs: number;
  /** "lru" (true LRU) or "plru" (tree pseudo-LRU; assoc must be a power of two). */
  policy?: ReplacementPolicy;
}

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
  };
}

const CACHE_FIELDS = ["size", "assoc", "line", "latencyNs"] as const;

/** Checks a config; throws an InputError naming the field. Returns the config for chaining. */
export function validateMachineConfig(c: MachineConfig, file?: string): MachineConfig {
  const fail = (field: string, msg: string): never => {
    throw new InputError(msg, file ? { file, field } : { field });
  };
  if (typeof c !== "object" || c === null) fail("(root)", "machine config must be an object");
  if (typeof c.name !== "string" || c.name === "") fail("name", "must be a non-empty string");
  if (!Array.isArray(c.nodes) || c.nodes.length === 0) fail("nodes", "needs at least one node");
  const n = c.nodes.length;
  c.nodes.forEach((node, i) => {
    const f = `nodes[${i}]`;
    if (node.id !== i) fail(`${f}.id`, `node ids must be 0..${n - 1} in order, got ${node.id}`);
    if (!Number.isSafeInteger(node.capacity) || node.capacity <= 0 || node.capacity % 4096 !== 0) fail(`${f}.capacity`, `must be a positive multiple of 4096 bytes, got ${node.capacity}`);
    if (node.kind !== "dram" && node.kind !== "cxl") fail(`${f}.kind`, `must be 'dram' or 'cxl', got '${String(node.kind)}'`);
    if (!(node.latencyNs > 0)) fail(`${f}.latencyNs`, "must be a positive number of ns");
    if (!(node.bandwidthGBps > 0)) fail(`${f}.bandwidthGBps`, "must be positive (bytes per ns)");
  });
  checkMatrix(c.distance, n, "distance", fail, (v) => Number.isInteger(v) && v >= 10);
  c.distance.forEach((row, i) => {
    if (row[i] !== 10) fail(`distance[${i}][${i}]`, "the local distance must be 10");
  });
  checkMatrix(c.latencyNs, n, "latencyNs", fail, (v) => v > 0);
  if (!Array.isArray(c.cpus) || c.cpus.length === 0) fail("cpus", "needs at least one CPU");
  if (c.cpus.length > 1024) fail("cpus", "at most 1024 CPUs");
  c.cpus.forEach((cpu, i) => {
    if (!Number.isInteger(cpu.node) || cpu.node < 0 || cpu.node >= n) fail(`cpus[${i}].node`, `must be a node id in [0, ${n - 1}], got ${cpu.node}`);
  });
  if (!(c.cpuGHz > 0)) fail("cpuGHz", "must be positive");
  if (!(c.nsPerOp >= 0)) fail("nsPerOp", "must be >= 0");
  for (const level of ["l1d", "l1i", "l2", "llc"] as const) {
    const cc = c.caches?.[level];
    const f = `caches.${level}`;
    if (!cc) fail(f, "is missing");
    for (const k of CACHE_FIELDS) if (!(cc[k] > 0)) fail(`${f}.${k}`, "must be positive");
    if (!isPowerOfTwo(cc.line)) fail(`${f}.line`, `line size must be a power of two, got ${cc.line}`);
    if (!Number.isInteger(cc.assoc)) fail(`${f}.assoc`, "must be an integer");
    const sets = cc.size / (cc.assoc * cc.line);
    if (!Number.isInteger(sets) || !isPowerOfTwo(sets)) fail(`${f}.size`, `size / (assoc * line) must be a power-of-two set count, got ${sets}`);
    if (cc.policy !== undefined && cc.policy !== "lru" && cc.policy !== "plru") fail(`${f}.policy`, `must be 'lru' or 'plru', got '${String(cc.policy)}'`);
    if (cc.policy === "plru" && !isPowerOfTwo(cc.assoc)) fail(`${f}.assoc`, "tree-PLRU needs a power-of-two associativity");
  }
  if (c.caches.l1d.line !== c.caches.l2.line || c.caches.l2.line !== c.caches.llc.line || c.caches.l1i.line !== c.caches.l1d.line) fail("caches", "all cache levels must use the same line size");
  for (const t of ["l1d", "l1dHuge", "l1i", "l2"] as const) {
    const tc = c.tlb?.[t];
    const f = `tlb.${t}`;
    if (!tc) fail(f, "is missing");
    if (!Number.isInteger(tc.entries) || tc.entries <= 0) fail(`${f}.entries`, "must be a positive integer");
    if (!Number.isInteger(tc.assoc) || tc.assoc <= 0 || tc.entries % tc.assoc !== 0) fail(`${f}.assoc`, "must divide entries");
    if (!isPowerOfTwo(tc.entries / tc.assoc)) fail(`${f}.entries`, "entries / assoc must be a power of two");
  }
  if (!(c.tlb.l2HitNs >= 0)) fail("tlb.l2HitNs", "must be >= 0");
  if (!(c.tlb.walkNs >= 0)) fail("tlb.walkNs", "must be >= 0");
  for (const k of ["faultNs", "hugeFaultNs", "migrateNs", "shootdownNs", "dirtyAssistNs"] as const) {
    if (!(c.costs?.[k] >= 0)) fail(`costs.${k}`, "must be a number of ns >= 0");
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
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new InputError(`cannot read machine config: ${(e as Error).message}`, { file: path });
  }
  return validateMachineConfig(normaliseSizes(raw, path) as MachineConfig, path);
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
