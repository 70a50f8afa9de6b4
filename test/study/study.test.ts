// Studies on the local backend: file validation with file:line:column, planning (job count, cache),
// content-addressed reuse (one changed axis value reruns only its cells), tables independent of
// the worker count, resuming a killed study, a failing job (a damaged trace) reported with its
// error, and the summary's t-based confidence interval.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { BIN, damagedTrace, runCli } from "../cli/helpers.ts";
import { HOST_TAG } from "../../cli/atomic-write.ts";
import { canonicalJson, importClosure, isSourceFile, jobKey, sourceFiles, type JobResult, type JobSpec } from "../../cli/study/job.ts";
import { meanCi, t975 } from "../../cli/study/tables.ts";
import { MAX_DEPTH, valueOffsets } from "../../sim/json-locate.ts";
import { loadStudy } from "../../cli/study/spec.ts";
import { ResultStore } from "../../cli/study/store.ts";

const dir = mkdtempSync(join(tmpdir(), "damon-sim-study-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function study(name: string, axes: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  const p = join(dir, `${name}.json`);
  writeFileSync(p, JSON.stringify({ name, workload: "stairs", machine: "tiny", duration: "10ms", attrs: { sample: "1ms", aggr: "5ms" }, warmup: 0, axes, ...extra }, null, 2));
  return p;
}

const files = ["results.csv", "results.json", "summary.csv", "summary.json", "report.html"];

describe("study files", () => {
  it("names file:line:column and the field of a bad value, exit 2", () => {
    const p = join(dir, "bad.json");
    writeFileSync(p, '{\n  "machine": "tiny",\n  "axes": {\n    "seed": [1, "two"]\n  }\n}\n');
    const r = runCli(["study", "plan", p, "-o", join(dir, "bad-out")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${p}:4:17`);
    expect(r.stderr).toContain("axes.seed[1]");
  });
  it("refuses unknown axes with the nearest name, bad parameters and syntax errors", () => {
    const p = study("typo", { primitives: ["ibs"], "ibs.perod": [1024] });
    const r = runCli(["study", "plan", p, "-o", join(dir, "typo-out")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/typo\.json:\d+:\d+.*axes\.ibs\.perod/);
    const q = study("nomatch", { primitives: ["pte"], "ibs.period": [1024] });
    expect(runCli(["study", "plan", q, "-o", join(dir, "x")]).stderr).toContain("no primitives value of this study includes 'ibs'");
    const s = join(dir, "syntax.json");
    writeFileSync(s, '{ "axes": { "seed": [1, 2,] } }');
    const t = runCli(["study", "plan", s, "-o", join(dir, "x")]);
    expect(t.status).toBe(2);
    expect(t.stderr).toContain(`${s}:1:`);
  });
  it("locates values by field", () => {
    const text = '{"a": [1, {"b": true}], "c.d": "x"}';
    const o = valueOffsets(text);
    expect(text.slice(o.get("a[1].b")!, o.get("a[1].b")! + 4)).toBe("true");
    expect(text[o.get("c.d")!]).toBe('"');
  });
  it("locates every value of any document where its text starts (oracle: walking the parsed value)", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom(0, 1, 3), (v, indent) => {
        const text = JSON.stringify(v, null, indent);
        // the oracle: field names in document order, first occurrence kept, like valueOffsets
        const want = new Map<string, unknown>();
        const walk = (x: unknown, field: string): void => {
          if (!want.has(field)) want.set(field, x);
          if (Array.isArray(x)) x.forEach((e, k) => walk(e, `${field === "(root)" ? "" : field}[${k}]`));
          else if (x !== null && typeof x === "object") for (const [k, e] of Object.entries(x)) walk(e, field === "(root)" ? k : `${field}.${k}`);
        };
        walk(JSON.parse(text), "(root)");
        const got = valueOffsets(text);
        expect([...got.keys()]).toEqual([...want.keys()]);
        for (const [f, x] of want) {
          const at = got.get(f)!;
          // the value's own text starts there: it parses back from that offset to the value
          const flat = JSON.stringify(x, null, indent).split("\n").map((l) => l.trim()).join("");
          const here = text.slice(at).split("\n").map((l) => l.trim()).join("");
          expect(here.startsWith(flat), `${f} at ${at}`).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
  it("refuses a file nested too deep with its location, exit 2 (not a stack overflow)", () => {
    const p = join(dir, "deep.json");
    writeFileSync(p, `${"[".repeat(200_000)}${"]".repeat(200_000)}\n`);
    const r = runCli(["study", "plan", p, "-o", join(dir, "deep-out")]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${p}:1:${MAX_DEPTH + 2}`);
    expect(r.stderr).toContain(`nested more than ${MAX_DEPTH} levels deep`);
    expect(r.stderr).not.toContain("internal error");
    const objects = `${'{"a":'.repeat(MAX_DEPTH + 1)}1${"}".repeat(MAX_DEPTH + 1)}`;
    expect(() => valueOffsets(objects, "o.json")).toThrow(`o.json:1:${5 * (MAX_DEPTH + 1) + 1}`);
    expect(valueOffsets(`${"[".repeat(MAX_DEPTH)}1${"]".repeat(MAX_DEPTH)}`).size).toBe(MAX_DEPTH + 1);
  });
});

describe("study plans", () => {
  const store = new ResultStore(join(dir, "plan-store"), true);
  it("apply parameter axes to the primitives that take them, exclusions and baselines", () => {
    const p = study("plan1", { primitives: ["pte", "ibs", "pte+ibs"], "ibs.period": [1024, 4096], seed: [1, 2] }, { exclude: [{ primitives: "pte+ibs", "ibs.period": 1024 }] });
    const plan = loadStudy(p, store);
    const runs = plan.jobs.filter((j) => j.role === "run");
    // per seed: pte, ibs x 2, pte+ibs x 1 (1024 excluded)
    expect(runs).toHaveLength(8);
    expect(runs.filter((j) => j.spec.primitives.join("+") === "pte+ibs").map((j) => j.spec.params["ibs.period"])).toEqual([4096, 4096]);
    expect(plan.jobs.filter((j) => j.role === "baseline").map((j) => j.spec.monitor)).toEqual([false, false]);
    expect(new Set(runs.map((j) => j.key)).size).toBe(8);
    const ref = loadStudy(study("plan2", { primitives: ["pte", "ibs"], seed: [1] }, { baseline: { primitives: "pte" } }), store);
    // the pte reference is also a cell: run once
    expect(ref.jobs).toHaveLength(2);
    expect(ref.jobs.every((j) => j.baselineKey === ref.jobs[0]!.key)).toBe(true);
    const none = loadStudy(study("plan3", { seed: [1, 2] }, { baseline: "none" }), store);
    expect(none.jobs.map((j) => j.role)).toEqual(["run", "run"]);
  });
  it("take the DAMON kernel version as an axis, keys unchanged for studies that name none", () => {
    const plain = loadStudy(study("k0", { seed: [1] }, { baseline: "none" }), store);
    expect(plain.jobs[0]!.spec.kernel).toBeUndefined();
    const k = loadStudy(study("k1", { kernel: ["v6.12", "next"] }, { baseline: "none" }), store);
    expect(k.jobs.map((j) => j.spec.kernel)).toEqual(["v6.12", "next"]);
    expect(k.jobs[0]!.key).not.toBe(k.jobs[1]!.key);
    expect(() => loadStudy(study("k2", { kernel: ["v9"] }), store)).toThrow(/k2\.json:\d+:\d+, field 'axes\.kernel\[0\]': must be one of/);
  });
  it("refuse exclusions that name values the axis lacks, and empty studies", () => {
    expect(() => loadStudy(study("ex1", { primitives: ["pte", "ibs"] }, { exclude: [{ primitives: "fault" }] }), store)).toThrow(/ex1\.json:\d+:\d+, field 'exclude\[0\]\.primitives': "fault" is not a value of axis 'primitives'/);
    expect(() => loadStudy(study("ex2", { primitives: ["pte"] }, { exclude: [{ primitives: "pte" }] }), store)).toThrow(/no jobs/);
    expect(() => loadStudy(study("ex3", { seed: [1, 1] }), store)).toThrow(/duplicate value 1 \(also axes\.seed\[0\]\)/);
  });
});

describe("job keys", () => {
  const base: JobSpec = { workload: "stairs", machine: "tiny", seed: 1, ops: "vaddr", durationNs: 1e7, sampleUs: 1000, aggrUs: 5000, opsUpdateUs: 1e6, minNrRegions: 10, maxNrRegions: 1000, theta: 0.5, warmupWindows: 0, monitor: true, primitives: ["ibs"], params: { "ibs.period": 1024 } };
  it("depend on every field and not on key order", () => {
    expect(jobKey(base)).toMatch(/^[0-9a-f]{64}$/);
    expect(jobKey({ ...base, seed: 2 })).not.toBe(jobKey(base));
    expect(jobKey({ ...base, params: { "ibs.period": 4096 } })).not.toBe(jobKey(base));
    const reordered = JSON.parse(canonicalJson(base)) as JobSpec;
    expect(jobKey(Object.fromEntries(Object.entries(reordered).reverse()) as unknown as JobSpec)).toBe(jobKey(base));
  });
  it("digest every module the job path imports (cli/simulation.ts too), and only source and configs", () => {
    const files = sourceFiles();
    for (const f of ["cli/simulation.ts", "cli/run-setup.ts", "cli/metrics.ts", "cli/study/job.ts", "cli/experiment/variant.ts", "sim/json-text.ts"]) expect(files).toContain(f);
    expect(files.every((f) => isSourceFile(f.slice(f.lastIndexOf("/") + 1)))).toBe(true);
    expect(files.some((f) => f.startsWith("cli/commands/") || f.startsWith("cli/study/") && f !== "cli/study/job.ts")).toBe(false);
    for (const stray of ["notes.txt", "core", "x.ts.orig", ".hidden.ts", "a.json.damon-sim-12-1.tmp"]) expect(isSourceFile(stray)).toBe(false);
    for (const src of ["a.ts", "b.mjs", "c.cfg", "d.json"]) expect(isSourceFile(src)).toBe(true);
  });
  it("follow imports transitively (static, re-exports and import())", () => {
    const d = mkdtempSync(join(dir, "closure-"));
    writeFileSync(join(d, "a.ts"), 'import { b } from "./b.ts";\nexport * from "./sub/c.mjs";\n');
    writeFileSync(join(d, "b.ts"), 'export const b = () => import("./d.ts");\n');
    mkdirSync(join(d, "sub"));
    writeFileSync(join(d, "sub", "c.mjs"), 'import "../a.ts";\n');
    writeFileSync(join(d, "d.ts"), "export {};\n");
    writeFileSync(join(d, "unused.ts"), "export {};\n");
    expect(importClosure(join(d, "a.ts")).map((f) => f.slice(d.length + 1)).sort()).toEqual(["a.ts", "b.ts", "d.ts", "sub/c.mjs"]);
  });
});

describe("result store", () => {
  it("removes the stale temporary files of this host's dead processes where it writes (results/<xx>/, inputs/)", () => {
    const root = mkdtempSync(join(dir, "store-"));
    const dead = Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout);
    const key = `ab${"0".repeat(62)}`;
    const other = HOST_TAG === "00000000" ? "11111111" : "00000000";
    const folders = [join(root, "results", "ab"), join(root, "inputs")];
    for (const f of folders) {
      mkdirSync(f, { recursive: true });
      writeFileSync(join(f, `x.json.damon-sim-${dead}-1-1-h${HOST_TAG}.tmp`), "half");
      writeFileSync(join(f, `x.json.damon-sim-${dead}-1-1-h${other}.tmp`), "another host's");
    }
    const store = new ResultStore(root);
    const spec = { workload: "stairs" } as JobSpec;
    const result = { finished: true } as JobResult;
    store.put(key, spec, result, 1);
    const input = join(dir, "store-input.cfg");
    writeFileSync(input, "x\n");
    store.addInput(input);
    for (const f of folders) expect(readdirSync(f).filter((n) => n.includes(".damon-sim-"))).toEqual([`x.json.damon-sim-${dead}-1-1-h${other}.tmp`]);
    expect(store.get(key)?.result).toEqual(result);
  });
});

describe("confidence intervals", () => {
  it("use Student's t", () => {
    expect(t975(1)).toBeCloseTo(12.706, 3);
    expect(t975(60)).toBeCloseTo(2.0003, 3);
    const s = meanCi([1, 2, 3]);
    expect(s.mean).toBe(2);
    expect(s.ci95).toBeCloseTo(4.303 / Math.sqrt(3), 6);
    expect(meanCi([5]).ci95).toBeNull();
  });
});

describe("study run (local)", () => {
  const axes = { primitives: ["pte", "ibs"], "ibs.period": [1024, 4096], seed: [1, 2] };
  it("takes DAMOS schemes as an axis: a cell per scheme file (or none), keyed by the schemes' content, baselines shared", () => {
    const sch = join(dir, "stat-scheme.json");
    writeFileSync(sch, JSON.stringify([{ action: "stat", access_pattern: { sz_bytes: { min: "0 B", max: "max" }, nr_accesses: { min: "0 %", max: "max" }, age: { min: "0 us", max: "max" } } }]));
    const p = study("schemes-axis", { schemes: ["none", sch], seed: [1] }, { primitives: "pte" });
    const out = join(dir, "schemes-out");
    const plan = runCli(["study", "plan", p, "-o", out]);
    expect(plan.status, plan.stderr).toBe(0);
    // two runs (no schemes, the stat scheme) share one unmonitored baseline
    expect(plan.stdout).toContain("3 jobs (2 runs, 1 baselines)");
    const r = runCli(["study", "run", p, "-o", out, "-q"]);
    expect(r.status, r.stderr).toBe(0);
    const rows = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as Array<Record<string, unknown>>;
    const runs = rows.filter((x) => x.role === "run");
    expect(runs.map((x) => x.schemes).sort()).toEqual([sch, "none"].sort());
    // the stat scheme only counts, so its run sees the same accesses; its walk costs kdamond a little more
    const none = runs.find((x) => x.schemes === "none")!, stat = runs.find((x) => x.schemes === sch)!;
    expect(stat.accesses).toBe(none.accesses);
    expect(stat.overheadPercent as number).toBeGreaterThan(none.overheadPercent as number);
    // a bad scheme file is named with the axis value's place
    const bad = join(dir, "bad-scheme.json");
    writeFileSync(bad, JSON.stringify([{ action: "migrate_warm" }]));
    const pb = study("schemes-bad", { schemes: [bad] });
    const e = runCli(["study", "plan", pb, "-o", join(dir, "schemes-bad-out")]);
    expect(e.status).toBe(2);
    expect(e.stderr).toContain("axes.schemes[0]");
  });

  it("plans, runs, caches, and gives the same tables with 1 or 2 workers", () => {
    const p = study("local", axes);
    const out1 = join(dir, "out1"), out2 = join(dir, "out2");
    const plan = runCli(["study", "plan", p, "-o", out1]);
    expect(plan.status, plan.stderr).toBe(0);
    expect(plan.stdout).toContain("8 jobs (6 runs, 2 baselines)");
    expect(plan.stdout).toContain("cached: 0 of 8");
    const a = runCli(["study", "run", p, "-o", out1, "-j", "1", "-q"]);
    expect(a.status, a.stderr).toBe(0);
    const b = runCli(["study", "run", p, "-o", out2, "-j", "2", "-q"]);
    expect(b.status, b.stderr).toBe(0);
    for (const f of files) expect(readFileSync(join(out2, f), "utf8"), f).toBe(readFileSync(join(out1, f), "utf8"));
    const rows = JSON.parse(readFileSync(join(out1, "results.json"), "utf8")) as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(8);
    expect(rows.filter((r) => r.role === "baseline")).toHaveLength(2);
    expect(rows.filter((r) => r.primitives === "pte").every((r) => r["ibs.period"] === null)).toBe(true);
    expect(readFileSync(join(out1, "results.csv"), "utf8").split("\n")[0]).toContain("ibs.period");
    const summary = JSON.parse(readFileSync(join(out1, "summary.json"), "utf8")) as Array<Record<string, unknown>>;
    expect(summary.find((r) => r.primitives === "ibs" && r["ibs.period"] === 1024 && r.metric === "f1")?.n).toBe(2);
    expect(readFileSync(join(out1, "report.html"), "utf8").match(/<svg /g)?.length).toBe(2);
    // the figures compare gives the same run (cli/experiment/output.ts rowsOf): reports made and dropped, slowdown
    const x = join(dir, "same-as-compare.json");
    writeFileSync(x, JSON.stringify({ name: "x", workload: "stairs", machine: "tiny", duration: "10ms", seed: 1, attrs: { sample: "1ms", aggr: "5ms" }, warmup: 0, variants: [{ name: "ibs", primitives: ["ibs"], params: { "ibs.period": 1024 } }] }));
    const cmp = runCli(["compare", x, "-o", join(dir, "compare-out"), "-q"]);
    expect(cmp.status, cmp.stderr).toBe(0);
    const want = (JSON.parse(readFileSync(join(dir, "compare-out", "results.json"), "utf8")) as { rows: Array<Record<string, unknown>> }).rows.find((r) => r.variant === "ibs")!;
    const got = rows.find((r) => r.role === "run" && r.primitives === "ibs" && r["ibs.period"] === 1024 && r.seed === 1)!;
    expect(got.reportsAccepted).toBeUndefined();
    expect(want.reportsMade).toBeGreaterThan(0);
    for (const m of ["reportsMade", "reportsDropped", "slowdownPercent", "f1", "overheadPercent"]) expect(got[m], m).toBe(want[m]);
    expect(runCli(["study", "plan", p, "-o", out1]).stdout).toContain("cached: 8 of 8");

    // one more value on one axis: only its two cells run
    const p2 = study("local", { ...axes, "ibs.period": [1024, 4096, 16384] });
    expect(runCli(["study", "plan", p2, "-o", out1]).stdout).toContain("cached: 8 of 10 in");
    const c = runCli(["study", "run", p2, "-o", out1]);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stderr).toContain("8 of 10 jobs already in the store; running 2");
  }, 180_000);
});

