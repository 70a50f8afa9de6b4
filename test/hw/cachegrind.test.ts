// The cachegrind-exact cache model against three oracles:
//   1. hand-computed cases for each rule (straddling, modify, LRU order, LL only on L1 misses,
//      unified LL, zeroed tags) and cachegrind's geometry checks;
//   2. a brute-force model written here from the rules (plain arrays, splice/unshift), on random
//      access streams and random geometries;
//   3. the real tool: small C programs (test/fixtures/c/) are compiled with gcc, recorded with
//      Valgrind Lackey, and all nine counters of our replay must equal the `summary:` line of
//      `valgrind --tool=cachegrind --cache-sim=yes` for three geometries; the CLI is run end to end.
// Valgrind and gcc are required; set DAMON_SIM_SKIP_VALGRIND=1 to skip part 3 where they are missing.

import { spawn, spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { AccessBatch, AccessKind } from "../../hw/batch.ts";
import {
  CACHEGRIND_EVENTS,
  CachegrindSim,
  checkCacheGeometry,
  describeCacheGeometry,
  parseCacheGeometry,
  parseCachegrindSummary,
  type CacheGeometry,
  type CachegrindConfig,
} from "../../hw/cachegrind.ts";
import { InputError } from "../../sim/errors.ts";
import { openLackeySource } from "../../workloads/lackey.ts";
import { ROOT, runCli } from "../cli/helpers.ts";

type Access = [kind: number, addr: number, size: number];

function runAll(sim: CachegrindSim, accesses: Access[]): void {
  const b = new AccessBatch(Math.max(1, accesses.length));
  for (const [k, a, s] of accesses) b.push(a, s, k, 1);
  sim.run(b);
}

/** Runs accesses one at a time and returns, for each, whether it missed in D1 (or I1). */
function l1Pattern(sim: CachegrindSim, accesses: Access[]): string {
  let out = "";
  for (const acc of accesses) {
    const before = sim.counters();
    runAll(sim, [acc]);
    const after = sim.counters();
    const misses = after.I1mr + after.D1mr + after.D1mw - (before.I1mr + before.D1mr + before.D1mw);
    out += misses === 1 ? "m" : misses === 0 ? "h" : "?";
  }
  return out;
}

const geo = (size: number, assoc: number, line: number): CacheGeometry => ({ size, assoc, line });
const { READ, WRITE, IFETCH, MODIFY } = AccessKind;

describe("cache geometry (cachegrind's checks)", () => {
  it("parses SIZE,ASSOC,LINE", () => {
    expect(parseCacheGeometry("32768,8,64")).toEqual({ size: 32768, assoc: 8, line: 64 });
    expect(parseCacheGeometry("96,3,32")).toEqual({ size: 96, assoc: 3, line: 32 }); // one set: accepted
    expect(describeCacheGeometry(geo(32768, 8, 64))).toBe("32768 B, 64 B, 8-way associative");
    expect(describeCacheGeometry(geo(1024, 1, 64))).toBe("1024 B, 64 B, direct-mapped");
  });

  const bad: Array<[string, RegExp]> = [
    ["37748736,12,64", /set count is not a power of two.*49152 sets/],
    ["32768,8,48", /set count is not a power of two/],
    ["64,2,64", /set count is not a power of two/],
    ["0,8,64", /size must be a positive integer/],
    ["32768,0,64", /assoc must be a positive integer/],
    ["96,1,48", /line size is not a power of two/],
    ["32768,8,8", /line size is too small/],
    ["64,1,64", /size <= line size/],
    ["32768,8", /expected SIZE,ASSOC,LINE/],
    ["32768,8,64,1", /expected SIZE,ASSOC,LINE/],
    ["32k,8,64", /SIZE must be a decimal integer/],
    ["32768,8,0x40", /LINE must be a decimal integer/],
    ["4294967296,8,64", /too large/],
  ];
  it("rejects what cachegrind rejects, naming the option", () => {
    for (const [text, msg] of bad) {
      let err: unknown;
      try {
        parseCacheGeometry(text, "D1");
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(InputError);
      expect((err as InputError).detail, text).toMatch(msg);
      expect((err as InputError).location.field).toBe("D1");
    }
  });

  it("the simulator refuses a non power-of-two set count", () => {
    expect(() => new CachegrindSim({ I1: geo(32768, 8, 64), D1: geo(32768, 8, 64), LL: geo(37748736, 12, 64) })).toThrow(/LL.*Cache set count is not a power of two/);
    expect(() => checkCacheGeometry(geo(60 * 1024 * 1024, 15, 64), "LL")).not.toThrow(); // 65536 sets
  });
});

describe("cachegrind rules, hand computed", () => {
  // D1 and I1: 2 sets x 2 ways of 64 B lines (even line numbers in set 0); LL: 4 sets x 4 ways.
  const small: CachegrindConfig = { I1: geo(256, 2, 64), D1: geo(256, 2, 64), LL: geo(1024, 4, 64) };

  it("an access spanning two lines is one reference and at most one miss; both lines are filled", () => {
    const sim = new CachegrindSim(small);
    runAll(sim, [[READ, 0x1000 + 60, 8]]); // lines 0x40 and 0x41, both cold
    expect(sim.counters()).toMatchObject({ Dr: 1, D1mr: 1, DLmr: 1 });
    runAll(sim, [[READ, 0x1040, 4], [READ, 0x1000, 4], [READ, 0x1000 + 60, 8]]); // both were filled
    expect(sim.counters()).toMatchObject({ Dr: 4, D1mr: 1, DLmr: 1 });
    runAll(sim, [[WRITE, 0x1040 + 62, 4]]); // 0x41 present, 0x42 cold: one miss at D1 and at LL
    expect(sim.counters()).toMatchObject({ Dr: 4, D1mr: 1, DLmr: 1, Dw: 1, D1mw: 1, DLmw: 1 });
    runAll(sim, [[IFETCH, 0x2000 + 62, 5]]); // instruction fetches straddle the same way
    expect(sim.counters()).toMatchObject({ Ir: 1, I1mr: 1, ILmr: 1 });
  });

  it("a modify counts as one data read and no write", () => {
    const sim = new CachegrindSim(small);
    runAll(sim, [[MODIFY, 0x5000, 1]]);
    expect(sim.values()).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0]);
    runAll(sim, [[MODIFY, 0x5001, 1], [WRITE, 0x5002, 1]]);
    expect(sim.values()).toEqual([0, 0, 0, 2, 1, 1, 1, 0, 0]);
  });

  it("evicts the least recently used way", () => {
    const A: Access = [READ, 2 * 64, 8], B: Access = [READ, 4 * 64, 8], C: Access = [READ, 6 * 64, 8], odd: Access = [READ, 3 * 64, 8];
    const sim = new CachegrindSim(small);
    // set 0 holds 2 ways: A B A C(evicts B) A B(evicts C) C(evicts A) B A(evicts C); odd lines use set 1
    expect(l1Pattern(sim, [A, B, A, odd, C, A, B, odd, C, B, A])).toBe("mmhmmhmhmhm");
  });

  it("writes allocate, and are looked up like reads", () => {
    const sim = new CachegrindSim(small);
    expect(l1Pattern(sim, [[WRITE, 0x3000, 8], [READ, 0x3008, 8], [WRITE, 0x3010, 8]])).toBe("mhh");
  });

  it("looks LL up only after an L1 miss (L1 hits leave LL's LRU order alone)", () => {
    // LL: one set of 2 ways. D1: 2 sets x 2 ways.
    const sim = new CachegrindSim({ I1: geo(256, 2, 64), D1: geo(256, 2, 64), LL: geo(128, 2, 64) });
    const A: Access = [READ, 2 * 64, 8], B: Access = [READ, 4 * 64, 8], C: Access = [READ, 6 * 64, 8];
    runAll(sim, [A, B, A]); // LL order stays [B, A]: the D1 hit on A does not reach LL
    runAll(sim, [C]); // D1 and LL miss; LL evicts A (its LRU), keeps B
    expect(sim.counters()).toMatchObject({ Dr: 4, D1mr: 3, DLmr: 3 });
    runAll(sim, [B]); // D1 set 0 is [C, A] -> miss; LL has B -> hit
    expect(sim.counters()).toMatchObject({ Dr: 5, D1mr: 4, DLmr: 3 });
  });

  it("shares LL between instructions and data; I1 and D1 are separate", () => {
    const sim = new CachegrindSim(small);
    runAll(sim, [[READ, 0x7000, 8], [IFETCH, 0x7004, 4], [IFETCH, 0x7008, 4], [READ, 0x7010, 8]]);
    expect(sim.values()).toEqual([2, 1, 0, 2, 1, 1, 0, 0, 0]);
  });

  it("starts with zeroed tags, as cachegrind does: line 0 looks cached in set 0", () => {
    const sim = new CachegrindSim(small);
    runAll(sim, [[READ, 8, 8], [READ, 64, 8]]);
    expect(sim.counters()).toMatchObject({ Dr: 2, D1mr: 1, DLmr: 1 });
  });

  it("handles addresses far above 2^32 (set index from the low bits of the line number)", () => {
    const sim = new CachegrindSim(small);
    const hi = 0x1fff000000 * 64; // line numbers above 2^32
    const A: Access = [READ, hi, 8], B: Access = [READ, hi + 2 * 64, 8], C: Access = [READ, hi + 4 * 64, 8], odd: Access = [READ, hi + 64, 8];
    expect(l1Pattern(sim, [A, B, odd, A, C, B, A])).toBe("mmmhmmm");
  });

  it("prints cachegrind's summary line and resets", () => {
    const sim = new CachegrindSim(small);
    runAll(sim, [[IFETCH, 0x100, 4], [READ, 0x9000, 8], [WRITE, 0xa000, 8]]);
    expect(sim.summaryLine()).toBe("summary: 1 1 1 1 1 1 1 1 1");
    sim.reset();
    expect(sim.summaryLine()).toBe("summary: 0 0 0 0 0 0 0 0 0");
    expect(parseCachegrindSummary("desc: x\nevents: Ir\nsummary: 9 8 7 6 5 4 3 2 1\n")).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
  });
});

