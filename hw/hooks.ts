// Extension points of the machine for the access check primitives (hw/ knows nothing of DAMON):
//   * AccessSampler: sees every executed access with its latency and data source, the way a PMU
//     does (perf mem-access / PEBS-like, IBS-like op sampling). It returns the CPU time its own
//     handling costs (an NMI, a PEBS assist), which the machine charges to that CPU. It joins and
//     leaves the machine's samplers with attachSampler / detachSampler.
//   * TrapHandler: runs when a walk finds a PROT_NONE trap armed on a PTE (NUMA hinting faults,
//     DAMON's page-fault sampling). It returns the fault's cost; the machine then restores the PTE.
//   * MemoryObserver: sees every line a node's memory serves (a fill after an LLC miss) or absorbs
//     (a dirty line written back), by physical line number and time, as a device counting its M2S
//     requests does (the CXL hotness monitoring unit). One per node (NodeMemory.observer); while it
//     is null the access path pays one field test per memory access.
// The machine passes one reused AccessRecord (no allocation per access): copy what you keep.

/** Which level of the hierarchy served an access. */
export const DataSource = {
  L1: 0,
  L2: 1,
  LLC: 2,
  LOCAL_DRAM: 3,
  REMOTE_DRAM: 4,
  /** Memory on a CPU-less far node (CXL). */
  FAR_MEMORY: 5,
} as const;
export const DATA_SOURCE_NAMES = ["L1", "L2", "LLC", "local DRAM", "remote DRAM", "far memory"] as const;

/** TLB outcome of an access. */
export const TlbOutcome = {
  L1_HIT: 0,
  L2_HIT: 1,
  WALK: 2,
} as const;

export class AccessRecord {
  cpu = 0;
  /** Node of the CPU. */
  cpuNode = 0;
  tid = 0;
  pid = 0;
  vaddr = 0;
  paddr = 0;
  size = 0;
  /** AccessKind of hw/batch.ts. */
  kind = 0;
  latencyNs = 0;
  /** DataSource of the access. */
  source = 0;
  /** Node of the memory backing the page. */
  memNode = 0;
  /** TlbOutcome. */
  tlb = 0;
  /** Ops this access stands for: 1 plus the non-memory ops before it (IBS counts ops). */
  ops = 1;
  /** CPU clock when the access completed (ns, may be fractional). */
  time = 0;
  /** PTE slot of the page (the page's dense id). */
  pte = 0;
}

export interface AccessSampler {
  /** Called for every access; returns ns of CPU time to charge (0 for none). */
  onAccess(rec: AccessRecord): number;
}

/** Puts `s` on the access path (the machine's samplers; once, however often it is called). */
export function attachSampler(samplers: AccessSampler[], s: AccessSampler): void {
  if (!samplers.includes(s)) samplers.push(s);
}

/** Takes `s` off the access path, if it is on it. */
export function detachSampler(samplers: AccessSampler[], s: AccessSampler): void {
  const i = samplers.indexOf(s);
  if (i >= 0) samplers.splice(i, 1);
}

export interface TrapFault {
  cpu: number;
  tid: number;
  pid: number;
  vaddr: number;
  pte: number;
  /** Physical address of the faulting byte. */
  paddr: number;
  isWrite: boolean;
  /** TrapOwner bits of the PTE when it faulted. */
  owners: number;
  time: number;
}

export interface TrapHandler {
  /** Handles a PROT_NONE fault; returns its cost in ns. The machine restores the PTE afterwards. */
  onTrap(fault: TrapFault): number;
}

export interface MemoryObserver {
  /** A 64-byte line of this node read (fill) or written back (write) at `time` (ns, the CPU's clock). */
  onLine(line: number, write: boolean, time: number): void;
}