describe("study run resumes", () => {
  it("continues a study killed with SIGKILL where it stopped", async () => {
    // 6 jobs on 1 thread, each 300 ms simulated (most of a second of host time on the 2-core machine)
    const p = study("killed", { primitives: ["pte", "ibs"], seed: [1, 2] }, { duration: "300ms" });
    const out = join(dir, "killed");
    const child = spawn(process.execPath, [BIN, "study", "run", p, "-o", out, "-j", "1", "-q"], { stdio: ["ignore", "ignore", "pipe"] });
    let childErr = "";
    child.stderr!.on("data", (d: Buffer) => (childErr += d.toString()));
    const exited = new Promise((r) => child.once("exit", r));
    const stored = (): number => (existsSync(join(out, "store", "results")) ? readdirSync(join(out, "store", "results"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".json") && !f.endsWith(".timing.json")).length : 0);
    for (let i = 0; i < 400 && stored() < 2; i++) await new Promise((r) => setTimeout(r, 25));
    expect(child.exitCode, childErr).toBeNull();
    child.kill("SIGKILL");
    await exited;
    const done = stored();
    expect(done).toBeGreaterThanOrEqual(2);
    expect(done).toBeLessThan(6);
    const again = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const c = spawn(process.execPath, [BIN, "study", "run", p, "-o", out, "-j", "1"], { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      c.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
      c.on("exit", (status) => resolve({ status, stderr }));
    });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain(`${done} of 6 jobs already in the store; running ${6 - done}`);
    expect(JSON.parse(readFileSync(join(out, "results.json"), "utf8"))).toHaveLength(6);
  }, 90_000);
});

