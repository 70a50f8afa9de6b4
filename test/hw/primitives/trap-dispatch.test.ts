// The PROT_NONE dispatch rule (damon.md 3.5): with NUMA balancing enabled every trap fault, even on
// a trap DAMON armed, goes to the NUMA hinting handler and DAMON's handler is never called; with it
// disabled (or absent) DAMON's handler gets every fault, even on NUMA's traps. Also DAMON's fault
// reporter: the event it builds and the cost it returns.

import { describe, expect, it } from "vitest";
import { AccessKind } from "../../../hw/batch.ts";
import { CpuTime } from "../../../hw/cpu.ts";
import type { TrapFault } from "../../../hw/hooks.ts";
import type { Machine } from "../../../hw/machine.ts";
import { PteFlag, TrapOwner } from "../../../hw/pagetable.ts";
import { faultReporter } from "../../../hw/primitives/fault-report.ts";
import { NumaBalancing } from "../../../hw/primitives/numa-balancing.ts";
import { DATA_SOURCE_UNKNOWN, PrimitiveEvent } from "../../../hw/primitives/sample.ts";
import { TrapDispatch } from "../../../hw/primitives/trap-dispatch.ts";
import { MiB } from "../../../sim/units.ts";
import { listWorkload, makeMachine, oneProcess } from "../helpers.ts";

const R = AccessKind.READ;
const W = AccessKind.WRITE;

type Mode = "numa-on" | "numa-off" | "no-numa";

/** Touches two pages, arms a DAMON trap on page 0 and a NUMA trap on page 1, touches both again. */
function scenario(mode: Mode, damon: ((m: Machine) => (f: TrapFault) => number) | null) {
  const { layout, areas } = oneProcess({ mmap: [{ name: "a", size: 1 * MiB }], threads: [{ tid: 1, cpus: [1] }] });
  const a = areas.get("a")!.start;
  const { m, sched } = makeMachine("tiny");
  const dispatch = new TrapDispatch(m).install();
  // the scanner never runs within this short test (1 s delay); only the handler matters
  const numa = mode === "no-numa" ? null : new NumaBalancing(m, { enabled: mode === "numa-on" });
  dispatch.numa = numa;
  const calls: TrapFault[] = [];
  if (damon) {
    const inner = damon(m);
    dispatch.damonFault = (f) => {
      calls.push({ ...f });
      return inner(f);
    };
  }
  const ptes: number[] = [];
  m.load(listWorkload(layout, new Map([[1, [
    { addr: a, kind: W },
    { addr: a + 4096, kind: W },
    { action: () => {
      ptes.push(m.lookupPte(0, a), m.lookupPte(0, a + 4096));
      m.armTrap(ptes[0]!, TrapOwner.DAMON);
      m.armTrap(ptes[1]!, TrapOwner.NUMA_HINT);
    } },
    { addr: a + 8, kind: R },
    { addr: a + 4096 + 8, kind: W },
  ]]])));
  sched.run(10_000_000);
  expect(m.finished).toBe(true);
  for (const p of ptes) expect(m.ptes.flags[p]! & PteFlag.TRAP).toBe(0);
  return { m, dispatch, numa, calls, ptes, a };
}

describe("dispatch rule", () => {
  it("NUMA balancing on: both faults, DAMON's trap included, go to the hinting handler; DAMON's is not called", () => {
    const s = scenario("numa-on", () => () => 500);
    expect(s.calls.length).toBe(0);
    expect(s.dispatch.toNuma).toBe(2);
    expect(s.dispatch.toDamon).toBe(0);
    expect(s.dispatch.damonTrapsToNuma).toBe(1);
    expect(s.numa!.numaHintFaults).toBe(2);
    expect(s.numa!.hintFaultsOnDamonTraps).toBe(1);
    expect(s.m.cpus[1]!.time[CpuTime.TRAP]).toBe(2 * 1000);
  });

  it("NUMA balancing off: DAMON's handler gets both faults, NUMA's leftover trap included", () => {
    const s = scenario("numa-off", () => () => 500);
    expect(s.calls.map((f) => [f.pte, f.owners, f.isWrite])).toEqual([[s.ptes[0], TrapOwner.DAMON, false], [s.ptes[1], TrapOwner.NUMA_HINT, true]]);
    expect(s.dispatch.toNuma).toBe(0);
    expect(s.numa!.numaHintFaults).toBe(0);
    expect(s.m.cpus[1]!.time[CpuTime.TRAP]).toBe(2 * 500);
  });

  it("no NUMA balancing at all: DAMON's handler; with no handler either the PTE is just restored", () => {
    expect(scenario("no-numa", () => () => 0).calls.length).toBe(2);
    const orphan = scenario("no-numa", null);
    expect(orphan.dispatch.orphans).toBe(2);
    expect(orphan.m.cpus[1]!.time[CpuTime.TRAP]).toBe(2 * orphan.dispatch.orphanFaultNs);
  });

  it("toggling NUMA balancing off at run time switches the route", () => {
    const { m } = makeMachine("tiny");
    const d = new TrapDispatch(m);
    const numa = new NumaBalancing(m);
    d.numa = numa;
    expect(d.numaEnabled).toBe(true);
    numa.enabled = false;
    expect(d.numaEnabled).toBe(false);
    numa.stop();
  });
});

describe("DAMON's fault reporter", () => {
  it("reports a 'fault' event in process context and costs handlerNs plus the sink's ns", () => {
    const events: PrimitiveEvent[] = [];
    const s = scenario("numa-off", (m) => faultReporter(m, (e) => { events.push(Object.assign(new PrimitiveEvent(), e)); return 30; }, { handlerNs: 800 }));
    expect(events.length).toBe(2);
    expect(events[0]).toMatchObject({ context: "process", cpu: 1, cpuNode: 0, pid: 1, tid: 1, vaddr: s.a + 8, size: 1, pageSize: 4096, isWrite: false, memNode: 0, dataSource: DATA_SOURCE_UNKNOWN, latencyNs: 0, pte: s.ptes[0] });
    expect(events[0]!.paddr).toBe(s.m.ptes.frame[s.ptes[0]!]! * 4096 + 8);
    expect(events[1]).toMatchObject({ vaddr: s.a + 4096 + 8, isWrite: true, pte: s.ptes[1] });
    expect(s.m.cpus[1]!.time[CpuTime.TRAP]).toBe(2 * (800 + 30));
  });
});
