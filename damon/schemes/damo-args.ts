// damo's --damos_* command-line options (damo start / damo args damon) to SchemeSpecs, as damo's
// _damon_args.py builds schemes from them (damonitor/damo@df6d55fa: set_damos_argparser,
// evaluate_args, set_args_damos_quotas, verify_set_damos_args_len, fillup_default_damos_args,
// damos_options_to_schemes, gen_assign_schemes). Reference: ../shared/reference/damos.md 8.
//
// As in damo, the i-th occurrence of an option belongs to the i-th scheme wherever it stands on
// the command line; goals and filters are shared out by --damos_nr_quota_goals and
// --damos_nr_filters, and schemes to contexts by --nr_schemes. Where damo silently drops a value
// (a --damos_quota_time/_space/_weights with no --damos_quota_interval to go with it, goals or a
// goal tuner for a scheme without a quota, extra --damos_quota_goal_tuner or
// --damos_quota_fail_charge_ratio occurrences, a node id damo does not pass, a filter's
// "matching" word that is neither matching nor nomatching) or crashes, this is an InputError
// instead; every input accepted gives what damo would have written.

import { clip, InputError } from "../../sim/errors.ts";
import { damoNumber, damoPercent, damoUs } from "./damo-units.ts";
import {
  accessPatternOf,
  actionOf,
  bad,
  checkContext,
  defaultQuota,
  defaultWmarks,
  filterOf,
  filterTypeOf,
  goalMetricOf,
  goalTunerOf,
  here,
  int32,
  isMigrateAction,
  plural,
  quotaGoalOf,
  quotaNumbersOf,
  splitFilters,
  u32,
  ulong,
  wmarksOf,
  type At,
  type DamoSchemeContext,
  type FilterType,
  type FilterWords,
  type QuotaWords,
} from "./damo-spelling.ts";
import type { DamosFilter, MigrateDest, QuotaGoal, SchemeSpec } from "./types.ts";

/** One occurrence of a damo option on the command line, e.g. { name: "--damos_access_rate", values: ["5%", "max"] }. */
export interface DamoOption {
  readonly name: string;
  readonly values: readonly string[];
}

/** The options this module reads, with how many values each takes (argparse's nargs). */
export const DAMOS_OPTION_ARITY: Readonly<Record<string, readonly [min: number, max: number]>> = {
  "--damos_action": [1, Infinity],
  "--damos_sz_region": [2, 2],
  "--damos_access_rate": [2, 2],
  "--damos_age": [2, 2],
  "--damos_apply_interval": [1, 1],
  "--damos_quotas": [1, 6],
  "--damos_quota_interval": [1, 1],
  "--damos_quota_time": [1, 1],
  "--damos_quota_space": [1, 1],
  "--damos_quota_weights": [3, 3],
  "--damos_quota_fail_charge_ratio": [2, 2],
  "--damos_quota_goal": [2, 4],
  "--damos_quota_goal_tuner": [1, 1],
  "--damos_nr_quota_goals": [1, Infinity],
  "--damos_filter": [1, Infinity],
  "--damos_nr_filters": [1, Infinity],
  "--damos_wmarks": [5, 5],
  "--damos_max_nr_snapshots": [1, 1],
  "--nr_schemes": [1, Infinity],
};

/** The count options: given once, integers (argparse type=int). */
const COUNT_OPTIONS = new Set(["--damos_nr_quota_goals", "--damos_nr_filters", "--nr_schemes"]);

