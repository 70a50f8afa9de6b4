// The machine's access path and memory management on hand-computed scenarios: latencies from the
// config, the Accessed-bit/TLB subtlety, Dirty bits, NUMA policies, migration, traps, shared
// mappings, huge pages, ground truth against brute-force counts, samplers and determinism.

import { describe, expect, it } from "vitest";
import { AccessKind } from "../../hw/batch.ts";
import { validateMachineConfig, type MachineConfig } from "../../hw/config.ts";
import { CpuTime } from "../../hw/cpu.ts";
import { AccessRecord, DataSource, type TrapFault } from "../../hw/hooks.ts";
import { buildProcess } from "../../hw/layout.ts";
import { PteFlag, TrapOwner } from "../../hw/pagetable.ts";
import { preset } from "../../hw/presets.ts";
import { RngRoot } from "../../sim/rng.ts";
import { Stats } from "../../sim/stats.ts";
import { MiB } from "../../sim/units.ts";
import type { MachineOptions } from "../../hw/machine.ts";
import { registerMachineStats } from "../../hw/machine-stats.ts";
import { listWorkload, makeMachine, oneProcess, type Step } from "./helpers.ts";

const R = AccessKind.READ;
const W = AccessKind.WRITE;

function smallTwoNode(capacityPages: [number, number]): MachineConfig {
  const c = preset("2s-ddr5")!;
  c.nodes[0]!.capacity = capacityPages[0] * 4096;
  c.nodes[1]!.capacity = capacityPages[1] * 4096;
  return validateMachineConfig(c);
}

describe("access path latencies (hand-computed from the tiny preset)", () => {
  it("first touch faults, walks and goes to memory; the next access hits L1; a write sets Dirty", () => {
    const { layout, areas } = oneProcess({ mmap: [{ name: "a", size: 1 * MiB }] });
    const a = areas.get("a")!.start;
    const { m, sched } = makeMachine("tiny");
    const c = m.config;
    m.load(listWorkload(layout, new Map([[1, [{ addr: a + 64, kind: R }, { addr: a + 72, kind: R }, { addr: a + 80, kind: W }]]])));
    sched.run(1_000_000);
    const cpu = m.cpus[0]!;
    const first = c.tlb.l2HitNs + c.tlb.walkNs + c.latencyNs[0]![0]!;
    const second = c.caches.l1d.latencyNs;
    const third = c.costs.dirtyAssistNs + c.caches.l1d.latencyNs;
    expect(cpu.time[CpuTime.FAULT]).toBe(c.costs.faultNs);
    expect(cpu.time[CpuTime.USER]).toBeCloseTo(first + second + third, 9);
    expect(cpu.faults).toBe(1);
    expect(cpu.walks).toBe(1);
    const pte = m.lookupPte(0, a);
    expect(m.ptes.flags[pte]! & (PteFlag.PRESENT | PteFlag.ACCESSED | PteFlag.DIRTY)).toBe(PteFlag.PRESENT | PteFlag.ACCESSED | PteFlag.DIRTY);
    expect(m.finished).toBe(true);
  });

  it("an access straddling two lines costs the slower line", () => {
    const { layout, areas } = oneProcess({ mmap: [{ name: "a", size: 1 * MiB }] });
    const a = areas.get("a")!.start;
    const { m, sched } = makeMachine("tiny");
    const c = m.config;
    // warm line 0 only, then read 8 bytes at offset 60 (lines 0 and 1)
    m.load(listWorkload(layout, new Map([[1, [{ addr: a, kind: R }, { addr: a + 60, kind: R }]]])));
    sched.run(1_000_000);
    const expected = c.tlb.l2HitNs + c.tlb.walkNs + c.latencyNs[0]![0]! + c.latencyNs[0]![0]!;
    expect(m.cpus[0]!.time[CpuTime.USER]).toBeCloseTo(expected, 9);
  });
});