/** The rules written as plainly as possible: per set an array of line numbers, MRU first. */
class ModelCache {
  sets: number[][];
  constructor(readonly g: CacheGeometry) {
    const n = g.size / (g.assoc * g.line);
    this.sets = Array.from({ length: n }, () => new Array<number>(g.assoc).fill(0));
  }
  private setRef(line: number): boolean {
    const s = this.sets[line % this.sets.length]!;
    const i = s.indexOf(line);
    if (i >= 0) {
      s.splice(i, 1);
      s.unshift(line);
      return false;
    }
    s.unshift(line);
    s.pop();
    return true;
  }
  ref(addr: number, size: number): boolean {
    const first = Math.floor(addr / this.g.line);
    const last = Math.floor((addr + size - 1) / this.g.line);
    let miss = false;
    for (let l = first; l <= last; l++) if (this.setRef(l)) miss = true;
    return miss;
  }
}

function modelCounts(cfg: CachegrindConfig, accesses: Access[]): number[] {
  const I1 = new ModelCache(cfg.I1), D1 = new ModelCache(cfg.D1), LL = new ModelCache(cfg.LL);
  const c = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  for (const [k, a, s] of accesses) {
    const [l1, base] = k === IFETCH ? [I1, 0] : k === WRITE ? [D1, 6] : [D1, 3];
    c[base]!++;
    if (l1.ref(a, s)) {
      c[base + 1]!++;
      if (LL.ref(a, s)) c[base + 2]!++;
    }
  }
  return c;
}

