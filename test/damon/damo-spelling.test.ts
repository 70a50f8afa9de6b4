// damo's DAMOS spellings (damon/schemes/damo-*.ts): the --damos_* options, the scheme JSON and
// the --kdamonds JSON to SchemeSpec, and SchemeSpec back to damo's JSON.
//
// Where the expected values come from:
// - damo's own unit tests at damonitor/damo@df6d55fa: tests/unit/test_fmt_str.py (value
//   parsing), tests/unit/test_damon_args.py (filter forms), tests/unit/test_damo_schemes_input.py,
//   tests/schemes/*.json and tests/start_stop/monitoring_damos.json (JSON inputs), and the scripts
//   tests/args_damon/{mem_tier,lru_sort,weighted_interleave}.sh (= scripts/mem_tier.sh);
// - "damo says": damo@df6d55fa itself, run on each input (src/_damon_args.py kdamonds_for with
//   damo's own argparser), its src/_damon_sysfs.py write_scheme_dir run with _damo_fs.write_file
//   captured, and the captured sysfs files read as the kernel's sysfs-schemes.c stores them
//   (nr_accesses and age wrap to u32; target_nid defaults to NUMA_NO_NODE, a goal nid to 0);
// - hand computation, shown next to the mem_tier.sh case.
// memcg paths resolve through MEMCG below.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { InputError } from "../../sim/errors.ts";
import { parseSize } from "../../sim/units.ts";
import { parseDuration } from "../../sim/time.ts";
import { parseDamosArgs, parseDamosArgsPerContext, type DamoOption } from "../../damon/schemes/damo-args.ts";
import { parseDamosJson, schemeToDamoJson } from "../../damon/schemes/damo-json.ts";
import { DAMO_GOAL_METRICS, goalHasMemcg, goalHasNid, type DamoSchemeContext } from "../../damon/schemes/damo-spelling.ts";
import { damoBool, damoBp, damoBytes, damoMs, damoNumber, damoPercent, damoPermil, damoUs, ULONG_MAX } from "../../damon/schemes/damo-units.ts";
import { DAMOS_ACTIONS, type DamosFilter, type QuotaGoal, type SchemeSpec } from "../../damon/schemes/types.ts";

const MEMCG: Record<string, number> = { "/a/b": 7, "a/b/c": 9, "/all/latency-critical": 11, "/x": 3 };
const ctx = (sampleUs = 5_000, aggrUs = 100_000): DamoSchemeContext => ({
  sampleUs,
  aggrUs,
  memcgIdOf: (p) => MEMCG[p],
  memcgPathOf: (id) => Object.keys(MEMCG).find((p) => MEMCG[p] === id),
});

/** damo command-line words to option occurrences: "--x a b --y c" -> [{--x, [a, b]}, {--y, [c]}]. */
function argv(line: string): DamoOption[] {
  const out: { name: string; values: string[] }[] = [];
  for (const w of line.trim().split(/\s+/)) {
    if (w.startsWith("--")) out.push({ name: w, values: [] });
    else out.at(-1)!.values.push(w);
  }
  return out;
}
const cli = (line: string, c = ctx()): SchemeSpec[] => parseDamosArgs(argv(line), c);
const json = (v: unknown, c = ctx()): SchemeSpec[] => parseDamosJson(typeof v === "string" ? v : JSON.stringify(v, null, 2), "s.json", c)[0]!.schemes;

/** The InputError message `f` throws (the test fails if it throws nothing or something else). */
function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error("no error thrown");
}

// The defaults damo writes at 5 ms / 100 ms (DamosAccessPattern(), DamosQuotas(), DamosWatermarks()):
// - nr_accesses max: percent "max" = 2^64 - 1, x (100 ms / 5 ms) / 100 = 3689348814741910528
//   (0x3333333333333400) samples, stored in the kernel's u32 as 0x33333400 = 858993664;
// - age max: int((2^64 - 1) us / 100000 us) = 184467440737095 (0xa7c5ac471b47), u32 0xac471b47 = 2890341191;
// - size max and the quota reset interval: ULONG_MAX.
const NR_MAX_20 = 858_993_664;
const AGE_MAX_100MS = 2_890_341_191;
const DEFAULT: SchemeSpec = {
  action: "stat",
  pattern: { szRegion: { min: 0, max: ULONG_MAX }, nrAccesses: { min: 0, max: NR_MAX_20 }, age: { min: 0, max: AGE_MAX_100MS } },
  applyIntervalUs: 0,
  quota: { ms: 0, sz: 0, resetIntervalMs: ULONG_MAX, weightSz: 0, weightNrAccesses: 0, weightAge: 0, goals: [], goalTuner: "consist", failChargeNum: 0, failChargeDenom: 0 },
  wmarks: { metric: "none", intervalUs: 0, high: 0, mid: 0, low: 0 },
  coreFilters: [],
  opsFilters: [],
  targetNid: -1,
  dests: [],
  maxNrSnapshots: 0,
};

type Partial2<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? Partial2<T[K]> : T[K] };
/** DEFAULT with some fields replaced (objects merge, lists replace). */
function spec(over: Partial2<SchemeSpec>): SchemeSpec {
  const merge = (a: unknown, b: unknown): unknown => {
    if (b === undefined) return a;
    if (typeof a !== "object" || a === null || Array.isArray(a) || typeof b !== "object" || b === null || Array.isArray(b)) return b;
    const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    for (const [k, v] of Object.entries(b)) out[k] = merge(out[k], v);
    return out;
  };
  return merge(structuredClone(DEFAULT), over) as SchemeSpec;
}
const goal = (metric: QuotaGoal["metric"], targetValue: number, o: Partial<QuotaGoal> = {}): QuotaGoal => ({ metric, targetValue, currentValue: 0, nid: 0, memcgId: 0, complement: false, ...o });

