// The oracle tiering baseline on a hand-built case: a 4-page fast node, six pages first touched
// on the slow node with known access counts; after one re-placement the fast node must hold the
// hottest pages that fit its budget (capacity less headroom), and the pages it held beyond the
// hot set must have moved out, untouched ones first.

import { describe, expect, it } from "vitest";
import { OracleTiering } from "../../cli/experiment/oracle-tiering.ts";
import { AccessKind } from "../../hw/batch.ts";
import { preset } from "../../hw/presets.ts";
import { PteFlag } from "../../hw/pagetable.ts";
import { listWorkload, makeMachine, oneProcess, type Step } from "../hw/helpers.ts";

const PAGE = 4096;

function machineWith(fastPages: number) {
  const cfg = preset("cxl-tier")!;
  cfg.nodes[0]!.capacity = fastPages * PAGE;
  cfg.nodes[1]!.capacity = 64 * PAGE;
  return makeMachine(cfg, { truth: { windowNs: 0, subWindowNs: 1_000_000, frames: false } });
}

describe("oracle tiering baseline", () => {
  it("fills the fast node with the hottest pages that fit, demoting the rest", () => {
    const { m, sched } = machineWith(4);
    const { layout, areas } = oneProcess({ pid: 1, name: "p", policy: { mode: "preferred", nodes: [1, 0] }, mmap: [{ name: "heap", size: 8 * PAGE }], threads: [{ tid: 11, cpus: [0] }] });
    const base = areas.get("heap")!.start;
    // pages 0..5 touched 1, 6, 2, 5, 3, 4 times; pages 6 and 7 never
    const counts = [1, 6, 2, 5, 3, 4];
    const steps: Step[] = [];
    counts.forEach((n, page) => {
      for (let k = 0; k < n; k++) steps.push({ addr: base + page * PAGE, kind: AccessKind.READ });
    });
    m.load(listWorkload(layout, new Map([[11, steps]])));
    sched.run(50_000_000);
    const o = new OracleTiering(m, { fastNode: 0, slowNode: 1, intervalNs: 10_000_000, headroom: 0.25, minSubWindows: 1 });
    o.place();
    // budget floor(4 * 0.75) = 3 pages: the three hottest are pages 1 (6), 3 (5), 5 (4)
    const onFast: number[] = [];
    for (let p = 0; p < m.ptes.size; p++) {
      if ((m.ptes.flags[p]! & PteFlag.PRESENT) === 0) continue;
      if (m.nodeOfPte(p) === 0) onFast.push((m.ptes.vpn[p]! * PAGE - base) / PAGE);
    }
    expect(onFast.sort((a, b) => a - b)).toEqual([1, 3, 5]);
    expect(o.promotedPages).toBe(3);
    expect(o.demotedPages).toBe(0);
    expect(o.costNs).toBeGreaterThan(0);
  });

  it("demotes what no longer belongs to the hot set, least accessed first", () => {
    const { m, sched } = machineWith(4);
    const { layout, areas } = oneProcess({ pid: 1, name: "p", policy: { mode: "preferred", nodes: [0, 1] }, mmap: [{ name: "heap", size: 8 * PAGE }], threads: [{ tid: 11, cpus: [0] }] });
    const base = areas.get("heap")!.start;
    // first touch fills the fast node with pages 0-3 (in order), then pages 4-7 land on the slow one
    const steps: Step[] = [];
    for (let page = 0; page < 8; page++) steps.push({ addr: base + page * PAGE, kind: AccessKind.READ });
    m.load(listWorkload(layout, new Map([[11, steps]])));
    sched.run(50_000_000);
    m.truth!.closeWindow(sched.now);
    // next window: pages 6 and 7 hot, page 0 warm, pages 1-5 untouched
    const steps2: Step[] = [];
    for (let k = 0; k < 5; k++) steps2.push({ addr: base + 6 * PAGE, kind: AccessKind.READ }, { addr: base + 7 * PAGE, kind: AccessKind.READ });
    steps2.push({ addr: base, kind: AccessKind.READ });
    // the second window's accesses, recorded in the truth directly (the oracle reads nothing else)
    for (const s of steps2) {
      const r = s as { addr: number };
      const pte = m.lookupPte(m.spaceOf(1)!.asid, r.addr);
      m.truth!.record(pte, m.ptes.frame[pte]!, false, sched.now);
    }
    const o = new OracleTiering(m, { fastNode: 0, slowNode: 1, intervalNs: 10_000_000, headroom: 0.25, minSubWindows: 1 });
    o.place();
    const nodeOf = (page: number): number => m.nodeOfPte(m.lookupPte(m.spaceOf(1)!.asid, base + page * PAGE));
    // budget 3: pages 6, 7 and 0 belong on the fast node, and one of its 4 frames stays free
    // (headroom), so all of the untouched pages 1-3 move out to make room for 6 and 7
    expect([0, 6, 7].map(nodeOf)).toEqual([0, 0, 0]);
    expect(o.promotedPages).toBe(2);
    expect(o.demotedPages).toBe(3);
    expect([1, 2, 3].map(nodeOf)).toEqual([1, 1, 1]);
    expect(m.memory.nodes[0]!.used).toBe(3);
  });

  it("counts as hot only the pages used in at least two sample intervals (a sweep's single touch is not)", () => {
    const { m, sched } = machineWith(4);
    const { layout, areas } = oneProcess({ pid: 1, name: "p", policy: { mode: "preferred", nodes: [1, 0] }, mmap: [{ name: "heap", size: 2 * PAGE }], threads: [{ tid: 11, cpus: [0] }] });
    const base = areas.get("heap")!.start;
    m.load(listWorkload(layout, new Map([[11, [{ addr: base, kind: AccessKind.READ }, { addr: base + PAGE, kind: AccessKind.READ }]]])));
    sched.run(50_000_000);
    m.truth!.closeWindow(sched.now);
    const pte = (page: number): number => m.lookupPte(m.spaceOf(1)!.asid, base + page * PAGE);
    const t0 = sched.now;
    // page 0: once in each of two sub-windows (1 ms each); page 1: three times in one
    m.truth!.record(pte(0), m.ptes.frame[pte(0)]!, false, t0 + 100);
    m.truth!.record(pte(0), m.ptes.frame[pte(0)]!, false, t0 + 1_500_000);
    for (let k = 0; k < 3; k++) m.truth!.record(pte(1), m.ptes.frame[pte(1)]!, false, t0 + 200 + k);
    const o = new OracleTiering(m, { fastNode: 0, slowNode: 1, intervalNs: 10_000_000, headroom: 0 });
    o.place();
    expect([m.nodeOfPte(pte(0)), m.nodeOfPte(pte(1))]).toEqual([0, 1]);
    expect(o.promotedPages).toBe(1);
  });
});
