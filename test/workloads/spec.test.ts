// JSON workload specs: the shipped example, layouts (heap/mmap placement, file backing, memcg,
// NUMA policy, huge pages, pthread stacks, CPU affinity), shared and private regions, per-thread
// phases, determinism, and errors naming the field path (and the file, line and column for JSON
// syntax errors).

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { validateLayout } from "../../hw/layout.ts";
import { InputError } from "../../sim/errors.ts";
import { locateJsonError } from "../../sim/json-text.ts";
import { CONFIGS_DIR } from "../../workloads/registry.ts";
import { loadWorkloadSpec, parseWorkloadSpec, specWorkload } from "../../workloads/spec.ts";
import { insideLayout, runBatches } from "./helpers.ts";

const MiB = 1 << 20;

function fieldError(json: unknown): InputError {
  try {
    parseWorkloadSpec(json, { name: "t" });
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error("expected an InputError");
}

const base = (): Record<string, unknown> => ({
  regions: [
    { name: "a", size: "4MiB" },
    { name: "b", size: 65536 },
  ],
  threads: [
    { pattern: { type: "uniform", region: "a" } },
    { cpus: [1], phases: [{ duration: "10ms", pattern: { type: "sequential", region: "b" } }, { pattern: { type: "zipf", region: "a" } }] },
  ],
});

describe("workload spec", () => {
  it("loads the shipped example and lays it out realistically", () => {
    const w = loadWorkloadSpec(join(CONFIGS_DIR, "example-spec.json"));
    validateLayout(w.layout);
    expect(w.name).toBe("kv-store");
    const [kvd, batch] = w.layout.processes;
    expect(kvd!.pid).toBe(1000);
    expect(kvd!.memcg).toBe(1);
    expect(kvd!.threads).toEqual([{ tid: 1000, cpus: [0] }, { tid: 1001, cpus: [1] }]);
    const vma = (p: typeof kvd, name: string) => p!.vmas.find((v) => v.name === name)!;
    expect(vma(kvd, "config").kind).toBe("heap"); // 16 KiB: below malloc's mmap threshold
    expect(vma(kvd, "table").kind).toBe("mmap");
    expect(vma(kvd, "table").policy).toEqual({ mode: "interleave", nodes: [0, 1] });
    expect(vma(kvd, "log")).toMatchObject({ backing: "file", file: { id: "kvd.log", offset: 0 }, shared: true });
    expect(vma(kvd, "[stack:1001]").end - vma(kvd, "[stack:1001]").start).toBe(8 * MiB);
    expect(batch!.policy).toEqual({ mode: "preferred", nodes: [1] });
    expect(vma(batch, "work").hugepages).toBe(true);
    expect(vma(batch, "work").start % (2 * MiB)).toBe(0);
    expect(batch!.threads).toEqual([{ tid: 2000, cpus: [2, 3] }]);
    // every access of every thread lands inside its layout
    const rows = runBatches(w, 1, 20, 30_000_000);
    const bad = rows.flat().filter(([addr, size]) => !insideLayout(w.layout, addr!, size!));
    expect(bad).toEqual([]);
  });

  it("shares a region between threads that name it and keeps private ones private", () => {
    const w = specWorkload(
      parseWorkloadSpec(
        {
          regions: [{ name: "shared", size: "1MiB" }, { name: "p0", size: "1MiB" }, { name: "p1", size: "1MiB" }],
          threads: [0, 1].map((i) => ({
            pattern: { type: "mix", parts: [{ weight: 1, pattern: { type: "uniform", region: "shared" } }, { weight: 1, pattern: { type: "uniform", region: `p${i}` } }] },
          })),
        },
        { name: "share" },
      ),
    );
    const vmas = w.layout.processes[0]!.vmas;
    const range = (n: string) => vmas.find((v) => v.name === n)!;
    const [t0, t1] = runBatches(w, 3, 1, 1000, 4096);
    const inR = (rows: number[][], n: string) => rows.filter(([a]) => a! >= range(n).start && a! < range(n).end).length;
    expect(inR(t0!, "shared")).toBeGreaterThan(1000);
    expect(inR(t1!, "shared")).toBeGreaterThan(1000);
    expect(inR(t0!, "p0") + inR(t0!, "shared")).toBe(4096);
    expect(inR(t1!, "p1") + inR(t1!, "shared")).toBe(4096);
    expect(new Set(t0!.map((r) => r[3]))).toEqual(new Set([1000]));
    expect(new Set(t1!.map((r) => r[3]))).toEqual(new Set([1001]));
  });

  it("is deterministic for a seed and differs across seeds", () => {
    const w = specWorkload(parseWorkloadSpec(base(), { name: "det" }));
    expect(runBatches(w, 1, 4)).toEqual(runBatches(w, 1, 4));
    expect(runBatches(w, 1, 4)).not.toEqual(runBatches(w, 2, 4));
  });

  it("places regions of 128 KiB and more with mmap, smaller ones in the heap, unless told", () => {
    const p = parseWorkloadSpec({ regions: [{ name: "s", size: 131071 }, { name: "m", size: 131072 }, { name: "h", size: "1MiB", area: "heap" }], threads: [{ pattern: { type: "uniform", region: "s" } }] }, { name: "x" });
    const kinds = Object.fromEntries(p.processes[0]!.vmas.map((v) => [v.name, v.kind]));
    expect(kinds).toMatchObject({ s: "heap", m: "mmap", h: "heap" });
  });

  it("names the field of every error", () => {
    const cases: Array<[(j: Record<string, unknown>) => void, string, RegExp]> = [
      [(j) => { (j.threads as any[])[1].phases[0].pattern = undefined; }, "threads[1].phases[0].pattern", /must be an object/],
      [(j) => { (j.threads as any[])[1].phases[0].pattern.type = "zigzag"; }, "threads[1].phases[0].pattern.type", /must be one of/],
      [(j) => { (j.threads as any[])[1].phases[0].pattern.region = "c"; }, "threads[1].phases[0].pattern.region", /unknown region 'c' \(known: a, b\)/],
      [(j) => { (j.threads as any[])[1].phases[0].pattern.stride = "4 pages"; }, "threads[1].phases[0].pattern.stride", /unknown size unit/],
      [(j) => { (j.threads as any[])[1].phases[0].pattern.stide = 64; }, "threads[1].phases[0].pattern.stide", /unknown field 'stide'/],
      [(j) => { (j.threads as any[])[0].pattern.writeFraction = 1.5; }, "threads[0].pattern.writeFraction", /at most 1/],
      [(j) => { (j.threads as any[])[0].pattern.accessSize = 256; }, "threads[0].pattern.accessSize", /at most 255/],
      [(j) => { (j.threads as any[])[0].pattern.length = "8MiB"; }, "threads[0].pattern.length", /runs past the end of region 'a'/],
      [(j) => { (j.regions as any[])[0].size = "8MiB"; (j.threads as any[])[0].pattern = { type: "zipf", region: "a", granularity: 1, accessSize: 1 }; }, "threads[0].pattern", /Zipf items is more than/],
      [(j) => { (j.threads as any[])[0].pattern = { type: "mix", parts: [{ weight: 0, pattern: { type: "uniform", region: "a" } }] }; }, "threads[0].pattern.parts", /sum to 0/],
      [(j) => { (j.threads as any[])[0].pattern = { type: "mix", parts: [{ weight: 1, pattern: { type: "uniform" } }] }; }, "threads[0].pattern.parts[0].pattern.region", /is required/],
      [(j) => { (j.threads as any[])[1].phases[1].duration = undefined; (j.threads as any[])[1].phases.push({ pattern: { type: "uniform", region: "a" } }); }, "threads[1].phases[1].duration", /only the last phase/],
      [(j) => { (j.threads as any[])[1].repeat = 2; }, "threads[1].repeat", /every phase to have a duration/],
      [(j) => { (j.threads as any[])[1].phases[0].duration = "10 parsecs"; }, "threads[1].phases[0].duration", /unknown time unit/],
      [(j) => { (j.threads as any[])[1].cpus = [0, -1]; }, "threads[1].cpus[1]", /non-negative integer/],
      [(j) => { (j.threads as any[])[1].tid = 1000; }, "threads[1].tid", /duplicate thread id 1000/],
      [(j) => { (j.threads as any[])[0].phases = []; }, "threads[0].pattern", /either 'phases' or 'pattern'/],
      [(j) => { (j.regions as any[])[0].size = 0; }, "regions[0].size", /at least 1 bytes/],
      [(j) => { (j.regions as any[])[1].name = "a"; }, "regions[1].name", /duplicate region name 'a'/],
      [(j) => { (j.regions as any[])[0].backing = "file"; }, "regions[0].file", /is required/],
      [(j) => { (j.regions as any[])[0].policy = { mode: "bind" }; }, "regions[0].policy.nodes", /needs a non-empty node list/],
      [(j) => { (j.regions as any[])[0].policy = { mode: "spread", nodes: [0] }; }, "regions[0].policy.mode", /must be one of/],
      [(j) => { j.processes = []; }, "regions", /belong inside each process/],
      [(j) => { j.nmae = "x"; }, "nmae", /unknown field 'nmae'/],
    ];
    for (const [mutate, field, re] of cases) {
      const j = base();
      mutate(j);
      const e = fieldError(j);
      expect({ field: e.location.field, ok: re.test(e.message) }, e.message).toEqual({ field, ok: true });
    }
  });

  it("errors in files name the file; JSON syntax errors name the line and column", () => {
    const dir = mkdtempSync(join(tmpdir(), "spec-"));
    const bad = join(dir, "bad.json");
    writeFileSync(bad, '{\n  "regions": [\n    { "name": "a", "size": 4096 },\n  ]\n}\n');
    const e1 = (() => { try { loadWorkloadSpec(bad); } catch (e) { return e as InputError; } })()!;
    expect(e1).toBeInstanceOf(InputError);
    expect(e1.location).toMatchObject({ file: bad, line: 4, column: 3 });
    const truncated = join(dir, "cut.json");
    writeFileSync(truncated, '{\n  "regions": [');
    const e2 = (() => { try { loadWorkloadSpec(truncated); } catch (e) { return e as InputError; } })()!;
    expect(e2.location).toMatchObject({ file: truncated, line: 2, column: 15 });
    const semantic = join(dir, "sem.json");
    writeFileSync(semantic, JSON.stringify({ regions: [{ name: "a", size: 4096 }], threads: [{ pattern: { type: "uniform", region: "zz" } }] }));
    expect(() => loadWorkloadSpec(semantic)).toThrow(`${semantic}, field 'threads[0].pattern.region': unknown region 'zz'`);
  });
});

describe("JSON syntax error locator", () => {
  const agrees = (text: string): boolean => {
    let ok = true;
    try {
      JSON.parse(text);
    } catch {
      ok = false;
    }
    const at = locateJsonError(text);
    return ok ? at === -1 : at >= 0 && at <= text.length;
  };

  it("agrees with JSON.parse on valid documents and on corrupted ones", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(), fc.constantFrom("", "}", "]", ",", ":", '"', "x", " ", "\n", "\\", "0", "-"), (v, pos, junk) => {
        const text = JSON.stringify(v, null, 1);
        if (!agrees(text)) return false;
        const p = pos % (text.length + 1);
        return agrees(text.slice(0, p) + junk + text.slice(p)) && agrees(text.slice(0, p));
      }),
      { numRuns: 300 },
    );
  });

  it("points at the offending character", () => {
    expect(locateJsonError('{"a": 1,}')).toBe(8);
    expect(locateJsonError("[1, 2")).toBe(5);
    expect(locateJsonError('{"a" 1}')).toBe(5);
    expect(locateJsonError("[01]")).toBe(2);
    expect(locateJsonError('"tab\there"')).toBe(4);
    expect(locateJsonError("{} x")).toBe(3);
  });
});