describe("damo's value spellings (damo tests/unit/test_fmt_str.py @df6d55fa)", () => {
  it("sizes: K/KB/KiB are all 2^10, M/MB/MiB 2^20 and so on; commas, min and max", () => {
    const cases: Array<[string | number, number]> = [
      ["123", 123], ["1,234", 1234], ["123 B", 123], ["2 K", 2048], ["2 KB", 2048], ["2 KiB", 2048],
      ["2 M", 2 * 2 ** 20], ["2 MB", 2 * 2 ** 20], ["2 MiB", 2 * 2 ** 20], ["2 G", 2 * 2 ** 30], ["2 GB", 2 * 2 ** 30],
      ["1,234.457 G", 1325488110829], ["1,234.457 GiB", 1325488110829], ["1,234.457", 1234.457], ["2 GiB", 2 * 2 ** 30],
      ["2 T", 2 * 2 ** 40], ["2 TB", 2 * 2 ** 40], ["2 TiB", 2 * 2 ** 40], ["2 P", 2 * 2 ** 50], ["2 PB", 2 * 2 ** 50],
      ["2 PiB", 2 * 2 ** 50], ["2.0 PiB", 2 * 2 ** 50], ["16384.000 PiB", ULONG_MAX], ["2.0 EiB", 2 * 2 ** 60], ["2.0 EB", 2 * 2 ** 60],
      ["123.456", 123.456], [123, 123], [123.456, 123.456], ["min", 0], ["max", ULONG_MAX], ["4KiB", 4096], ["12K", 12288],
    ];
    for (const [text, want] of cases) expect(damoBytes(text), String(text)).toBe(want);
  });

  it("times: ns us ms s m h d, fields add up, a bare number is the option's unit", () => {
    const us: Array<[string | number, number]> = [
      ["1 us", 1], ["1234 us", 1234], ["1,234 us", 1234], ["1234us", 1234], ["1 ms", 1000], ["1 m 2 s", 62e6],
      ["2 h 1 m 2 s", 7262e6], ["3 d 2 h 1 m 2 s", 3 * 86400e6 + 7262e6], ["134", 134], ["max", ULONG_MAX], ["123.456", 123.456],
      [123, 123], [123.456, 123.456], ["1 ns", 0.001], ["min", 0],
    ];
    for (const [text, want] of us) expect(damoUs(text), String(text)).toBe(want);
    for (const [text, want] of [["134", 134], ["max", ULONG_MAX], ["123.456", 123.456], [123, 123], ["1 s", 1000], ["1.5 ms", 1.5]] as const) {
      expect(damoMs(text), String(text)).toBe(want);
    }
  });

  it("ratios: N% or a bare number in the option's unit (percent, permil, bp)", () => {
    const percent: Array<[string | number, number]> = [
      ["10%", 10], [12.34, 12.34], ["12.34", 12.34], ["12.34%", 12.34], ["12.34 %", 12.34], ["1,234.567 %", 1234.567],
      ["1,234.567,89 %", 1234.56789], ["1,234", 1234], ["123", 123], ["123.456", 123.456], [123, 123], ["min", 0], ["max", ULONG_MAX],
    ];
    for (const [t, w] of percent) expect(damoPercent(t), String(t)).toBe(w);
    const permil: Array<[string | number, number]> = [["10%", 100], [12.34, 12.34], ["12.34", 12.34], ["1.234%", 12.34], ["1.234 %", 12.34], ["1,234.567 %", 12345.67], ["1,234.567,89 %", 12345.6789], ["123", 123]];
    for (const [t, w] of permil) expect(damoPermil(t), String(t)).toBe(w);
    const bp: Array<[string | number, number]> = [["10%", 1000], [12.34, 12.34], ["12.34", 12.34], ["1.234%", 123.4], ["1.234 %", 123.4], ["1,234.567 %", 123456.7], ["1,234.567,89 %", 123456.789], ["123", 123]];
    for (const [t, w] of bp) expect(damoBp(t), String(t)).toBe(w);
    // the float artefacts damo has too: 99.7% is 9970 bp, 7% is 7.000000000000001 percent
    expect(damoBp("99.7%")).toBe(9970);
    expect(damoPercent("7%")).toBe(7.000000000000001);
  });

  it("numbers and booleans", () => {
    for (const [t, w] of [[123, 123], ["123", 123], ["1,234", 1234], ["12,345", 12345], ["123,456", 123456], ["max", ULONG_MAX], ["0.123", 0.123]] as const) expect(damoNumber(t)).toBe(w);
    for (const t of [true, "Y", "y", "YES", "yes", "Yes", "TRUE", "true", "True"]) expect(damoBool(t)).toBe(true);
    for (const t of [false, "N", "n", "NO", "No", "FALSE", "false", "False"]) expect(damoBool(t)).toBe(false);
    expect(errorOf(() => damoBool(1))).toMatch(/is not true or false/);
  });

  it("differ from the simulator's own parsers where damo's rules differ", () => {
    expect(damoBytes("200MB")).toBe(200 * 2 ** 20);
    expect(parseSize("200MB")).toBe(200 * 1000 * 1000);
    expect(parseSize("4kib")).toBe(4096);
    expect(errorOf(() => damoBytes("4kib"))).toBe("'4kib' is not a size (examples: 4096, 4K, 4 KiB, 200MB (MB = MiB), min, max)");
    expect(parseDuration("2min", "us")).toBe(120e9);
    expect(damoUs("min")).toBe(0);
    expect(errorOf(() => damoUs("2min"))).toMatch(/^'2min' is not a time/);
    expect(damoUs("2 d")).toBe(2 * 86400e6);
    expect(errorOf(() => damoPercent("5x"))).toMatch(/^'5x' is not a percent/);
    expect(errorOf(() => damoUs("inf"))).toMatch(/is not a time/);
  });
});

// ---- the two-scheme tiering setup (damos.md 9; damo scripts/mem_tier.sh = tests/args_damon/mem_tier.sh) ----

const MEM_TIER =
  "--damos_action migrate_cold 1 --damos_access_rate 0% 0% --damos_apply_interval 1s --damos_quota_interval 1s --damos_quota_space 200MB " +
  "--damos_quota_goal node_mem_free_bp 0.5% 0 --damos_filter reject young " +
  "--damos_action migrate_hot 0 --damos_access_rate 5% max --damos_apply_interval 1s --damos_quota_interval 1s --damos_quota_space 200MB " +
  "--damos_quota_goal node_mem_used_bp 99.7% 0 --damos_filter allow young " +
  "--damos_nr_quota_goals 1 1 --damos_nr_filters 1 1 --nr_schemes 1 1";

// Hand-computed at damo's default 5 ms / 100 ms (20 samples per aggregation): 0% -> 0 samples;
// 5% -> int(5 x 20 / 100) = 1; 200MB = 200 x 2^20 bytes; 1s = 1000 ms and 1000000 us; 0.5% =
// 50 bp and 99.7% = 9970 bp; --damos_quota_interval makes the weights 1, 1, 1 permil.
const QUOTA_200MB_1S = { sz: 209_715_200, resetIntervalMs: 1000, weightSz: 1, weightNrAccesses: 1, weightAge: 1 };
const DEMOTE = spec({
  action: "migrate_cold",
  targetNid: 1,
  pattern: { nrAccesses: { min: 0, max: 0 } },
  applyIntervalUs: 1_000_000,
  quota: { ...QUOTA_200MB_1S, goals: [goal("node_mem_free_bp", 50, { nid: 0 })] },
  opsFilters: [{ type: "young", matching: true, allow: false }],
});
const PROMOTE = spec({
  action: "migrate_hot",
  targetNid: 0,
  pattern: { nrAccesses: { min: 1, max: NR_MAX_20 } },
  applyIntervalUs: 1_000_000,
  quota: { ...QUOTA_200MB_1S, goals: [goal("node_mem_used_bp", 9970, { nid: 0 })] },
  opsFilters: [{ type: "young", matching: true, allow: true }],
});

