// The event every push-based access check primitive delivers (perf mem / PEBS samples, IBS op
// samples, NUMA hinting faults, DAMON's own page-fault traps), and the sink type the layer above
// (DAMON's report path) provides. hw/ knows nothing of DAMON, not even the primitives' names: a
// primitive fills one reusable PrimitiveEvent and calls its sink (the DAMON layer gives each
// primitive its own sink, which knows whose events it receives), which returns the extra CPU time
// (ns) its handling costs, for the primitive to charge along with its own cost. The event is
// overwritten on the next delivery: a sink copies what it keeps (no allocation per event).
// Most events come from a CPU and say which one, which thread and which virtual address; a
// memory-side unit (the CXL CHMU) sees only physical addresses and counts: its events carry NO_CPU,
// NO_TID, NO_PID and NO_VADDR, a count, and the CPU whose handler delivers them (submitCpu).

import { DataSource, TlbOutcome, type AccessRecord, type TrapFault } from "../hooks.ts";
import type { Machine } from "../machine.ts";

/**
 * Where the handler runs: PMU overflow handlers (PEBS PMI, IBS NMI) in NMI context, where nothing
 * may sleep or take a mutex; fault handlers in process context.
 */
export type EventContext = "nmi" | "process";

/** dataSource of events that have none (a fault is taken before the cache is accessed). */
export const DATA_SOURCE_UNKNOWN = -1;

/** cpu, tid, pid and vaddr of an event whose source does not know them (counting at the memory device). */
export const NO_CPU = -1;
export const NO_TID = -1;
export const NO_PID = -1;
export const NO_VADDR = -1;

export class PrimitiveEvent {
  context: EventContext = "nmi";
  /** CPU clock of the sampled access or of the fault, ns (may be fractional). */
  time = 0;
  cpu = 0;
  /** Node of the CPU. */
  cpuNode = 0;
  /** Process id (tgid). */
  pid = 0;
  /** Thread id. */
  tid = 0;
  vaddr = 0;
  paddr = 0;
  /** Bytes of the access (samples) or 1 (faults: the faulting byte, as damon_report_page_fault). */
  size = 0;
  /** Bytes mapped by the page's translation: 4096, or 2 MiB for a huge page (perf's data page size). */
  pageSize = 4096;
  isWrite = false;
  /** Latency of the sampled access, ns; 0 where the primitive has none (store samples, faults). */
  latencyNs = 0;
  /** DataSource (hw/hooks.ts) of the access, or DATA_SOURCE_UNKNOWN. */
  dataSource: number = DATA_SOURCE_UNKNOWN;
  /** The access missed L1 (IBS DcMiss); false when the data source is unknown. */
  dcMiss = false;
  /** The access missed L2 too (IBS L2Miss); false when the data source is unknown. */
  l2Miss = false;
  /** Node of the memory backing the page (before any migration the handler does). */
  memNode = 0;
  /** The access missed the first-level data TLB. */
  l1TlbMiss = false;
  /** The access missed the second-level TLB too (a page walk). */
  l2TlbMiss = false;
  /** The simulator's page id (PTE slot); not something hardware reports. */
  pte = -1;
  /** Accesses the event stands for: 1 for a sample or a fault; a memory-side unit's count over its epoch. */
  count = 1;
  /** The CPU whose handler delivers the event (damon_report_access() runs there): `cpu` for every CPU-side primitive. */
  submitCpu = 0;
  /** The source lost this event before delivering it (its hardware buffer was full): the sink counts it as made and dropped. */
  lost = false;
}

/** Receives events; returns extra ns of CPU time its handling costs (0 for none). */
export type PrimitiveSink = (e: PrimitiveEvent) => number;

/** Fills `e` from an executed access (the sampler variants). */
export function fillFromAccess(
  e: PrimitiveEvent,
  rec: AccessRecord,
  isWrite: boolean,
  latencyNs: number,
  pageSize: number,
): PrimitiveEvent {
  e.context = "nmi";
  e.time = rec.time;
  e.cpu = rec.cpu;
  e.cpuNode = rec.cpuNode;
  e.pid = rec.pid;
  e.tid = rec.tid;
  e.vaddr = rec.vaddr;
  e.paddr = rec.paddr;
  e.size = rec.size;
  e.pageSize = pageSize;
  e.isWrite = isWrite;
  e.latencyNs = latencyNs;
  e.dataSource = rec.source;
  e.dcMiss = rec.source > DataSource.L1;
  e.l2Miss = rec.source > DataSource.L2;
  e.memNode = rec.memNode;
  e.l1TlbMiss = rec.tlb !== TlbOutcome.L1_HIT;
  e.l2TlbMiss = rec.tlb === TlbOutcome.WALK;
  e.pte = rec.pte;
  e.count = 1;
  e.submitCpu = rec.cpu;
  e.lost = false;
  return e;
}

/** Fills `e` from a PROT_NONE fault (process context; no latency or data source). */
export function fillFromFault(e: PrimitiveEvent, m: Machine, f: TrapFault): PrimitiveEvent {
  e.context = "process";
  e.time = f.time;
  e.cpu = f.cpu;
  e.cpuNode = m.cpus[f.cpu]!.node;
  e.pid = f.pid;
  e.tid = f.tid;
  e.vaddr = f.vaddr;
  e.paddr = f.paddr;
  e.size = 1;
  e.pageSize = m.ptes.bytes(f.pte);
  e.isWrite = f.isWrite;
  e.latencyNs = 0;
  e.dataSource = DATA_SOURCE_UNKNOWN;
  e.dcMiss = false;
  e.l2Miss = false;
  e.memNode = m.nodeOfPte(f.pte);
  // The fault was raised by a page walk: both TLB levels missed.
  e.l1TlbMiss = true;
  e.l2TlbMiss = true;
  e.pte = f.pte;
  e.count = 1;
  e.submitCpu = f.cpu;
  e.lost = false;
  return e;
}
