// NominalRecorder: interleaving of thread programs on the nominal clock, exact duration cut-off,
// the clock handed to programs, merged sources, and determinism. The expectations come from a
// separate, deliberately naive reference scheduler written here.

import { describe, expect, it } from "vitest";
import { AccessBatch } from "../../../hw/batch.ts";
import type { ThreadProgram, Workload } from "../../../hw/program.ts";
import { NominalRecorder, type NominalClock } from "../../../workloads/trace/nominal-recorder.ts";
import { HEADER, rowsOf, type Row } from "./helpers.ts";

/** Emits a fixed list of rows, `per` at a time, and remembers the clocks it was called with. */
class ListProgram implements ThreadProgram {
  pos = 0;
  readonly nows: number[] = [];
  constructor(readonly tid: number, private readonly rows: Row[], private readonly per: number) {}
  next(out: AccessBatch, now: number): number {
    this.nows.push(now);
    out.clear();
    while (out.length < Math.min(this.per, out.capacity) && this.pos < this.rows.length) {
      const r = this.rows[this.pos++]!;
      out.push(r.addr, r.size, r.kind, r.tid, r.gap);
    }
    return out.length;
  }
}

const threadRows = (tid: number, n: number, gap: (i: number) => number): Row[] =>
  Array.from({ length: n }, (_, i) => ({ addr: tid * 0x100000 + i * 8, size: 8, kind: i % 3 === 0 ? 1 : 0, tid, gap: gap(i) }));

function workloadOf(lists: Row[][], per: number[]): { workload: Workload; programs: ListProgram[] } {
  const programs: ListProgram[] = [];
  const workload: Workload = {
    name: "test",
    layout: HEADER.layout!,
    start() {
      programs.length = 0;
      lists.forEach((rows, i) => programs.push(new ListProgram(rows[0]!.tid, rows, per[i]!)));
      return { kind: "threads", threads: programs };
    },
  };
  return { workload, programs };
}

function record(workload: Workload, clock: NominalClock, durationNs?: number, batchSize = 64): Row[] {
  const rec = new NominalRecorder(workload, { seed: 1, clock, batchSize, ...(durationNs !== undefined ? { durationNs } : {}) });
  const rows: Row[] = [];
  while (rec.step((b) => rows.push(...rowsOf(b)), 7)) { /* keep going */ }
  expect(rec.done).toBe(true);
  expect(rec.accesses).toBe(rows.length);
  return rows;
}

/** Naive reference: same rules, written from the module's documented contract. */
function reference(lists: Row[][], per: number[], c: NominalClock, duration = Infinity, batchSize = 64): Row[] {
  const st = lists.map(() => ({ pos: 0, a: 0, o: 0, clock: 0, ended: false }));
  const out: Row[] = [];
  for (;;) {
    let t = -1;
    st.forEach((s, i) => {
      if (!s.ended && (t < 0 || s.clock < st[t]!.clock)) t = i;
    });
    if (t < 0) return out;
    const s = st[t]!;
    const end = s.clock + c.quantumNs;
    while (!s.ended && s.clock < end) {
      const batch = lists[t]!.slice(s.pos, s.pos + Math.min(per[t]!, batchSize));
      s.pos += batch.length;
      if (batch.length === 0) {
        s.ended = true;
        break;
      }
      for (const r of batch) {
        const time = Math.round(s.a * c.nsPerAccess + (s.o + r.gap) * c.nsPerOp);
        if (time >= duration) {
          s.ended = true;
          break;
        }
        out.push(r);
        s.a++;
        s.o += r.gap;
      }
      s.clock = Math.round(s.a * c.nsPerAccess + s.o * c.nsPerOp);
    }
  }
}

describe("nominal-clock recording", () => {
  const lists = [threadRows(1, 500, () => 0), threadRows(2, 300, (i) => i % 5), threadRows(3, 50, () => 40)];
  const per = [16, 10, 3];

  it("interleaves threads by their clocks in quanta (against a reference scheduler)", () => {
    for (const clock of [{ nsPerAccess: 1, nsPerOp: 1, quantumNs: 20 }, { nsPerAccess: 1.67, nsPerOp: 0.33, quantumNs: 100 }, { nsPerAccess: 3, nsPerOp: 0, quantumNs: 1 }]) {
      const { workload } = workloadOf(lists, per);
      const got = record(workload, clock);
      expect(got).toEqual(reference(lists, per, clock));
      expect(got).toHaveLength(850);
      // each thread's own order is kept
      for (const tid of [1, 2, 3]) expect(got.filter((r) => r.tid === tid)).toEqual(lists[tid - 1]);
      // and the threads really are interleaved
      expect(got.slice(0, 100).some((r) => r.tid === 2)).toBe(true);
    }
  });

  it("stops exactly at the duration: keeps the accesses that happen before it", () => {
    const clock = { nsPerAccess: 2, nsPerOp: 1, quantumNs: 30 };
    for (const duration of [1, 2, 3, 100, 333, 1000]) {
      const { workload } = workloadOf(lists, per);
      const got = record(workload, clock, duration);
      expect(got).toEqual(reference(lists, per, clock, duration));
      // per thread, the k-th access happens at 2k + 1*(gaps up to and including it)
      for (const [t, rows] of lists.entries()) {
        let gaps = 0;
        const expected = rows.filter((r, k) => (gaps += r.gap, 2 * k + gaps < duration));
        expect(got.filter((r) => r.tid === t + 1)).toEqual(expected);
      }
    }
  });

  it("hands each program its own clock as `now`", () => {
    const clock = { nsPerAccess: 1, nsPerOp: 1, quantumNs: 1000 };
    const { workload, programs } = workloadOf([threadRows(7, 20, () => 2)], [5]);
    record(workload, clock);
    // after 5k accesses with gap 2 each: 5k + 10k ns
    expect(programs[0]!.nows).toEqual([0, 15, 30, 45, 60]);
  });

  it("records a merged source on one clock", () => {
    const rows = [...threadRows(1, 40, () => 1), ...threadRows(2, 40, () => 1)];
    let pos = 0;
    const workload: Workload = {
      name: "merged",
      layout: HEADER.layout!,
      start: () => ({
        kind: "merged",
        source: {
          next(out: AccessBatch): number {
            out.clear();
            while (!out.full && pos < rows.length) {
              const r = rows[pos++]!;
              out.push(r.addr, r.size, r.kind, r.tid, r.gap);
            }
            return out.length;
          },
        },
      }),
    };
    // access k happens at k * 1 + (k + 1) * 1 ns: those before 51 ns are k = 0..24
    expect(record(workload, { nsPerAccess: 1, nsPerOp: 1, quantumNs: 10 }, 51, 16)).toEqual(rows.slice(0, 25));
  });

  it("is deterministic", () => {
    const clock = { nsPerAccess: 1.67, nsPerOp: 0.33, quantumNs: 50 };
    const a = record(workloadOf(lists, per).workload, clock, 400);
    const b = record(workloadOf(lists, per).workload, clock, 400);
    expect(a).toEqual(b);
  });
});