describe("--damos_* options", () => {
  it("mem_tier.sh: a demotion scheme for node 0's context and a promotion scheme for node 1's", () => {
    expect(parseDamosArgsPerContext(argv(MEM_TIER), [ctx(), ctx()])).toEqual([[DEMOTE], [PROMOTE]]);
  });

  it("damo's other example scripts (tests/args_damon/lru_sort.sh, weighted_interleave.sh): damo says", () => {
    const lru =
      "--damos_action lru_deprio --damos_access_rate 0% 0% --damos_apply_interval 1s --damos_quota_interval 1s --damos_quota_space 100MB " +
      "--damos_quota_goal inactive_mem_bp 50.1% --damos_quota_weights 0 1 1 --damos_filter reject young " +
      "--damos_action lru_prio --damos_access_rate 5% max --damos_apply_interval 1s --damos_quota_interval 1s --damos_quota_space 100MB " +
      "--damos_quota_goal active_mem_bp 50.1% --damos_quota_weights 0 1 1 --damos_filter allow young --damos_nr_quota_goals 1 1 --damos_nr_filters 1 1";
    const q = { sz: 104_857_600, resetIntervalMs: 1000, weightNrAccesses: 1, weightAge: 1 };
    expect(cli(lru)).toEqual([
      spec({ action: "lru_deprio", pattern: { nrAccesses: { max: 0 } }, applyIntervalUs: 1e6, quota: { ...q, goals: [goal("inactive_mem_bp", 5010)] }, opsFilters: [{ type: "young", matching: true, allow: false }] }),
      spec({ action: "lru_prio", pattern: { nrAccesses: { min: 1 } }, applyIntervalUs: 1e6, quota: { ...q, goals: [goal("active_mem_bp", 5010)] }, opsFilters: [{ type: "young", matching: true, allow: true }] }),
    ]);
    expect(cli("--damos_action migrate_hot 0 1 1 1 --damos_access_rate 5% max --damos_apply_interval 1s --damos_quota_interval 1s --damos_quota_space 200MB")).toEqual([
      spec({ action: "migrate_hot", pattern: { nrAccesses: { min: 1 } }, applyIntervalUs: 1e6, quota: QUOTA_200MB_1S, dests: [{ nid: 0, weight: 1 }, { nid: 1, weight: 1 }] }),
    ]);
  });

  it("damo says: defaults, every quota form, goals of each metric, watermarks, snapshots, other intervals", () => {
    expect(cli("--damos_action stat")).toEqual([DEFAULT]);
    expect(cli("--damos_action pageout --damos_sz_region 4K 2MiB --damos_access_rate 0 10% --damos_age 2s max --damos_quotas 10ms 1G 1s 3 7 9", ctx(1000, 50_000))).toEqual([
      spec({ action: "pageout", pattern: { szRegion: { min: 4096, max: 2_097_152 }, nrAccesses: { max: 5 }, age: { min: 40, max: 1_485_715_087 } }, quota: { ms: 10, sz: 2 ** 30, resetIntervalMs: 1000, weightSz: 3, weightNrAccesses: 7, weightAge: 9 } }),
    ]);
    expect(cli("--damos_action pageout --damos_quotas 100")).toEqual([spec({ action: "pageout", quota: { ms: 100 } })]);
    expect(cli("--damos_action cold --damos_access_rate 7% 29% --damos_age 25ms 1234567us", ctx(3000, 10_000))).toEqual([
      spec({ action: "cold", pattern: { nrAccesses: { min: 0, max: 0 }, age: { min: 2, max: 123 } } }),
    ]);
    expect(cli("--damos_action stat --damos_wmarks free_mem_rate 5s 800 500 200 --damos_max_nr_snapshots 3 --damos_apply_interval 250ms")).toEqual([
      spec({ applyIntervalUs: 250_000, wmarks: { metric: "free_mem_rate", intervalUs: 5_000_000, high: 800, mid: 500, low: 200 }, maxNrSnapshots: 3 }),
    ]);
    const goals =
      "--damos_action pageout --damos_quotas 0 1M 1s --damos_quota_goal user_input 10000 1234 --damos_quota_goal some_mem_psi_us 1ms " +
      "--damos_quota_goal node_memcg_used_bp 30% 1 /a/b --damos_quota_goal node_memcg_free_bp 2000 0 /x --damos_quota_goal node_eligible_mem_bp 4000 " +
      "--damos_quota_goal_tuner temporal --damos_quota_fail_charge_ratio 1 4";
    expect(cli(goals)).toEqual([
      spec({
        action: "pageout",
        quota: {
          sz: 2 ** 20,
          resetIntervalMs: 1000,
          goals: [goal("user_input", 10000, { currentValue: 1234 }), goal("some_mem_psi_us", 1000), goal("node_memcg_used_bp", 3000, { nid: 1, memcgId: 7 }), goal("node_memcg_free_bp", 2000, { memcgId: 3 }), goal("node_eligible_mem_bp", 4000)],
          goalTuner: "temporal",
          failChargeNum: 1,
          failChargeDenom: 4,
        },
      }),
    ]);
    expect(cli("--damos_action pageout --damos_quotas 0 0 2s --damos_quota_goal node_mem_free_bp 12.34% 1")).toEqual([
      spec({ action: "pageout", quota: { resetIntervalMs: 2000, goals: [goal("node_mem_free_bp", 1234, { nid: 1 })] } }),
    ]);
    // each --damos_* occurrence goes to the scheme of its rank, wherever it stands
    expect(cli("--damos_action migrate_cold 1 2 3 4 --damos_action willneed --damos_sz_region 1K 2K --damos_sz_region 3K 4K --damos_quota_interval 10ms --damos_quota_interval 20ms --damos_quota_time 5 --damos_quota_space 1K --damos_quota_space 2K --damos_quota_weights 10 20 30")).toEqual([
      spec({ action: "migrate_cold", pattern: { szRegion: { min: 1024, max: 2048 } }, quota: { ms: 5, sz: 1024, resetIntervalMs: 10, weightSz: 10, weightNrAccesses: 20, weightAge: 30 }, dests: [{ nid: 1, weight: 2 }, { nid: 3, weight: 4 }] }),
      spec({ action: "willneed", pattern: { szRegion: { min: 3072, max: 4096 } }, quota: { sz: 2048, resetIntervalMs: 20, weightSz: 1, weightNrAccesses: 1, weightAge: 1 } }),
    ]);
  });

  it("damo says: fractions truncate ('%d'), commas, percents as weights, fields of a time, goals shared by count", () => {
    expect(cli("--damos_action migrate_hot --damos_age 1s 2s --damos_access_rate 5 max --damos_sz_region 1.5K max --damos_quotas 1.5 1.5K 2.5s --damos_quota_goal user_input 1,000 5 --damos_wmarks free_mem_rate 1s 80% 50% 20% --damos_max_nr_snapshots 1,000 --damos_apply_interval max")).toEqual([
      spec({
        action: "migrate_hot",
        pattern: { szRegion: { min: 1536 }, nrAccesses: { min: 1 }, age: { min: 10, max: 20 } },
        applyIntervalUs: ULONG_MAX,
        quota: { ms: 1, sz: 1536, resetIntervalMs: 2500, goals: [goal("user_input", 1000, { currentValue: 5 })] },
        wmarks: { metric: "free_mem_rate", intervalUs: 1e6, high: 800, mid: 500, low: 200 },
        maxNrSnapshots: 1000,
      }),
    ]);
    expect(cli("--damos_action stat --damos_quota_interval 1s --damos_quota_weights 10% 0.5% 1")).toEqual([spec({ quota: { resetIntervalMs: 1000, weightSz: 100, weightNrAccesses: 5, weightAge: 1 } })]);
    expect(parseDamosArgs([{ name: "--damos_action", values: ["stat"] }, { name: "--damos_age", values: ["1 m 2 s", "max"] }], ctx())).toEqual([spec({ pattern: { age: { min: 620 } } })]);
    expect(cli("--damos_action stat --damos_age 150000 max")).toEqual([spec({ pattern: { age: { min: 1 } } })]);
    expect(cli("--damos_action migrate_cold -1")).toEqual([spec({ action: "migrate_cold" })]);
    expect(cli("--damos_action pageout --damos_filter allow --damos_filter anon")).toEqual([spec({ action: "pageout", opsFilters: [{ type: "anon", matching: true, allow: true }] })]);
    expect(cli("--damos_action pageout --damos_quotas 0 0 1s --damos_action stat --damos_quotas 1 2 3 --damos_quota_goal user_input 1 2 --damos_quota_goal user_input 3 4 --damos_quota_goal active_mem_bp 5% --damos_nr_quota_goals 2 1")).toEqual([
      spec({ action: "pageout", quota: { resetIntervalMs: 1000, goals: [goal("user_input", 1, { currentValue: 2 }), goal("user_input", 3, { currentValue: 4 })] } }),
      spec({ quota: { ms: 1, sz: 2, resetIntervalMs: 3, goals: [goal("active_mem_bp", 500)] } }),
    ]);
  });

  it("damo says: each context converts with its own intervals (max wraps differently)", () => {
    const line = "--damos_action stat --damos_access_rate 50% max --damos_age 1s max --damos_action stat --damos_access_rate 50% max --damos_age 1s max --nr_schemes 1 1";
    expect(parseDamosArgsPerContext(argv(line), [ctx(5000, 100_000), ctx(1000, 200_000)])).toEqual([
      [spec({ pattern: { nrAccesses: { min: 10 }, age: { min: 10 } } })],
      // (2^64-1)% x 200 / 100 passes 2^64, so damo writes 2^64-1 and the u32 keeps 0xffffffff
      [spec({ pattern: { nrAccesses: { min: 100, max: 0xffffffff }, age: { min: 5, max: 3_592_654_243 } } })],
    ]);
  });

  it("filters: damo's v2 and v1 forms (tests/unit/test_damon_args.py) give the same filter", () => {
    // [v1 spelling, v2 spelling, expected] from test_convert_damos_filter_v1_to_v2 and test_damos_options_to_filters
    const table: Array<[string, string, DamosFilter]> = [];
    const args: Record<string, [string, Partial<DamosFilter>]> = {
      anon: ["", {}], memcg: [" a/b/c", { memcgId: 9 }], young: ["", {}], addr: [" 123 567", { addrStart: 123, addrEnd: 567 }], target: [" 1", { targetIdx: 1 }],
    };
    for (const [type, [a, extra]] of Object.entries(args)) {
      for (const m of ["matching", "nomatching"]) {
        for (const verdict of ["", " allow", " reject"]) {
          const allow = verdict === " allow";
          const f = { type, matching: m === "matching", allow, ...extra } as DamosFilter;
          table.push([`${type} ${m}${a}${verdict}`, `${allow ? "allow" : "reject"}${m === "matching" ? "" : " none"} ${type}${a}`, f]);
        }
      }
    }
    for (const [v1, v2, f] of table) {
      const want = f.type === "addr" || f.type === "target" ? { coreFilters: [f], opsFilters: [] } : { coreFilters: [], opsFilters: [f] };
      for (const form of [v1, v2]) {
        const [s] = cli(`--damos_action pageout --damos_filter ${form}`);
        expect({ coreFilters: s!.coreFilters, opsFilters: s!.opsFilters }, form).toEqual(want);
      }
    }
  });

  it("filters: damo says for chains, synonyms (deny, block, pass) and the core/ops split keeping order", () => {
    const [v2] = cli("--damos_action pageout --damos_filter allow anon reject none memcg a/b/c --damos_filter block addr 4K 1M deny none target 1 --damos_filter allow hugepage_size 2M 2M reject unmapped allow none active");
    expect(v2!.coreFilters).toEqual([
      { type: "addr", matching: true, allow: false, addrStart: 4096, addrEnd: 1_048_576 },
      { type: "target", matching: false, allow: false, targetIdx: 1 },
    ]);
    expect(v2!.opsFilters).toEqual([
      { type: "anon", matching: true, allow: true },
      { type: "memcg", matching: false, allow: false, memcgId: 9 },
      { type: "hugepage_size", matching: true, allow: true, min: 2 ** 21, max: 2 ** 21 },
      { type: "unmapped", matching: true, allow: false },
      { type: "active", matching: false, allow: true },
    ]);
    const [v1] = cli("--damos_action pageout --damos_filter anon matching --damos_filter memcg nomatching /a/b allow --damos_filter addr matching 123 567 pass --damos_filter target nomatching 1 deny --damos_filter young matching block");
    expect(v1!.coreFilters).toEqual([
      { type: "addr", matching: true, allow: true, addrStart: 123, addrEnd: 567 },
      { type: "target", matching: false, allow: false, targetIdx: 1 },
    ]);
    expect(v1!.opsFilters).toEqual([
      { type: "anon", matching: true, allow: false },
      { type: "memcg", matching: false, allow: true, memcgId: 7 },
      { type: "young", matching: true, allow: false },
    ]);
  });

  it("bad values name the option, the scheme and the value", () => {
    const cases: Array<[string, string]> = [
      ["--damos_action pageout --damos_action stat --damos_access_rate 5% max --damos_access_rate 5x max", "--damos_access_rate of scheme 1: '5x' is not a percent (examples: 5%, 12.5 %, 5, min, max)"],
      ["--damos_action pageout --damos_sz_region 4kib max", "--damos_sz_region of scheme 0: '4kib' is not a size (examples: 4096, 4K, 4 KiB, 200MB (MB = MiB), min, max)"],
      ["--damos_action pageout --damos_age 5min max", "--damos_age of scheme 0: '5min' is not a time (examples: 100us, 5 ms, 1s, 1 m 30 s, 2h, min, max)"],
      ["--damos_action pageout --damos_sz_region -4K max", "--damos_sz_region of scheme 0: -4096 is negative: the kernel reads an unsigned number here"],
      ["--damos_action foo", "--damos_action of scheme 0: 'foo' is not a DAMOS action (known: willneed, cold, pageout, hugepage, nohugepage, collapse, lru_prio, lru_deprio, migrate_hot, migrate_cold, stat)"],
      ["--damos_action pagout", "--damos_action of scheme 0: 'pagout' is not a DAMOS action (did you mean 'pageout'?)"],
      ["--damos_action migrate_hot 0 1 1", "--damos_action of scheme 0: migrate_hot takes one target node id or (node id, weight) pairs, got 3 numbers"],
      ["--damos_action migrate_hot x", "--damos_action of scheme 0: 'x' is not an integer"],
      ["--damos_action pageout 1", "--damos_action of scheme 0: pageout takes no node arguments, got '1'"],
      ["--damos_action pageout --damos_quotas 1 2 3 4 5 6 7", "--damos_quotas takes 1 to 6 values, got 7"],
      ["--damos_action pageout --damos_quotas 1s 2x", "--damos_quotas of scheme 0: '2x' is not a size"],
      ["--damos_action pageout --damos_quota_interval 1s --damos_quota_space 1Q", "--damos_quota_space of scheme 0: '1Q' is not a size"],
      ["--damos_action pageout --damos_quota_interval 1s --damos_quota_weights 1 2 2x", "--damos_quota_weights of scheme 0: '2x' is not a permil value"],
      ["--damos_action pageout --damos_quota_interval 1s --damos_quota_weights 1 2 4294967296", "--damos_quota_weights of scheme 0: 4294967296 is above the kernel's limit 2^32-1"],
      ["--damos_action pageout --damos_quota_interval 1s --damos_quota_goal hugepage_mem_bp 100", "--damos_quota_goal of scheme 0: 'hugepage_mem_bp' is not a quota goal metric damo knows"],
      ["--damos_action pageout --damos_quota_interval 1s --damos_quota_goal node_mem_used_bp 50%", "--damos_quota_goal of scheme 0: node_mem_used_bp takes a target value and a node id, got 0 values"],
      ["--damos_action pageout --damos_quota_interval 1s --damos_quota_goal user_input 50", "--damos_quota_goal of scheme 0: user_input takes a target value and the current value"],
      ["--damos_action pageout --damos_quota_interval 1s --damos_quota_goal node_memcg_used_bp 5% 0 /nope", "--damos_quota_goal of scheme 0: no memcg has the cgroup path '/nope'"],
      ["--damos_action pageout --damos_quota_interval 1s --damos_quota_goal active_mem_bp 5x", "--damos_quota_goal of scheme 0: '5x' is not a bp value"],
      ["--damos_action pageout --damos_quota_interval 1s --damos_quota_goal_tuner fast", "--damos_quota_goal_tuner of scheme 0: 'fast' is not a quota goal tuner (known: consist, temporal)"],
      ["--damos_action pageout --damos_wmarks foo 1 2 3 4", "--damos_wmarks of scheme 0: 'foo' is not a watermark metric (known: none, free_mem_rate)"],
      ["--damos_action pageout --damos_wmarks none 1 2 3", "--damos_wmarks takes 5 values, got 4"],
      ["--damos_action pageout --damos_filter allow foo", "--damos_filter of scheme 0: 'foo' is not a DAMOS filter type"],
      ["--damos_action pageout --damos_filter allow memcg", "--damos_filter of scheme 0: a memcg filter needs a cgroup path"],
      ["--damos_action pageout --damos_filter allow addr 4K", "--damos_filter of scheme 0: a addr filter needs a start and an end address"],
      ["--damos_action pageout --damos_filter allow addr 4x 8K", "--damos_filter of scheme 0: '4x' is not a size"],
      ["--damos_action pageout --damos_filter anon maybe", "--damos_filter of scheme 0: 'maybe' should be matching or nomatching"],
      ["--damos_action pageout --damos_filter allow none", "--damos_filter of scheme 0: the filter 'allow none' has no type"],
      ["--damos_action pageout --damos_max_nr_snapshots lots", "--damos_max_nr_snapshots of scheme 0: 'lots' is not a number"],
      ["--damos_action pageout --nr_schemes 1.5", "--nr_schemes: '1.5' is not an integer"],
      ["--damos_action pageout --damos_bogus 1", "'--damos_bogus' is not a damo DAMOS option"],
    ];
    for (const [line, want] of cases) expect(errorOf(() => cli(line)), line).toContain(want);
  });

  it("refuses what damo refuses (damo says each of these is an error)", () => {
    const cases: Array<[string, string]> = [
      ["--damos_access_rate 5% max", "--damos_access_rate is given without --damos_action"],
      ["--damos_nr_filters 0", "--damos_nr_filters is given without --damos_action"],
      ["--damos_action pageout --damos_quota_goal user_input 100 0", "--damos_quota_goal needs a quota reset interval"],
      ["--damos_action pageout --damos_quotas 1 2 --damos_quota_goal user_input 100 0", "--damos_quotas of scheme 0: has no reset interval"],
      ["--damos_action pageout --damos_quotas 1 2 3 --damos_quota_interval 1s", "--damos_quotas and --damos_quota_interval cannot be given together"],
      ["--damos_action pageout --damos_age 1 2 --damos_age 3 4", "--damos_age is given 2 times for 1 scheme"],
      ["--damos_action pageout --damos_action stat --damos_filter allow anon", "--damos_nr_filters is required"],
      ["--damos_action pageout --damos_action stat --damos_filter allow anon --damos_nr_filters 1 1", "--damos_nr_filters adds up to 2 but --damos_filter is given 1 time"],
      ["--damos_action pageout --damos_action stat --nr_schemes 1", "--nr_schemes adds up to 1 but --damos_action is given 2 times"],
    ];
    for (const [line, want] of cases) expect(errorOf(() => cli(line)), line).toContain(want);
    expect(errorOf(() => parseDamosArgsPerContext(argv("--damos_action stat"), [ctx(), ctx()]))).toContain("--nr_schemes is required when --damos_action is given for more than one context");
    expect(errorOf(() => parseDamosArgsPerContext(argv("--damos_action stat --nr_schemes 1"), [ctx(), ctx()]))).toContain("--nr_schemes gives 1 count for 2 contexts");
    expect(errorOf(() => cli("--damos_action stat", ctx(0, 100_000)))).toContain("the context's sampling interval is 0 us");
  });

  it("refuses what damo would silently drop", () => {
    const cases: Array<[string, string]> = [
      ["--damos_action pageout --damos_quota_space 1G", "--damos_quota_space is given 1 time but --damos_quota_interval is not: damo pairs each with the --damos_quota_interval of its scheme and would drop the rest"],
      ["--damos_action pageout --damos_action stat --damos_quota_interval 1s --damos_quota_time 1 --damos_quota_time 2", "--damos_quota_time is given 2 times but --damos_quota_interval only 1 time"],
      ["--damos_action pageout --damos_quota_goal_tuner temporal", "--damos_quota_goal_tuner of scheme 0: the scheme has no quota"],
      ["--damos_action pageout --damos_quota_fail_charge_ratio 1 2", "--damos_quota_fail_charge_ratio of scheme 0: the scheme has no quota"],
      ["--damos_action pageout --damos_action stat --damos_quota_interval 1s --damos_quota_goal user_input 1 0 --damos_quota_goal user_input 2 0 --damos_nr_quota_goals 1 1", "--damos_quota_goal of scheme 1: the scheme has no quota"],
      ["--damos_action pageout --damos_quota_goal_tuner temporal --damos_quota_goal_tuner consist", "--damos_quota_goal_tuner is given 2 times for 1 scheme"],
      ["--damos_action pageout --damos_quota_interval 1s --damos_quota_goal node_eligible_mem_bp 5000 1", "node_eligible_mem_bp takes only a target value, got also '1' (damo does not pass a node id for node_eligible_mem_bp"],
      ["--damos_action pageout --damos_quota_interval 1s --damos_quota_goal some_mem_psi_us 1ms 3", "some_mem_psi_us takes only a target value"],
      ["--damos_action pageout --damos_action stat --damos_filter allow anon --damos_nr_filters 1 0 0", "--damos_nr_filters gives 3 counts for 2 schemes"],
      ["--damos_action pageout --nr_schemes 1 --nr_schemes 1", "--nr_schemes is given twice"],
    ];
    for (const [line, want] of cases) expect(errorOf(() => cli(line)), line).toContain(want);
  });
});