describe("the Accessed bit is set only by page walks", () => {
  function scenario(flush: boolean, evict: boolean): boolean {
    const { layout, areas } = oneProcess({ mmap: [{ name: "a", size: 4 * MiB }] });
    const a = areas.get("a")!.start;
    const { m, sched } = makeMachine("tiny", { flushTlbOnMkold: flush });
    let pte = -1;
    const steps: Step[] = [{ addr: a, kind: R }, { action: () => { pte = m.lookupPte(0, a); m.mkold(pte); } }];
    if (evict) for (let p = 1; p <= 300; p++) steps.push({ addr: a + p * 4096, kind: R });
    steps.push({ addr: a + 8, kind: R });
    m.load(listWorkload(layout, new Map([[1, steps]])));
    sched.run(10_000_000);
    expect(m.finished).toBe(true);
    return m.accessed(pte);
  }

  it("after mkold without a flush, a TLB hit leaves the bit clear", () => {
    expect(scenario(false, false)).toBe(false);
  });
  it("with flush-on-mkold the next access walks and sets it", () => {
    expect(scenario(true, false)).toBe(true);
  });
  it("once the TLB entry is evicted the next access walks and sets it", () => {
    expect(scenario(false, true)).toBe(true);
  });
  it("mkold marks the frame idle and young when the bit was set", () => {
    const { layout, areas } = oneProcess({ mmap: [{ name: "a", size: 1 * MiB }] });
    const a = areas.get("a")!.start;
    const { m, sched } = makeMachine("tiny");
    m.load(listWorkload(layout, new Map([[1, [{ addr: a, kind: R }]]])));
    sched.run(1_000_000);
    const pte = m.lookupPte(0, a);
    expect(m.mkold(pte)).toBe(true);
    expect(m.mkold(pte)).toBe(false);
    const fl = m.memory.flags.get(m.ptes.frame[pte]!);
    expect(fl & 6).toBe(6); // IDLE | YOUNG
  });
});

describe("NUMA placement", () => {
  function placeOn(policy: { mode: "local" | "bind" | "interleave" | "preferred"; nodes?: number[] }, cpu: number, pages: number, cfg: MachineConfig = preset("2s-ddr5")!, options: MachineOptions = {}): number[] {
    const { process, areas } = buildProcess({ mmap: [{ name: "a", size: pages * 4096, policy }], threads: [{ tid: 1, cpus: [cpu] }] });
    const a = areas.get("a")!.start;
    const { m, sched } = makeMachine(cfg, options);
    const steps: Step[] = [];
    for (let p = 0; p < pages; p++) steps.push({ addr: a + p * 4096, kind: W });
    m.load(listWorkload({ processes: [process] }, new Map([[1, steps]])));
    sched.run(100_000_000);
    return Array.from({ length: pages }, (_, p) => {
      const pte = m.lookupPte(0, a + p * 4096); // -1: paged out
      return pte < 0 ? -1 : m.nodeOfPte(pte);
    });
  }

  it("local (first touch) uses the faulting CPU's node", () => {
    expect(placeOn({ mode: "local" }, 9, 4)).toEqual([1, 1, 1, 1]);
    expect(placeOn({ mode: "local" }, 0, 2)).toEqual([0, 0]);
  });
  it("bind keeps pages on the bound node even from a remote CPU", () => {
    expect(placeOn({ mode: "bind", nodes: [0] }, 9, 3)).toEqual([0, 0, 0]);
  });
  it("interleave alternates by page offset", () => {
    expect(placeOn({ mode: "interleave", nodes: [0, 1] }, 0, 5)).toEqual([0, 1, 0, 1, 0]);
  });
  it("preferred falls back to the nearest node when full", () => {
    expect(placeOn({ mode: "preferred", nodes: [1] }, 0, 5, smallTwoNode([64, 3]))).toEqual([1, 1, 1, 0, 0]);
  });
  it("local falls back to the other node when the local one is full", () => {
    expect(placeOn({ mode: "local" }, 0, 4, smallTwoNode([2, 64]))).toEqual([0, 0, 1, 1]);
  });
  it("bind to a full node reclaims there instead of spilling (the oldest pages are paged out)", () => {
    // 4 pages into 2 frames of node 1: pages 0 and 1 are reclaimed (paged out) to make room
    expect(placeOn({ mode: "bind", nodes: [1] }, 0, 4, smallTwoNode([64, 2]))).toEqual([-1, -1, 1, 1]);
  });
  it("bind runs out of memory with a clear error when nothing can be reclaimed (anonymous memory, no swap)", () => {
    expect(() => placeOn({ mode: "bind", nodes: [1] }, 0, 4, smallTwoNode([64, 2]), { swap: false })).toThrow(/out of memory.*bind/);
  });
});

