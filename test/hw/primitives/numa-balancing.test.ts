// NUMA balancing on hand-computed scenarios: the CPU-time trigger and the scan delay, PTE updates
// and their cost, skipping PTEs already PROT_NONE and single-threaded local pages, hint faults
// (counted, restored), migration of a remote page on a 2-node machine, reportToSink events, and
// the period adaptation rules. Times are scaled down (tens of us instead of seconds) via options.

import { describe, expect, it } from "vitest";
import { AccessKind } from "../../../hw/batch.ts";
import type { MachineConfig } from "../../../hw/config.ts";
import { CpuTime } from "../../../hw/cpu.ts";
import { buildProcess, type NumaPolicySpec } from "../../../hw/layout.ts";
import type { Machine } from "../../../hw/machine.ts";
import { PteFlag, TrapOwner } from "../../../hw/pagetable.ts";
import { NumaBalancing, type NumaBalancingOptions, type ScanPass } from "../../../hw/primitives/numa-balancing.ts";
import { DATA_SOURCE_UNKNOWN, PrimitiveEvent } from "../../../hw/primitives/sample.ts";
import { TrapDispatch } from "../../../hw/primitives/trap-dispatch.ts";
import { MiB } from "../../../sim/units.ts";
import { listWorkload, makeMachine, type Step } from "../helpers.ts";

const R = AccessKind.READ;
const W = AccessKind.WRITE;
const PAGE = 4096;

/** Fast scanner settings: 64-page scan size (floor 97.7 us), 0.1 ms delay and minimum period. */
const FAST: NumaBalancingOptions = { tickNs: 10_000, scanDelayMs: 0.1, scanPeriodMinMs: 0.1, scanPeriodMaxMs: 10, scanSizeMb: 0.25, adaptPeriod: false };

interface ThreadSetup {
  tid: number;
  cpu: number;
  steps: (base: Map<string, number>, m: Machine) => Step[];
}

interface Setup {
  machine?: string | MachineConfig;
  areas: Array<{ name: string; size: number; policy?: NumaPolicySpec }>;
  threads: ThreadSetup[];
  opts?: NumaBalancingOptions;
  timesliceNs?: number;
  until?: number;
}

function setup(s: Setup): { m: Machine; numa: NumaBalancing; dispatch: TrapDispatch; passes: ScanPass[]; base: Map<string, number>; run: () => void } {
  const { process, areas } = buildProcess({ mmap: s.areas, threads: s.threads.map((t) => ({ tid: t.tid, cpus: [t.cpu] })) });
  const base = new Map([...areas].map(([k, v]) => [k, v.start]));
  const { m, sched } = makeMachine(s.machine ?? "tiny", s.timesliceNs ? { timesliceNs: s.timesliceNs } : {});
  const numa = new NumaBalancing(m, { ...FAST, ...s.opts });
  const dispatch = new TrapDispatch(m).install();
  dispatch.numa = numa;
  const passes: ScanPass[] = [];
  numa.onPass = (p) => passes.push(p);
  m.load(listWorkload({ processes: [process] }, new Map(s.threads.map((t) => [t.tid, t.steps(base, m)]))));
  return { m, numa, dispatch, passes, base, run: () => sched.run(s.until ?? 100_000_000) };
}

const loop = (addrs: number[], rounds: number, gap: number): Step[] => {
  const out: Step[] = [];
  for (let r = 0; r < rounds; r++) for (const addr of addrs) out.push({ addr, kind: R, gap });
  return out;
};
const pages = (start: number, from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => start + (from + i) * PAGE);

