// Phased programs follow the simulated clock passed to next(): phases switch when `now` passes
// their scheduled end (not after a number of accesses), repeat, stop, skip long stalls, and cut
// batches short so a switch lands on the boundary when the clock is regular.

import { describe, expect, it } from "vitest";
import { AccessBatch } from "../../hw/batch.ts";
import { PhasedProgram, type Phase } from "../../workloads/generators/phased.ts";
import { SequentialPattern } from "../../workloads/generators/sequential.ts";
import { WorkingSetPattern } from "../../workloads/generators/working-set.ts";
import { DEFAULT_STYLE } from "../../workloads/pattern.ts";
import { MS } from "../../sim/time.ts";
import { ctx, runProgram } from "./helpers.ts";

const A = 0x10000000, B = 0x20000000, C = 0x30000000;
const seq = (base: number) => new SequentialPattern({ base, size: 1 << 20 }, DEFAULT_STYLE, {}, ctx());
const region = (addr: number): string => (addr >= C ? "c" : addr >= B ? "b" : "a");

function phases(durations: number[]): Phase[] {
  return durations.map((d, i) => ({ name: `p${i}`, duration: d, pattern: seq([A, B, C][i]!) }));
}

function regionsOf(b: AccessBatch): Set<string> {
  const s = new Set<string>();
  for (let i = 0; i < b.length; i++) s.add(region(b.addr[i]!));
  return s;
}

describe("PhasedProgram", () => {
  it("switches phases when now passes their duration, however many accesses were made", () => {
    const p = new PhasedProgram(1, phases([100 * MS, 100 * MS]));
    const b = new AccessBatch(256);
    const at = (now: number): Set<string> => {
      p.next(b, now);
      return regionsOf(b);
    };
    expect(at(0)).toEqual(new Set(["a"]));
    expect(at(1)).toEqual(new Set(["a"])); // a tiny clock step: still phase 0
    expect(at(99 * MS)).toEqual(new Set(["a"]));
    expect(at(100 * MS - 1)).toEqual(new Set(["a"]));
    expect(at(100 * MS)).toEqual(new Set(["b"]));
    expect(at(150 * MS)).toEqual(new Set(["b"]));
    expect(p.next(b, 200 * MS)).toBe(0);
    expect(p.done).toBe(true);
    expect(p.next(b, 300 * MS)).toBe(0);
  });

  it("anchors the schedule at the first batch's clock and repeats the list", () => {
    const p = new PhasedProgram(1, phases([10 * MS, 20 * MS]), { repeat: 2 });
    const b = new AccessBatch(16);
    const t0 = 5 * MS;
    const seen: string[] = [];
    for (const t of [0, 9, 10, 29, 30, 39, 40, 59]) {
      p.next(b, t0 + t * MS);
      seen.push([...regionsOf(b)].join());
    }
    expect(seen).toEqual(["a", "a", "b", "b", "a", "a", "b", "b"]);
    expect(p.next(b, t0 + 60 * MS)).toBe(0);
  });

  it("skips phases shorter than the gap between two batches", () => {
    const p = new PhasedProgram(1, phases([10 * MS, 1 * MS, 10 * MS]));
    const b = new AccessBatch(16);
    p.next(b, 0);
    p.next(b, 11.5 * MS);
    expect(regionsOf(b)).toEqual(new Set(["c"]));
  });

  it("stops after stopAfter and skips whole passes after a long stall without looping over them", () => {
    const p = new PhasedProgram(1, phases([1 * MS, 2 * MS]), { repeat: Infinity, stopAfter: 8e15 });
    const b = new AccessBatch(16);
    p.next(b, 0);
    // 10^9 passes of 3 ms later, plus 1.5 ms: phase b of some pass
    const t0 = performance.now();
    p.next(b, 3 * MS * 1e9 + 1.5 * MS);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(regionsOf(b)).toEqual(new Set(["b"]));
    p.next(b, 3 * MS * 1e9 + 3.2 * MS);
    expect(regionsOf(b)).toEqual(new Set(["a"]));
    expect(p.next(b, 8e15)).toBe(0);
    const q = new PhasedProgram(1, phases([Infinity]), { stopAfter: 5 * MS });
    expect(q.next(b, 100)).toBe(16);
    expect(q.next(b, 100 + 5 * MS - 1)).toBe(1); // cut short: one access is estimated to reach the end
    expect(q.next(b, 100 + 5 * MS)).toBe(0);
  });

  it("with a regular clock, cuts the batch before a boundary so the switch lands on it", () => {
    // Each access costs 10 ns; phase a lasts 1 ms = 100,000 accesses.
    const p = new PhasedProgram(1, phases([1 * MS, 1 * MS]));
    const { rows, starts } = runProgram(p, 4096, 10, 10_000);
    const inA = rows.addr.filter((x) => region(x) === "a").length;
    const inB = rows.addr.filter((x) => region(x) === "b").length;
    expect(inA).toBe(100_000);
    expect(inB).toBe(100_000);
    expect(starts).toContain(1 * MS);
  });

  it("gives time-driven patterns the phase's scheduled start", () => {
    const ws = new WorkingSetPattern({ base: A, size: 1 << 20 }, DEFAULT_STYLE, { minBytes: 4096, maxBytes: 1 << 20, period: 10 * MS, shape: "sawtooth", access: "random", granularity: 4096 }, ctx());
    const p = new PhasedProgram(1, [
      { name: "x", duration: 3 * MS, pattern: seq(B) },
      { name: "ws", duration: 100 * MS, pattern: ws },
    ]);
    const b = new AccessBatch(8);
    p.next(b, 1 * MS);
    p.next(b, 7 * MS); // the working-set phase began at 4 ms (1 + 3), not 7
    expect(ws.windowAt(7 * MS)).toBe(Math.floor(((1 << 20) - 4096) * 0.3 / 4096) * 4096 + 4096);
  });

  it("rejects phase lists it cannot run", () => {
    expect(() => new PhasedProgram(1, [])).toThrow(/at least one phase/);
    expect(() => new PhasedProgram(1, phases([Infinity, 5]))).toThrow(/only the last phase/);
    expect(() => new PhasedProgram(1, phases([0, 0]))).toThrow(/0 ns/);
  });
});