describe("migration, shootdowns, traps, sharing, huge pages", () => {
  it("migrates a page: new frame on the target node, TLBs shot down, old frame freed, cost charged", () => {
    const { layout, areas } = oneProcess({ mmap: [{ name: "a", size: 1 * MiB, policy: { mode: "bind", nodes: [0] } }], threads: [{ tid: 1, cpus: [0] }] });
    const a = areas.get("a")!.start;
    const { m, sched } = makeMachine("2s-ddr5");
    let cost = 0, pte = -1, oldFrame = -1;
    const steps: Step[] = [
      { addr: a, kind: W },
      { action: () => {
        pte = m.lookupPte(0, a);
        oldFrame = m.ptes.frame[pte]!;
        cost = m.migrate(pte, 1);
      } },
      { addr: a + 8, kind: R },
    ];
    m.load(listWorkload(layout, new Map([[1, steps]])));
    sched.run(10_000_000);
    expect(m.nodeOfPte(pte)).toBe(1);
    expect(m.memory.nodes[0]!.used).toBe(0);
    expect(m.memory.nodes[1]!.used).toBe(1);
    expect(cost).toBe(m.config.costs.migrateNs + m.config.costs.shootdownNs * 1);
    expect(m.cpus[0]!.walks).toBe(2); // the TLB entry was shot down
    const mapped: number[] = [];
    m.forEachMapping(m.ptes.frame[pte]!, (s) => mapped.push(s));
    expect(mapped).toEqual([pte]);
    expect(m.memory.rmapHead.get(oldFrame)).toBe(-1);
    expect(m.migrate(pte, 1)).toBe(0);
  });

  it("a PROT_NONE trap faults once, reaches the handler with the facts, and is restored", () => {
    const { layout, areas } = oneProcess({ mmap: [{ name: "a", size: 1 * MiB }] });
    const a = areas.get("a")!.start;
    const { m, sched } = makeMachine("tiny");
    const faults: TrapFault[] = [];
    m.trapHandler = { onTrap: (f) => { faults.push({ ...f }); return 1000; } };
    let pte = -1;
    const steps: Step[] = [
      { addr: a + 100, kind: R },
      { action: () => { pte = m.lookupPte(0, a); m.armTrap(pte, TrapOwner.DAMON); } },
      { addr: a + 200, kind: W },
      { addr: a + 300, kind: R },
    ];
    m.load(listWorkload(layout, new Map([[1, steps]])));
    sched.run(10_000_000);
    expect(faults.length).toBe(1);
    expect(faults[0]).toMatchObject({ cpu: 0, tid: 1, vaddr: a + 200, pte, isWrite: true, owners: TrapOwner.DAMON, paddr: m.ptes.frame[pte]! * 4096 + 200 });
    expect(m.ptes.flags[pte]! & PteFlag.TRAP).toBe(0);
    expect(m.cpus[0]!.time[CpuTime.TRAP]).toBe(1000);
    expect(m.cpus[0]!.traps).toBe(1);
  });

  it("two processes mapping the same shared file page share one frame, listed by the reverse map", () => {
    const f = { id: "/dev/shm/x", offset: 0 };
    const p1 = buildProcess({ pid: 1, mmap: [{ name: "s", size: 64 * 1024, backing: "file", file: f, shared: true }], threads: [{ tid: 1 }] });
    const p2 = buildProcess({ pid: 2, mmap: [{ name: "other", size: 8192 }, { name: "s", size: 64 * 1024, backing: "file", file: f, shared: true }], threads: [{ tid: 2 }] });
    const s1 = p1.areas.get("s")!.start, s2 = p2.areas.get("s")!.start;
    expect(s1).not.toBe(s2);
    const { m, sched } = makeMachine("tiny");
    m.load(listWorkload({ processes: [p1.process, p2.process] }, new Map([[1, [{ addr: s1 + 4096, kind: R }]], [2, [{ addr: s2 + 4096 + 8, kind: W }]]])));
    sched.run(10_000_000);
    const pte1 = m.lookupPte(0, s1 + 4096), pte2 = m.lookupPte(1, s2 + 4096);
    expect(m.ptes.frame[pte1]).toBe(m.ptes.frame[pte2]);
    const maps: number[] = [];
    m.forEachMapping(m.ptes.frame[pte1]!, (s) => maps.push(s));
    expect(maps.sort()).toEqual([pte1, pte2].sort());
    expect(m.memory.nodes[0]!.used).toBe(1); // the only page touched is the shared one
  });

  it("a huge-page VMA maps 2 MiB with one PTE and one fault", () => {
    const { layout, areas } = oneProcess({ mmap: [{ name: "h", size: 8 * MiB, hugepages: true }] });
    const h = areas.get("h")!.start;
    const steps: Step[] = [];
    for (let off = 0; off < 2 * MiB; off += 4096 * 7) steps.push({ addr: h + off, kind: R });
    const { m, sched } = makeMachine("tiny");
    m.load(listWorkload(layout, new Map([[1, steps]])));
    sched.run(100_000_000);
    expect(m.faultsTotal).toBe(1);
    const pte = m.lookupPte(0, h + 4096 * 100);
    expect(m.ptes.isHuge(pte)).toBe(true);
    expect(m.lookupPte(0, h)).toBe(pte);
    expect(m.physAddr(pte, h + 4096 * 3 + 5)).toBe(m.ptes.frame[pte]! * 4096 + 4096 * 3 + 5);
    expect(m.cpus[0]!.dtlbHuge.hits).toBe(steps.length - 1);
  });
});

