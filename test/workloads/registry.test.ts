// The workload registry: every listed workload resolves, has a valid and realistic layout and
// produces accesses inside it; paths are recognised by kind (.cfg / other text = masim, .json =
// spec, .dst = trace); options scale and tune built-ins and reach masim; unknown names
// are clear errors.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AccessBatch, AccessKind } from "../../hw/batch.ts";
import { MMAP_TOP, STACK_TOP, validateLayout } from "../../hw/layout.ts";
import { InputError } from "../../sim/errors.ts";
import { RngRoot } from "../../sim/rng.ts";
import { MS } from "../../sim/time.ts";
import { MasimWorkload } from "../../workloads/masim.ts";
import { CONFIGS_DIR, listWorkloads, resolveWorkload } from "../../workloads/registry.ts";
import { insideLayout, runBatches } from "./helpers.ts";

const RANDOM_BUILTINS = ["uniform", "zipf", "chase", "hotcold", "wss", "mt", "rwmix"];

describe("listWorkloads / resolveWorkload", () => {
  const all = listWorkloads();

  it("lists every built-in generator and the shipped configs, with descriptions", () => {
    const names = all.map((w) => w.name);
    for (const n of ["seq", "stride", "uniform", "zipf", "chase", "hotcold", "wss", "phases", "mt", "rwmix", "stairs", "zigzag", "tiering-hotcold", "example-spec"]) expect(names).toContain(n);
    expect(new Set(names).size).toBe(names.length);
    for (const w of all) expect(w.description.length).toBeGreaterThan(15);
  });

  it("every listed workload resolves to a valid layout, and its accesses land inside it", () => {
    for (const info of all) {
      const w = resolveWorkload(info.name, { scale: 0.25 });
      validateLayout(w.layout);
      for (const p of w.layout.processes) {
        const kinds = p.vmas.map((v) => v.kind);
        expect(kinds).toContain("text");
        expect(kinds).toContain("stack");
        // areas sit where Linux puts them: text low, mmap below MMAP_TOP, the stack at the top
        for (const v of p.vmas) if (v.kind === "mmap") expect(v.end).toBeLessThanOrEqual(MMAP_TOP);
        expect(p.vmas[p.vmas.length - 1]!.end).toBe(STACK_TOP);
      }
      const rows = runBatches(w, 1, 6, 20 * MS, 512).flat();
      expect(rows.length, info.name).toBeGreaterThan(0);
      const outside = rows.filter(([a, s]) => !insideLayout(w.layout, a!, s!));
      expect(outside, info.name).toEqual([]);
      const tids = new Set(w.layout.processes.flatMap((p) => p.threads.map((t) => t.tid)));
      for (const r of rows) expect(tids.has(r[3]!)).toBe(true);
    }
  });

  it("built-ins are deterministic per seed; random ones differ across seeds", () => {
    for (const name of Object.values(all).filter((w) => w.kind === "builtin").map((w) => w.name)) {
      const w = resolveWorkload(name, { scale: 0.25 });
      expect(runBatches(w, 7, 3), name).toEqual(runBatches(w, 7, 3));
      if (RANDOM_BUILTINS.includes(name)) expect(runBatches(w, 7, 3), name).not.toEqual(runBatches(w, 8, 3));
    }
  });

  it("options scale sizes, override the access style, set threads and CPUs, and end threads", () => {
    const size = (name: string, scale: number) => {
      const v = resolveWorkload(name, { scale }).layout.processes[0]!.vmas.find((x) => x.name === "buf")!;
      return v.end - v.start;
    };
    expect(size("uniform", 1)).toBe(64 << 20);
    expect(size("uniform", 0.5)).toBe(32 << 20);
    const mt = resolveWorkload("mt", { threads: 3, cpus: [4, 5] });
    expect(mt.layout.processes[0]!.threads.map((t) => t.cpus)).toEqual([[4], [5], [4]]);
    const rows = runBatches(resolveWorkload("uniform", { writeFraction: 1, gap: 3, accessSize: 16 }), 1, 1).flat();
    expect(new Set(rows.map((r) => `${r[1]}/${r[2]}/${r[4]}`))).toEqual(new Set([`16/${AccessKind.WRITE}/3`]));
    const run = resolveWorkload("seq", { duration: 5 * MS }).start(new RngRoot(1));
    if (run.kind !== "threads") throw new Error("threads");
    const b = new AccessBatch(64);
    expect(run.threads[0]!.next(b, 0)).toBe(64);
    expect(run.threads[0]!.next(b, 5 * MS)).toBe(0);
    for (const name of ["example-spec", "stairs"]) {
      const r = resolveWorkload(name, { duration: 3 * MS }).start(new RngRoot(1));
      if (r.kind !== "threads") throw new Error("threads");
      for (const t of r.threads) {
        expect(t.next(b, 1 * MS), name).toBeGreaterThan(0);
        expect(t.next(b, 4 * MS), name).toBe(0);
      }
    }
    expect(() => resolveWorkload("uniform", { scale: 0 })).toThrow(InputError);
    expect(() => resolveWorkload("mt", { threads: 0 })).toThrow(/threads/);
  });

  it("recognises files by kind and passes masim options", () => {
    const dir = mkdtempSync(join(tmpdir(), "reg-"));
    const txt = join(dir, "pattern.txt");
    writeFileSync(txt, "r, 65536\n\np\n1\nr, 1, 0, 1\n");
    const w = resolveWorkload(txt, { nrAccessesPerRegion: 7, defaultRwMode: "rw", pid: 4242 });
    expect(w).toBeInstanceOf(MasimWorkload);
    expect(w.layout.processes[0]!.pid).toBe(4242);
    const run = w.start(new RngRoot(1));
    if (run.kind !== "threads") throw new Error("threads");
    const b = new AccessBatch(100);
    run.threads[0]!.next(b, 0);
    expect(b.kind[0]).toBe(AccessKind.MODIFY);
    expect(run.threads[0]!.next(b, 2 * MS)).toBe(5); // the 1 ms phase is over: finish the burst of 7 (100 = 14 * 7 + 2)
    expect(run.threads[0]!.next(b, 3 * MS)).toBe(0);
    expect(resolveWorkload(join(CONFIGS_DIR, "zigzag.cfg")).name).toBe("masim:zigzag");
    expect(resolveWorkload("zigzag").name).toBe("masim:zigzag");
    expect(resolveWorkload(join(CONFIGS_DIR, "example-spec.json")).name).toBe("kv-store");
    const dst = join(dir, "run.dst");
    writeFileSync(dst, "");
    expect(() => resolveWorkload(dst)).toThrow(/run\.dst.*byte offset 0/);
  });

  it("unknown names and missing files are InputErrors saying what is available", () => {
    expect(() => resolveWorkload("zipff")).toThrow(/unknown workload 'zipff': not a built-in \(seq, stride, uniform, zipf/);
    expect(() => resolveWorkload("./missing.cfg")).toThrow(/missing.cfg: no such workload file/);
    expect(() => resolveWorkload("")).toThrow(InputError);
    expect(() => resolveWorkload("toString")).toThrow(/unknown workload/);
  });
});
