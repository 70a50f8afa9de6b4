// Memory management on hand-computed scenarios: LRU rules (new pages inactive, mark_accessed
// twice activates, deactivate, migration keeps the state), migration refused by a full node and
// its copy traffic, pageout then touch (one major fault at the configured cost, a new frame, the
// same PTE slot), direct reclaim's second chance, shared file pages paged out and refaulted
// (major, then minor from the page cache), dirty vs clean write-back, no swap, huge-page
// pageout by split, demand fills and write-backs counted per node (migrations not), the optional
// costs in configs.

import { describe, expect, it } from "vitest";
import { AccessKind } from "../../hw/batch.ts";
import { DEFAULT_MM_COSTS, mmCosts, validateMachineConfig } from "../../hw/config.ts";
import { CpuTime } from "../../hw/cpu.ts";
import { LruList } from "../../hw/lru.ts";
import type { Machine } from "../../hw/machine.ts";
import { FrameFlag, HUGE_FRAMES } from "../../hw/memory.ts";
import { PteFlag, pageKey2m } from "../../hw/pagetable.ts";
import { preset } from "../../hw/presets.ts";
import { inactiveIsLow } from "../../hw/reclaim.ts";
import { InputError } from "../../sim/errors.ts";
import { MiB } from "../../sim/units.ts";
import { runProcess, tinyWith, twoNodeTiny, type Step } from "./helpers.ts";

const R = AccessKind.READ;
const W = AccessKind.WRITE;
const PAGE = 4096;

const frameOf = (m: Machine, addr: number): number => m.ptes.frame[m.lookupPte(0, addr)]!;

describe("the LRU", () => {
  it("a new page is inactive; mark_accessed references it, then activates it; deactivate brings it back unreferenced", () => {
    const seen: Array<[boolean, boolean, number, number]> = [];
    runProcess(tinyWith(64), [{ name: "a", size: 4 * PAGE }], (a, m) => {
      const snap = (): void => {
        const f = frameOf(m, a.get("a")!);
        seen.push([m.lru.isActive(f), m.lru.isReferenced(f), m.lru.pages(0, LruList.INACTIVE), m.lru.pages(0, LruList.ACTIVE)]);
      };
      return [
        { addr: a.get("a")!, kind: W },
        { action: snap },
        { action: () => { m.markAccessed(frameOf(m, a.get("a")!)); snap(); } },
        { action: () => { m.markAccessed(frameOf(m, a.get("a")!)); snap(); } },
        { action: () => { m.markAccessed(frameOf(m, a.get("a")!)); snap(); } },
        { action: () => { m.deactivate(frameOf(m, a.get("a")!)); snap(); } },
        { action: () => { m.deactivate(frameOf(m, a.get("a")!)); snap(); } },
      ];
    });
    expect(seen).toEqual([
      [false, false, 1, 0], // new: inactive, not referenced
      [false, true, 1, 0], // referenced
      [true, false, 0, 1], // referenced + inactive -> active, reference cleared
      [true, true, 0, 1], // active: referenced again
      [false, false, 1, 0], // deactivated: both bits cleared
      [false, false, 1, 0], // deactivating an inactive page changes nothing
    ]);
  });

  it("a migrated page keeps its list and bits, on the new node", () => {
    let before: [boolean, boolean] = [false, false], after: [boolean, boolean] = [false, false];
    runProcess(twoNodeTiny(16, 16), [{ name: "a", size: 2 * PAGE }], (a, m) => [
      { addr: a.get("a")!, kind: R },
      { action: () => {
        const f = frameOf(m, a.get("a")!);
        m.markAccessed(f);
        m.markAccessed(f);
        m.markAccessed(f); // active and referenced
        before = [m.lru.isActive(f), m.lru.isReferenced(f)];
        expect(m.migrate(m.lookupPte(0, a.get("a")!), 1, true)).toBeGreaterThan(0);
        const g = frameOf(m, a.get("a")!);
        after = [m.lru.isActive(g), m.lru.isReferenced(g)];
        expect(m.memory.nodeOf(g)).toBe(1);
        expect(m.lru.pages(1, LruList.ACTIVE)).toBe(1);
        expect(m.lru.pages(0, LruList.ACTIVE) + m.lru.pages(0, LruList.INACTIVE)).toBe(0);
        expect(m.lru.isOnLru(f)).toBe(false);
      } },
    ]);
    expect(before).toEqual([true, true]);
    expect(after).toEqual([true, true]);
  });

  it("inactive_is_low: ratio 1 below 1 GiB, int_sqrt(10 x GiB) above", () => {
    expect(inactiveIsLow(10, 11)).toBe(true);
    expect(inactiveIsLow(11, 11)).toBe(false);
    // 1 GiB of LRU (262144 pages): ratio 3
    expect(inactiveIsLow(65536, 196608)).toBe(false); // 65536 * 3 = 196608, not below
    expect(inactiveIsLow(65535, 196609)).toBe(true);
  });
});