describe("data sources and samplers", () => {
  it("reports L1, local, remote and far memory with the configured latencies", () => {
    const seen: Array<[number, number, number]> = [];
    for (const [cfgName, nodes, expectSource] of [
      ["2s-ddr5", [0], DataSource.LOCAL_DRAM],
      ["2s-ddr5", [1], DataSource.REMOTE_DRAM],
      ["cxl-tier", [1], DataSource.FAR_MEMORY],
    ] as const) {
      const { process, areas } = buildProcess({ mmap: [{ name: "a", size: 1 * MiB, policy: { mode: "bind", nodes: [...nodes] } }], threads: [{ tid: 1, cpus: [0] }] });
      const a = areas.get("a")!.start;
      const { m, sched } = makeMachine(cfgName);
      const recs: AccessRecord[] = [];
      m.samplers.push({ onAccess: (r) => { recs.push(Object.assign(new AccessRecord(), r)); return 0; } });
      m.load(listWorkload({ processes: [process] }, new Map([[1, [{ addr: a, kind: R }, { addr: a + 8, kind: R }]]])));
      sched.run(1_000_000);
      expect(recs.map((r) => r.source)).toEqual([expectSource, DataSource.L1]);
      expect(recs[0]!.latencyNs).toBeCloseTo(m.config.tlb.l2HitNs + m.config.tlb.walkNs + m.config.latencyNs[0]![nodes[0]]!, 9);
      expect(recs[0]!.memNode).toBe(nodes[0]);
      expect(recs[1]!.tlb).toBe(0);
      seen.push([recs[0]!.source, recs[0]!.memNode, recs[0]!.pid]);
    }
    expect(seen.length).toBe(3);
  });

  it("sampler costs are charged to the CPU as sampling time", () => {
    const { layout, areas } = oneProcess({ mmap: [{ name: "a", size: 1 * MiB }] });
    const a = areas.get("a")!.start;
    const { m, sched } = makeMachine("tiny");
    let n = 0;
    m.samplers.push({ onAccess: () => (++n % 2 === 0 ? 500 : 0) });
    const steps: Step[] = Array.from({ length: 10 }, (_, i) => ({ addr: a + i * 8, kind: R }));
    m.load(listWorkload(layout, new Map([[1, steps]])));
    sched.run(1_000_000);
    expect(n).toBe(10);
    expect(m.cpus[0]!.time[CpuTime.SAMPLING]).toBe(2500);
  });
});

