// damon_report_access() buffers, sample filters and the drain into regions, on hand-computed
// cases: array wrap and trylock drops, per-CPU ring overflow and nested-NMI drops, the filter
// truth tables (intended and damon/next quirk), cpulist parsing, straddling reports, at most +1
// per region per sample interval, and report timing windows in jiffies (a report counting in two
// consecutive checks with the array, once with the rings); physical-only reports with a count
// (ring of the submitting CPU, lost reports, filters on NO_CPU / NO_TID, credit once whatever the
// count, vaddr placement through the reverse map).

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ArrayReportBuffer, DropReason, Jiffies, RingReportBuffer, type ReportInput } from "../../damon/report-buffer/buffer.ts";
import { primitiveId } from "../../damon/primitives/index.ts";
import { PADDR_REPORTS } from "../../damon/paddr.ts";
import { VADDR_REPORTS, VaddrOps } from "../../damon/vaddr.ts";
import { AccessKind } from "../../hw/batch.ts";
import { NO_CPU, NO_PID, NO_TID, NO_VADDR } from "../../hw/primitives/sample.ts";
import { MiB } from "../../sim/units.ts";
import { listWorkload, makeMachine, oneProcess } from "../hw/helpers.ts";
import { formatCpuList, parseCpuList, parseTidList, passesFilters, type SampleFilter } from "../../damon/report-buffer/filters.ts";
import { ReportDrain } from "../../damon/report-buffer/drain.ts";
import { DamonContext } from "../../damon/context.ts";
import { defaultAttrs } from "../../damon/attrs.ts";
import type { DamonOps } from "../../damon/context.ts";
import { Region } from "../../damon/region.ts";
import { RngRoot } from "../../sim/rng.ts";
import { MS } from "../../sim/time.ts";

const rep = (o: Partial<ReportInput>): ReportInput => ({
  time: 0, cpu: 0, tid: 1, pid: 1, vaddr: 0, paddr: 0, size: 1, isWrite: false, primitive: "fault", context: "process", ...o,
});

describe("array report buffer (SJ's RFC)", () => {
  it("wraps at 1000, hiding older reports", () => {
    const b = new ArrayReportBuffer(2, new Jiffies(1000), 1000, 0);
    for (let i = 0; i < 1003; i++) expect(b.submit(rep({ time: i * 1000, paddr: i }))).toBe(true);
    const seen: number[] = [];
    b.drain(1003 * 1000, 10 * MS, 0, (i) => seen.push(b.store.paddr[i]!));
    expect(seen).toEqual([1000, 1001, 1002]);
  });

  it("drops when the trylock fails (overlapping holders) and from NMI context, counting each", () => {
    const b = new ArrayReportBuffer(4, new Jiffies(250), 1000, 100);
    expect(b.submit(rep({ time: 1000, cpu: 0 }))).toBe(true);
    expect(b.submit(rep({ time: 1050, cpu: 1 }))).toBe(false); // mutex held until 1100
    expect(b.submit(rep({ time: 1100, cpu: 1 }))).toBe(true);
    expect(b.submit(rep({ time: 5000, cpu: 2, primitive: "ibs", context: "nmi" }))).toBe(false);
    b.drain(10_000, 5 * MS, 2000, () => undefined);
    expect(b.submit(rep({ time: 11_000, cpu: 3 }))).toBe(false); // kdamond holds it while draining
    expect(b.stats.dropsByReason[DropReason.BUSY]![primitiveId("fault")]).toBe(2);
    expect(b.stats.dropsByReason[DropReason.NMI_UNSAFE]![primitiveId("ibs")]).toBe(1);
    expect(b.stats.dropsByCpu).toEqual([0, 1, 1, 1]);
    expect(b.stats.accepted).toBe(2);
  });

  it("counts a report in every check within one sample interval (in jiffies): twice here", () => {
    // HZ 250: 4 ms jiffies; a 5 ms sample interval is usecs_to_jiffies = 2 jiffies
    const b = new ArrayReportBuffer(1, new Jiffies(250), 1000, 0);
    b.submit(rep({ time: 12 * MS })); // jiffy 3
    const counts = [15, 20, 25].map((t) => {
      let n = 0;
      b.drain(t * MS, 5 * MS, 0, () => n++);
      return n;
    });
    expect(counts).toEqual([1, 1, 0]);
  });
});