describe("migration", () => {
  it("a full node refuses: -1, nothing moves, the failure is counted", () => {
    const results: number[] = [];
    const { m, a } = runProcess(twoNodeTiny(8, 1), [{ name: "a", size: 2 * PAGE, policy: { mode: "bind", nodes: [0] } }], (a, m) => [
      { addr: a.get("a")!, kind: W },
      { addr: a.get("a")! + PAGE, kind: W },
      { action: () => {
        results.push(m.migrate(m.lookupPte(0, a.get("a")!), 1, true));
        results.push(m.migrate(m.lookupPte(0, a.get("a")! + PAGE), 1, true));
        results.push(m.migrateFrame(frameOf(m, a.get("a")! + PAGE), 1, true));
      } },
    ]);
    const c = m.config.costs;
    expect(results).toEqual([c.migrateNs + c.shootdownNs * 1, -1, -1]);
    expect(m.nodeOfPte(m.lookupPte(0, a.get("a")!))).toBe(1);
    expect(m.nodeOfPte(m.lookupPte(0, a.get("a")! + PAGE))).toBe(0);
    expect(m.migrationFailures).toBe(2);
    expect(m.memory.nodes[0]!.used).toBe(1);
    expect(m.memory.nodes[1]!.used).toBe(1);
  });

  it("a migration's copy reads the source node and writes the destination (when it counts traffic); demand fills do not include it", () => {
    let bytes: number[] = [];
    const { m } = runProcess(twoNodeTiny(16, 16), [{ name: "a", size: 2 * PAGE }], (a, m) => {
      const lines: Step[] = [];
      for (let l = 0; l < 64; l++) lines.push({ addr: a.get("a")! + l * 64, kind: R });
      const n = (): number[] => [m.memory.nodes[0]!.readBytes, m.memory.nodes[0]!.writeBytes, m.memory.nodes[1]!.readBytes, m.memory.nodes[1]!.writeBytes, m.memServed[0]!, m.memServed[1]!];
      return [
        ...lines, // 64 distinct lines of one fresh page: 64 fills from node 0
        ...lines, // all L1 hits (64 lines = 4 KiB < 8 KiB L1D)
        { action: () => {
          const b0 = n();
          m.migrate(m.lookupPte(0, a.get("a")!), 1, false); // no traffic counted
          const b1 = n();
          m.migrate(m.lookupPte(0, a.get("a")!), 0, true); // back, with traffic
          const b2 = n();
          bytes = [...b1.map((x, i) => x - b0[i]!), ...b2.map((x, i) => x - b1[i]!)];
        } },
        ...lines, // the page's lines left the caches when it moved: 64 fills again
      ];
    });
    expect(bytes).toEqual([0, 0, 0, 0, 0, 0, /* with traffic: node 1 read, node 0 written */ 0, PAGE, PAGE, 0, 0, 0]);
    expect([m.memServed[0], m.memServed[1]]).toEqual([128, 0]);
    expect(m.migrationCopyBytes).toBe(PAGE);
  });
});

