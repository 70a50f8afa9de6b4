// Layout inference from addresses: a hand-computed example, and random traces against a brute
// force reference (set of touched pages, sorted, split at gaps) plus the invariants DAMON and
// the machine rely on: every access inside a VMA, VMAs sorted, page aligned and apart by >= gap.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { AccessKind } from "../../../hw/batch.ts";
import { validateLayout } from "../../../hw/layout.ts";
import { InputError } from "../../../sim/errors.ts";
import { LayoutInferrer } from "../../../workloads/trace/infer-layout.ts";
import { batchOf, type Row } from "./helpers.ts";

const { READ, WRITE, IFETCH, MODIFY } = AccessKind;
const row = (addr: number, size: number, kind: number, tid = 1): Row => ({ addr, size, kind, tid, gap: 0 });

describe("layout inference", () => {
  it("groups touched pages into text, data areas and the stack (hand-computed)", () => {
    const inf = new LayoutInferrer();
    inf.observe(batchOf([
      row(0x108000, 4, IFETCH), row(0x109ffe, 4, IFETCH), // crosses into page 0x10a
      row(0x4a14000, 8, READ), row(0x4a16010, 4, WRITE), row(0x4a17ffc, 8, MODIFY), // last one crosses into 0x4a18
      row(0x1ffeffff00, 8, WRITE, 3), row(0x1fff000100, 8, READ, 3),
      row(0x4000000, 4, IFETCH), row(0x4000100, 8, WRITE), // code and writes: a writable data area
    ]));
    expect(inf.pages).toBe(10); // 0x108-0x10a, 0x4000, 0x4a14, 0x4a16-0x4a18, 0x1ffefff, 0x1fff000
    const layout = inf.layout({ name: "prog" });
    expect(() => validateLayout(layout)).not.toThrow();
    expect(layout.processes).toHaveLength(1);
    const p = layout.processes[0]!;
    expect(p.pid).toBe(1);
    expect(p.name).toBe("prog");
    expect(p.threads).toEqual([{ tid: 1 }, { tid: 3 }]);
    expect(p.vmas.map((v) => [v.start, v.end, v.kind, v.backing, v.writable ?? true])).toEqual([
      [0x108000, 0x10b000, "text", "file", false],
      [0x4000000, 0x4001000, "data", "anon", true],
      [0x4a14000, 0x4a19000, "mmap", "anon", true],
      [0x1ffefff000, 0x1fff001000, "stack", "anon", true],
    ]);
    expect(p.vmas[0]!.name).toBe("[text]");
    expect(p.vmas[3]!.name).toBe("[stack]");
  });

  it("splits at smaller gaps when asked", () => {
    const inf = new LayoutInferrer();
    inf.observe(batchOf([row(0x10000, 8, READ), row(0x12000, 8, READ), row(0x13000, 8, READ)]));
    expect(inf.layout({ gapBytes: 4096 }).processes[0]!.vmas.map((v) => [v.start, v.end])).toEqual([[0x10000, 0x11000], [0x12000, 0x14000]]);
    expect(inf.layout({ gapBytes: 8192 }).processes[0]!.vmas.map((v) => [v.start, v.end])).toEqual([[0x10000, 0x14000]]);
  });

  it("matches a brute-force reference on random traces", () => {
    const addrArb = fc.oneof(fc.integer({ min: 0, max: 2 ** 24 }), fc.integer({ min: 2 ** 40, max: 2 ** 40 + 2 ** 22 }), fc.integer({ min: 2 ** 47 - 2 ** 20, max: 2 ** 47 - 256 }));
    const rowArb = fc.record({ addr: addrArb, size: fc.integer({ min: 1, max: 255 }), kind: fc.integer({ min: 0, max: 3 }), tid: fc.integer({ min: 1, max: 4 }), gap: fc.constant(0) });
    fc.assert(fc.property(fc.array(rowArb, { minLength: 1, maxLength: 400 }), fc.integer({ min: 1, max: 64 }), (rows, gapPages) => {
      const inf = new LayoutInferrer();
      for (let i = 0; i < rows.length; i += 37) inf.observe(batchOf(rows.slice(i, i + 37)));
      const layout = inf.layout({ gapBytes: gapPages * 4096 });
      validateLayout(layout);
      // reference: every page touched, sorted, cut where the hole is >= gapPages pages
      const pages = [...new Set(rows.flatMap((r) => {
        const ps = [];
        for (let p = Math.floor(r.addr / 4096); p <= Math.floor((r.addr + r.size - 1) / 4096); p++) ps.push(p);
        return ps;
      }))].sort((a, b) => a - b);
      const ref: Array<[number, number]> = [];
      for (const p of pages) {
        const last = ref[ref.length - 1];
        if (last && p - last[1] < gapPages + 1) last[1] = p;
        else ref.push([p, p]);
      }
      const vmas = layout.processes[0]!.vmas;
      expect(vmas.map((v) => [v.start / 4096, v.end / 4096 - 1])).toEqual(ref);
      expect(inf.pages).toBe(pages.length);
      expect(layout.processes[0]!.threads.map((t) => t.tid)).toEqual([...new Set(rows.map((r) => r.tid))].sort((a, b) => a - b));
      for (const r of rows) expect(vmas.some((v) => v.start <= r.addr && r.addr + r.size <= v.end)).toBe(true);
    }), { numRuns: 150 });
  });

  it("refuses empty traces and addresses beyond the user address space", () => {
    expect(() => new LayoutInferrer().layout()).toThrow(InputError);
    const inf = new LayoutInferrer();
    inf.observe(batchOf([row(2 ** 48, 8, READ)]));
    expect(() => inf.layout()).toThrow(/beyond the 2\^47-byte user address space/);
  });

  it("keeps working as the page set grows (hash set resizing)", () => {
    const inf = new LayoutInferrer();
    const rows: Row[] = [];
    for (let i = 0; i < 20_000; i++) rows.push(row(0x10000000 + i * 2 * 4096, 8, READ));
    inf.observe(batchOf(rows));
    expect(inf.pages).toBe(20_000);
    const vmas = inf.layout().processes[0]!.vmas;
    expect(vmas.map((v) => [v.start, v.end])).toEqual([[0x10000000, 0x10000000 + (2 * 19_999 + 1) * 4096]]);
  });
});