describe("cachegrind rules against a brute-force model", () => {
  const geometryArb = fc
    .record({ line: fc.constantFrom(16, 32, 64, 128), sets: fc.constantFrom(1, 2, 4, 8), assoc: fc.integer({ min: 1, max: 5 }) })
    .filter((g) => g.sets * g.assoc > 1)
    .map((g) => geo(g.line * g.sets * g.assoc, g.assoc, g.line));
  const accessArb = fc.tuple(
    fc.constantFrom(READ, WRITE, IFETCH, MODIFY),
    fc.constantFrom(0x400000, 0x1fff000000, 2 ** 52),
    fc.integer({ min: 0, max: 40 }),
    fc.integer({ min: 0, max: 127 }),
    fc.integer({ min: 1, max: 48 }),
  ).map(([k, base, line, off, size]): Access => [k, base + line * 64 + off, size]);

  it("counts the same nine numbers on random streams and geometries", () => {
    fc.assert(
      fc.property(geometryArb, geometryArb, geometryArb, fc.array(accessArb, { maxLength: 400 }), (I1, D1, LL, accesses) => {
        const cfg = { I1, D1, LL };
        const sim = new CachegrindSim(cfg);
        // in uneven batches, to cover state carried between run() calls
        for (let i = 0; i < accesses.length; i += 37) runAll(sim, accesses.slice(i, i + 37));
        expect(sim.values()).toEqual(modelCounts(cfg, accesses));
      }),
      { numRuns: 300 },
    );
  });
});

// ---- part 3: the real tools -----------------------------------------------------------------