describe("pageout and major faults", () => {
  it("pageout then touch: one major fault at the configured cost, a new frame, the same PTE slot", () => {
    const MAJOR = 12_345;
    let slot = -1, cost = 0, swappedFlags = 0;
    const { m, a } = runProcess(tinyWith(64, { majorFaultNs: MAJOR }), [{ name: "a", size: 4 * PAGE }], (a, m) => [
      { addr: a.get("a")!, kind: W },
      { action: () => {
        slot = m.lookupPte(0, a.get("a")!);
        cost = m.pageout(m.ptes.frame[slot]!);
        swappedFlags = m.ptes.flags[slot]!;
        expect(m.lookupPte(0, a.get("a")!)).toBe(-1);
        expect(m.pteAt(0, a.get("a")!)).toBe(slot);
        expect(m.memory.nodes[0]!.used).toBe(0);
      } },
      { addr: a.get("a")! + 8, kind: R },
    ]);
    const c = m.config.costs;
    expect(cost).toBe(DEFAULT_MM_COSTS.pageoutNs + c.shootdownNs * 1);
    expect(swappedFlags & (PteFlag.PRESENT | PteFlag.SWAPPED)).toBe(PteFlag.SWAPPED);
    expect(m.majorFaults).toBe(1);
    expect(m.swapIns).toBe(1);
    expect(m.pageWrites).toBe(1); // anonymous: written to swap
    expect(m.cpus[0]!.time[CpuTime.FAULT]).toBe(c.faultNs + MAJOR);
    expect(m.memStallNs).toBe(MAJOR);
    expect(m.lookupPte(0, a.get("a")!)).toBe(slot);
    expect(m.present(slot)).toBe(true);
    expect(m.memory.nodes[0]!.used).toBe(1);
    expect(m.lru.pages(0, LruList.INACTIVE)).toBe(1);
    expect(m.ptes.flags[slot]! & PteFlag.DIRTY).toBe(0); // the swapped-in copy is clean
  });

  it("a clean private file page is dropped without a write; without swap an anonymous page cannot be paged out", () => {
    const r: number[] = [];
    const { m } = runProcess(tinyWith(64), [{ name: "f", size: 2 * PAGE, backing: "file", file: { id: "/lib/x", offset: 0 } }, { name: "a", size: 2 * PAGE }], (a, m) => [
      { addr: a.get("f")!, kind: R },
      { addr: a.get("a")!, kind: W },
      { action: () => {
        r.push(m.pageout(frameOf(m, a.get("a")!)));
        r.push(m.pageout(frameOf(m, a.get("f")!)) >= 0 ? 1 : 0);
      } },
    ], { options: { swap: false } });
    expect(r).toEqual([-1, 1]);
    expect(m.pageWrites).toBe(0);
    expect(m.pagesOut).toBe(1);
  });

  it("a shared file page mapped twice: both PTEs paged out; the first touch reads it back (major), the second finds it in the page cache (minor)", () => {
    const file = { id: "/shm/s", offset: 0 };
    let frames = 0;
    const { m, a } = runProcess(tinyWith(64), [{ name: "s1", size: 2 * PAGE, backing: "file", file, shared: true }, { name: "s2", size: 2 * PAGE, backing: "file", file, shared: true }], (a, m) => [
      { addr: a.get("s1")!, kind: W },
      { addr: a.get("s2")!, kind: R },
      { action: () => {
        const f = frameOf(m, a.get("s1")!);
        expect(frameOf(m, a.get("s2")!)).toBe(f);
        expect(m.pageout(f)).toBe(DEFAULT_MM_COSTS.pageoutNs + 2 * m.config.costs.shootdownNs);
        frames = m.memory.nodes[0]!.used;
      } },
      { addr: a.get("s2")! + 8, kind: R },
      { addr: a.get("s1")! + 8, kind: R },
    ], { options: { swap: false } }); // a dirty shared file page goes back to its file: no swap needed
    expect(frames).toBe(0);
    expect(m.pageWrites).toBe(1);
    expect(m.majorFaults).toBe(1);
    expect(m.faultsTotal).toBe(2 + 2);
    expect(frameOf(m, a.get("s1")!)).toBe(frameOf(m, a.get("s2")!));
    expect(m.cpus[0]!.time[CpuTime.FAULT]).toBe(3 * m.config.costs.faultNs + DEFAULT_MM_COSTS.majorFaultNs);
  });

  it("pageout of a huge page splits it and pages out all 512 pages; a later touch faults a 4 KiB page back", () => {
    let cost = 0;
    const { m, a } = runProcess(tinyWith(2048), [{ name: "h", size: 2 * MiB, hugepages: true }], (a, m) => [
      { addr: a.get("h")! + 100, kind: W },
      { action: () => {
        const pte = m.lookupPte(0, a.get("h")!);
        expect(m.ptes.isHuge(pte)).toBe(true);
        expect(m.lru.hugePages).toBe(HUGE_FRAMES);
        cost = m.pageout(m.ptes.frame[pte]! + 7); // any frame of the folio
        expect(m.ptes.flags[pte]).toBe(0); // the 2 MiB slot is dead
        expect(m.spaces[0]!.pageTable.get(pageKey2m(a.get("h")! / PAGE))).toBe(-1);
      } },
      { addr: a.get("h")! + 5 * PAGE, kind: R },
    ]);
    const c = m.config.costs;
    expect(cost).toBe(c.shootdownNs + HUGE_FRAMES * (DEFAULT_MM_COSTS.pageoutNs + c.shootdownNs));
    expect(m.pagesOut).toBe(HUGE_FRAMES);
    expect(m.thpSplits).toBe(1);
    expect(m.lru.hugePages).toBe(0);
    expect(m.majorFaults).toBe(1);
    expect(m.memory.nodes[0]!.used).toBe(1);
    const pte = m.lookupPte(0, a.get("h")! + 5 * PAGE);
    expect(m.ptes.isHuge(pte)).toBe(false);
    expect(m.pteAt(0, a.get("h")!)).not.toBe(-1); // paged out, not unmapped
    expect(m.lookupPte(0, a.get("h")!)).toBe(-1);
  });
});

