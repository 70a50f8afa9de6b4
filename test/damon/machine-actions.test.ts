// DAMOS actions on the simulated machine, hand-computed: paddr migrate with a full destination
// (refused pages count 0) and its walk cost, vaddr weighted-interleave destinations, pageout with
// the temporary reject-young filter, the young filter's test-and-clear (paddr and vaddr), other
// ops filters and their first-match default, lru_prio / lru_deprio between the lists, the vaddr
// madvise actions (willneed, cold, pageout, hugepage / nohugepage, holes), stat, huge folios once,
// and the memory state the goal metrics read.

import { describe, expect, it } from "vitest";
import { AccessKind } from "../../hw/batch.ts";
import { LruList } from "../../hw/lru.ts";
import type { Machine } from "../../hw/machine.ts";
import { FrameFlag, HUGE_FRAMES } from "../../hw/memory.ts";
import { PteFlag } from "../../hw/pagetable.ts";
import { SCHEME_WALK_PAGE_NS } from "../../damon/costs.ts";
import { interleaveDest, interleaveIndex, machineActions, machineMemoryState, vmPgoff } from "../../damon/schemes/machine-actions.ts";
import type { ActionRequest, DamosAction, DamosFilter } from "../../damon/schemes/types.ts";
import { MiB } from "../../sim/units.ts";
import { runProcess, tinyWith, twoNodeTiny, type Step } from "../hw/helpers.ts";

const R = AccessKind.READ;
const W = AccessKind.WRITE;
const PAGE = 4096;
const PID = 1;
const VADDR = { pid: PID };
const PADDR = { pid: null };

function req(action: DamosAction, o: Partial<ActionRequest> = {}): ActionRequest {
  return { action, targetNid: -1, dests: [], opsFilters: [], opsDefaultReject: false, coreFiltersAllowed: false, ...o };
}

const frameAt = (m: Machine, addr: number): number => m.ptes.frame[m.lookupPte(0, addr)]!;
const pages = (base: number, n: number): Step[] => Array.from({ length: n }, (_, i) => ({ addr: base + i * PAGE, kind: W }));

describe("paddr migrate", () => {
  it("moves what fits: the full destination refuses the second page, which counts 0; the walk costs a step per frame", () => {
    let r = { appliedBytes: 0, filterPassedBytes: 0, costNs: 0 };
    const { m, a } = runProcess(twoNodeTiny(8, 1), [{ name: "a", size: 2 * PAGE, policy: { mode: "bind", nodes: [0] } }], (a, m) => [
      ...pages(a.get("a")!, 2),
      { action: () => { r = machineActions(m, "paddr").apply(PADDR, 0, 8 * PAGE, req("migrate_hot", { targetNid: 1 })); } },
    ]);
    const c = m.config.costs;
    // 8 steps (frames 0 and 1 are folios, 2-7 free), one migration with one shootdown IPI
    expect(r).toEqual({ appliedBytes: PAGE, filterPassedBytes: 2 * PAGE, costNs: 8 * SCHEME_WALK_PAGE_NS + c.migrateNs + c.shootdownNs });
    expect(m.nodeOfPte(m.lookupPte(0, a.get("a")!))).toBe(1);
    expect(m.nodeOfPte(m.lookupPte(0, a.get("a")! + PAGE))).toBe(0);
    expect(m.migrationCopyBytes).toBe(PAGE); // DAMOS migrations count their copy traffic
  });

  it("an invalid target node, or pages already there, move nothing", () => {
    const out: number[] = [];
    runProcess(twoNodeTiny(8, 8), [{ name: "a", size: 2 * PAGE }], (a, m) => [
      ...pages(a.get("a")!, 2),
      { action: () => {
        const act = machineActions(m, "paddr");
        out.push(act.apply(PADDR, 0, 8 * PAGE, req("migrate_cold", { targetNid: -1 })).appliedBytes);
        out.push(act.apply(PADDR, 0, 8 * PAGE, req("migrate_cold", { targetNid: 5 })).appliedBytes);
        out.push(act.apply(PADDR, 0, 8 * PAGE, req("migrate_cold", { targetNid: 0 })).appliedBytes);
        out.push(act.apply(PADDR, 0, 16 * PAGE, req("migrate_cold", { targetNid: 1 })).appliedBytes);
      } },
    ]);
    expect(out).toEqual([0, 0, 0, 2 * PAGE]);
  });
});