describe("study run (local) with a job that fails", () => {
  it("reports the job with its error, keeps the others' results, exit 1; the failed job runs again next time", () => {
    const dst = damagedTrace(join(dir, "damaged.dst"), 0);
    const p = study("failing", { workload: ["stairs", dst, "zigzag"], primitives: ["pte"] }, { workload: undefined, baseline: "none" });
    const out = join(dir, "failing");
    for (const j of ["2", "1"]) {
      const r = runCli(["study", "run", p, "-o", out, "-j", j]);
      expect(r.status, r.stderr).toBe(1);
      const failed = r.stderr.split("\n").filter((l) => l.includes(" failed: "));
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatch(/^study: job [0-9a-f]{12} \(workload=/);
      expect(failed[0]).toContain(`(workload=${dst} primitives=pte) failed: `);
      expect(failed[0]).toMatch(/inputs\/[0-9a-f]{64}\.dst, byte offset \d+, field 'chunk 0 crc': chunk checksum mismatch/);
      expect(r.stderr).toContain("study: 2/3 jobs have results");
      // the second time the two good jobs are cached and the failed one is tried again
      if (j === "1") expect(r.stderr).toContain("2 of 3 jobs already in the store; running 1");
      const rows = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as Array<Record<string, unknown>>;
      expect(rows.map((x) => x.workload)).toEqual(["stairs", "zigzag"]);
    }
  }, 90_000);
});