describe("when scanning happens", () => {
  it("the first pass waits for the thread's CPU time to pass the scan delay, not wall time", () => {
    // two threads share CPU 0: each gets about half of it, so 100 us of CPU time takes ~200 us
    const shared = setup({
      areas: [{ name: "a", size: 1 * MiB }],
      timesliceNs: 5_000,
      threads: [1, 2].map((tid) => ({ tid, cpu: 0, steps: (b) => loop(pages(b.get("a")!, tid * 4, tid * 4 + 4), 300, 300) })),
    });
    shared.run();
    const first = shared.passes[0]!;
    expect(first.runtimeNs).toBeGreaterThan(100_000);
    // the two threads' CPU time adds up to at most the wall time, split about evenly
    expect(first.time).toBeGreaterThan(150_000);
    // one thread per CPU: the first pass comes within a tick of 100 us of CPU time
    const alone = setup({
      areas: [{ name: "a", size: 1 * MiB }],
      threads: [1, 2].map((tid) => ({ tid, cpu: tid - 1, steps: (b) => loop(pages(b.get("a")!, tid * 4, tid * 4 + 4), 300, 300) })),
    });
    alone.run();
    expect(alone.passes[0]!.runtimeNs).toBeGreaterThan(100_000);
    expect(alone.passes[0]!.time).toBeLessThanOrEqual(100_000 + 2 * 10_000 + 10_000);
  });

  it("later passes respect each thread's period in CPU time and, across threads, the process's next-scan time", () => {
    const s = setup({
      areas: [{ name: "a", size: 1 * MiB }],
      threads: [1, 2].map((tid) => ({ tid, cpu: tid - 1, steps: (b) => loop(pages(b.get("a")!, tid * 4, tid * 4 + 4), 2000, 300) })),
    });
    s.run();
    expect(s.passes.length).toBeGreaterThan(3);
    // 8 resident pages + nothing else: one window, scan_min = max(floor 97 656 ns, 100 us / 1)
    expect(s.numa.scanMinNs(0)).toBe(100_000);
    expect(s.numa.windows(0)).toBe(1);
    for (let i = 1; i < s.passes.length; i++) expect(s.passes[i]!.time - s.passes[i - 1]!.time).toBeGreaterThanOrEqual(100_000);
    const byTid = new Map<number, ScanPass[]>();
    for (const p of s.passes) byTid.set(p.tid, [...(byTid.get(p.tid) ?? []), p]);
    for (const ps of byTid.values()) for (let i = 1; i < ps.length; i++) expect(ps[i]!.runtimeNs - ps[i - 1]!.runtimeNs).toBeGreaterThanOrEqual(100_000);
  });

  it("periods scale with the resident set: W windows of scanSize", () => {
    const s = setup({
      areas: [{ name: "a", size: 4 * MiB }],
      opts: { scanSizeMb: 0.25, scanPeriodMinMs: 1, scanPeriodMaxMs: 8 },
      threads: [{ tid: 1, cpu: 0, steps: (b) => pages(b.get("a")!, 0, 200).map((addr) => ({ addr, kind: W })) }],
    });
    s.run();
    // 200 pages / 64 per window -> 4 windows: min = max(97 656, 1 ms / 4), max = max(min, 8 ms / 4)
    expect(s.numa.windows(0)).toBe(4);
    expect(s.numa.scanMinNs(0)).toBe(250_000);
    expect(s.numa.scanMaxNs(0)).toBe(2_000_000);
  });
});