describe("vaddr migrate with dests (weighted interleave)", () => {
  it("the interleave walk, by hand", () => {
    const d = [{ nid: 0, weight: 1 }, { nid: 1, weight: 2 }];
    expect([0, 1, 2, 3, 4, 5].map((ilx) => interleaveDest(d, ilx))).toEqual([0, 1, 1, 0, 1, 1]);
    const e = [{ nid: 1, weight: 3 }, { nid: 0, weight: 1 }];
    expect([5, 7, 8].map((ilx) => interleaveDest(e, ilx))).toEqual([1, 0, 1]); // 5%4=1 <3; 7%4=3 -> 3-3=0 <1; 8%4=0
    expect(interleaveDest([{ nid: 0, weight: 0 }, { nid: 1, weight: 0 }], 3)).toBe(-1);
  });

  it("each page goes to the dest its index picks; pages already there stay; applied counts the moved pages", () => {
    let r = { appliedBytes: 0, filterPassedBytes: 0, costNs: 0 };
    let start = 0;
    const { m } = runProcess(twoNodeTiny(32, 32), [{ name: "a", size: 6 * PAGE, policy: { mode: "bind", nodes: [0] } }], (a, m) => [
      ...pages(a.get("a")!, 6),
      { action: () => {
        start = a.get("a")!;
        r = machineActions(m, "vaddr").apply(VADDR, start, start + 6 * PAGE, req("migrate_hot", { dests: [{ nid: 0, weight: 1 }, { nid: 1, weight: 2 }] }));
      } },
    ]);
    // private anonymous memory: vm_pgoff = vm_start >> 12, so ilx = (address >> 12); t = ilx mod 3
    const vma = m.spaces[0]!.vmas.find((v) => v.start === start)!;
    expect(vmPgoff(vma)).toBe(start / PAGE);
    const want = Array.from({ length: 6 }, (_, i) => ((start / PAGE + i) % 3 === 0 ? 0 : 1));
    expect(want.filter((n) => n === 1).length).toBe(4);
    expect(Array.from({ length: 6 }, (_, i) => m.nodeOfPte(m.lookupPte(0, start + i * PAGE)))).toEqual(want);
    expect(r.appliedBytes).toBe(4 * PAGE);
    expect(r.filterPassedBytes).toBe(0); // the kernel's vaddr migrate does not sum it
  });

  it("the index of a huge folio counts in 2 MiB units: (pgoff >> 9) + (addr - start) >> 21", () => {
    const { m, a } = runProcess(tinyWith(4096), [{ name: "h", size: 4 * MiB, hugepages: true }], (a) => [{ addr: a.get("h")!, kind: W }]);
    const vma = m.spaces[0]!.vmas.find((v) => v.start === a.get("h")!)!;
    const s = a.get("h")!;
    expect(interleaveIndex(vma, s + 2 * MiB, true)).toBe(Math.floor(s / PAGE / 512) + 1);
    expect(interleaveIndex(vma, s + 3 * PAGE, false)).toBe(s / PAGE + 3);
  });

  it("a full destination refuses (0 for that page) and filters are honoured", () => {
    const out: number[] = [];
    runProcess(twoNodeTiny(32, 1), [{ name: "a", size: 3 * PAGE, policy: { mode: "bind", nodes: [0] } }, { name: "f", size: PAGE, backing: "file", file: { id: "/x", offset: 0 } }], (a, m) => [
      ...pages(a.get("a")!, 3),
      { addr: a.get("f")!, kind: R },
      { action: () => {
        const act = machineActions(m, "vaddr");
        const noAnon: DamosFilter[] = [{ type: "anon", matching: true, allow: false }];
        out.push(act.apply(VADDR, a.get("a")!, a.get("a")! + 3 * PAGE, req("migrate_hot", { targetNid: 1, opsFilters: noAnon })).appliedBytes);
        out.push(act.apply(VADDR, a.get("a")!, a.get("a")! + 3 * PAGE, req("migrate_hot", { targetNid: 1 })).appliedBytes);
        out.push(act.apply(VADDR, a.get("f")!, a.get("f")! + PAGE, req("migrate_hot", { targetNid: 1 })).appliedBytes);
      } },
    ]);
    expect(out).toEqual([0, PAGE, 0]);
  });
});

