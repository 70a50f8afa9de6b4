// Data attributes: probe hits on hand-built scenarios (anon vs file pages, two memory cgroups,
// writes from one CPU set, per-primitive access evidence), the probe limit and parameter checks,
// the attributes-only mode, and the NUMA local/remote report against its truth.

import { describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AccessKind } from "../../hw/batch.ts";
import { buildProcess, type AreaRequest } from "../../hw/layout.ts";
import { defaultAttrs } from "../../damon/attrs.ts";
import type { Snapshot } from "../../damon/context.ts";
import { createMonitor, type MonitorOptions } from "../../damon/monitor.ts";
import { parseProbe, probePasses, type Probe, type SampleEvidence } from "../../damon/probes.ts";
import { parseCpuList } from "../../damon/report-buffer/filters.ts";
import { Region } from "../../damon/region.ts";
import { MS } from "../../sim/time.ts";
import { listWorkload, makeMachine, type Step } from "../hw/helpers.ts";
import { runCli } from "../cli/helpers.ts";

const probe = (s: string): Probe => parseProbe(s, (x) => parseCpuList(x));
const attrs = { ...defaultAttrs(), sampleUs: 1000, aggrUs: 20_000, minNrRegions: 3, opsUpdateUs: 10_000_000 };

/** Two areas A and B (64 pages each), both touched on every page; regions fixed to the areas. */
function twoAreas(a: Partial<AreaRequest>, b: Partial<AreaRequest>, mon: Partial<MonitorOptions>, rowsFor: (A: number, B: number) => Map<number, Step[]>, threads = [{ tid: 1, cpus: [0] }]) {
  const { process, areas } = buildProcess({ mmap: [{ name: "A", size: 64 * 4096, ...a }, { name: "B", size: 64 * 4096, ...b }], threads });
  const A = areas.get("A")!, B = areas.get("B")!;
  const { m, sched } = makeMachine("tiny", { truth: false });
  m.load(listWorkload({ processes: [process] }, rowsFor(A.start, B.start)));
  const monitor = createMonitor(m, { ops: "vaddr", attrs, ...mon });
  monitor.ctx.targets[0]!.regions = [new Region(A.start, A.end), new Region(B.start, B.end)].sort((x, y) => x.start - y.start);
  const snaps: Snapshot[] = [];
  monitor.ctx.onAggregation((_c, s) => snaps.push(s[0]!));
  monitor.kdamond.start();
  sched.run(100 * MS);
  const hitsOf = (start: number): number[] => {
    const s = snaps[snaps.length - 2]!; // a full window
    return s.regions.filter((r) => r.start >= start && r.end <= start + 64 * 4096).reduce((acc, r) => acc.map((h, i) => h + r.probeHits[i]! * ((r.end - r.start) / (64 * 4096))), [0, 0, 0, 0]);
  };
  return { hitsA: hitsOf(A.start), hitsB: hitsOf(B.start), snaps, monitor };
}

const sweep = (base: number, kind: AccessKind, n = 150_000): Step[] => Array.from({ length: n }, (_, i) => ({ addr: base + (i % 64) * 4096 + 8, kind, gap: 1500 }));

describe("probes on hand-built scenarios", () => {
  it("anon vs file pages: the anon probe hits every sample of the anon area and none of the file one", () => {
    const r = twoAreas({}, { backing: "file", file: { id: "f", offset: 0 } }, { primitives: ["pte"], probes: [probe("anon:anon")] }, (A, B) => new Map([[1, [...sweep(A, AccessKind.READ, 2000), ...sweep(B, AccessKind.READ, 2000), ...sweep(A, AccessKind.READ)]]]));
    expect(r.hitsA[0]).toBeCloseTo(20, 6); // 20 samples per aggregation, all anon
    expect(r.hitsB[0]).toBeCloseTo(0, 6);
  });

  it("two memory cgroups: a memcg=2 probe tells them apart", () => {
    const r = twoAreas({ memcg: 1 }, { memcg: 2 }, { primitives: ["pte"], probes: [probe("cg1:memcg=1"), probe("cg2:memcg=2")] }, (A, B) => new Map([[1, [...sweep(A, AccessKind.READ, 2000), ...sweep(B, AccessKind.READ, 2000), ...sweep(A, AccessKind.READ)]]]));
    expect([r.hitsA[0], r.hitsA[1]]).toEqual([20, 0]);
    expect([r.hitsB[0], r.hitsB[1]]).toEqual([0, 20]);
  });

  it("writes from one CPU set: 'written' and 'cpus=1' probes hit only the area CPU 1 writes", () => {
    const r = twoAreas(
      {},
      {},
      { primitives: ["fault"], probes: [probe("w:written"), probe("c1:cpus=1"), probe("f:fault-reported")] },
      (A, B) => new Map([[1, sweep(A, AccessKind.READ)], [2, sweep(B, AccessKind.WRITE)]]),
      [{ tid: 1, cpus: [0] }, { tid: 2, cpus: [1] }],
    );
    expect(r.hitsA[0]).toBe(0);
    expect(r.hitsA[1]).toBe(0);
    expect(r.hitsA[2]).toBeGreaterThan(10); // reads are fault-reported too
    expect(r.hitsB[0]).toBeGreaterThan(10);
    expect(r.hitsB[1]).toBe(r.hitsB[0]);
  });

  it("hits carry through split (copied) and merge (size-weighted), and reset each aggregation", () => {
    const r = twoAreas({}, {}, { primitives: ["pte"], probes: [probe("anon:anon")] }, (A) => new Map([[1, sweep(A, AccessKind.READ)]]));
    for (const s of r.snaps) for (const reg of s.regions) expect(reg.probeHits[0]).toBeLessThanOrEqual(20);
  });
});