describe("ground truth", () => {
  it("counts reads and writes per page exactly (against a brute-force count), across two CPUs", () => {
    const rng = new RngRoot(77).stream("t");
    const { process, areas } = buildProcess({ mmap: [{ name: "a", size: 64 * 4096 }], threads: [{ tid: 1, cpus: [0] }, { tid: 2, cpus: [1] }] });
    const a = areas.get("a")!.start;
    const rows = new Map<number, Step[]>([[1, []], [2, []]]);
    const expected = new Map<number, [number, number]>();
    for (let i = 0; i < 5000; i++) {
      const tid = 1 + rng.int(2);
      const page = rng.int(64);
      const kind = [R, W, AccessKind.MODIFY][rng.int(3)]!;
      rows.get(tid)!.push({ addr: a + page * 4096 + rng.int(4000), kind, size: 4 });
      const e = expected.get(page) ?? [0, 0];
      if (kind !== W) e[0]++;
      if (kind !== R) e[1]++;
      expected.set(page, e);
    }
    const { m, sched } = makeMachine("tiny", { truth: { windowNs: 0, subWindowNs: 1000, frames: true } });
    m.load(listWorkload({ processes: [process] }, rows));
    sched.run(1_000_000_000);
    expect(m.finished).toBe(true);
    const t = m.truth!;
    for (const [page, [r, w]] of expected) {
      const pte = m.lookupPte(0, a + page * 4096);
      expect([t.totalReads(pte), t.totalWrites(pte)]).toEqual([r, w]);
      const f = m.ptes.frame[pte]!;
      expect([t.frameReads(f), t.frameWrites(f)]).toEqual([r, w]);
    }
    expect(t.vTouchedCount).toBe(expected.size);
  });

  it("counts the sub-windows in which a page was touched, and resets per window", () => {
    const { layout, areas } = oneProcess({ mmap: [{ name: "a", size: 64 * 4096 }] });
    const a = areas.get("a")!.start;
    const { m, sched } = makeMachine("tiny", { truth: { windowNs: 100_000, subWindowNs: 10_000, frames: false } });
    const windows: Array<[number, number]> = [];
    let pte = -1;
    m.truth!.onWindow((t) => {
      if (pte < 0) pte = m.lookupPte(0, a);
      windows.push([t.pageSubCount(pte), t.pageReads(pte)]);
    });
    const opsPerMicro = Math.round(1000 / m.config.nsPerOp);
    // three reads in the first sub-window, one ~25 us later, one ~55 us later, then one in the next window
    const steps: Step[] = [
      { addr: a, kind: R }, { addr: a + 8, kind: R }, { addr: a + 16, kind: R },
      { addr: a + 24, kind: R, gap: 25 * opsPerMicro },
      { addr: a + 32, kind: R, gap: 30 * opsPerMicro },
      { addr: a + 40, kind: R, gap: 60 * opsPerMicro },
    ];
    m.load(listWorkload(layout, new Map([[1, steps]])));
    sched.run(250_000);
    expect(windows).toEqual([[3, 5], [1, 1]]);
  });
});