describe("pageout", () => {
  it("paddr pageout installs a reject-young filter: young pages are spared and made old; an old page is reclaimed", () => {
    const results: Array<[number, number]> = [];
    const flags: number[] = [];
    const { m } = runProcess(tinyWith(16), [{ name: "a", size: 2 * PAGE }], (a, m) => [
      ...pages(a.get("a")!, 2),
      { action: () => {
        const act = machineActions(m, "paddr");
        const p0 = m.lookupPte(0, a.get("a")!), p1 = m.lookupPte(0, a.get("a")! + PAGE);
        const f0 = m.ptes.frame[p0]!, f1 = m.ptes.frame[p1]!;
        // 1: both pages are young (never marked idle since their faults): both spared, made old
        let r = act.apply(PADDR, 0, 16 * PAGE, req("pageout"));
        results.push([r.appliedBytes, r.filterPassedBytes]);
        flags.push(m.memory.flags.get(f0) & (FrameFlag.YOUNG | FrameFlag.IDLE), m.memory.flags.get(f1) & (FrameFlag.YOUNG | FrameFlag.IDLE));
        // 2: page 0 is touched again (a walk sets its Accessed bit): it is spared; page 1 goes
        m.ptes.flags[p0] |= PteFlag.ACCESSED;
        r = act.apply(PADDR, 0, 16 * PAGE, req("pageout"));
        results.push([r.appliedBytes, r.filterPassedBytes]);
        // 3: page 0 was made old by the filter: it goes now
        r = act.apply(PADDR, 0, 16 * PAGE, req("pageout"));
        results.push([r.appliedBytes, r.filterPassedBytes]);
      } },
    ]);
    expect(results).toEqual([[0, 0], [PAGE, PAGE], [PAGE, PAGE]]);
    // made old: Accessed bits (set by the faults' walks) cleared into PG_young, PG_idle set
    expect(flags).toEqual([FrameFlag.YOUNG | FrameFlag.IDLE, FrameFlag.YOUNG | FrameFlag.IDLE]);
    expect(m.memory.nodes[0]!.used).toBe(0);
    expect(m.pagesOut).toBe(2);
  });

  it("with a user filter that decides before any young test, paddr pageout's reclaim still checks references (a referenced page is kept)", () => {
    let r = { appliedBytes: 0, filterPassedBytes: 0, costNs: 0 };
    const { m } = runProcess(tinyWith(16), [{ name: "a", size: PAGE }], (a, m) => [
      ...pages(a.get("a")!, 1),
      { action: () => {
        // "allow anon" matches first, so the user's young filter (no temporary one is added) is
        // never evaluated: the Accessed bit survives and reclaim_pages(list, false) keeps the page
        const f: DamosFilter[] = [{ type: "anon", matching: true, allow: true }, { type: "young", matching: true, allow: false }];
        r = machineActions(m, "paddr").apply(PADDR, 0, 16 * PAGE, req("pageout", { opsFilters: f }));
      } },
    ]);
    expect(r.appliedBytes).toBe(0);
    expect(r.filterPassedBytes).toBe(PAGE);
    expect(m.memory.nodes[0]!.used).toBe(1);
    expect(m.lru.isReferenced(0)).toBe(true); // second chance: PG_referenced set
  });

  it("paddr pageout of a huge page: all 512 pages, 2 MiB applied, the folio handled once", () => {
    let r = { appliedBytes: 0, filterPassedBytes: 0, costNs: 0 };
    const { m } = runProcess(tinyWith(2048), [{ name: "h", size: 2 * MiB, hugepages: true }], (a, m) => [
      { addr: a.get("h")!, kind: W },
      { action: () => {
        const f = frameAt(m, a.get("h")!);
        m.mkold(m.lookupPte(0, a.get("h")!)); // idle, not young
        r = machineActions(m, "paddr").apply(PADDR, f * PAGE, (f + HUGE_FRAMES) * PAGE, req("pageout"));
      } },
    ]);
    expect(r.appliedBytes).toBe(2 * MiB);
    expect(r.filterPassedBytes).toBe(2 * MiB);
    expect(m.pagesOut).toBe(HUGE_FRAMES);
    expect(m.memory.nodes[0]!.used).toBe(0);
  });

  it("a region starting inside a huge folio leaves it to the region holding its head", () => {
    let r = { appliedBytes: 0, filterPassedBytes: 0, costNs: 0 };
    runProcess(tinyWith(2048), [{ name: "h", size: 2 * MiB, hugepages: true }], (a, m) => [
      { addr: a.get("h")!, kind: W },
      { action: () => {
        const f = frameAt(m, a.get("h")!);
        r = machineActions(m, "paddr").apply(PADDR, (f + 1) * PAGE, (f + HUGE_FRAMES) * PAGE, req("lru_prio"));
      } },
    ]);
    expect(r.appliedBytes).toBe(0);
  });
});

