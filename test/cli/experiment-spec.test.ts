// Experiment files: every field reaches the ExperimentSpec, and every malformed field is named.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadExperiment } from "../../cli/experiment/spec.ts";
import { InputError } from "../../sim/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "damon-sim-exp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const write = (o: unknown): string => {
  const f = join(dir, `e${n++}.json`);
  writeFileSync(f, JSON.stringify(o));
  return f;
};

describe("loadExperiment", () => {
  it("reads attributes, scoring, filters, truth filters and switches", () => {
    const x = loadExperiment(write({
      workload: "stairs", machine: "tiny", duration: "400ms", seed: 7, ops: "paddr", theta: 0.25, warmup: 2,
      attrs: { sample: "2ms", aggr: "40ms", update: "200ms", minRegions: 5, maxRegions: 50 },
      variants: [{
        name: "v", primitives: ["perf-mem", "ibs"], params: { "ibs.period": 4096 }, buffer: "array", filterSemantics: "next-quirk",
        filters: [{ type: "cpumask", cpus: "0-2,5" }, { type: "threads", tids: [11, 12], matching: false }, { type: "write", allow: false }],
        truthFilter: { cpus: [0, 1], tids: [11], writesOnly: true }, flushTlbOnMkold: true, numaBalancing: true,
      }],
    }));
    expect([x.workload, x.machine, x.durationNs, x.seed, x.ops, x.theta, x.warmupWindows]).toEqual(["stairs", "tiny", 400_000_000, 7, "paddr", 0.25, 2]);
    expect([x.sampleUs, x.aggrUs, x.opsUpdateUs, x.minNrRegions, x.maxNrRegions]).toEqual([2000, 40_000, 200_000, 5, 50]);
    const v = x.variants[0]!;
    expect(v.primitives).toEqual(["perf-mem", "ibs"]);
    expect([v.buffer, v.filterSemantics, v.flushTlbOnMkold, v.numaBalancing]).toEqual(["array", "next-quirk", true, true]);
    expect(v.filters).toEqual([
      { type: "cpumask", matching: true, allow: true, cpus: [0, 1, 2, 5] },
      { type: "threads", matching: false, allow: true, tids: [11, 12] },
      { type: "write", matching: true, allow: false },
    ]);
    expect(v.truthFilter).toEqual({ cpus: [0, 1], tids: [11], writesOnly: true });
  });

  it("names the file and the field of each mistake", () => {
    const base = { variants: [{ primitives: ["pte"] }] };
    const cases: Array<[unknown, string]> = [
      [{ ...base, theta: 0 }, "theta"],
      [{ ...base, theta: "hot" }, "theta"],
      [{ ...base, warmup: -1 }, "warmup"],
      [{ ...base, attrs: { minRegions: 2.5 } }, "attrs.minRegions"],
      [{ variants: [{ primitives: ["pte"], buffer: "ring" }] }, "variants[0].buffer"],
      [{ variants: [{ primitives: ["pte"], filterSemantics: "quirky" }] }, "variants[0].filterSemantics"],
      [{ variants: [{ primitives: ["fault"], filters: [{ type: "node" }] }] }, "variants[0].filters[0].type"],
      [{ variants: [{ primitives: ["fault"], filters: [{ type: "cpumask", cpus: "0-x" }] }] }, "variants[0].filters[0].cpus"],
      [{ variants: [{ primitives: ["fault"], filters: [{ type: "threads", tids: "1" }] }] }, "variants[0].filters[0].tids"],
      [{ variants: [{ primitives: ["fault"], filters: [{ type: "write", allow: "no" }] }] }, "variants[0].filters[0].allow"],
      [{ variants: [{ primitives: ["fault"], filters: {} }] }, "variants[0].filters"],
      [{ variants: [{ primitives: ["fault"], truthFilter: { writesOnly: 1 } }] }, "variants[0].truthFilter.writesOnly"],
      [{ variants: [{ primitives: ["fault"], numaBalancing: "yes" }] }, "variants[0].numaBalancing"],
    ];
    for (const [o, field] of cases) {
      const f = write(o);
      let err: unknown = null;
      try {
        loadExperiment(f);
      } catch (e) {
        err = e;
      }
      expect(err, field).toBeInstanceOf(InputError);
      expect((err as Error).message, field).toContain(f);
      expect((err as Error).message, field).toContain(`'${field}'`);
    }
  });
});

describe("experiment files with DAMOS schemes and a tiering block", () => {
  const scheme = { action: "migrate_hot", target_nid: 0, access_pattern: { sz_bytes: { min: "4 KiB", max: "max" }, nr_accesses: { min: "5 %", max: "max" }, age: { min: "0 us", max: "max" } } };
  const write = (o: unknown): string => {
    const p = join(mkdtempSync(join(tmpdir(), "xp-schemes-")), "x.json");
    writeFileSync(p, JSON.stringify(o, null, 2));
    return p;
  };
  it("puts the tiering baselines first, keeps the experiment's schemes and a variant's own (none)", () => {
    const x = loadExperiment(write({ workload: "tiering-loop", machine: "cxl-tier-small", ops: "paddr", schemes: [scheme], tiering: { hotRegion: { pid: 100, vma: "hot2" }, phaseChange: "800ms" }, variants: [{ name: "pte", primitives: ["pte"] }, { name: "plain", primitives: ["pte"], schemes: [] }] }));
    expect(x.variants.map((v) => v.name)).toEqual(["all DRAM", "oracle", "pte", "plain"]);
    expect(x.variants[0]!.allDram).toBe(true);
    expect(x.variants[1]!.placement).toBe("oracle");
    expect(x.schemes).toHaveLength(1);
    expect(x.variants[3]!.schemes).toEqual([]);
    expect(x.tiering).toMatchObject({ fastNode: 0, slowNode: 1, phaseChangeNs: 800_000_000, settled: 0.9 });
  });
  it("names the field of a bad scheme inside the experiment file", () => {
    const p = write({ workload: "tiering-loop", schemes: [{ ...scheme, action: "migrate_warm" }], variants: [{ name: "pte", primitives: ["pte"] }] });
    expect(() => loadExperiment(p)).toThrow(/schemes\[0\]\.action/);
    expect(() => loadExperiment(p)).toThrow(InputError);
  });
  it("refuses an unknown tiering baseline and a hot region without a VMA name", () => {
    expect(() => loadExperiment(write({ tiering: { hotRegion: { pid: 1, vma: "x" }, baselines: ["psychic"] }, variants: [{ name: "pte", primitives: ["pte"] }] }))).toThrow(/tiering\.baselines/);
    expect(() => loadExperiment(write({ tiering: { hotRegion: { pid: 1 } }, variants: [{ name: "pte", primitives: ["pte"] }] }))).toThrow(/tiering\.hotRegion\.vma/);
  });
});