// ---- the scheme JSON ----

/** damos.md 8's example, which damo accepts (damo args damon -c FILE). */
const REF8_JSON = [
  {
    action: "migrate_hot",
    target_nid: 0,
    access_pattern: { sz_bytes: { min: "4 KiB", max: "max" }, nr_accesses: { min: "5 %", max: "100 %" }, age: { min: "0 us", max: "max" } },
    apply_interval_us: "1 s",
    quotas: {
      time_ms: "0 ms",
      sz_bytes: "200 MiB",
      reset_interval_ms: "1 s",
      goals: [{ metric: "node_mem_used_bp", nid: 0, target_value: "9970", current_value: "0" }],
      goal_tuner: "consist",
      weights: { sz_permil: "0", nr_accesses_permil: "1000", age_permil: "1000" },
    },
    watermarks: { metric: "none", interval_us: "0 us", high_permil: "0", mid_permil: "0", low_permil: "0" },
    filters: [{ filter_type: "young", matching: true, allow: true, memcg_path: null, address_range: null, damon_target_idx: null }],
  },
];
const REF8_CLI = "--damos_action migrate_hot 0 --damos_access_rate 5% max --damos_apply_interval 1s --damos_quota_interval 1s --damos_quota_space 200MB --damos_quota_goal node_mem_used_bp 99.7% 0 --damos_filter allow young";