describe("per-CPU report rings (Ravi's patch)", () => {
  it("drops the new report when a CPU's ring of 256 is full, and drains consume", () => {
    const b = new RingReportBuffer(2, new Jiffies(250), 256, 0);
    for (let i = 0; i < 300; i++) b.submit(rep({ time: i, cpu: 1, paddr: i }));
    expect(b.pending(1)).toBe(256);
    expect(b.stats.dropsByReason[DropReason.FULL]![primitiveId("fault")]).toBe(44);
    const seen: number[] = [];
    b.drain(1000, 5 * MS, 0, (i) => seen.push(b.store.paddr[i]!));
    expect(seen.length).toBe(256);
    expect(seen[0]).toBe(0);
    expect(seen[255]).toBe(255);
    expect(b.pending(1)).toBe(0);
    let again = 0;
    b.drain(2000, 5 * MS, 0, () => again++);
    expect(again).toBe(0);
  });

  it("drops an NMI report nested in a process-context submission on the same CPU only", () => {
    const b = new RingReportBuffer(2, new Jiffies(250), 256, 50);
    expect(b.submit(rep({ time: 1000, cpu: 0, context: "process" }))).toBe(true);
    expect(b.submit(rep({ time: 1020, cpu: 0, context: "nmi", primitive: "ibs" }))).toBe(false);
    expect(b.submit(rep({ time: 1020, cpu: 1, context: "nmi", primitive: "ibs" }))).toBe(true);
    expect(b.submit(rep({ time: 1060, cpu: 0, context: "nmi", primitive: "ibs" }))).toBe(true);
    expect(b.stats.dropsByReason[DropReason.NESTED]![primitiveId("ibs")]).toBe(1);
  });

  it("skips reports older than one sample interval", () => {
    const b = new RingReportBuffer(1, new Jiffies(1000), 256, 0);
    b.submit(rep({ time: 1 * MS }));
    b.submit(rep({ time: 18 * MS }));
    let n = 0;
    b.drain(20 * MS, 5 * MS, 0, () => n++);
    expect(n).toBe(1);
    expect(b.stats.stale).toBe(1);
  });
});

describe("sample filters", () => {
  const write: SampleFilter = { type: "write", matching: true, allow: true };
  const cpus03: SampleFilter = { type: "cpumask", matching: true, allow: true, cpus: parseCpuList("0-3") };
  const rejectTid7: SampleFilter = { type: "threads", matching: true, allow: false, tids: new Set([7]) };

  it("intended semantics: the first match decides, else the opposite of the last allow", () => {
    const table: Array<[SampleFilter[], number, number, boolean, boolean]> = [
      [[], 9, 9, false, true],
      [[write], 0, 1, true, true],
      [[write], 0, 1, false, false],
      [[cpus03], 2, 1, false, true],
      [[cpus03], 5, 1, false, false],
      [[rejectTid7], 0, 7, false, false],
      [[rejectTid7], 0, 8, false, true],
      [[rejectTid7, write], 0, 7, true, false],
      [[rejectTid7, write], 0, 8, true, true],
      [[rejectTid7, write], 0, 8, false, false],
      [[{ ...write, matching: false }], 0, 1, false, true],
    ];
    for (const [f, cpu, tid, w, want] of table) expect(passesFilters(f, cpu, tid, w, "intended")).toBe(want);
  });

  it("the damon/next quirk: a lone allow filter rejects nothing", () => {
    expect(passesFilters([write], 0, 1, false, "next-quirk")).toBe(true);
    expect(passesFilters([cpus03], 9, 1, false, "next-quirk")).toBe(true);
    expect(passesFilters([rejectTid7], 0, 7, false, "next-quirk")).toBe(false);
    expect(passesFilters([rejectTid7], 0, 8, false, "next-quirk")).toBe(false); // the last filter rejects
    expect(passesFilters([rejectTid7, write], 0, 8, false, "next-quirk")).toBe(true);
  });

  it("parses cpulists like the kernel, with clear errors", () => {
    expect([...parseCpuList("0-3,5-7,9")]).toEqual([0, 1, 2, 3, 5, 6, 7, 9]);
    expect([...parseCpuList("0-7:2/4")]).toEqual([0, 1, 4, 5]);
    expect(parseCpuList("").size).toBe(0);
    expect(formatCpuList(parseCpuList("9,0-3,5-7"))).toBe("0-3,5-7,9");
    expect(() => parseCpuList("0-3,x")).toThrow(/bad cpulist item 'x' at column 5/);
    expect(() => parseCpuList("5-2")).toThrow(/5-2/);
    expect(() => parseCpuList("0-5000")).toThrow(/beyond/);
    expect([...parseTidList("3, 4,10")]).toEqual([3, 4, 10]);
    expect(() => parseTidList("3,x")).toThrow(/bad thread id 'x'/);
  });
});