describe("PTE updates and hint faults", () => {
  // Two threads (so nothing is skipped as single-threaded local): thread 1 writes 40 pages spread
  // over the area, arms a DAMON trap on the last one, then both read page 0 for a while; at the
  // end thread 1 reads all 40 again.
  const N = 40;
  const spread = (a: number): number[] => Array.from({ length: N }, (_, i) => a + i * 24 * PAGE); // 96 KiB apart
  function scenario(): ReturnType<typeof setup> & { trappedAtPass: number[] } {
    let damonPte = -1;
    const s = setup({
      areas: [{ name: "a", size: 4 * MiB }],
      opts: { scanSizeMb: 64, scanPeriodMinMs: 1000, scanPeriodMaxMs: 60_000 }, // one pass only (scan_min = 25 ms)
      threads: [
        { tid: 1, cpu: 0, steps: (b, m) => [
          ...spread(b.get("a")!).map((addr) => ({ addr, kind: W })),
          { action: () => { damonPte = m.lookupPte(0, spread(b.get("a")!)[N - 1]!); m.armTrap(damonPte, TrapOwner.DAMON); } },
          ...loop([b.get("a")!], 600, 1500),
          ...spread(b.get("a")!).map((addr) => ({ addr: addr + 8, kind: R })),
        ] },
        { tid: 2, cpu: 1, steps: (b) => loop([b.get("a")! + 16], 600, 1500) },
      ],
    });
    const trappedAtPass: number[] = [];
    s.numa.onPass = (p) => {
      s.passes.push(p);
      for (const addr of spread(s.base.get("a")!)) {
        const pte = s.m.lookupPte(0, addr);
        if ((s.m.ptes.flags[pte]! & PteFlag.TRAP) !== 0) trappedAtPass.push(s.m.ptes.trapOwners[pte]!);
      }
    };
    s.run();
    expect(damonPte).toBeGreaterThanOrEqual(0);
    return { ...s, trappedAtPass };
  }

  it("a pass arms NUMA traps on every present PTE but the one already PROT_NONE, and charges 100 ns each plus a flush per 2 MB chunk", () => {
    const s = scenario();
    expect(s.passes.length).toBe(1);
    expect(s.numa.numaPteUpdates).toBe(N - 1);
    expect(s.passes[0]!.pteUpdates).toBe(N - 1);
    // at the pass: 39 NUMA traps and the DAMON one, untouched
    expect(s.trappedAtPass.filter((o) => o === TrapOwner.NUMA_HINT).length).toBe(N - 1);
    expect(s.trappedAtPass.filter((o) => o === TrapOwner.DAMON).length).toBe(1);
    const a = s.base.get("a")!;
    const chunks = new Set(spread(a).slice(0, N - 1).map((x) => Math.floor(x / (2 * MiB)))).size;
    expect(s.passes[0]!.flushes).toBe(chunks);
    // the process runs on CPUs 0 and 1: a flush is local (100 ns) plus one shootdown IPI
    const flushNs = 100 + s.m.config.costs.shootdownNs;
    const cost = (N - 1) * 100 + chunks * flushNs;
    expect(s.passes[0]!.costNs).toBe(cost);
    expect(s.m.cpuTime(CpuTime.SCAN)).toBe(cost);
    expect(s.m.cpus[s.passes[0]!.cpu]!.time[CpuTime.SCAN]).toBe(cost);
  });

  it("every trapped page faults once on its next touch, reaches the hinting handler and is restored", () => {
    const s = scenario();
    // 39 NUMA traps + the DAMON trap (NUMA balancing is on, so it too ends in the hinting handler)
    expect(s.numa.numaHintFaults).toBe(N);
    expect(s.numa.numaHintFaultsLocal).toBe(N);
    expect(s.numa.hintFaultsOnDamonTraps).toBe(1);
    expect(s.dispatch.toNuma).toBe(N);
    expect(s.dispatch.damonTrapsToNuma).toBe(1);
    expect(s.m.cpuTime(CpuTime.TRAP)).toBe(N * 1000);
    for (const addr of spread(s.base.get("a")!)) {
      const pte = s.m.lookupPte(0, addr);
      expect(s.m.ptes.flags[pte]! & PteFlag.TRAP).toBe(0);
      expect(s.m.ptes.trapOwners[pte]).toBe(0);
    }
    expect(s.numa.numaPagesMigrated).toBe(0); // one node: nothing to migrate
  });
});

describe("single-threaded processes", () => {
  function run(threads: number): ReturnType<typeof setup> {
    // pages of area "near" on node 0 (the thread's node), of "far" on node 1
    const s = setup({
      machine: "2s-ddr5",
      areas: [{ name: "near", size: 1 * MiB, policy: { mode: "bind", nodes: [0] } }, { name: "far", size: 1 * MiB, policy: { mode: "bind", nodes: [1] } }],
      opts: { scanSizeMb: 64, scanPeriodMinMs: 1000, scanPeriodMaxMs: 60_000 },
      threads: Array.from({ length: threads }, (_, k) => ({
        tid: k + 1,
        cpu: k,
        steps: (b: Map<string, number>) => {
          const all = [...pages(b.get("near")!, 0, 10), ...pages(b.get("far")!, 0, 10)];
          if (k > 0) return loop([b.get("near")! + 8 * PAGE], 400, 1500);
          return [...all.map((addr) => ({ addr, kind: W })), ...loop([b.get("near")!], 400, 1500), ...all.map((addr) => ({ addr: addr + 8, kind: R }))];
        },
      })),
    });
    s.run();
    return s;
  }

  it("skip pages already on the scanning CPU's node; remote ones are trapped and fault remote", () => {
    const s = run(1);
    expect(s.passes.length).toBe(1);
    expect(s.numa.numaPteUpdates).toBe(10);
    expect(s.numa.numaHintFaults).toBe(10);
    expect(s.numa.numaHintFaultsLocal).toBe(0);
    expect(s.numa.faultsByMemNode[1]).toBe(10);
    // bind policy: misplaced pages are not migrated
    expect(s.numa.numaPagesMigrated).toBe(0);
    expect(s.m.nodeOfPte(s.m.lookupPte(0, s.base.get("far")!))).toBe(1);
  });

  it("with a second live thread nothing is skipped", () => {
    const s = run(2);
    expect(s.numa.numaPteUpdates).toBe(20);
    expect(s.numa.numaHintFaults).toBe(20);
    expect(s.numa.numaHintFaultsLocal).toBe(10);
  });
});