describe("determinism and replay", () => {
  function runRandom(seed: number): string {
    const rng = new RngRoot(seed).stream("rows");
    const { process, areas } = buildProcess({ mmap: [{ name: "a", size: 8 * MiB }], threads: [{ tid: 1 }, { tid: 2 }, { tid: 3 }] });
    const a = areas.get("a")!.start;
    const rows = new Map<number, Step[]>();
    for (const tid of [1, 2, 3]) rows.set(tid, Array.from({ length: 3000 }, () => ({ addr: a + rng.int(8 * MiB - 8), kind: rng.chance(0.3) ? W : R, gap: rng.int(20) })));
    const { m, sched } = makeMachine("2s-ddr5", {}, seed);
    m.load(listWorkload({ processes: [process] }, rows, 100));
    sched.run(1_000_000_000);
    const stats = new Stats();
    registerMachineStats(m, stats);
    return JSON.stringify(stats.toJSON());
  }

  it("the same inputs give byte-identical statistics; different inputs differ", () => {
    const a = runRandom(5);
    expect(runRandom(5)).toBe(a);
    expect(runRandom(6)).not.toBe(a);
  });

  it("a merged multi-thread stream is demultiplexed onto each thread's CPU", () => {
    const { process, areas } = buildProcess({ mmap: [{ name: "a", size: 1 * MiB }], threads: [{ tid: 7, cpus: [0] }, { tid: 8, cpus: [1] }] });
    const a = areas.get("a")!.start;
    const rows: Array<[number, number]> = [];
    for (let i = 0; i < 3000; i++) rows.push([i % 3 === 0 ? 8 : 7, a + (i % 200) * 64]);
    let pos = 0;
    const { m, sched } = makeMachine("tiny");
    m.load({
      name: "merged",
      layout: { processes: [process] },
      start: () => ({
        kind: "merged",
        source: {
          next(out) {
            out.clear();
            while (pos < rows.length && !out.full) {
              const [tid, addr] = rows[pos++]!;
              out.push(addr, 8, R, tid, 0);
            }
            return out.length;
          },
        },
      }),
    });
    sched.run(1_000_000_000);
    expect(m.finished).toBe(true);
    expect(m.threads.get(7)!.accesses).toBe(2000);
    expect(m.threads.get(8)!.accesses).toBe(1000);
    expect(m.cpus[0]!.accesses).toBe(2000);
    expect(m.cpus[1]!.accesses).toBe(1000);
  });

  it("memory bandwidth pressure raises latency", () => {
    const { layout, areas } = oneProcess({ mmap: [{ name: "a", size: 64 * MiB }], threads: [{ tid: 1 }, { tid: 2 }] });
    const a = areas.get("a")!.start;
    const stream = (off: number): Step[] => Array.from({ length: 20000 }, (_, i) => ({ addr: a + off + i * 64, kind: R }));
    const cfg = preset("tiny")!;
    cfg.nodes[0]!.bandwidthGBps = 0.5; // 64 B lines at 0.5 B/ns: two streams saturate it
    const { m, sched } = makeMachine(validateMachineConfig(cfg));
    m.load(listWorkload(layout, new Map([[1, stream(0)], [2, stream(32 * MiB)]])));
    sched.run(10_000_000_000);
    expect(m.memory.nodes[0]!.utilisation).toBeGreaterThan(0.5);
    const perAccess = (m.cpus[0]!.time[CpuTime.USER]! + m.cpus[1]!.time[CpuTime.USER]!) / 40000;
    expect(perAccess).toBeGreaterThan(cfg.latencyNs[0]![0]! / 8 * 2);
  });
});
