// --param parsing shared by run and compare: spellings, aliases and the errors a typo gets.

import { describe, expect, it } from "vitest";
import { followAggregations, parsePrimitiveParams, PRIMITIVE_PARAM_KEYS } from "../../cli/run-setup.ts";
import { defaultAttrs } from "../../damon/attrs.ts";
import { REPORTING_PRIMITIVES } from "../../damon/primitives/index.ts";
import { createMonitor } from "../../damon/monitor.ts";
import { resolveWorkload } from "../../workloads/registry.ts";
import { makeMachine } from "../hw/helpers.ts";
import { UsageError } from "../../sim/errors.ts";
import { runCli } from "./helpers.ts";

describe("--param PRIM.KEY=VALUE", () => {
  it("accepts camelCase and dashed keys, aliases and booleans", () => {
    const p = parsePrimitiveParams(["ibs.period=4096", "ibs.l3-miss-only=true", "perf-mem.period=500", "perf-mem.store-period=700", "numa-hint.scan-size-mb=64", "fault.handlerNs=800"]);
    expect(p).toEqual({
      ibs: { period: 4096, l3MissOnly: true },
      "perf-mem": { loadPeriod: 500, storePeriod: 700 },
      "numa-hint": { scanSizeMb: 64 },
      fault: { handlerNs: 800 },
    });
  });

  it("rejects unknown primitives, unknown keys, bad values and bad shapes, naming them", () => {
    const cases: Array<[string, RegExp]> = [
      ["foo.bar=1", /unknown primitive 'foo'/],
      ["ibs.perod=4096", /ibs has no parameter 'perod'.*period/],
      ["perf-mem.period=often", /perf-mem\.period: 'often' is not a number/],
      ["ibs.period", /PRIMITIVE\.KEY=VALUE/],
    ];
    for (const [arg, msg] of cases) {
      let err: unknown = null;
      try {
        parsePrimitiveParams([arg]);
      } catch (e) {
        err = e;
      }
      expect(err, arg).toBeInstanceOf(UsageError);
      expect((err as Error).message, arg).toMatch(msg);
    }
  });

  it("lists every primitive that reports through damon_report_access() (each has parameters; the Accessed bit has none)", () => {
    expect(Object.keys(PRIMITIVE_PARAM_KEYS).sort()).toEqual([...REPORTING_PRIMITIVES].sort());
    expect(REPORTING_PRIMITIVES).toEqual(expect.arrayContaining(["fault", "ibs", "numa-hint", "perf-mem", "spe", "chmu"]));
    expect(PRIMITIVE_PARAM_KEYS.pte).toBeUndefined();
  });

  it("a typo fails run and compare at once with exit 2", () => {
    for (const cmd of [["run", "stairs"], ["compare", "stairs"]]) {
      const r = runCli([...cmd, "--param", "ibs.perod=4096", "-q", "-o", "/nonexistent/never-written"]);
      expect(r.status, cmd[0]).toBe(2);
      expect(r.stderr, cmd[0]).toMatch(/no parameter 'perod'/);
    }
  }, 60_000);

  it("a probe whose evidence no enabled primitive gives is refused, naming both", () => {
    const written = runCli(["run", "stairs", "--probe", "w:written", "-q", "-o", "/nonexistent/never-written"]);
    expect(written.status).toBe(2);
    expect(written.stderr).toMatch(/probe 'w' uses 'written', which only reports carry/);
    const ibs = runCli(["run", "stairs", "--primitives", "pte,fault", "--probe", "i:ibs-reported", "-q", "-o", "/nonexistent/never-written"]);
    expect(ibs.status).toBe(2);
    expect(ibs.stderr).toMatch(/probe 'i' uses 'ibs-reported', but ibs is not among --primitives \(pte,fault\)/);
  }, 60_000);

});

describe("run's ground truth follows DAMON's aggregations", () => {
  it("one truth window per aggregation, counted per the sample interval in force, under auto-tuning", () => {
    const { m, sched } = makeMachine("tiny", { truth: { windowNs: 0, subWindowNs: 1_000_000, frames: false } }, 3);
    m.load(resolveWorkload("stairs"));
    const attrs = { ...defaultAttrs(), sampleUs: 1000, aggrUs: 10_000, intervalsGoal: { accessBp: 400, aggrs: 2, minSampleUs: 250, maxSampleUs: 8000 } };
    const mon = createMonitor(m, { ops: "vaddr", attrs });
    const counted: number[] = []; // truth sub-window in force while each window was counted
    let sub = m.truth!.subWindowNs;
    mon.ctx.onAggregation(() => counted.push(sub));
    followAggregations(m, mon.ctx);
    mon.ctx.onAggregation(() => (sub = m.truth!.subWindowNs));
    const intervals: number[] = [1_000_000]; // sample interval in force during each window
    mon.ctx.onAggregation((c) => intervals.push(c.sampleNs));
    mon.kdamond.start();
    sched.run(150_000_000);
    expect(mon.ctx.aggregations).toBeGreaterThan(5);
    expect(m.truth!.windowIndex).toBe(mon.ctx.aggregations);
    expect(new Set(intervals).size).toBeGreaterThan(1);
    counted.forEach((s, i) => expect(s, `window ${i}`).toBe(intervals[i]));
  }, 60_000);
});