describe("ops filters", () => {
  it("young test-and-clears (paddr: through the reverse map; vaddr: through the PTE)", () => {
    const got: number[] = [];
    runProcess(tinyWith(16), [{ name: "a", size: 2 * PAGE }], (a, m) => [
      ...pages(a.get("a")!, 2),
      { action: () => {
        const young: DamosFilter[] = [{ type: "young", matching: true, allow: true }];
        const stat = req("stat", { opsFilters: young, opsDefaultReject: true });
        const pa = machineActions(m, "paddr"), va = machineActions(m, "vaddr");
        got.push(pa.apply(PADDR, 0, 16 * PAGE, stat).filterPassedBytes); // both young
        got.push(pa.apply(PADDR, 0, 16 * PAGE, stat).filterPassedBytes); // made old by the first
        m.ptes.flags[m.lookupPte(0, a.get("a")!)] |= PteFlag.ACCESSED; // touched again (as a walk would)
        got.push(va.apply(VADDR, a.get("a")!, a.get("a")! + 2 * PAGE, stat).filterPassedBytes);
        got.push(va.apply(VADDR, a.get("a")!, a.get("a")! + 2 * PAGE, stat).filterPassedBytes);
      } },
    ]);
    expect(got).toEqual([2 * PAGE, 0, PAGE, 0]);
  });

  it("first match decides; no match gives the default; a core-allowed region admits all", () => {
    const got: number[] = [];
    runProcess(tinyWith(2048), [{ name: "a", size: 2 * PAGE }, { name: "f", size: PAGE, backing: "file", file: { id: "/y", offset: 0 } }, { name: "h", size: 2 * MiB, hugepages: true }], (a, m) => [
      ...pages(a.get("a")!, 2),
      { addr: a.get("f")!, kind: R },
      { addr: a.get("h")!, kind: R },
      { action: () => {
        m.markAccessed(frameAt(m, a.get("a")!));
        m.markAccessed(frameAt(m, a.get("a")!)); // one anon page active
        const pa = machineActions(m, "paddr");
        const all = (f: DamosFilter[], o: Partial<ActionRequest> = {}): number => pa.apply(PADDR, 0, 2048 * PAGE, req("stat", { opsFilters: f, ...o })).filterPassedBytes;
        got.push(all([{ type: "anon", matching: true, allow: true }], { opsDefaultReject: true })); // 2 anon 4K + the huge anon page
        got.push(all([{ type: "anon", matching: false, allow: true }], { opsDefaultReject: true })); // the file page
        got.push(all([{ type: "active", matching: true, allow: false }])); // all but the active one
        got.push(all([{ type: "hugepage_size", matching: true, allow: true, min: 2 * MiB, max: 2 * MiB }], { opsDefaultReject: true }));
        got.push(all([{ type: "memcg", matching: true, allow: true, memcgId: 3 }], { opsDefaultReject: true }));
        got.push(all([{ type: "memcg", matching: true, allow: true, memcgId: 9 }], { opsDefaultReject: true }));
        got.push(all([{ type: "unmapped", matching: true, allow: true }], { opsDefaultReject: true }));
        // first match: "reject anon" before "allow active"
        got.push(all([{ type: "anon", matching: true, allow: false }, { type: "active", matching: true, allow: true }], { opsDefaultReject: true }));
        got.push(all([{ type: "anon", matching: true, allow: false }], { coreFiltersAllowed: true }));
      } },
    ], { memcg: 3 });
    const huge = 2 * MiB;
    expect(got).toEqual([2 * PAGE + huge, PAGE, 2 * PAGE + huge, huge, 3 * PAGE + huge, 0, 0, 0, 3 * PAGE + huge]);
  });
});