describe("migration and reportToSink", () => {
  it("a page on node 1 touched from node 0 migrates there on its first hint fault; the sink sees the fault first", () => {
    const N = 8;
    const events: PrimitiveEvent[] = [];
    const s = setup({
      machine: "2s-ddr5",
      areas: [{ name: "a", size: 1 * MiB }],
      opts: { scanSizeMb: 64, scanPeriodMinMs: 1000, scanPeriodMaxMs: 60_000, reportToSink: true },
      threads: [
        // thread 1 on node 1 first-touches the pages (local policy: they land on node 1) and ends
        { tid: 1, cpu: 8, steps: (b) => pages(b.get("a")!, 0, N).map((addr) => ({ addr, kind: W })) },
        // thread 2 on node 0 starts 50 us later and reads them over and over
        { tid: 2, cpu: 0, steps: (b) => [{ addr: b.get("a")! + 100 * PAGE, kind: R, gap: 150_000 }, ...loop(pages(b.get("a")!, 0, N).map((x) => x + 40), 100, 300)] },
      ],
    });
    const sinkNs = 70;
    s.numa.sink = (e) => {
      events.push(Object.assign(new PrimitiveEvent(), e));
      return sinkNs;
    };
    const a = s.base.get("a")!;
    s.run();
    expect(s.passes.length).toBe(1);
    // thread 1 is gone: single-threaded, but the pages are remote to the scanner's node 0 (page 100 is local)
    expect(s.numa.numaPteUpdates).toBe(N);
    expect(s.numa.numaHintFaults).toBe(N);
    expect(s.numa.numaPagesMigrated).toBe(N);
    expect(s.m.migrations).toBe(N);
    for (const addr of pages(a, 0, N)) expect(s.m.nodeOfPte(s.m.lookupPte(0, addr))).toBe(0);
    // each migration: copy + one shootdown IPI (only CPU 0 runs the process now)
    const c = s.m.config.costs;
    const migrate = c.migrateNs + c.shootdownNs;
    expect(s.numa.migrateNs).toBe(N * migrate);
    expect(s.m.cpus[0]!.time[CpuTime.TRAP]).toBe(N * (1000 + sinkNs + migrate));
    // the events
    expect(events.length).toBe(N);
    // one fault per page, in the order the loop reached them after the pass
    expect(events.map((e) => e.vaddr).sort((x, y) => x - y)).toEqual(pages(a, 0, N).map((x) => x + 40));
    for (const e of events) {
      expect(e).toMatchObject({ context: "process", cpu: 0, cpuNode: 0, pid: 1, tid: 2, size: 1, pageSize: 4096, isWrite: false, memNode: 1, latencyNs: 0, dataSource: DATA_SOURCE_UNKNOWN });
      expect(e.paddr % PAGE).toBe(40);
      expect(s.m.memory.nodeOf(Math.floor(e.paddr / PAGE))).toBe(1); // the address before migration
    }
  });

  it("migration off (or a single-node default) leaves pages in place; reportToSink off sends nothing", () => {
    const s = setup({
      machine: "2s-ddr5",
      areas: [{ name: "a", size: 1 * MiB }],
      opts: { scanSizeMb: 64, scanPeriodMinMs: 1000, scanPeriodMaxMs: 60_000, migrate: false },
      threads: [
        { tid: 1, cpu: 8, steps: (b) => pages(b.get("a")!, 0, 4).map((addr) => ({ addr, kind: W })) },
        { tid: 2, cpu: 0, steps: (b) => [{ addr: b.get("a")! + 100 * PAGE, kind: R, gap: 150_000 }, ...loop(pages(b.get("a")!, 0, 4), 400, 300)] },
      ],
    });
    let called = 0;
    s.numa.sink = () => { called++; return 0; };
    s.run();
    expect(s.numa.numaHintFaults).toBe(4);
    expect(s.numa.numaPagesMigrated).toBe(0);
    expect(called).toBe(0);
    expect(new NumaBalancing(makeMachine("tiny").m).migrate).toBe(false);
    expect(new NumaBalancing(makeMachine("2s-ddr5").m).migrate).toBe(true);
  });
});