describe("scheme JSON", () => {
  it("damos.md 8: the JSON example and its CLI equivalent agree but for the weights, the size minimum and the access-rate maximum", () => {
    const [fromJson] = json(REF8_JSON);
    const [fromCli] = cli(REF8_CLI);
    expect(fromCli).toEqual(PROMOTE);
    // damo says the JSON gives: weights 0/1000/1000 (the CLI's quota interval makes them 1/1/1),
    // sz min 4096 (the CLI leaves "min" = 0), nr_accesses max 20 samples (100 % of 20; the CLI's
    // "max" wraps to 858993664): the same behaviour at 20 samples per aggregation, not the same fields
    expect(fromJson).toEqual(spec({ ...PROMOTE, pattern: { szRegion: { min: 4096 }, nrAccesses: { min: 1, max: 20 } }, quota: { ...PROMOTE.quota, weightSz: 0, weightNrAccesses: 1000, weightAge: 1000 } }));
    const same = (s: SchemeSpec) => ({ ...s, pattern: { ...s.pattern, szRegion: { min: 0, max: s.pattern.szRegion.max }, nrAccesses: { ...s.pattern.nrAccesses, max: 0 } }, quota: { ...s.quota, weightSz: 0, weightNrAccesses: 0, weightAge: 0 } });
    expect(same(fromJson!)).toEqual(same(fromCli!));
  });

  it("damo's own JSON test inputs (tests/unit/test_damo_schemes_input.py) give damo's expected schemes", () => {
    const pattern0 = { szRegion: { min: 0, max: 0 }, nrAccesses: { min: 0, max: 0 }, age: { min: 0, max: 0 } };
    const base = { comments: "just for testing", action: "stat", access_pattern: { sz_bytes: { min: 0, max: 0 }, nr_accesses: { min: "0 samples", max: "0 samples" }, age: { min: "0 aggr_intervals", max: "0 aggr_intervals" } }, quotas: { time_ms: 0, sz_bytes: 0, reset_interval_ms: 0, weights: { sz_permil: 0, nr_accesses_permil: 0, age_permil: 0 } }, watermarks: { metric: "none", interval_us: 0, high_permil: 0, mid_permil: 0, low_permil: 0 } };
    const human = { action: "stat", access_pattern: { sz_bytes: { min: "min", max: "min" }, nr_accesses: { min: "0 samples", max: "0 samples" }, age: { min: "0 aggr_intervals", max: "0 aggr_intervals" } }, quotas: { time_ms: "0s", sz_bytes: "0B", reset_interval_ms: "0us", weights: { sz_permil: 0, nr_accesses_permil: 0, age_permil: 0 } }, watermarks: { metric: "none", interval_us: "0us", high_permil: 0, mid_permil: 0, low_permil: 0 } };
    const filters = [{ filter_type: "anon", memcg_path: "", matching: "yes" }, { filter_type: "memcg", memcg_path: "/all/latency-critical", matching: false }];
    const want = spec({ pattern: pattern0, quota: { resetIntervalMs: 0 } });
    for (const s of [base, human]) {
      expect(json([s])).toEqual([want]);
      expect(json([{ ...s, filters }])).toEqual([{ ...want, opsFilters: [{ type: "anon", matching: true, allow: false }, { type: "memcg", matching: false, allow: false, memcgId: 11 }] }]);
    }
  });

  it("damo's scheme files (tests/schemes/*.json, tests/start_stop/monitoring_damos.json): damo says", () => {
    const prcl = { access_pattern: { sz_bytes: { min: "min", max: "max" }, nr_accesses_unit: "percent", nr_accesses: { min: "min", max: "min" }, age_unit: "usec", age: { min: "1s", max: "max" } }, action: "pageout" };
    expect(json([prcl])).toEqual([spec({ action: "pageout", pattern: { nrAccesses: { max: 0 }, age: { min: 10 } } })]);
    expect(json([{ ...prcl, filters: [{ filter_type: "anon", matching: true }] }])).toEqual([spec({ action: "pageout", pattern: { nrAccesses: { max: 0 }, age: { min: 10 } }, opsFilters: [{ type: "anon", matching: true, allow: false }] })]);
    const cold = {
      action: "stat",
      access_pattern: { sz_bytes: { min: "4.000 KiB", max: "max" }, nr_accesses: { min: "0 %", max: "0 %" }, age: { min: "1 s", max: "max" } },
      quotas: { time_ms: "0 ns", sz_bytes: "5 GB", reset_interval_ms: "1 s", weights: { sz_permil: "0 %", nr_accesses_permil: "30 %", age_permil: "70 %" } },
      watermarks: { metric: "free_mem_rate", interval_us: "1 s", high_permil: "800", mid_permil: "500", low_permil: "200" },
      filters: [],
    };
    expect(json([cold])).toEqual([spec({ pattern: { szRegion: { min: 4096 }, nrAccesses: { max: 0 }, age: { min: 10 } }, quota: { sz: 5 * 2 ** 30, resetIntervalMs: 1000, weightNrAccesses: 300, weightAge: 700 }, wmarks: { metric: "free_mem_rate", intervalUs: 1e6, high: 800, mid: 500, low: 200 } })]);
    const monitoring = { action: "stat", access_pattern: { sz_bytes: { min: "0 B", max: "max" }, nr_accesses: { min: "0 %", max: "100 %" }, age: { min: "0 ns", max: "max" } }, quotas: { time_ms: "0 ns", sz_bytes: "0 B", reset_interval_ms: "max", weights: { sz_permil: "0 %", nr_accesses_permil: "0 %", age_permil: "0 %" } }, watermarks: { metric: "none", interval_us: "0 ns", high_permil: "0 %", mid_permil: "0 %", low_permil: "0 %" }, filters: [] };
    expect(json([monitoring])).toEqual([spec({ pattern: { nrAccesses: { max: 20 } } })]);
    expect(json([{ action: "pageout" }, {}])).toEqual([spec({ action: "pageout" }), DEFAULT]);
  });

  it("damo says: every key and unit spelling, old names (filter_pass, target_value_bp) and keys damo does not read", () => {
    const s = {
      action: "migrate_cold",
      target_nid: "1",
      dests: [{ id: 0, weight: 3 }, { id: "1", weight: "5" }],
      apply_interval_us: "1 m 2 s",
      access_pattern: { sz_bytes: { min: "1,024", max: "1.5 GiB" }, nr_accesses: { min: "3 percent", max: "90 percent" }, age: { min: "12 usec", max: "99 usec" } },
      quotas: {
        time_ms: "1.5 ms",
        sz_bytes: "3 K",
        reset_interval_ms: "2 h",
        goal_tuner: "temporal",
        fail_charge_num: "2",
        fail_charge_denom: 3,
        goals: [
          { metric: "some_mem_psi_us", target_value: "2 ms", current_value: 0 },
          { metric: "node_memcg_free_bp", nid: 1, memcg_path: "/a/b", target_value: "7.5%", current_value: "0" },
          { target_value_bp: 1234, current_value_bp: 55 },
        ],
        weights: { sz_permil: "10%", nr_accesses_permil: "1.5 %", age_permil: 7 },
      },
      watermarks: { metric: "free_mem_rate", interval_us: "100 ms", high_permil: "90%", mid_permil: "50 %", low_permil: 10 },
      filters: [
        { filter_type: "addr", matching: "no", allow: "yes", address_range: { start: "4K", end: "1M" } },
        { filter_type: "hugepage_size", matching: true, hugepage_size: ["2 MiB", "1 GiB"] },
        { filter_type: "target", matching: true, filter_pass: true, damon_target_idx: "2" },
        { filter_type: "unmapped", matching: false },
      ],
      stats: { max_nr_snapshots: 5 },
      quota: "a misspelt key, ignored as damo ignores it",
    };
    expect(json([s])).toEqual([
      spec({
        action: "migrate_cold",
        pattern: { szRegion: { min: 1024, max: 1_610_612_736 }, nrAccesses: { min: 0, max: 18 }, age: { min: 0, max: 0 } },
        applyIntervalUs: 62e6,
        quota: {
          ms: 1,
          sz: 3072,
          resetIntervalMs: 7_200_000,
          weightSz: 100,
          weightNrAccesses: 15,
          weightAge: 7,
          goals: [goal("some_mem_psi_us", 2000), goal("node_memcg_free_bp", 750, { nid: 1, memcgId: 7 }), goal("user_input", 1234, { currentValue: 55 })],
          goalTuner: "temporal",
          failChargeNum: 2,
          failChargeDenom: 3,
        },
        wmarks: { metric: "free_mem_rate", intervalUs: 100_000, high: 900, mid: 500, low: 10 },
        coreFilters: [
          { type: "addr", matching: false, allow: true, addrStart: 4096, addrEnd: 1_048_576 },
          { type: "target", matching: true, allow: true, targetIdx: 2 },
        ],
        opsFilters: [
          { type: "hugepage_size", matching: true, allow: false, min: 2 ** 21, max: 2 ** 30 },
          { type: "unmapped", matching: false, allow: false },
        ],
        targetNid: 1,
        dests: [{ nid: 0, weight: 3 }, { nid: 1, weight: 5 }],
        maxNrSnapshots: 0, // damo reads no stats from JSON
      }),
    ]);
  });

  it("damo's own output for mem_tier.sh (damo args damon, its --kdamonds form) reads back as the options' schemes", () => {
    // the schemes of damo@df6d55fa's `damo args damon <mem_tier.sh's options>` output, as damo prints them
    const printed = (action: string, nid: number, rate: [string, string], metric: string, target: string, allow: boolean) => ({
      action, dests: [], target_nid: nid,
      access_pattern: { sz_bytes: { min: "0 B", max: "max" }, nr_accesses: { min: rate[0], max: rate[1] }, age: { min: "0 ns", max: "max" } },
      apply_interval_us: "1 s",
      quotas: { time_ms: "0 ns", sz_bytes: "200.000 MiB", reset_interval_ms: "1 s", fail_charge_num: "0", fail_charge_denom: "0", goals: [{ metric, nid: "0", memcg_path: null, target_value: target, current_value: "0" }], goal_tuner: "consist", effective_sz_bytes: "0 B", weights: { sz_permil: "0.1 %", nr_accesses_permil: "0.1 %", age_permil: "0.1 %" } },
      watermarks: { metric: "none", interval_us: "0 ns", high_permil: "0 %", mid_permil: "0 %", low_permil: "0 %" },
      filters: [{ filter_type: "young", matching: true, allow, memcg_path: null, address_range: null, damon_target_idx: null, hugepage_size: null }],
      stats: { nr_tried: "0", sz_tried: "0 B", nr_applied: "0", sz_applied: "0 B", sz_ops_filter_passed: "0 B", qt_exceeds: "0", nr_snapshots: "0", max_nr_snapshots: "0" },
    });
    const intervals = { sample_us: "5 ms", aggr_us: "100 ms", ops_update_us: "1 s", intervals_goal: { access_bp: "4 %", aggrs: "3", min_sample_us: "5 ms", max_sample_us: "10 s" } };
    const kd = { kdamonds: [
      { refresh_ms: 0, contexts: [{ ops: "paddr", intervals, schemes: [printed("migrate_cold", 1, ["0 %", "0 %"], "node_mem_free_bp", "50", false)] }] },
      { refresh_ms: 0, contexts: [{ ops: "paddr", intervals, schemes: [printed("migrate_hot", 0, ["5 %", "18,446,744,073,709,551,615 %"], "node_mem_used_bp", "9,970", true)] }] },
    ] };
    expect(parseDamosJson(JSON.stringify(kd), "kd.json", ctx()).map((c) => c.schemes)).toEqual([[DEMOTE], [PROMOTE]]);
  });

  it("damo says: plain numbers, damo's printed nulls, fractional and wrapping sample counts", () => {
    expect(json([{ action: "stat", access_pattern: { sz_bytes: { min: 1, max: 2 }, nr_accesses: { min: 5, max: 100 }, age: { min: 150000, max: 300000 } } }])).toEqual([
      spec({ pattern: { szRegion: { min: 1, max: 2 }, nrAccesses: { min: 1, max: 20 }, age: { min: 1, max: 3 } } }),
    ]);
    const nulls = { memcg_path: null, address_range: null, damon_target_idx: null, hugepage_size: null };
    const printed = {
      action: "pageout",
      target_nid: 1,
      quotas: { time_ms: "0 ns", sz_bytes: "0 B", reset_interval_ms: "1 s", goals: [{ metric: "user_input", nid: null, memcg_path: null, target_value: "1,000", current_value: "10" }], goal_tuner: null, effective_sz_bytes: "0 B", weights: { sz_permil: "0.1 %", nr_accesses_permil: "0.1 %", age_permil: "0.1 %" } },
      filters: [{ filter_type: "hugepage_size", matching: true, allow: false, ...nulls }, { filter_type: "anon", matching: true, allow: true, ...nulls }],
    };
    expect(json([printed])).toEqual([
      spec({ action: "pageout", targetNid: 1, quota: { resetIntervalMs: 1000, weightSz: 1, weightNrAccesses: 1, weightAge: 1, goals: [goal("user_input", 1000, { currentValue: 10 })] }, opsFilters: [{ type: "hugepage_size", matching: true, allow: false, min: 0, max: 0 }, { type: "anon", matching: true, allow: true }] }),
    ]);
    // 4294967296 samples wraps to 0 in the kernel's u32, 4294967297 aggregation intervals to 1
    expect(json([{ action: "stat", access_pattern: { sz_bytes: { min: "1.5 KiB", max: "max" }, nr_accesses: { min: "1.5 samples", max: "4294967296 samples" }, age: { min: "2.7 aggr_intervals", max: "4294967297 aggr_intervals" } } }])).toEqual([
      spec({ pattern: { szRegion: { min: 1536 }, nrAccesses: { min: 1, max: 0 }, age: { min: 2, max: 1 } } }),
    ]);
  });

  it("the --kdamonds form: schemes per context, each converted with the context's intervals (damo's 5 ms / 100 ms when it has none); damo says", () => {
    const kd = {
      kdamonds: [
        {
          contexts: [
            { ops: "paddr", intervals: { sample_us: "1 ms", aggr_us: "20 ms", ops_update_us: "1 s" }, schemes: [{ action: "pageout", access_pattern: { sz_bytes: { min: "min", max: "max" }, nr_accesses: { min: "0 %", max: "10 %" }, age: { min: "100 ms", max: "max" } } }] },
            { ops: "paddr", schemes: [{ action: "stat" }, { action: "lru_prio", access_pattern: { sz_bytes: { min: "min", max: "max" }, nr_accesses: { min: "50 %", max: "max" }, age: { min: "1 s", max: "max" } } }] },
          ],
        },
        { contexts: [{ ops: "paddr" }] },
      ],
    };
    const got = parseDamosJson(JSON.stringify(kd), "kd.json", ctx(2000, 40_000));
    expect(got.map(({ kdamondIdx, ctxIdx, sampleUs, aggrUs }) => [kdamondIdx, ctxIdx, sampleUs, aggrUs])).toEqual([[0, 0, 1000, 20_000], [0, 1, 5000, 100_000], [1, 0, 5000, 100_000]]);
    expect(got.map((c) => c.schemes)).toEqual([
      [spec({ action: "pageout", pattern: { nrAccesses: { max: 2 }, age: { min: 5, max: 1_566_804_069 } } })],
      [DEFAULT, spec({ action: "lru_prio", pattern: { nrAccesses: { min: 10 }, age: { min: 10 } } })],
      [],
    ]);
  });

  it("bad fields are named with file:line:column", () => {
    const text = JSON.stringify([{ action: "stat", quotas: { time_ms: 0, sz_bytes: 0, reset_interval_ms: "1 s", goals: [{ metric: "user_input", target_value: "12x", current_value: 0 }], weights: { sz_permil: 0, nr_accesses_permil: 0, age_permil: 0 } } }], null, 2);
    const line = text.split("\n").findIndex((l) => l.includes('"12x"')) + 1;
    const col = text.split("\n")[line - 1]!.indexOf('"12x"') + 1;
    expect(errorOf(() => parseDamosJson(text, "s.json", ctx()))).toBe(`s.json:${line}:${col}, field '[0].quotas.goals[0].target_value': '12x' is not a number (examples: 12, 1,234, 0.5, max)`);
    const cases: Array<[unknown, string]> = [
      [[{ action: "reclaim" }], "field '[0].action': 'reclaim' is not a DAMOS action"],
      [[{ access_pattern: { sz_bytes: { min: "4 kib", max: 1 }, nr_accesses: { min: 0, max: 1 }, age: { min: 0, max: 1 } } }], "field '[0].access_pattern.sz_bytes.min': '4 kib' is not a size"],
      [[{ access_pattern: { sz_bytes: { min: 0, max: 1 }, nr_accesses: { min: "5 %", max: "10 samples" }, age: { min: 0, max: 1 } } }], "field '[0].access_pattern.nr_accesses.min': min '5 %' and max '10 samples' mix units: damo reads both in one unit (both percents or both '<n> samples')"],
      [[{ access_pattern: { sz_bytes: { min: 0, max: 1 }, nr_accesses: { min: "5x", max: 1 }, age: { min: 0, max: 1 } } }], "field '[0].access_pattern.nr_accesses.min': '5x' is neither a percent (5 %, 5) nor '<n> samples'"],
      [[{ access_pattern: { sz_bytes: { min: 0, max: 1 }, nr_accesses: { min: 0, max: 1 }, age: { min: "1 fortnight", max: "2 fortnight" } } }], "field '[0].access_pattern.age.min': unknown unit 'fortnight' (use aggr_intervals or usec)"],
      [[{ access_pattern: { sz_bytes: { min: 0, max: 1 }, nr_accesses: { min: 0, max: 1 } } }], "field '[0].access_pattern.age': 'age' is required (damo reads it here)"],
      [[{ quotas: { time_ms: 0, sz_bytes: 0, reset_interval_ms: 0 } }], "field '[0].quotas.weights': 'weights' is required"],
      [[{ quotas: { time_ms: 0, sz_bytes: 0, reset_interval_ms: 0, weights: { sz_permil: 0, nr_accesses_permil: 0, age_permil: 0 }, goal_tuner: "fast" } }], "field '[0].quotas.goal_tuner': 'fast' is not a quota goal tuner"],
      [[{ quotas: { time_ms: 0, sz_bytes: 0, reset_interval_ms: 0, weights: { sz_permil: 0, nr_accesses_permil: 0, age_permil: 0 }, goals: [{ metric: "node_mem_used_bp", target_value: 1, current_value: 0 }] } }], "field '[0].quotas.goals[0].nid': node_mem_used_bp needs a node id"],
      [[{ quotas: { time_ms: 0, sz_bytes: 0, reset_interval_ms: 0, weights: { sz_permil: 0, nr_accesses_permil: 0, age_permil: 0 }, goals: [{ metric: "node_eligible_mem_bp", nid: 1, target_value: 1, current_value: 0 }] } }], "field '[0].quotas.goals[0].nid': damo does not pass a node id for node_eligible_mem_bp"],
      [[{ quotas: { time_ms: 0, sz_bytes: 0, reset_interval_ms: 0, weights: { sz_permil: 0, nr_accesses_permil: 0, age_permil: 0 }, goals: [{ metric: "user_input", target_value: 1 }] } }], "field '[0].quotas.goals[0].current_value': 'current_value' is required"],
      [[{ watermarks: { metric: "none", interval_us: 0, high_permil: 0, mid_permil: 0 } }], "field '[0].watermarks.low_permil': 'low_permil' is required"],
      [[{ filters: [{ filter_type: "anon" }] }], "field '[0].filters[0].matching': 'matching' is required"],
      [[{ filters: [{ filter_type: "anon", matching: 1 }] }], "field '[0].filters[0].matching': 1 is not true or false"],
      [[{ filters: [{ filter_type: "memcg", matching: true, memcg_path: "/nope" }] }], "field '[0].filters[0].memcg_path': no memcg has the cgroup path '/nope'"],
      [[{ filters: [{ filter_type: "addr", matching: true, address_range: { start: 0 } }] }], "field '[0].filters[0].address_range.end': 'end' is required"],
      [[{ filters: [{ filter_type: "hugepage_size", matching: true, hugepage_size: ["2M"] }] }], "field '[0].filters[0].hugepage_size': must be [min, max], got 1 value"],
      [[{ target_nid: 1.5 }], "field '[0].target_nid': 1.5 is not a node id"],
      [[{ dests: [{ id: 0 }] }], "field '[0].dests[0].weight': 'weight' is required"],
      [[{ quotas: null }], "field '[0].quotas': must be an object, got null"],
      [["pageout"], "field '[0]': must be an object, got 'pageout'"],
      [{ schemes: [] }, "field '(root)': must be a list of schemes (damo -c) or { \"kdamonds\": [...] } (damo --kdamonds)"],
      [{ kdamonds: [{ contexts: [{ intervals: { sample_us: "1 ms", aggr_us: "1x", ops_update_us: "1 s" }, schemes: [] }] }] }, "field 'kdamonds[0].contexts[0].intervals.aggr_us': '1x' is not a time"],
      [{ kdamonds: [{ contexts: [{ intervals: { sample_us: 0, aggr_us: "1 ms", ops_update_us: "1 s" }, schemes: [{}] }] }] }, "field 'kdamonds[0].contexts[0].intervals': the context's sampling interval is 0 us"],
      [{ kdamonds: [{}] }, "field 'kdamonds[0].contexts': 'contexts' is required"],
    ];
    for (const [doc, want] of cases) expect(errorOf(() => parseDamosJson(JSON.stringify(doc), "s.json", ctx())), JSON.stringify(doc)).toContain(want);
    expect(errorOf(() => parseDamosJson("[{\"action\": \"stat\",}]", "s.json", ctx()))).toMatch(/^s\.json:1:20: invalid JSON/);
  });
});