describe("lru_prio / lru_deprio", () => {
  it("move pages between the lists; each counts its pages as applied", () => {
    const seen: Array<[number, number, number]> = [];
    runProcess(tinyWith(16), [{ name: "a", size: 2 * PAGE }], (a, m) => [
      ...pages(a.get("a")!, 2),
      { action: () => {
        const pa = machineActions(m, "paddr");
        const f = frameAt(m, a.get("a")!);
        const one = (action: DamosAction): void => {
          const r = pa.apply(PADDR, f * PAGE, (f + 1) * PAGE, req(action));
          seen.push([r.appliedBytes, m.lru.pages(0, LruList.ACTIVE), m.lru.pages(0, LruList.INACTIVE)]);
        };
        one("lru_prio"); // referenced
        one("lru_prio"); // activated
        one("lru_deprio"); // deactivated
        expect(m.lru.isReferenced(f)).toBe(false);
      } },
    ]);
    expect(seen).toEqual([[PAGE, 0, 2], [PAGE, 1, 1], [PAGE, 0, 2]]);
  });
});

describe("vaddr madvise actions", () => {
  it("pageout then willneed: both apply the whole length; willneed swaps the page back with no fault", () => {
    const r: number[] = [];
    const { m, a } = runProcess(tinyWith(16), [{ name: "a", size: 4 * PAGE }], (a, m) => [
      ...pages(a.get("a")!, 4),
      { action: () => {
        const va = machineActions(m, "vaddr");
        const s = a.get("a")!;
        r.push(va.apply(VADDR, s, s + 4 * PAGE, req("pageout")).appliedBytes);
        r.push(m.memory.nodes[0]!.used);
        r.push(va.apply(VADDR, s, s + 2 * PAGE, req("willneed")).appliedBytes);
        r.push(m.memory.nodes[0]!.used);
      } },
    ]);
    expect(r).toEqual([4 * PAGE, 0, 2 * PAGE, 2]);
    expect(m.majorFaults).toBe(0);
    expect(m.swapIns).toBe(2);
    expect(m.lookupPte(0, a.get("a")!)).toBeGreaterThanOrEqual(0);
    expect(m.lookupPte(0, a.get("a")! + 2 * PAGE)).toBe(-1);
  });

  it("cold deactivates and clears the Accessed bit; a range with a hole applies 0 (madvise's -ENOMEM) though the mapped part was done", () => {
    const r: number[] = [];
    runProcess(tinyWith(16), [{ name: "a", size: 2 * PAGE }], (a, m) => [
      ...pages(a.get("a")!, 2),
      { action: () => {
        const s = a.get("a")!;
        for (let i = 0; i < 2; i++) {
          m.markAccessed(frameAt(m, s + i * PAGE));
          m.markAccessed(frameAt(m, s + i * PAGE));
        }
        const va = machineActions(m, "vaddr");
        r.push(va.apply(VADDR, s, s + PAGE, req("cold")).appliedBytes);
        r.push(m.lru.pages(0, LruList.ACTIVE));
        r.push(m.accessed(m.lookupPte(0, s)) ? 1 : 0);
        r.push(va.apply(VADDR, s + PAGE, s + 2 * PAGE + 64 * PAGE, req("cold")).appliedBytes); // runs past the VMA
        r.push(m.lru.pages(0, LruList.ACTIVE));
      } },
    ]);
    expect(r).toEqual([PAGE, 1, 0, 0, 0]);
  });

  it("hugepage / nohugepage set the THP hint of the range for later faults", () => {
    const huge: boolean[] = [];
    runProcess(tinyWith(4096), [{ name: "a", size: 8 * MiB }], (a, m) => {
      const s = a.get("a")!;
      const first = Math.ceil(s / (2 * MiB)) * 2 * MiB; // first 2 MiB-aligned address of the VMA
      return [
        { addr: first, kind: W }, // no hint: a 4 KiB page
        { action: () => {
          const va = machineActions(m, "vaddr");
          expect(va.apply(VADDR, s, s + 8 * MiB, req("hugepage")).appliedBytes).toBe(8 * MiB);
          expect(va.apply(VADDR, first + 4 * MiB, first + 6 * MiB, req("nohugepage")).appliedBytes).toBe(2 * MiB);
        } },
        { addr: first + 2 * MiB, kind: W },
        { addr: first + 4 * MiB, kind: W },
        { action: () => {
          for (const addr of [first, first + 2 * MiB, first + 4 * MiB]) huge.push(m.ptes.isHuge(m.lookupPte(0, addr)));
        } },
      ];
    });
    expect(huge).toEqual([false, true, false]);
  });

  it("stat without ops filters does nothing; unsupported actions apply 0", () => {
    const r: number[] = [];
    runProcess(tinyWith(16), [{ name: "a", size: PAGE }], (a, m) => [
      ...pages(a.get("a")!, 1),
      { action: () => {
        const va = machineActions(m, "vaddr"), pa = machineActions(m, "paddr");
        const s = a.get("a")!;
        const x = va.apply(VADDR, s, s + PAGE, req("stat"));
        r.push(x.appliedBytes, x.filterPassedBytes, x.costNs);
        r.push(pa.apply(PADDR, 0, 16 * PAGE, req("willneed")).appliedBytes);
        r.push(va.apply(VADDR, s, s + PAGE, req("lru_prio")).appliedBytes);
        r.push(va.apply(VADDR, s, s + PAGE, req("collapse")).appliedBytes);
        r.push(va.apply({ pid: 99 }, s, s + PAGE, req("cold")).appliedBytes);
        expect(pa.supports("pageout") && !pa.supports("cold") && va.supports("cold") && !va.supports("lru_prio")).toBe(true);
      } },
    ]);
    expect(r).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });
});