describe("period adaptation", () => {
  // A pass over these small areas stops after the range holding the pages (its whole size counts
  // against the 64-page budget); the next pass finds nothing more and wraps. So every placement
  // (first fault after a wrap) sees the faults of the pass before it.
  function periodsOf(s: ReturnType<typeof setup>, tid: number): number[] {
    const periods: number[] = [];
    s.numa.onPass = (p) => {
      s.passes.push(p);
      const cur = s.numa.periodOf(tid)!;
      if (periods[periods.length - 1] !== cur) periods.push(cur);
    };
    s.run();
    return periods;
  }

  it("all-local private faults grow the period by 3 slots (ps = 10)", () => {
    // two threads on separate pages: every fault is local (one node) and private
    const s = setup({
      areas: [{ name: "a", size: 1 * MiB }],
      opts: { adaptPeriod: true },
      threads: [1, 2].map((tid) => ({ tid, cpu: tid - 1, steps: (b: Map<string, number>) => loop(pages(b.get("a")!, tid * 10, tid * 10 + 10), 3000, 300) })),
    });
    // scan_min = 100 us (20 pages: one window); slot = period / 10
    expect(periodsOf(s, 1).slice(0, 4)).toEqual([100_000, 130_000, 169_000, 219_700]);
    expect(s.numa.numaHintFaultsLocal).toBe(s.numa.numaHintFaults);
  });

  it("no local and no shared faults (all remote, private) double it, up to scan_max", () => {
    const s = setup({
      machine: "2s-ddr5",
      areas: [{ name: "far", size: 1 * MiB, policy: { mode: "bind", nodes: [1] } }],
      opts: { adaptPeriod: true, scanPeriodMaxMs: 0.6 },
      threads: [{ tid: 1, cpu: 0, steps: (b: Map<string, number>) => loop(pages(b.get("far")!, 0, 10), 6000, 300) }],
    });
    expect(periodsOf(s, 1)).toEqual([100_000, 200_000, 400_000, 600_000]);
    expect(s.numa.numaHintFaultsLocal).toBe(0);
    expect(s.numa.numaHintFaults).toBeGreaterThan(30);
  });

  it("adaptation off keeps scan_min", () => {
    const s = setup({
      areas: [{ name: "a", size: 1 * MiB }],
      threads: [1, 2].map((tid) => ({ tid, cpu: tid - 1, steps: (b: Map<string, number>) => loop(pages(b.get("a")!, tid * 10, tid * 10 + 10), 1500, 300) })),
    });
    s.run();
    expect(s.passes.length).toBeGreaterThan(3);
    expect(s.numa.periodOf(1)).toBe(100_000);
    expect(s.numa.periodOf(2)).toBe(100_000);
  });
});

describe("option validation", () => {
  it("names the offending option", () => {
    const { m } = makeMachine("tiny");
    expect(() => new NumaBalancing(m, { scanSizeMb: 0.001 })).toThrow(/numaBalancing\.scanSizeMb/);
    expect(() => new NumaBalancing(m, { scanDelayMs: -1 })).toThrow(/numaBalancing\.scanDelayMs/);
    expect(() => new NumaBalancing(m, { scanPeriodMinMs: 10, scanPeriodMaxMs: 5 })).toThrow(/numaBalancing\.scanPeriodMaxMs/);
  });
});