// ---- printing back ----

describe("schemeToDamoJson", () => {
  it("prints the kernel's units spelled out", () => {
    const out = schemeToDamoJson(PROMOTE, ctx());
    expect(out.access_pattern).toEqual({ sz_bytes: { min: "0 B", max: "max" }, nr_accesses: { min: "1 samples", max: "858993664 samples" }, age: { min: "0 aggr_intervals", max: "2890341191 aggr_intervals" } });
    expect(out.apply_interval_us).toBe("1 s");
    expect(out.quotas).toMatchObject({ time_ms: "0 ms", sz_bytes: "200 MiB", reset_interval_ms: "1 s", goals: [{ metric: "node_mem_used_bp", nid: 0, memcg_path: null, target_value: "9970", current_value: "0" }], weights: { sz_permil: "1", nr_accesses_permil: "1", age_permil: "1" } });
    expect(out.target_nid).toBe(0);
    expect(out.filters).toEqual([{ filter_type: "young", matching: true, allow: true, memcg_path: null, address_range: null, damon_target_idx: null, hugepage_size: null }]);
    expect(schemeToDamoJson(DEFAULT, ctx()).target_nid).toBeNull();
    // ULONG_MAX is the double 2^64: printed as 2^64 - 1, which the kernel takes (2^64 it refuses)
    const big = schemeToDamoJson(spec({ quota: { goals: [goal("user_input", ULONG_MAX)] }, wmarks: { high: ULONG_MAX } }), ctx());
    expect(big.quotas.goals[0]!.target_value).toBe("18446744073709551615");
    expect(big.watermarks.high_permil).toBe("18446744073709551615");
    expect(big.quotas.reset_interval_ms).toBe("max");
  });

  it("refuses what damo cannot express, and shows max_nr_snapshots though JSON cannot carry it back", () => {
    const g = (o: Partial<QuotaGoal>) => spec({ quota: { goals: [goal("node_eligible_mem_bp", 1, o)] } });
    expect(errorOf(() => schemeToDamoJson(g({ nid: 1 }), ctx()))).toContain("does not pass a node id for node_eligible_mem_bp");
    expect(errorOf(() => schemeToDamoJson(g({ complement: true }), ctx()))).toContain("cannot set a goal's complement flag");
    expect(errorOf(() => schemeToDamoJson(spec({ quota: { goals: [goal("hugepage_mem_bp", 1)] } }), ctx()))).toContain("has no quota goal metric 'hugepage_mem_bp'");
    expect(errorOf(() => schemeToDamoJson(spec({ opsFilters: [{ type: "memcg", matching: true, allow: true, memcgId: 99 }] }), ctx()))).toContain("memcg 99 has no cgroup path");
    const snap = spec({ maxNrSnapshots: 3 });
    const printed = schemeToDamoJson(snap, ctx());
    expect(printed.stats).toEqual({ max_nr_snapshots: "3" });
    expect(json([printed])).toEqual([DEFAULT]);
  });

  // SchemeSpecs as the readers produce them: each filter carries only its type's argument, goals
  // only their metric's nid and memcg, no complement, no max_nr_snapshots (JSON cannot carry it).
  const ulongs = fc.oneof(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 40 }).map((k) => 2 ** k), fc.constantFrom(0, 4096, 2 ** 53, 2 ** 60 + 2 ** 12, 2 ** 63, ULONG_MAX));
  const times = fc.oneof(ulongs, fc.integer({ min: 0, max: 10_000 }).map((k) => k * 1000), fc.integer({ min: 0, max: 100 }).map((k) => k * 3_600_000_000));
  const u32s = fc.integer({ min: 0, max: 0xffffffff });
  const memcgs = fc.constantFrom(...Object.values(MEMCG));
  const goals = fc.constantFrom(...DAMO_GOAL_METRICS).chain((metric) =>
    fc.record({
      metric: fc.constant(metric),
      targetValue: metric === "some_mem_psi_us" ? times : ulongs,
      currentValue: ulongs,
      nid: goalHasNid(metric) ? fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) : fc.constant(0),
      memcgId: goalHasMemcg(metric) ? memcgs : fc.constant(0),
      complement: fc.constant(false),
    }),
  );
  const coreFilter = fc.oneof(
    fc.record({ type: fc.constant("addr" as const), matching: fc.boolean(), allow: fc.boolean(), addrStart: ulongs, addrEnd: ulongs }),
    fc.record({ type: fc.constant("target" as const), matching: fc.boolean(), allow: fc.boolean(), targetIdx: fc.nat() }),
  );
  const opsFilter = fc.oneof(
    fc.record({ type: fc.constantFrom("anon" as const, "active" as const, "young" as const, "unmapped" as const), matching: fc.boolean(), allow: fc.boolean() }),
    fc.record({ type: fc.constant("memcg" as const), matching: fc.boolean(), allow: fc.boolean(), memcgId: memcgs }),
    fc.record({ type: fc.constant("hugepage_size" as const), matching: fc.boolean(), allow: fc.boolean(), min: ulongs, max: ulongs }),
  );
  const specs: fc.Arbitrary<SchemeSpec> = fc.record({
    action: fc.constantFrom(...DAMOS_ACTIONS),
    pattern: fc.record({ szRegion: fc.record({ min: ulongs, max: ulongs }), nrAccesses: fc.record({ min: u32s, max: u32s }), age: fc.record({ min: u32s, max: u32s }) }),
    applyIntervalUs: times,
    quota: fc.record({
      ms: times,
      sz: ulongs,
      resetIntervalMs: times,
      weightSz: u32s,
      weightNrAccesses: u32s,
      weightAge: u32s,
      goals: fc.array(goals, { maxLength: 3 }),
      goalTuner: fc.constantFrom("consist" as const, "temporal" as const),
      failChargeNum: u32s,
      failChargeDenom: u32s,
    }),
    wmarks: fc.record({ metric: fc.constantFrom("none" as const, "free_mem_rate" as const), intervalUs: times, high: ulongs, mid: ulongs, low: ulongs }),
    coreFilters: fc.array(coreFilter, { maxLength: 3 }),
    opsFilters: fc.array(opsFilter, { maxLength: 3 }),
    targetNid: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    dests: fc.array(fc.record({ nid: u32s, weight: u32s }), { maxLength: 3 }),
    maxNrSnapshots: fc.constant(0),
  });

  // (300 schemes from this generator were also printed and fed to damo@df6d55fa itself, -c with
  // random intervals: damo wrote every one back to sysfs as the same SchemeSpec.)
  it("round trip: parse(print(spec)) is spec, whatever the reader's intervals", () => {
    fc.assert(
      fc.property(specs, fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 10_000_000 }), (s, sampleUs, aggrUs) => {
        const text = JSON.stringify([schemeToDamoJson(s, ctx())], null, 2);
        expect(json(text, ctx(sampleUs, aggrUs))).toEqual([s]);
      }),
      { numRuns: 300 },
    );
  });

  it("round trip of parsed schemes: print(parse(x)) parses to parse(x) (mem_tier.sh, the JSON examples)", () => {
    for (const s of [DEMOTE, PROMOTE, ...json(REF8_JSON), ...cli(MEM_TIER.replace(/ --nr_schemes 1 1$/, ""))]) {
      expect(json([schemeToDamoJson(s, ctx())])).toEqual([s]);
    }
  });
});
