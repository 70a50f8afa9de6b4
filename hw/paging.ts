// Demand paging: a walk that finds no PTE maps the page. A VMA that allows THP there gets a 2 MiB
// page if the policy's nodes have one free (else 4 KiB pages, as the kernel falls back); a shared
// file page already in the page cache is mapped as it is; any other page gets a frame from the
// first node of its NUMA policy (hw/numa-policy.ts) that has one. When none has, direct reclaim
// (hw/reclaim.ts) runs on those nodes in order and the allocation is tried again; its time is
// memory stall, charged to the faulting CPU with the fault. New pages go on the LRU and into the
// reverse map; faults are counted.

import { SimError } from "../sim/errors.ts";
import type { Cpu } from "./cpu.ts";
import { HUGE_FRAMES } from "./memory.ts";
import type { MmHost } from "./mm-host.ts";
import { policyNodes } from "./numa-policy.ts";
import { PteFlag, pageKey2m, pageKey4k } from "./pagetable.ts";
import type { ThreadState, Vma } from "./process.ts";
import type { Reclaimer } from "./reclaim.ts";
import { rmapAdd } from "./rmap.ts";

export class Pager {
  /** Direct reclaim time of the last allocate() calls, not yet charged by their caller, ns. */
  private reclaimNsPending = 0;

  constructor(
    private readonly m: MmHost,
    private readonly reclaimer: Reclaimer,
  ) {}

  /** Demand-paging fault: maps the page holding addr under its VMA's policy; returns the PTE slot. */
  demandFault(cpu: Cpu, th: ThreadState, addr: number): number {
    const m = this.m;
    const space = th.space;
    const vma = space.findVma(addr);
    if (vma === undefined) {
      throw new SimError(`thread ${th.tid} (pid ${space.pid}) touched 0x${addr.toString(16)}, which is outside every VMA of the process`);
    }
    const vpn = Math.floor(addr / 4096);
    const hvpn = vpn - (vpn % HUGE_FRAMES);
    const huge = vma.hugeAllowed(hvpn * 4096);
    let flags = PteFlag.PRESENT | (vma.writable ? PteFlag.WRITABLE : 0);
    let frame = -1;
    let cost = m.config.costs.faultNs;
    if (huge) {
      frame = this.allocate(vma, hvpn, cpu.node, true);
      if (frame >= 0) {
        flags |= PteFlag.HUGE;
        cost = m.config.costs.hugeFaultNs;
      }
    }
    let pte: number;
    if (frame >= 0) {
      pte = m.ptes.add(space.asid, hvpn, frame, flags, vma.id);
      space.pageTable.set(pageKey2m(vpn), pte);
      space.hasHuge = true;
      m.lru.add(frame, HUGE_FRAMES, vma.memcg);
    } else {
      frame = m.pageCache.frame(vma, vpn);
      if (frame < 0) {
        frame = this.allocate(vma, vpn, cpu.node, false);
        m.lru.add(frame, 1, vma.memcg);
        cost += this.takeReclaimNs();
      }
      pte = m.ptes.add(space.asid, vpn, frame, flags, vma.id);
      space.pageTable.set(pageKey4k(vpn), pte);
      m.pageCache.set(vma, vpn, frame);
    }
    rmapAdd(m, frame, pte);
    if (m.truth) m.truth.ensurePages(m.ptes.size);
    m.faultsTotal++;
    cpu.chargeFault(cost);
    return pte;
  }

  /**
   * Allocates a frame (or a huge page) for page `vpn` of `vma` under its NUMA policy. When no
   * allowed node has a free 4 KiB frame, direct reclaim runs on the allowed nodes in policy order
   * (its time is counted as memory stall and left for the caller in takeReclaimNs()); if nothing
   * could be reclaimed the allocation fails: -1 with mayFail, else an out-of-memory error. Huge
   * pages never reclaim (the caller falls back to 4 KiB pages). Not the hot path: a fault's.
   */
  allocate(vma: Vma, vpn: number, cpuNode: number, huge: boolean, mayFail = false): number {
    const m = this.m;
    const nodes = policyNodes(m.config, vma, vpn, cpuNode);
    for (const node of nodes) {
      const f = huge ? m.memory.allocHuge(node) : m.memory.alloc(node);
      if (f >= 0) return f;
    }
    if (huge) return -1; // fall back to 4 KiB pages
    const ns = this.reclaimer.direct(nodes);
    this.reclaimNsPending += ns;
    m.memStallNs += ns;
    for (const node of nodes) {
      const f = m.memory.alloc(node);
      if (f >= 0) return f;
    }
    if (mayFail) return -1;
    throw new SimError(`out of memory: no node allowed by the ${vma.policy.mode} policy of VMA '${vma.name}' has a free frame, and nothing on them could be reclaimed`);
  }

  /** Direct reclaim time spent by allocate() since the last call, ns (the caller charges it). */
  takeReclaimNs(): number {
    const ns = this.reclaimNsPending;
    this.reclaimNsPending = 0;
    return ns;
  }
}
