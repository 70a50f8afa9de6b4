// masim configuration parsing: the grammar of damon.md section 7.4 (comments vanish with their
// newline, paragraphs split by exactly one empty line, region and pattern lines, default mode),
// the example config of the reference, the shipped configs, and every error with its line and
// column.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../sim/errors.ts";
import { loadMasimConfig, parseMasimConfig } from "../../workloads/masim.ts";
import { CONFIGS_DIR } from "../../workloads/registry.ts";

const EXAMPLE = `# two-tier demo: 64 MiB hot buffer, 1 GiB cold heap
hot, 67108864, none
cold, 1073741824

warmup
2000
hot, 0, 4096, 1
cold, 0, 4096, 1

hot-reads
5000
hot, 1, 64, 90, ro
cold, 0, 4096, 10, rw

cold-sweep
3000
cold, 0, 4096, 1
`;

function parseError(text: string): InputError {
  try {
    parseMasimConfig(text, "t.cfg");
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error("expected an InputError");
}

/** Expects an error at line:column whose message matches `re`, and names the file. */
function expectError(text: string, line: number, column: number, re: RegExp): void {
  const e = parseError(text);
  expect(e.message).toMatch(re);
  expect({ line: e.location.line, column: e.location.column }).toEqual({ line, column });
  expect(e.location.file).toBe("t.cfg");
  expect(e.message.startsWith(`t.cfg:${line}:${column}: `)).toBe(true);
}

describe("masim config grammar", () => {
  it("parses the reference example: 2 regions, 3 phases of 2, 5 and 3 s", () => {
    const c = parseMasimConfig(EXAMPLE, "example.cfg");
    expect(c.regions.map((r) => [r.name, r.size, r.initDataFile, r.line])).toEqual([
      ["hot", 67108864, null, 2],
      ["cold", 1073741824, null, 3],
    ]);
    expect(c.phases.map((p) => [p.name, p.durationMs, p.patterns.length, p.line])).toEqual([
      ["warmup", 2000, 2, 5],
      ["hot-reads", 5000, 2, 10],
      ["cold-sweep", 3000, 1, 15],
    ]);
    const hr = c.phases[1]!.patterns;
    expect(hr[0]).toEqual({ region: 0, random: true, stride: 64, probability: 90, mode: "ro", line: 12 });
    expect(hr[1]).toEqual({ region: 1, random: false, stride: 4096, probability: 10, mode: "rw", line: 13 });
    // no mode field: the default (wo unless overridden) applies at run time
    expect(c.phases[2]!.patterns[0]).toEqual({ region: 1, random: false, stride: 4096, probability: 1, mode: null, line: 17 });
  });

  it("removes comment lines with their newline, so they never break a paragraph", () => {
    const text = "# head\na, 4096\n# between regions\nb, 8192, /data/init.bin\n\n# before a phase\np\n# inside a phase\n10\na, 1, 0, 1\n#\nb, 0, 64, 2, wo\n\nq\n5\nb, 0, 1, 1\n# trailing comment without newline";
    const c = parseMasimConfig(text, "t.cfg");
    expect(c.regions.map((r) => [r.name, r.size, r.initDataFile])).toEqual([["a", 4096, null], ["b", 8192, "/data/init.bin"]]);
    expect(c.phases.map((p) => [p.name, p.durationMs, p.patterns.length])).toEqual([["p", 10, 2], ["q", 5, 1]]);
    expect(c.phases[0]!.patterns[1]!.line).toBe(12);
  });

  it("reads numbers the way masim does: leading and trailing blanks are fine", () => {
    const c = parseMasimConfig("r,   123 ,none\n\nphase with, commas, in its name\n  7\nr,1 ,  8,  3 ,  rw\n", "t.cfg");
    expect(c.regions[0]!.size).toBe(123);
    expect(c.phases[0]!.name).toBe("phase with, commas, in its name");
    expect(c.phases[0]!.durationMs).toBe(7);
    expect(c.phases[0]!.patterns[0]).toMatchObject({ random: true, stride: 8, probability: 3, mode: "rw" });
  });

  it("parses the shipped configs", () => {
    const stairs = loadMasimConfig(join(CONFIGS_DIR, "stairs.cfg"));
    expect(stairs.regions).toHaveLength(10);
    expect(stairs.regions.every((r) => r.size === 10_000_000)).toBe(true);
    expect(stairs.phases).toHaveLength(11);
    expect(stairs.phases.slice(1).every((p, i) => p.patterns.length === 1 && p.patterns[0]!.region === i)).toBe(true);
    const zigzag = loadMasimConfig(join(CONFIGS_DIR, "zigzag.cfg"));
    expect(zigzag.regions.map((r) => r.size)).toEqual([100_000_000, 100_000_000]);
    expect(zigzag.phases.slice(1).map((p) => p.patterns[0]!.region)).toEqual([0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
    const tier = loadMasimConfig(join(CONFIGS_DIR, "tiering-hotcold.cfg"));
    expect(tier.regions.map((r) => [r.name, r.size])).toEqual([["hot", 64 << 20], ["cold", 1 << 30]]);
    for (const f of ["stairs.cfg", "zigzag.cfg", "tiering-hotcold.cfg", "moving-hotspot.cfg"]) {
      expect(readFileSync(join(CONFIGS_DIR, f), "utf8").startsWith("# ")).toBe(true);
    }
  });
});

describe("masim config errors name the line and column", () => {
  const OK_PHASE = "p\n10\na, 0, 64, 1\n";

  it("file structure", () => {
    expectError("", 1, 1, /no regions/);
    expectError("# only a comment\n", 1, 1, /no regions/);
    expectError(`a, 4096\n\n${OK_PHASE.slice(0, -1)}`, 5, 12, /must end with a newline/);
    expectError("a, 4096\r\n\r\n", 1, 8, /carriage return/);
    expectError("\na, 4096\n\np\n1\na, 0, 1, 1\n", 1, 1, /starts with an empty line/);
    expectError("a, 4096\nb, 4096\n", 2, 8, /no phases/);
    expectError("a, 4096\n\n", 3, 1, /no phases after the regions/);
    expectError(`a, 4096\n\n\n${OK_PHASE}`, 3, 1, /extra empty line/);
    expectError(`a, 4096\n\n${OK_PHASE}\n\n${OK_PHASE}`, 7, 1, /extra empty line/);
    expectError(`a, 4096\n\n${OK_PHASE}\n`, 6, 1, /empty line at the end/);
  });

  it("region lines", () => {
    expectError(`a\n\n${OK_PHASE}`, 1, 1, /2 or 3 comma-separated fields.*found 1/);
    expectError(`a, 1, none, x\n\n${OK_PHASE}`, 1, 11, /found 4/); // at the comma that starts the extra field
    expectError(`a, 4096\nb, 10x\n\n${OK_PHASE}`, 2, 4, /region size must be a non-negative integer, got '10x'/);
    expectError(`a, -5\n\n${OK_PHASE}`, 1, 4, /non-negative integer, got '-5'/);
    expectError(`a,\n\n${OK_PHASE}`, 1, 3, /got ''/);
    expectError(`a, 0\n\n${OK_PHASE}`, 1, 4, /must be positive/);
    expectError(`a, 99999999999999999999\n\n${OK_PHASE}`, 1, 4, /too large/);
    expectError(`, 4096\n\n${OK_PHASE}`, 1, 1, /empty region name/);
    expectError(` a, 4096\n\n${OK_PHASE}`, 1, 1, /starts with a space/);
    expectError(`a, 4096\nb, 1\na, 8\n\n${OK_PHASE}`, 3, 1, /duplicate region name 'a' \(first defined on line 1\)/);
    expectError(`a, 4096,  \n\n${OK_PHASE}`, 1, 9, /empty init_data_file/);
  });

  it("phase paragraphs and pattern lines", () => {
    const R = "a, 4096\nbb, 8192\n\n";
    expectError(`${R}p\n10\n`, 4, 1, /phase 'p' has 2 lines/);
    expectError(`${R}p\n`, 4, 1, /has 1 line;/);
    expectError(`${R}p\n1O\na, 0, 1, 1\n`, 5, 1, /phase duration \(ms\) must be a non-negative integer, got '1O'/);
    expectError(`${R}p\n 5s\na, 0, 1, 1\n`, 5, 2, /got '5s'/);
    expectError(`${R}p\n10\na, 0, 1\n`, 6, 1, /4 or 5 comma-separated fields.*found 3/);
    expectError(`${R}p\n10\na, 0, 1, 1, ro, x\n`, 6, 15, /found 6/);
    expectError(`${R}p\n10\na, 0, 1, 1\nc, 0, 1, 1\n`, 7, 1, /unknown region 'c' \(regions: a, bb\)/);
    expectError(`${R}p\n10\nbb , 0, 1, 1\n`, 6, 1, /unknown region 'bb ' \(region names are matched exactly/);
    expectError(`${R}p\n10\na, 2, 1, 1\n`, 6, 4, /random must be 0 \(sequential\) or 1 \(random\), got '2'/);
    expectError(`${R}p\n10\na, 0, -4, 1\n`, 6, 7, /stride must be a non-negative integer, got '-4'/);
    expectError(`${R}p\n10\na, 0, 4,  0.5\n`, 6, 11, /probability must be a non-negative integer, got '0.5'/);
    expectError(`${R}p\n10\na, 0, 4, 3000000000\n`, 6, 10, /probability 3000000000 is too large/);
    expectError(`${R}p\n10\na, 0, 4, 1, rx\n`, 6, 13, /access mode must be ro, wo or rw, got 'rx'/);
    expectError(`${R}p\n10\na, 0, 4, 0\nbb, 1, 0, 0\n`, 4, 1, /probabilities of phase 'p' sum to 0/);
    expectError(`${R}p\n10\na, 0, 4, 2000000000\nbb, 0, 4, 2000000000\n`, 4, 1, /more than masim's int/);
  });

  it("loading a missing file is an InputError naming it", () => {
    expect(() => loadMasimConfig("/nonexistent/x.cfg")).toThrow(/\/nonexistent\/x.cfg: cannot read masim config: ENOENT/);
  });
});