const SKIP_VALGRIND = process.env.DAMON_SIM_SKIP_VALGRIND === "1";
const FIXTURES = resolve(ROOT, "test/fixtures/c");

interface Program {
  name: string;
  args: string[];
  stdout: RegExp;
}
const PROGRAMS: Program[] = [
  { name: "sort", args: ["2000"], stdout: /^sorted 2000 numbers/ },
  { name: "stride", args: ["128", "60"], stdout: /^stride: 128 KiB, offset 60/ },
  { name: "list", args: ["3000", "2", "24"], stdout: /^list: 3000 nodes x 2 walks/ },
];
const GEOMETRIES: Array<Record<"I1" | "D1" | "LL", string>> = [
  { I1: "32768,8,64", D1: "49152,12,64", LL: "2097152,16,64" },
  { I1: "4096,2,64", D1: "8192,2,64", LL: "131072,4,64" },
  { I1: "16384,4,32", D1: "16384,4,128", LL: "262144,8,64" }, // unequal line sizes: LL lookups straddle
];
const geometryFlags = (g: Record<string, string>): string[] => Object.entries(g).map(([k, v]) => `--${k}=${v}`);

/** Runs a command asynchronously (so several Valgrind runs share the two cores). */
function run(cmd: string, args: string[], opts: { stdio?: Array<"ignore" | "pipe" | number> } = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { stdio: opts.stdio ?? ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", rej);
    child.on("close", (code) => res({ status: code ?? -1, stdout, stderr }));
  });
}

async function pool<T>(jobs: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const out: T[] = new Array<T>(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  }));
  return out;
}