describe("direct reclaim", () => {
  it("under pressure the unreferenced inactive pages go first; referenced ones get a second chance", () => {
    // 40 frames, 41 pages: the 41st fault reclaims 32 pages (SWAP_CLUSTER_MAX). Pages 0-7 (the
    // oldest, at the inactive tail) still have their Accessed bits; pages 8-39 do not.
    const { m, a } = runProcess(tinyWith(40), [{ name: "a", size: 64 * PAGE }], (a, m) => {
      const steps: Step[] = [];
      for (let p = 0; p < 40; p++) steps.push({ addr: a.get("a")! + p * PAGE, kind: R });
      steps.push({ action: () => {
        for (let p = 8; p < 40; p++) {
          const s = m.lookupPte(0, a.get("a")! + p * PAGE);
          m.ptes.flags[s] = m.ptes.flags[s]! & ~PteFlag.ACCESSED;
        }
      } });
      steps.push({ addr: a.get("a")! + 40 * PAGE, kind: R });
      return steps;
    });
    const present = Array.from({ length: 41 }, (_, p) => (m.lookupPte(0, a.get("a")! + p * PAGE) >= 0 ? 1 : 0));
    expect(present).toEqual([...Array<number>(8).fill(1), ...Array<number>(32).fill(0), 1]);
    expect(m.directReclaims).toBe(1);
    expect(m.directReclaimed).toBe(32);
    // pages 0-7 were spared: referenced (PG_referenced set, Accessed cleared by the check)
    for (let p = 0; p < 8; p++) {
      const f = frameOf(m, a.get("a")! + p * PAGE);
      expect(m.lru.isReferenced(f)).toBe(true);
      expect(m.lru.isActive(f)).toBe(false);
    }
    // scanned: 32 folios (0-31), then 16 (32-39 reclaimed, 0-7 put back); 32 pageouts with one IPI each
    const c = m.config.costs;
    const reclaimNs = 48 * DEFAULT_MM_COSTS.reclaimScanNs + 32 * (DEFAULT_MM_COSTS.pageoutNs + c.shootdownNs);
    expect(m.memStallNs).toBe(reclaimNs);
    expect(m.cpus[0]!.time[CpuTime.FAULT]).toBe(41 * c.faultNs + reclaimNs);
  });

  it("when the inactive list is low, the active tail is deactivated except a referenced executable file page, which rotates", () => {
    // 91 frames: the text page and a0-a49 on the active list (activated in that order, so the text
    // page is the active tail), b0-b39 inactive; only the text page keeps its Accessed bit. The 92nd
    // page's fault: inactive 40 < active 51, so shrink_active_list takes 32 from the active tail
    // (the text page rotates, a0-a30 are deactivated), then shrink_inactive_list reclaims the 32
    // oldest inactive pages, b0-b31, and is done.
    const TEXT = 0x555555554000;
    const { m, a } = runProcess(tinyWith(91), [{ name: "a", size: 50 * PAGE }, { name: "b", size: 41 * PAGE }], (a, m) => {
      const A = (i: number): number => a.get("a")! + i * PAGE, B = (i: number): number => a.get("b")! + i * PAGE;
      const steps: Step[] = [{ addr: TEXT, kind: AccessKind.IFETCH }];
      for (let i = 0; i < 50; i++) steps.push({ addr: A(i), kind: R });
      for (let i = 0; i < 40; i++) steps.push({ addr: B(i), kind: R });
      steps.push({ action: () => {
        for (const addr of [TEXT, ...Array.from({ length: 50 }, (_, i) => A(i))]) {
          m.markAccessed(frameOf(m, addr));
          m.markAccessed(frameOf(m, addr));
        }
        for (const addr of [...Array.from({ length: 50 }, (_, i) => A(i)), ...Array.from({ length: 40 }, (_, i) => B(i))]) {
          const s = m.lookupPte(0, addr);
          m.ptes.flags[s] = m.ptes.flags[s]! & ~PteFlag.ACCESSED;
        }
        expect([m.lru.pages(0, LruList.ACTIVE), m.lru.pages(0, LruList.INACTIVE)]).toEqual([51, 40]);
      } });
      steps.push({ addr: B(40), kind: R });
      return steps;
    });
    const A = (i: number): number => a.get("a")! + i * PAGE, B = (i: number): number => a.get("b")! + i * PAGE;
    const active = (addr: number): boolean => m.lru.isActive(frameOf(m, addr));
    expect(active(TEXT)).toBe(true);
    expect(m.ptes.flags[m.lookupPte(0, TEXT)]! & PteFlag.ACCESSED).toBe(0); // the check cleared it
    expect(Array.from({ length: 50 }, (_, i) => (active(A(i)) ? 1 : 0))).toEqual([...Array<number>(31).fill(0), ...Array<number>(19).fill(1)]);
    expect(Array.from({ length: 41 }, (_, i) => (m.lookupPte(0, B(i)) >= 0 ? 1 : 0))).toEqual([...Array<number>(32).fill(0), ...Array<number>(9).fill(1)]);
    expect(m.directReclaimed).toBe(32);
  });
});