describe("memory state", () => {
  it("answers the goal metrics from the machine's counters", () => {
    let seen: number[] = [];
    const cfg = twoNodeTiny(16, 24);
    cfg.costs.majorFaultNs = 12_345;
    runProcess(cfg, [{ name: "a", size: 4 * PAGE }], (a, m) => [
      ...pages(a.get("a")!, 3),
      { action: () => {
        m.markAccessed(frameAt(m, a.get("a")!));
        m.markAccessed(frameAt(m, a.get("a")!));
        m.pageout(frameAt(m, a.get("a")! + 2 * PAGE));
      } },
      { addr: a.get("a")! + 2 * PAGE, kind: R }, // a major fault
      { action: () => {
        const s = machineMemoryState(m);
        const f1 = frameAt(m, a.get("a")! + PAGE);
        seen = [
          s.nrNodes, s.nodeTotalBytes(0), s.nodeTotalBytes(1), s.nodeTotalBytes(2), s.nodeFreeBytes(0), s.nodeFreeBytes(1),
          s.memcgNodeBytes(0, 7), s.memcgNodeBytes(0, 0), s.memcgNodeBytes(1, 7), s.memcgNodeBytes(-1, 7),
          s.activeBytes(), s.inactiveBytes(), s.hugeBytes(), s.freeMemRatePermil(), s.memStallTotalUs(),
          s.physBytesOnNode(0, 16 * PAGE, 0), s.physBytesOnNode(0, 40 * PAGE, 1), s.physBytesOnNode(f1 * PAGE + 100, (f1 + 1) * PAGE, 0), s.physBytesOnNode(0, 16 * PAGE, 3),
        ];
      } },
    ], { memcg: 7 });
    expect(seen).toEqual([
      2, 16 * PAGE, 24 * PAGE, 0, 13 * PAGE, 24 * PAGE,
      3 * PAGE, 0, 0, 0,
      PAGE, 2 * PAGE, 0, Math.floor((37 * 1000) / 40), 12,
      3 * PAGE, 0, PAGE - 100, 0,
    ]);
  });

  it("counts huge pages in use", () => {
    let bytes = 0;
    runProcess(tinyWith(2048), [{ name: "h", size: 2 * MiB, hugepages: true }], (a, m) => [
      { addr: a.get("h")!, kind: W },
      { action: () => { bytes = machineMemoryState(m).hugeBytes(); } },
    ]);
    expect(bytes).toBe(2 * MiB);
  });
});