describe("probe parsing and limits", () => {
  it("parses filters, negation, reject and weights", () => {
    const p = probe("x:!anon;memcg=3/reject@5");
    expect(p).toEqual({ name: "x", weight: 5, filters: [{ type: "anon", matching: false, allow: true }, { type: "memcg", memcg: 3, matching: true, allow: false }] });
    expect(() => probe("x:bogus")).toThrow(/unknown probe filter type 'bogus'/);
    expect(() => probe("x:memcg")).toThrow(/needs a non-negative integer/);
  });

  it("first-match semantics: default is the opposite of the last filter", () => {
    const e: SampleEvidence = { present: true, anon: true, memcg: 2, node: 0, pteYoung: false, reportedBy: 0, written: false, cpuSets: 0 };
    expect(probePasses(probe("a:anon"), e, [])).toBe(true);
    expect(probePasses(probe("a:anon/reject"), e, [])).toBe(false);
    expect(probePasses(probe("a:memcg=1/reject"), e, [])).toBe(true); // no match, last rejects -> pass
    expect(probePasses(probe("a:memcg=1"), e, [])).toBe(false);
    expect(probePasses(probe("a:anon"), { ...e, present: false }, [])).toBe(false); // no page matches nothing
  });

  it("rejects more probes than the limit and more than 255 samples per aggregation", () => {
    const { m } = makeMachine("tiny");
    const five = ["a:anon", "b:anon", "c:anon", "d:anon", "e:anon"].map(probe);
    expect(() => createMonitor(m, { ops: "paddr", attrs, probes: five })).toThrow(/at most 4 probes/);
    expect(() => createMonitor(m, { ops: "paddr", attrs: { ...defaultAttrs(), sampleUs: 100, aggrUs: 100_000 }, probes: [probe("a:anon")] })).toThrow(/at most 255/);
  });

  it("attributes-only mode: weights turn access checking off and drive the regions by probe hits", () => {
    const r = twoAreas({ memcg: 1 }, { memcg: 2 }, { primitives: ["pte"], probes: [probe("cg2:memcg=2@100")] }, (A, B) => new Map([[1, [...sweep(A, AccessKind.READ, 2000), ...sweep(B, AccessKind.READ, 2000), ...sweep(A, AccessKind.READ)]]]));
    expect(r.monitor.ctx.attributesOnly).toBe(true);
    for (const s of r.snaps) for (const reg of s.regions) expect(reg.nrAccesses).toBe(0);
    expect(r.hitsB[0]).toBe(20);
  });
});

describe("NUMA local/remote report", () => {
  it("estimates each region's local share close to the truth on 2s-ddr5 and cxl-tier", () => {
    const dir = mkdtempSync(join(tmpdir(), "damon-sim-numa-"));
    const out = join(dir, "o");
    const run = runCli(["run", "numa-hit-miss", "--machine", "2s-ddr5", "--duration", "600ms", "--sample", "2ms", "--aggr", "40ms", "--primitives", "fault", "--numa", "-q", "-o", out]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const r = runCli(["report", "numa", out]);
    expect(r.status).toBe(0);
    const m = /mean error of the local share over \d+ snapshots: ([\d.]+) points/.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(15);
    const cxl = runCli(["run", "tiering", "--machine", "cxl-tier", "--duration", "600ms", "--sample", "2ms", "--aggr", "40ms", "--primitives", "fault", "--numa", "-q", "-o", join(dir, "c")]);
    expect(cxl.status).toBe(0);
    expect(runCli(["report", "numa", join(dir, "c")]).stdout).toMatch(/local share/);
    const bad = runCli(["run", "tiering", "--primitives", "pte", "--numa", "-o", join(dir, "x")]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--numa needs a report-based primitive/);
  }, 120_000);
});