describe.skipIf(SKIP_VALGRIND)("against valgrind --tool=cachegrind", () => {
  const dir = mkdtempSync(join(tmpdir(), "cachegrind-test-"));
  const expected = new Map<string, number[]>(); // `${program} ${geometry index}` -> summary
  const traces = new Map<string, string>();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(async () => {
    for (const tool of ["gcc", "valgrind"]) {
      const r = spawnSync(tool, ["--version"]);
      if (r.status !== 0) throw new Error(`${tool} is required for this test (set DAMON_SIM_SKIP_VALGRIND=1 to skip it)`);
    }
    for (const p of PROGRAMS) {
      const r = spawnSync("gcc", ["-O1", "-g", "-o", join(dir, p.name), join(FIXTURES, `${p.name}.c`)], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`gcc ${p.name}.c failed: ${r.stderr}`);
    }
    const jobs: Array<() => Promise<void>> = [];
    for (const p of PROGRAMS) {
      const exe = join(dir, p.name);
      jobs.push(async () => {
        const trace = join(dir, `${p.name}.lk`);
        const fd = openSync(trace, "w");
        try {
          // the trace goes to fd 3; the program's own output and Valgrind's banner stay out of it.
          // stdout is a pipe in both tools' runs: glibc's stdio runs different code (different
          // counts) when stdout is /dev/null.
          const r = await run("valgrind", ["--tool=lackey", "--trace-mem=yes", "--log-fd=3", exe, ...p.args], { stdio: ["ignore", "pipe", "pipe", fd] });
          if (r.status !== 0 || !p.stdout.test(r.stdout)) throw new Error(`lackey ${p.name}: status ${r.status}, stdout ${r.stdout}, stderr ${r.stderr}`);
        } finally {
          closeSync(fd);
        }
        traces.set(p.name, trace);
      });
      GEOMETRIES.forEach((g, gi) => {
        jobs.push(async () => {
          const out = join(dir, `${p.name}.${gi}.cg`);
          const r = await run("valgrind", ["--tool=cachegrind", "--cache-sim=yes", `--cachegrind-out-file=${out}`, ...geometryFlags(g), exe, ...p.args]);
          if (r.status !== 0 || !p.stdout.test(r.stdout)) throw new Error(`cachegrind ${p.name}: status ${r.status}, stderr ${r.stderr}`);
          const text = readFileSync(out, "utf8");
          for (const k of ["I1", "D1", "LL"] as const) expect(text).toContain(`desc: ${k} cache:`); // the geometry really used:
          expect(text).toMatch(new RegExp(`desc: LL cache: +${g.LL.split(",")[0]} B, ${g.LL.split(",")[2]} B`));
          expected.set(`${p.name} ${gi}`, parseCachegrindSummary(text, out));
        });
      });
    }
    await pool(jobs, 3);
  }, 120_000);

  for (const p of PROGRAMS) {
    it(`${p.name}: all nine counters equal cachegrind's for ${GEOMETRIES.length} geometries`, () => {
      const sims = GEOMETRIES.map((g) => new CachegrindSim({ I1: parseCacheGeometry(g.I1), D1: parseCacheGeometry(g.D1), LL: parseCacheGeometry(g.LL) }));
      const src = openLackeySource(traces.get(p.name)!);
      const batch = new AccessBatch(4096);
      let modifies = 0, straddles = 0;
      while (src.next(batch) > 0) {
        for (const sim of sims) sim.run(batch);
        for (let i = 0; i < batch.length; i++) {
          if (batch.kind[i] === MODIFY) modifies++;
          if (Math.floor(batch.addr[i]! / 64) !== Math.floor((batch.addr[i]! + batch.size[i]! - 1) / 64)) straddles++;
        }
      }
      src.close();
      GEOMETRIES.forEach((_, gi) => {
        const want = expected.get(`${p.name} ${gi}`)!;
        const got = sims[gi]!.values();
        expect(Object.fromEntries(CACHEGRIND_EVENTS.map((e, i) => [e, got[i]])), `${p.name} geometry ${gi}`).toEqual(Object.fromEntries(CACHEGRIND_EVENTS.map((e, i) => [e, want[i]])));
      });
      // the traces exercise the interesting rules
      expect(modifies).toBeGreaterThan(0);
      if (p.name === "stride") {
        expect(straddles).toBeGreaterThan(1000);
        expect(modifies).toBeGreaterThanOrEqual(2048); // 128 KiB / 64 byte increments
      }
    });
  }

  it("the CLI prints the same summary line, from a file and from stdin", () => {
    const g = GEOMETRIES[1]!;
    const r = runCli(["cachegrind", traces.get("stride")!, ...geometryFlags(g)]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[lines.length - 1]).toBe(`summary: ${expected.get("stride 1")!.join(" ")}`);
    expect(r.stdout).toMatch(/D1 +miss rate: +[0-9.]+%/);
    expect(r.stdout).toContain("D1  cache:     8192 B, 64 B, 2-way associative");
    const want = expected.get("sort 0")!;
    const s = runCli(["cachegrind", "-", ...geometryFlags(GEOMETRIES[0]!)], { input: readFileSync(traces.get("sort")!) });
    expect(s.status).toBe(0);
    expect(s.stdout.trimEnd().split("\n").pop()).toBe(`summary: ${want.join(" ")}`);
    expect(s.stdout).toContain(`I   refs:      ${want[0]!.toLocaleString("en-US")}`);
    // the same trace imported into damon-sim's .dst format gives the same nine numbers
    const dstPath = join(dir, "sort.dst");
    const imp = runCli(["import", "lackey", traces.get("sort")!, "-o", dstPath]);
    expect(imp.status).toBe(0);
    const d = runCli(["cachegrind", dstPath, ...geometryFlags(GEOMETRIES[0]!)]);
    expect(d.status).toBe(0);
    expect(d.stdout.trimEnd().split("\n").pop()).toBe(`summary: ${want.join(" ")}`);
  });

  it("the CLI exits 2 naming the option on bad or missing geometries, 2 on a bad trace", () => {
    const trace = traces.get("sort")!;
    const bad = runCli(["cachegrind", trace, "--I1=32768,8,64", "--D1=32768,8,64", "--LL=37748736,12,64"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--LL=37748736,12,64: Cache set count is not a power of two/);
    expect(bad.stdout).toBe("");
    const missing = runCli(["cachegrind", trace, "--I1=32768,8,64", "--LL=2097152,16,64"]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/--D1/);
    const unknown = runCli(["cachegrind", trace, ...geometryFlags(GEOMETRIES[0]!), "--L2=1,1,1"]);
    expect(unknown.status).toBe(2);
    writeFileSync(join(dir, "empty.dst"), "");
    const dst = runCli(["cachegrind", join(dir, "empty.dst"), ...geometryFlags(GEOMETRIES[0]!)]);
    expect(dst.status).toBe(2);
    expect(dst.stderr).toMatch(/empty\.dst.*byte offset 0/);
    const malformed = runCli(["cachegrind", "-", ...geometryFlags(GEOMETRIES[0]!)], { input: "I  400000,4\n L 1000,8\n S 1000;8\n" });
    expect(malformed.status).toBe(2);
    expect(malformed.stderr).toMatch(/<stdin>:3:8: expected ',' after the address/);
    expect(malformed.stdout).toBe("");
  });
});