describe("memory served per node", () => {
  it("counts demand fills and dirty write-backs of the program", () => {
    // tiny caches: L1D 32 sets x 4, L2 128 x 8, LLC 512 x 16; physical lines 512 apart share a set
    // in all three. After first-touching 321 pages in order (frame = page), write line 1 of page
    // 0, then read line 1 of pages 8, 16, ..., 320: 41 fills, and the one dirty line is pushed out
    // of L1, L2 and the LLC: one write-back.
    let delta: number[] = [];
    const { m } = runProcess(tinyWith(1024), [{ name: "a", size: 400 * PAGE }], (a, m) => {
      const steps: Step[] = [];
      for (let p = 0; p <= 320; p++) steps.push({ addr: a.get("a")! + p * PAGE, kind: R });
      let s0: number[] = [];
      steps.push({ action: () => { s0 = [m.memServed[0]!, m.memWritebacks[0]!, m.llcs[0]!.writebacks]; } });
      steps.push({ addr: a.get("a")! + 64, kind: W });
      for (let p = 8; p <= 320; p += 8) steps.push({ addr: a.get("a")! + p * PAGE + 64, kind: R });
      steps.push({ action: () => { delta = [m.memServed[0]! - s0[0]!, m.memWritebacks[0]! - s0[1]!, m.llcs[0]!.writebacks - s0[2]!]; } });
      return steps;
    });
    expect(m.ptes.frame[m.lookupPte(0, m.spaces[0]!.vmas.find((v) => v.name === "a")!.start + 8 * PAGE)]).toBe(8);
    expect(delta).toEqual([41, 1, 1]);
  });
});

describe("configs", () => {
  it("the memory-management costs are optional, default as documented, and checked when given", () => {
    const c = preset("tiny")!;
    expect(c.costs.majorFaultNs).toBeUndefined();
    expect(mmCosts(c)).toEqual({ majorFaultNs: 100_000, pageoutNs: 2_000, reclaimScanNs: 150 });
    expect(mmCosts(validateMachineConfig({ ...c, costs: { ...c.costs, majorFaultNs: 5 } })).majorFaultNs).toBe(5);
    const bad = { ...c, costs: { ...c.costs, majorFaultNs: -1 } };
    expect(() => validateMachineConfig(bad)).toThrow(InputError);
    expect(() => validateMachineConfig(bad)).toThrow(/majorFaultNs/);
  });

  it("a page keeps PG_young and PG_idle across migration, and reclaim consumes PG_young as a reference", () => {
    let refs: number[] = [];
    runProcess(twoNodeTiny(16, 16), [{ name: "a", size: 2 * PAGE }], (a, m) => [
      { addr: a.get("a")!, kind: R },
      { action: () => {
        const pte = m.lookupPte(0, a.get("a")!);
        m.mkold(pte); // DAMON: Accessed was set -> PG_young, PG_idle
        m.migrate(pte, 1, false);
        const f = frameOf(m, a.get("a")!);
        expect(m.memory.flags.get(f) & (FrameFlag.YOUNG | FrameFlag.IDLE)).toBe(FrameFlag.YOUNG | FrameFlag.IDLE);
        refs = [m.reclaimer.referenced(f), m.reclaimer.referenced(f)];
      } },
    ]);
    expect(refs).toEqual([1, 0]);
  });
});