const noOps: DamonOps = { name: "none", init: () => undefined, update: () => undefined, prepareAccessChecks: () => undefined, checkAccesses: () => 0 };

function ctxWith(ranges: Array<[number, number]>): DamonContext {
  const ctx = new DamonContext({ attrs: defaultAttrs(), ops: noOps, rng: new RngRoot(1).stream("t"), minRegionSz: 1 });
  const t = ctx.addTarget(null);
  t.regions = ranges.map(([s, e]) => new Region(s, e));
  return ctx;
}

describe("draining reports into regions", () => {
  it("credits the region holding each report, rejects straddlers, ignores addresses outside", () => {
    const ctx = ctxWith([[0, 100], [100, 200], [300, 400]]);
    const b = new RingReportBuffer(1, new Jiffies(1000), 256, 0);
    const d = new ReportDrain(b);
    b.submit(rep({ time: 10 * MS, paddr: 150, size: 8 }));
    b.submit(rep({ time: 10 * MS, paddr: 160, size: 8 })); // same region: still +1 only
    b.submit(rep({ time: 10 * MS, paddr: 96, size: 8 })); // straddles 100
    b.submit(rep({ time: 10 * MS, paddr: 250, size: 1 })); // in the hole
    d.run(ctx, 10 * MS, PADDR_REPORTS);
    expect([0, 1, 2].map((k) => d.reported(k))).toEqual([false, true, false]);
    expect(d.stats).toMatchObject({ credited: 2, straddling: 1, outside: 2 });
  });

  it("binary search and linear scan credit exactly the same regions", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 60 }), fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 200 }), (sizes, addrs) => {
        const ranges: Array<[number, number]> = [];
        let a = 0;
        for (const s of sizes) {
          ranges.push([a, a + s]);
          a += s + (s % 3 === 0 ? 5 : 0);
        }
        const marks = [false, true].map((linear) => {
          const ctx = ctxWith(ranges);
          const b = new RingReportBuffer(1, new Jiffies(1000), 256, 0);
          for (const x of addrs) b.submit(rep({ time: 1 * MS, paddr: x, size: 1 + (x % 4) }));
          const d = new ReportDrain(b, [], "intended", linear);
          d.run(ctx, 1 * MS, PADDR_REPORTS);
          return ctx.targets[0]!.regions.map((_r, k) => d.reported(k));
        });
        expect(marks[0]).toEqual(marks[1]);
      }),
    );
  });

  it("applies filters and matches vaddr targets by pid", () => {
    const ctx = new DamonContext({ attrs: defaultAttrs(), ops: noOps, rng: new RngRoot(1).stream("t"), minRegionSz: 1 });
    ctx.addTarget(10).regions = [new Region(0x1000, 0x2000)];
    ctx.addTarget(11).regions = [new Region(0x1000, 0x2000)];
    const b = new RingReportBuffer(4, new Jiffies(1000), 256, 0);
    const d = new ReportDrain(b, [{ type: "cpumask", matching: true, allow: true, cpus: new Set([2]) }]);
    b.submit(rep({ time: 1 * MS, cpu: 2, pid: 11, vaddr: 0x1800 }));
    b.submit(rep({ time: 1 * MS, cpu: 3, pid: 10, vaddr: 0x1800 }));
    d.run(ctx, 1 * MS, VADDR_REPORTS);
    expect([0, 1].map((k) => d.reported(k))).toEqual([false, true]);
    expect(d.stats.filtered).toBe(1);
  });
});

