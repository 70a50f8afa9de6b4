// PROT_NONE traps (NUMA hinting faults, DAMON's page-fault sampling): arming one on a PTE for an
// owner (TrapOwner bits) sets PteFlag.TRAP and shoots the page's TLB entries down, so that the next
// access walks; a walk that meets the trap runs the machine's TrapHandler with a TrapFault record,
// then restores the PTE (a trap fires once for all its owners). The one record is reused for every
// fault, as AccessRecord is for every access: a handler copies what it keeps.

import type { Cpu } from "./cpu.ts";
import type { TrapFault } from "./hooks.ts";
import type { MmHost } from "./mm-host.ts";
import { PteFlag } from "./pagetable.ts";
import type { ThreadState } from "./process.ts";
import { shootdown } from "./shootdown.ts";

const fault: TrapFault = { cpu: 0, tid: 0, pid: 0, vaddr: 0, pte: 0, paddr: 0, isWrite: false, owners: 0, time: 0 };

/** Arms a PROT_NONE trap on a PTE for `owner` (TrapOwner bits); the TLB entries are flushed. */
export function armTrap(m: MmHost, pte: number, owner: number): void {
  const fl = m.ptes.flags[pte]!;
  m.ptes.trapOwners[pte] = m.ptes.trapOwners[pte]! | owner;
  if ((fl & PteFlag.TRAP) === 0) {
    m.ptes.flags[pte] = fl | PteFlag.TRAP;
    shootdown(m, pte);
  }
}

/** Removes `owner` from a PTE's trap, restoring the PTE when no owner is left. */
export function disarmTrap(m: MmHost, pte: number, owner: number): void {
  const o = m.ptes.trapOwners[pte]! & ~owner;
  m.ptes.trapOwners[pte] = o;
  if (o === 0) m.ptes.flags[pte] = m.ptes.flags[pte]! & ~PteFlag.TRAP;
}

/** A walk met a PROT_NONE trap: run the handler, then restore the PTE. Returns the cost. */
export function trapFault(m: MmHost, cpu: Cpu, th: ThreadState, pte: number, vaddr: number, isWrite: boolean): number {
  const f = fault;
  f.cpu = cpu.cpuId;
  f.tid = th.tid;
  f.pid = th.space.pid;
  f.vaddr = vaddr;
  f.pte = pte;
  f.paddr = m.ptes.physAddr(pte, vaddr);
  f.isWrite = isWrite;
  f.owners = m.ptes.trapOwners[pte]!;
  f.time = cpu.clock;
  const cost = m.trapHandler !== null ? m.trapHandler.onTrap(f) : 0;
  m.ptes.trapOwners[pte] = 0;
  m.ptes.flags[pte] = m.ptes.flags[pte]! & ~PteFlag.TRAP;
  return cost;
}
