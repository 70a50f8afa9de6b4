// Test scaffolding for the DAMOS core: scheme specs with the sysfs defaults, a context whose
// regions are fixed by hand and whose "accesses" follow a script (no machine), a recording stub of
// SchemeActions and a settable stub of MemoryState.

import { updateAccessRate } from "../../damon/aggregate.ts";
import { defaultAttrs, nrSamplesPerAggr, type DamonAttrs } from "../../damon/attrs.ts";
import { DamonContext } from "../../damon/context.ts";
import { kernelRules, type KernelVersion } from "../../damon/kernel.ts";
import type { DamonOps } from "../../damon/context.ts";
import { Region, type Target } from "../../damon/region.ts";
import type { ActionRequest, ActionResult, ActionTarget, DamosAction, MemoryState, QuotaGoal, SchemeActions, SchemeSpec } from "../../damon/schemes/types.ts";
import { RngRoot } from "../../sim/rng.ts";

export const BIG = 2 ** 64; // damo's "max" as a double

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

/** A scheme as sysfs starts it (everything 0 / none / empty, pattern open), with overrides. */
export function spec(action: DamosAction, o: DeepPartial<SchemeSpec> = {}): SchemeSpec {
  return {
    action,
    pattern: {
      szRegion: { min: 0, max: BIG, ...o.pattern?.szRegion },
      nrAccesses: { min: 0, max: BIG, ...o.pattern?.nrAccesses },
      age: { min: 0, max: BIG, ...o.pattern?.age },
    },
    applyIntervalUs: o.applyIntervalUs ?? 0,
    quota: {
      ms: 0, sz: 0, resetIntervalMs: 0, weightSz: 0, weightNrAccesses: 0, weightAge: 0, goals: [], goalTuner: "consist", failChargeNum: 0, failChargeDenom: 0,
      ...o.quota,
    } as SchemeSpec["quota"],
    wmarks: { metric: "none", intervalUs: 0, high: 0, mid: 0, low: 0, ...o.wmarks } as SchemeSpec["wmarks"],
    coreFilters: o.coreFilters ?? [],
    opsFilters: o.opsFilters ?? [],
    targetNid: o.targetNid ?? -1,
    dests: o.dests ?? [],
    maxNrSnapshots: o.maxNrSnapshots ?? 0,
  };
}

export function goal(metric: QuotaGoal["metric"], targetValue: number, o: Partial<QuotaGoal> = {}): QuotaGoal {
  return { metric, targetValue, currentValue: 0, nid: 0, memcgId: 0, complement: false, ...o };
}

/** Which regions a sample finds accessed: (target index, region start, passed sample count). */
export type AccessScript = (target: number, start: number, passed: number) => boolean;

/** An operations set with no machine: init keeps the regions given, checks follow the script. */
export function scriptedOps(name: string, script: AccessScript): DamonOps {
  return {
    name,
    init: () => undefined,
    update: () => undefined,
    prepareAccessChecks: () => undefined,
    checkAccesses(ctx: DamonContext): number {
      const window = nrSamplesPerAggr(ctx.attrs);
      let max = 0;
      ctx.targets.forEach((t, ti) => {
        for (const r of t.regions) {
          updateAccessRate(r, script(ti, r.start, ctx.passed), window);
          max = Math.max(max, r.nrAccesses);
        }
      });
      return max;
    },
  };
}

export interface CtxOptions {
  kernel?: KernelVersion;
  attrs?: Partial<DamonAttrs>;
  ops?: string;
  script?: AccessScript;
  minRegionSz?: number;
  /** Regions per target, [start, end) each. */
  targets?: Array<Array<[number, number]>>;
}

/** A context with fixed regions (not started). */
export function makeCtx(o: CtxOptions = {}): DamonContext {
  const ctx = new DamonContext({
    attrs: { ...defaultAttrs(), ...o.attrs },
    ops: scriptedOps(o.ops ?? "paddr", o.script ?? (() => false)),
    rng: new RngRoot(1).stream("damos-test"),
    kernel: kernelRules(o.kernel ?? "mainline"),
    minRegionSz: o.minRegionSz ?? 4096,
  });
  for (const ranges of o.targets ?? [[[0, 4 << 20]]]) {
    const t = ctx.addTarget(null);
    t.regions = ranges.map(([s, e]) => new Region(s, e));
  }
  return ctx;
}

export const ranges = (t: Target): Array<[number, number]> => t.regions.map((r) => [r.start, r.end]);

export interface AppliedCall {
  target: ActionTarget;
  start: number;
  end: number;
  req: ActionRequest;
}

/** A SchemeActions that records every call and answers with `answer` (default: applied = the whole range). */
export class StubActions implements SchemeActions {
  readonly calls: AppliedCall[] = [];
  readonly rounds: number[] = [];
  constructor(
    readonly opsName = "paddr",
    private readonly answer: (start: number, end: number, req: ActionRequest) => ActionResult = (s, e) => ({ appliedBytes: e - s, filterPassedBytes: 0, costNs: 0 }),
    private readonly supported: (a: DamosAction) => boolean = () => true,
  ) {}
  supports(action: DamosAction): boolean {
    return this.supported(action);
  }
  apply(target: ActionTarget, start: number, end: number, req: ActionRequest): ActionResult {
    this.calls.push({ target, start, end, req });
    return this.answer(start, end, req);
  }
  roundDone(scheme: number): void {
    this.rounds.push(scheme);
  }
}

/** A MemoryState whose counters are plain fields. */
export class StubMemory implements MemoryState {
  nrNodes = 2;
  total = [1 << 30, 1 << 30];
  free = [1 << 29, 1 << 29];
  memcg = new Map<string, number>();
  active = 0;
  inactive = 0;
  huge = 0;
  freeRate = 500;
  stallUs = 0;
  /** mem_cgroup_get_from_id (undefined: every id exists). */
  hasMemcg?: (memcg: number) => boolean;
  /** physBytesOnNode: bytes per node of [start, end) (default: node by address halves of 4 MiB). */
  onNode: (start: number, end: number, nid: number) => number = (s, e, nid) => {
    const mid = 2 << 20;
    const lo = nid === 0 ? s : Math.max(s, mid), hi = nid === 0 ? Math.min(e, mid) : e;
    return Math.max(0, hi - lo);
  };
  nodeTotalBytes(nid: number): number {
    return this.total[nid] ?? 0;
  }
  nodeFreeBytes(nid: number): number {
    return this.free[nid] ?? 0;
  }
  memcgNodeBytes(nid: number, memcg: number): number {
    return this.memcg.get(`${nid}:${memcg}`) ?? 0;
  }
  activeBytes(): number {
    return this.active;
  }
  inactiveBytes(): number {
    return this.inactive;
  }
  hugeBytes(): number {
    return this.huge;
  }
  freeMemRatePermil(): number {
    return this.freeRate;
  }
  memStallTotalUs(): number {
    return this.stallUs;
  }
  physBytesOnNode(start: number, end: number, nid: number): number {
    return this.onNode(start, end, nid);
  }
}

/** Drives a context as kdamond does: started at 0, each iteration after the sleep the last one asked for. */
export class Driver {
  now = 0;
  sleep: number;
  constructor(readonly ctx: DamonContext) {
    this.sleep = ctx.start(0);
  }
  /** Runs `n` iterations, calling `after` after each. */
  steps(n: number, after?: (ctx: DamonContext) => void): this {
    for (let i = 0; i < n; i++) {
      this.now += this.sleep;
      this.sleep = this.ctx.step(this.now);
      after?.(this.ctx);
    }
    return this;
  }
}