describe("physical-only, count-carrying reports (a CXL CHMU's hotlist entries)", () => {
  const chmu = (o: Partial<ReportInput>): ReportInput => rep({ cpu: NO_CPU, tid: NO_TID, pid: NO_PID, vaddr: NO_VADDR, primitive: "chmu", context: "process", ...o });

  it("keep their count, go to the submitting CPU's ring and count their drops there", () => {
    const b = new RingReportBuffer(4, new Jiffies(1000), 4, 0);
    for (let i = 0; i < 6; i++) b.submit(chmu({ time: 1 * MS, paddr: i * 4096, size: 4096, count: 10 + i, submitCpu: 3 }));
    expect(b.pending(3)).toBe(4);
    expect([0, 1, 2].map((c) => b.pending(c))).toEqual([0, 0, 0]);
    expect(b.stats.dropsByReason[DropReason.FULL]![primitiveId("chmu")]).toBe(2);
    expect(b.stats.dropsByCpu).toEqual([0, 0, 0, 2]);
    const counts: number[] = [];
    b.drain(1 * MS, 5 * MS, 0, (i) => counts.push(b.store.count[i]!));
    expect(counts).toEqual([10, 11, 12, 13]);
    // a sampled report without a count stands for one access
    b.submit(rep({ time: 2 * MS, cpu: 1 }));
    b.drain(2 * MS, 5 * MS, 0, (i) => counts.push(b.store.count[i]!));
    expect(counts[4]).toBe(1);
  });

  it("lose(): a report lost in the primitive's hardware buffer counts as submitted and dropped 'full' in both designs", () => {
    for (const b of [new ArrayReportBuffer(2, new Jiffies(1000), 1000, 0), new RingReportBuffer(2, new Jiffies(1000), 256, 0)]) {
      b.submit(rep({ time: 1 * MS, cpu: 1, primitive: "spe" }));
      b.lose(rep({ time: 1 * MS, cpu: 1, primitive: "spe" }));
      b.lose(rep({ time: 1 * MS, cpu: 0, primitive: "spe" }));
      expect(b.stats.submitted).toBe(3);
      expect(b.stats.accepted).toBe(1);
      expect(b.stats.dropsByReason[DropReason.FULL]![primitiveId("spe")]).toBe(2);
      expect(b.stats.dropsByCpu).toEqual([1, 1]);
      let n = 0;
      b.drain(1 * MS, 5 * MS, 0, () => n++);
      expect(n).toBe(1);
    }
  });

  it("sample filters: NO_CPU / NO_TID are in no cpumask and no thread list (damon.md 3.6 matches by membership)", () => {
    const allowCpus: SampleFilter = { type: "cpumask", matching: true, allow: true, cpus: parseCpuList("0-3") };
    const denyCpus: SampleFilter = { type: "cpumask", matching: true, allow: false, cpus: parseCpuList("0-3") };
    const notInCpusReject: SampleFilter = { type: "cpumask", matching: false, allow: false, cpus: parseCpuList("0-3") };
    const allowTids: SampleFilter = { type: "threads", matching: true, allow: true, tids: new Set([7]) };
    const write: SampleFilter = { type: "write", matching: true, allow: true };
    // intended: no filter matches an allow-list, so the default is the opposite of its allow: rejected
    expect(passesFilters([allowCpus], NO_CPU, NO_TID, false, "intended")).toBe(false);
    expect(passesFilters([allowTids], NO_CPU, NO_TID, false, "intended")).toBe(false);
    // a deny-list does not match either, and its default passes
    expect(passesFilters([denyCpus], NO_CPU, NO_TID, false, "intended")).toBe(true);
    // "reject what is not in 0-3" matches (the predicate is false, matching is N): rejected
    expect(passesFilters([notInCpusReject], NO_CPU, NO_TID, false, "intended")).toBe(false);
    // the write filter sees the report's isWrite as for any report
    expect(passesFilters([write], NO_CPU, NO_TID, true, "intended")).toBe(true);
    expect(passesFilters([write], NO_CPU, NO_TID, false, "intended")).toBe(false);
    // damon/next's quirk: a lone allow filter rejects nothing, a deny-list last rejects everything
    expect(passesFilters([allowCpus], NO_CPU, NO_TID, false, "next-quirk")).toBe(true);
    expect(passesFilters([denyCpus], NO_CPU, NO_TID, false, "next-quirk")).toBe(false);
    // and the drain applies that: a CHMU report is filtered by an allow-list of CPUs
    const ctx = ctxWith([[0, 8192]]);
    const b = new RingReportBuffer(1, new Jiffies(1000), 256, 0);
    const d = new ReportDrain(b, [allowCpus]);
    b.submit(chmu({ time: 1 * MS, paddr: 0, size: 4096, count: 50, submitCpu: 0 }));
    d.run(ctx, 1 * MS, PADDR_REPORTS);
    expect(d.stats.filtered).toBe(1);
    expect(d.reported(0)).toBe(false);
  });

  it("credit a region once per check whatever their count, like a sampled report", () => {
    const ctx = ctxWith([[0, 8192], [8192, 16384]]);
    const b = new RingReportBuffer(1, new Jiffies(1000), 256, 0);
    const d = new ReportDrain(b);
    b.submit(chmu({ time: 1 * MS, paddr: 0, size: 4096, count: 1000, submitCpu: 0 }));
    b.submit(chmu({ time: 1 * MS, paddr: 4096, size: 4096, count: 3, submitCpu: 0 }));
    b.submit(rep({ time: 1 * MS, paddr: 9000, size: 8 }));
    d.run(ctx, 1 * MS, PADDR_REPORTS);
    expect(d.reportedBy[0]).toBe(1 << primitiveId("chmu"));
    expect(d.reportedBy[1]).toBe(1 << primitiveId("fault"));
    // the core then gives each flagged region +1: the same for count 1000 and for one sample
    expect(d.stats.credited).toBe(3);
  });

  it("vaddr places a physical-only report through the reverse map, at a folio lookup and an rmap step each", () => {
    const { layout, areas } = oneProcess({ pid: 42, mmap: [{ name: "a", size: 1 * MiB }], threads: [{ tid: 420, cpus: [0] }] });
    const a = areas.get("a")!.start;
    const { m, sched } = makeMachine("tiny", { truth: false });
    m.load(listWorkload(layout, new Map([[420, [{ addr: a + 5 * 4096, kind: AccessKind.WRITE }]]])));
    sched.run(1_000_000_000);
    const ops = new VaddrOps(m);
    const pte = m.lookupPte(m.spaceOf(42)!.asid, a + 5 * 4096);
    expect(pte).toBeGreaterThanOrEqual(0);
    const paddr = m.physAddr(pte, a + 5 * 4096);
    const ctx = new DamonContext({ attrs: defaultAttrs(), ops: noOps, rng: new RngRoot(1).stream("t"), minRegionSz: 1 });
    ctx.addTarget(41).regions = [new Region(a, a + 1 * MiB)];
    ctx.addTarget(42).regions = [new Region(a, a + 4 * 4096), new Region(a + 4 * 4096, a + 1 * MiB)];
    const b = new RingReportBuffer(1, new Jiffies(1000), 256, 0);
    const d = new ReportDrain(b);
    b.submit(chmu({ time: 1 * MS, paddr, size: 4096, count: 9, submitCpu: 0 }));
    // a frame nobody maps: no target's
    b.submit(chmu({ time: 1 * MS, paddr: paddr + 100 * 4096, size: 4096, count: 9, submitCpu: 0 }));
    const before = ctx.costNs;
    d.run(ctx, 1 * MS, ops);
    expect([0, 1, 2].map((k) => d.reported(k))).toEqual([false, false, true]);
    expect(d.stats).toMatchObject({ credited: 1, outside: 1 });
    const c = ctx.costs;
    // two reports drained; two folio lookups, one rmap step (the unmapped frame has no mapping)
    expect(ctx.costNs - before).toBe(2 * c.reportNs + 2 * c.folioLookupNs + c.rmapPerMappingNs);
    // resolved in place: the static description now finds it process 42's
    expect(VADDR_REPORTS.eligibleReport(b.store, 0, ctx.targets[1]!)).toBe(true); // resolved in place
  });
});