/** Runs `f` for `option` of scheme `scheme` (null: of no one scheme), prefixing its InputError with both. */
function wrap<T>(option: string, scheme: number | null, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${option}${scheme === null ? "" : ` of scheme ${scheme}`}: ${e.detail}`);
    throw e;
  }
}


/** Python int(): an integer word. */
function pyInt(word: string): number {
  if (!/^\s*[+-]?\d+\s*$/.test(word)) bad(`'${clip(word)}' is not an integer`);
  return Number(word);
}

type Occurrences = Map<string, string[][]>;

function collect(options: readonly DamoOption[]): Occurrences {
  const occ: Occurrences = new Map(Object.keys(DAMOS_OPTION_ARITY).map((k) => [k, []]));
  for (const o of options) {
    const arity = DAMOS_OPTION_ARITY[o.name];
    if (arity === undefined) throw new InputError(`'${clip(o.name)}' is not a damo DAMOS option (known: ${Object.keys(DAMOS_OPTION_ARITY).join(", ")})`);
    const [lo, hi] = arity;
    const n = o.values.length;
    if (n < lo || n > hi) {
      const want = lo === hi ? `${lo}` : hi === Infinity ? `at least ${lo}` : `${lo} to ${hi}`;
      throw new InputError(`${o.name} takes ${want} value${hi === 1 ? "" : "s"}, got ${n}${n ? ` (${o.values.map((v) => `'${clip(v)}'`).join(" ")})` : ""}`);
    }
    const list = occ.get(o.name)!;
    if (COUNT_OPTIONS.has(o.name) && list.length > 0) throw new InputError(`${o.name} is given twice: give all its counts in one occurrence`);
    list.push([...o.values]);
  }
  return occ;
}

/** A count option's integers, or undefined when it is not given. */
function counts(occ: Occurrences, name: string): number[] | undefined {
  const o = occ.get(name)![0];
  if (o === undefined) return undefined;
  return wrap(name, null, () =>
    o.map((w) => {
      const v = pyInt(w);
      return v < 0 ? bad(`${v} is negative`) : v;
    }),
  );
}

/**
 * How many of `total` items (goals, filters, schemes) each of `nrGroups` groups (schemes,
 * contexts) gets: the count option's numbers, one per group, adding up to `total`; without the
 * option, all go to the first group, which damo allows only when there is one group or no item.
 */
function share(occ: Occurrences, countName: string, itemName: string, total: number, nrGroups: number, group: "scheme" | "context"): number[] {
  const given = counts(occ, countName);
  if (given === undefined) {
    if (total > 0 && nrGroups > 1) bad(`${countName} is required when ${itemName} is given for more than one ${group} (one count per ${group})`);
    return Array.from({ length: nrGroups }, (_, i) => (i === 0 ? total : 0));
  }
  if (given.length !== nrGroups) bad(`${countName} gives ${plural(given.length, "count")} for ${plural(nrGroups, group)}: give one per ${group}`);
  const sum = given.reduce((x, y) => x + y, 0);
  if (sum !== total) bad(`${countName} adds up to ${sum} but ${itemName} is given ${plural(total, "time")}`);
  return given;
}

/** Splits `items` into consecutive runs of the given lengths. */
function runs<T>(items: readonly T[], lengths: readonly number[]): T[][] {
  let at = 0;
  return lengths.map((n) => items.slice(at, (at += n)));
}

/** A quota as one scheme's options spell it, with the option each part came from (for messages). */
interface QuotaSource {
  words: QuotaWords;
  optionOf: (field: string) => string;
}

/** damo set_args_damos_quotas: --damos_quotas as given, or one quota per --damos_quota_interval. */
function quotaSources(occ: Occurrences): QuotaSource[] {
  const quotas = occ.get("--damos_quotas")!;
  const intervals = occ.get("--damos_quota_interval")!;
  const times = occ.get("--damos_quota_time")!;
  const spaces = occ.get("--damos_quota_space")!;
  const weights = occ.get("--damos_quota_weights")!;
  if (quotas.length > 0 && intervals.length > 0) bad("--damos_quotas and --damos_quota_interval cannot be given together (damo refuses it)");
  for (const [name, list] of [["--damos_quota_time", times], ["--damos_quota_space", spaces], ["--damos_quota_weights", weights]] as const) {
    if (list.length > intervals.length) {
      bad(`${name} is given ${plural(list.length, "time")} but --damos_quota_interval ${intervals.length === 0 ? "is not" : `only ${plural(intervals.length, "time")}`}: damo pairs each with the --damos_quota_interval of its scheme and would drop the rest${quotas.length ? " (use --damos_quotas alone instead)" : ""}`);
    }
  }
  if (intervals.length > 0) {
    return intervals.map((iv, i) => ({
      words: { time: times[i]?.[0] ?? 0, size: spaces[i]?.[0] ?? 0, reset: iv[0], weights: weights[i] ? [weights[i][0], weights[i][1], weights[i][2]] : [1, 1, 1] },
      optionOf: (f) => (f === "time_ms" ? "--damos_quota_time" : f === "sz_bytes" ? "--damos_quota_space" : f === "reset_interval_ms" ? "--damos_quota_interval" : "--damos_quota_weights"),
    }));
  }
  // damos_quotas_cons_arg: time [size [reset [weight_sz [weight_nr_accesses [weight_age]]]]]
  return quotas.map((q) => ({
    words: { time: q[0], size: q[1] ?? 0, reset: q[2] ?? "max", weights: [q[3] ?? "0 %", q[4] ?? "0 %", q[5] ?? "0 %"] },
    optionOf: () => "--damos_quotas",
  }));
}

// ---- filters: damo's v2 form (<allow|reject> [none] <type> [args]) and the old v1 form ----

interface FilterSyntax {
  type: string;
  matching: boolean;
  allow: boolean;
  args: string[];
}

/** Arguments each filter type takes on the command line. */
const FILTER_NR_ARGS: Record<FilterType, number> = { anon: 0, active: 0, young: 0, unmapped: 0, memcg: 1, target: 1, addr: 2, hugepage_size: 2 };
const REJECT_WORDS = ["reject", "deny", "block"];

/** damo damos_options_to_filters_v2 on one run of words (filters may follow each other). */
function filtersV2(words: readonly string[]): FilterSyntax[] {
  const out: FilterSyntax[] = [];
  let i = 0;
  while (i < words.length) {
    const verdict = words[i]!;
    if (verdict !== "allow" && !REJECT_WORDS.includes(verdict)) bad(`'${clip(verdict)}' should be allow or reject (or deny, block) at the start of a filter`);
    i++;
    const matching = words[i] !== "none";
    if (!matching) i++;
    const type = words[i++];
    if (type === undefined) bad(`the filter '${words.slice(0, i).join(" ")}' has no type`);
    const n = FILTER_NR_ARGS[filterTypeOf(type)];
    const args = words.slice(i, i + n);
    if (args.length < n) bad(`a ${type} filter needs ${type === "memcg" ? "a cgroup path" : type === "target" ? "a target index" : type === "addr" ? "a start and an end address" : "a minimum and a maximum size"}`);
    i += n;
    out.push({ type, matching, allow: verdict === "allow", args });
  }
  return out;
}

/** damo convert_damos_filter_v1_to_v2: <type> <matching|nomatching> [args] [allow|pass|reject|deny|block]. */
function v1ToV2(words: readonly string[]): string[] {
  if (words.length < 2) bad(`'${words.join(" ")}' is neither '<allow|reject> [none] <type> [args]' nor the old '<type> <matching|nomatching> [args] [allow|reject]'`);
  const [type, m, ...rest] = words as [string, string, ...string[]];
  if (m !== "matching" && m !== "nomatching") bad(`'${clip(m)}' should be matching or nomatching in the old filter form '${words.join(" ")}'`);
  let verdict = "reject";
  const last = rest[rest.length - 1];
  if (last !== undefined && ["allow", "pass", ...REJECT_WORDS].includes(last)) {
    verdict = last === "allow" || last === "pass" ? "allow" : "reject";
    rest.pop();
  }
  return [verdict, ...(m === "matching" ? [] : ["none"]), type, ...rest];
}

/** One scheme's --damos_filter occurrences: all of them in the v2 form, else each in the old form (as damo tries). */
function schemeFilterSyntax(occurrences: readonly string[][]): FilterSyntax[] {
  if (occurrences.length === 0) return [];
  try {
    return filtersV2(occurrences.flat());
  } catch (v2Error) {
    const looksV2 = ["allow", ...REJECT_WORDS].includes(occurrences[0]![0]!);
    try {
      return filtersV2(occurrences.flatMap(v1ToV2));
    } catch (v1Error) {
      throw looksV2 ? v2Error : v1Error;
    }
  }
}

function filterOfSyntax(s: FilterSyntax, ctx: DamoSchemeContext): DamosFilter {
  const type = filterTypeOf(s.type);
  const w: FilterWords = type === "memcg" ? { memcgPath: s.args[0] } : type === "target" ? { targetIdx: s.args[0] } : type === "addr" ? { addr: [s.args[0], s.args[1]] } : type === "hugepage_size" ? { hugepage: [s.args[0], s.args[1]] } : {};
  return filterOf(type, s.matching, s.allow, w, ctx, here);
}

// ---- goals ----

/** damo damos_options_to_quota_goal: <metric> <target> [nid | current | nid memcg_path]. */
function goalOfWords(words: readonly string[], ctx: DamoSchemeContext): QuotaGoal {
  const [name, target, ...opts] = words as [string, string, ...string[]];
  const metric = goalMetricOf(name);
  const want = metric.startsWith("node_memcg_") ? ["a node id", "a cgroup path"] : metric.startsWith("node_mem_") ? ["a node id"] : metric === "user_input" ? ["the current value"] : [];
  if (opts.length !== want.length) {
    bad(want.length === 0 ? `${metric} takes only a target value, got also ${opts.map((o) => `'${clip(o)}'`).join(" ")}${metric === "node_eligible_mem_bp" ? " (damo does not pass a node id for node_eligible_mem_bp, so the kernel sees 0)" : ""}` : `${metric} takes a target value and ${want.join(" and ")}, got ${plural(opts.length, "value")} after the target`);
  }
  const nodeGoal = metric.startsWith("node_mem");
  return quotaGoalOf({ metric, target, current: metric === "user_input" ? opts[0] : 0, nid: nodeGoal ? opts[0] : undefined, memcgPath: metric.startsWith("node_memcg_") ? opts[1] : undefined }, ctx, here);
}

// ---- the schemes ----

/**
 * SchemeSpecs of one DAMON context from damo's --damos_* options (in command-line order), as damo
 * would write them to sysfs; ctx gives the intervals the percents and times convert with.
 */
export function parseDamosArgs(options: readonly DamoOption[], ctx: DamoSchemeContext): SchemeSpec[] {
  return parseDamosArgsPerContext(options, [ctx])[0]!;
}

/** As parseDamosArgs for several contexts: --nr_schemes shares the schemes out to ctxs in order (one result per context). */
export function parseDamosArgsPerContext(options: readonly DamoOption[], ctxs: readonly DamoSchemeContext[]): SchemeSpec[][] {
  if (ctxs.length === 0) throw new InputError("parseDamosArgsPerContext needs at least one context");
  const occ = collect(options);
  const actions = occ.get("--damos_action")!;
  const nrSchemes = actions.length;
  if (nrSchemes === 0) {
    for (const [name, list] of occ) if (name.startsWith("--damos_") && list.length > 0) bad(`${name} is given without --damos_action (damo needs --damos_action for any --damos_* option)`);
  }
  // damo gen_assign_schemes: how many schemes each context gets
  const groups = share(occ, "--nr_schemes", "--damos_action", nrSchemes, ctxs.length, "context");

  const goals = occ.get("--damos_quota_goal")!;
  const quotas = occ.get("--damos_quotas")!;
  if (goals.length > 0) {
    if (quotas.length === 0 && occ.get("--damos_quota_interval")!.length === 0) bad("--damos_quota_goal needs a quota reset interval: give --damos_quota_interval (or a third --damos_quotas value)");
    quotas.forEach((q, i) => q.length < 3 && wrap("--damos_quotas", i, () => bad("has no reset interval (its third value), which damo needs when any --damos_quota_goal is given")));
  }
  const sources = quotaSources(occ);
  for (const name of ["--damos_sz_region", "--damos_access_rate", "--damos_age", "--damos_apply_interval", "--damos_wmarks", "--damos_max_nr_snapshots", "--damos_quota_goal_tuner", "--damos_quota_fail_charge_ratio"]) {
    const n = occ.get(name)!.length;
    if (n > nrSchemes) bad(`${name} is given ${plural(n, "time")} for ${plural(nrSchemes, "scheme")} (--damos_action count)`);
  }
  if (sources.length > nrSchemes) bad(`${quotas.length ? "--damos_quotas" : "--damos_quota_interval"} is given ${plural(sources.length, "time")} for ${plural(nrSchemes, "scheme")} (--damos_action count)`);
  const goalRuns = runs(goals, share(occ, "--damos_nr_quota_goals", "--damos_quota_goal", goals.length, nrSchemes, "scheme"));
  const filters = occ.get("--damos_filter")!;
  const filterRuns = runs(filters, share(occ, "--damos_nr_filters", "--damos_filter", filters.length, nrSchemes, "scheme"));

  const ctxOf = groups.flatMap((n, c) => Array.from({ length: n }, () => ctxs[c]!));
  const schemes = actions.map((action, i) => buildScheme(occ, i, action, sources[i], goalRuns[i]!, filterRuns[i]!, ctxOf[i]!));
  return runs(schemes, groups);
}

function buildScheme(occ: Occurrences, i: number, actionWords: readonly string[], quota: QuotaSource | undefined, goalWords: readonly string[][], filterWords: readonly string[][], ctx: DamoSchemeContext): SchemeSpec {
  const nth = (name: string): string[] | undefined => occ.get(name)![i];
  const [action, targetNid, dests] = wrap("--damos_action", i, () => actionWordsOf(actionWords));
  wrap("--damos_action", i, () => checkContext(ctx));
  const [szMin, szMax] = nth("--damos_sz_region") ?? ["min", "max"];
  const [rateMin, rateMax] = nth("--damos_access_rate") ?? ["min", "max"];
  const [ageMin, ageMax] = nth("--damos_age") ?? ["min", "max"];
  const patternOption = (field: string): string => (field.startsWith("sz") ? "--damos_sz_region" : field.startsWith("nr") ? "--damos_access_rate" : "--damos_age");
  const patternAt: At = (field, f) => wrap(patternOption(field), i, f);
  const pattern = accessPatternOf(
    {
      sz: [szMin, szMax],
      nrAccesses: { unit: "percent", min: patternAt("nr_accesses.min", () => damoPercent(rateMin)), max: patternAt("nr_accesses.max", () => damoPercent(rateMax)) },
      age: { unit: "usec", min: patternAt("age.min", () => damoUs(ageMin)), max: patternAt("age.max", () => damoUs(ageMax)) },
    },
    ctx,
    patternAt,
  );
  const applyIntervalUs = wrap("--damos_apply_interval", i, () => ulong(damoUs(nth("--damos_apply_interval")?.[0] ?? 0)));

  const tuner = nth("--damos_quota_goal_tuner");
  const failRatio = nth("--damos_quota_fail_charge_ratio");
  let q = defaultQuota();
  if (quota === undefined) {
    const dropped = goalWords.length > 0 ? "--damos_quota_goal" : tuner ? "--damos_quota_goal_tuner" : failRatio ? "--damos_quota_fail_charge_ratio" : null;
    if (dropped !== null) wrap(dropped, i, () => bad("the scheme has no quota (no --damos_quotas or --damos_quota_interval of its own), so damo would drop it"));
  } else {
    const at: At = (field, f) => wrap(quota.optionOf(field), i, f);
    q = {
      ...q,
      ...quotaNumbersOf(quota.words, at),
      goals: goalWords.map((g) => wrap("--damos_quota_goal", i, () => goalOfWords(g, ctx))),
      goalTuner: tuner ? wrap("--damos_quota_goal_tuner", i, () => goalTunerOf(tuner[0])) : "consist",
      failChargeNum: failRatio ? wrap("--damos_quota_fail_charge_ratio", i, () => u32(damoNumber(failRatio[0]))) : 0,
      failChargeDenom: failRatio ? wrap("--damos_quota_fail_charge_ratio", i, () => u32(damoNumber(failRatio[1]))) : 0,
    };
  }
  const w = nth("--damos_wmarks");
  const wmarks = w ? wrap("--damos_wmarks", i, () => wmarksOf([w[0], w[1], w[2], w[3], w[4]], here)) : defaultWmarks();
  const filters = wrap("--damos_filter", i, () => schemeFilterSyntax(filterWords).map((s) => filterOfSyntax(s, ctx)));
  const snaps = nth("--damos_max_nr_snapshots");
  const maxNrSnapshots = snaps ? wrap("--damos_max_nr_snapshots", i, () => ulong(damoNumber(snaps[0]))) : 0;
  return { action, pattern, applyIntervalUs, quota: q, wmarks, ...splitFilters(filters), targetNid, dests, maxNrSnapshots };
}

/** --damos_action <action> [nid | id weight id weight ...]. */
function actionWordsOf(words: readonly string[]): [SchemeSpec["action"], number, MigrateDest[]] {
  const action = actionOf(words[0]);
  const args = words.slice(1);
  if (!isMigrateAction(action)) {
    if (args.length > 0) bad(`${action} takes no node arguments, got ${args.map((a) => `'${clip(a)}'`).join(" ")}`);
    return [action, -1, []];
  }
  if (args.length === 1) return [action, int32(pyInt(args[0]!)), []];
  if (args.length % 2 === 1) bad(`${action} takes one target node id or (node id, weight) pairs, got ${args.length} numbers`);
  const dests: MigrateDest[] = [];
  for (let j = 0; j < args.length; j += 2) dests.push({ nid: u32(damoNumber(args[j])), weight: u32(damoNumber(args[j + 1])) });
  return [action, -1, dests];
}
