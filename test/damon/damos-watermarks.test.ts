// DAMOS watermarks: damos_wmark_wait_us's activation sequence through high, mid and low, and
// kdamond_wait_activation in the context's loop and on the scheduler: while every scheme is
// inactive with a non-zero interval no sampling happens and kdamond sleeps the shortest interval
// (the damon_call callbacks still run); an inactive scheme with interval 0, or a scheme without
// watermarks, keeps monitoring going while the inactive one is skipped.

import { describe, expect, it } from "vitest";
import { Kdamond } from "../../damon/kdamond.ts";
import type { Watermarks } from "../../damon/schemes/types.ts";
import { wmarkWaitUs } from "../../damon/schemes/watermarks.ts";
import { makeMachine } from "../hw/helpers.ts";
import { Driver, makeCtx, spec, StubActions, StubMemory } from "./damos-helpers.ts";

const wm = (o: Partial<Watermarks> = {}): Watermarks => ({ metric: "free_mem_rate", intervalUs: 5000, high: 800, mid: 500, low: 200, ...o });

describe("damos_wmark_wait_us", () => {
  it("high 800, mid 500, low 200: active until above high or below low; reactivated only below mid", () => {
    const mem = new StubMemory();
    const s = { wmarks: wm(), activated: true };
    const seq: Array<[number, number, boolean]> = [];
    for (const m of [600, 900, 700, 800, 400, 700, 100, 300, 200, 801]) {
      mem.freeRate = m;
      const w = wmarkWaitUs(s, mem);
      seq.push([m, w, s.activated]);
    }
    expect(seq).toEqual([
      [600, 0, true], // between mid and high, active: stays
      [900, 5000, false], // above high
      [700, 5000, false], // between mid and high, inactive: stays inactive
      [800, 5000, false], // high itself is not above high
      [400, 0, true], // between low and mid
      [700, 0, true],
      [100, 5000, false], // below low
      [300, 0, true],
      [200, 0, true], // low itself is not below low
      [801, 5000, false],
    ]);
  });

  it("metric none: always 0, activation untouched", () => {
    const s = { wmarks: wm({ metric: "none" }), activated: false };
    expect(wmarkWaitUs(s, new StubMemory())).toBe(0);
    expect(s.activated).toBe(false);
  });
});

describe("kdamond_wait_activation in the loop", () => {
  // three fixed 1 MiB regions (min = max = 3 regions: no split, no merge), never accessed
  const three: Array<[number, number]> = [[0, 1 << 20], [1 << 20, 2 << 20], [2 << 20, 3 << 20]];
  const setup = (schemes = [spec("stat", { wmarks: wm() })]) => {
    const ctx = makeCtx({ attrs: { sampleUs: 5000, aggrUs: 100_000, minNrRegions: 3, maxNrRegions: 3 }, targets: [three] });
    const mem = new StubMemory();
    mem.freeRate = 900; // above high: inactive
    ctx.setSchemes(schemes, new StubActions(), mem);
    let calls = 0;
    ctx.onCall(() => calls++);
    return { ctx, mem, calls: () => calls };
  };

  it("starts waiting when every scheme is inactive: no sampling, sleeps of the 5 ms interval, callbacks served", () => {
    const { ctx, mem, calls } = setup([spec("stat", { wmarks: wm({ intervalUs: 7000 }) }), spec("stat", { wmarks: wm({ intervalUs: 3000 }) })]);
    const d = new Driver(ctx);
    expect(d.sleep).toBe(3_000_000); // the least interval
    d.steps(10);
    expect([ctx.samples, ctx.passed, calls(), d.now]).toEqual([0, 0, 10, 30_000_000]);
    mem.freeRate = 400; // both activate
    d.steps(1); // that wait's end: activation, prepare_access_checks, then sample intervals
    expect([ctx.samples, d.sleep, ctx.waiting]).toEqual([0, 5_000_000, false]);
    d.steps(20);
    expect(ctx.samples).toBe(20);
    expect(ctx.damos!.schemes.map((s) => s.stat.nrTried)).toEqual([3, 3]); // one round (3 regions) at the first aggregation
    mem.freeRate = 100; // below low: deactivated at the top of the next iteration
    d.steps(1);
    expect([ctx.samples, ctx.waiting, d.sleep]).toEqual([21, true, 3_000_000]);
  });

  it("an inactive scheme with interval 0 keeps monitoring running but is not applied", () => {
    const { ctx } = setup([spec("stat", { wmarks: wm({ intervalUs: 0 }) })]);
    new Driver(ctx).steps(40);
    expect([ctx.samples, ctx.damos!.schemes[0]!.stat.nrTried, ctx.damos!.schemes[0]!.activated]).toEqual([40, 0, false]);
  });

  it("a scheme without watermarks keeps monitoring and applying while the other waits", () => {
    const { ctx } = setup([spec("stat", { wmarks: wm() }), spec("stat")]);
    new Driver(ctx).steps(40);
    expect(ctx.samples).toBe(40);
    expect(ctx.damos!.schemes.map((s) => s.stat.nrTried)).toEqual([0, 6]); // rounds at samples 20 and 40
  });

  it("kdamond on the scheduler sleeps the wait: 10 checks in 50 ms, then 10 samples in the next 50 ms", () => {
    const { m, sched } = makeMachine("tiny");
    const ctx = makeCtx({ attrs: { sampleUs: 5000, aggrUs: 100_000 } });
    const mem = new StubMemory();
    mem.freeRate = 900;
    ctx.setSchemes([spec("stat", { wmarks: wm({ intervalUs: 5000 }) })], new StubActions(), mem);
    const k = new Kdamond(m, ctx);
    k.start();
    sched.run(50_000_000);
    expect(ctx.samples).toBe(0);
    mem.freeRate = 400;
    sched.run(100_000_000);
    // the wake at 55 ms activates and prepares; samples at 60, 65, ..., 100 ms
    expect(ctx.samples).toBe(9);
    k.stop();
  });
});
