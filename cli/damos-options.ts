// DAMOS schemes on damon-sim's command line, in damo's spellings: the `--damos_*` options (each
// takes a fixed or open number of values, as damo's argparse nargs do, which node's parseArgs
// cannot express, so they are taken out of argv before it runs) and `-c/--schemes FILE|JSON`
// (damo's scheme JSON list, or its --kdamonds form with one context). Both turn into SchemeSpecs
// through damon/schemes/damo-*.ts, with the run's intervals for percentages and ages, and a memcg
// path naming one of the workload's memcg ids by its last number ("/sys/fs/cgroup/cg2" is 2).

import { existsSync, readFileSync } from "node:fs";
import { InputError, UsageError } from "../sim/errors.ts";
import { DAMOS_OPTION_ARITY, parseDamosArgs, type DamoOption } from "../damon/schemes/damo-args.ts";
import { parseDamosJson } from "../damon/schemes/damo-json.ts";
import type { DamoSchemeContext } from "../damon/schemes/damo-spelling.ts";
import type { SchemeSpec } from "../damon/schemes/types.ts";

export const DAMOS_OPTIONS_HELP = `DAMOS schemes, in damo's spellings (any number of schemes; the i-th occurrence of an option is scheme i's):
  --damos_action ACTION [NID | ID W ID W ...]   willneed cold pageout hugepage nohugepage lru_prio lru_deprio
                                                 migrate_hot migrate_cold stat (migrate_*: target node, or weighted dests)
  --damos_access_rate MIN MAX   --damos_sz_region MIN MAX   --damos_age MIN MAX   --damos_apply_interval T
  --damos_quotas TIME [SIZE [RESET [W_SZ [W_NR [W_AGE]]]]]   (or --damos_quota_interval/_time/_space/_weights)
  --damos_quota_goal METRIC TARGET [NID [MEMCG]]   --damos_quota_goal_tuner consist|temporal
  --damos_quota_fail_charge_ratio NUM DENOM   --damos_wmarks METRIC INTERVAL HIGH MID LOW
  --damos_filter allow|reject [none] TYPE [ARGS]   --damos_max_nr_snapshots N
  --damos_nr_quota_goals N..  --damos_nr_filters N..  --nr_schemes N..
e.g. --ops paddr --damos_action migrate_hot 0 --damos_access_rate 5% max --damos_quota_interval 1s --damos_quota_space 200MB --damos_quota_goal node_mem_used_bp 99.7% 0`;

/** "--damos-quota-goal" or "--damos_quota_goal" as damo writes it, or null for any other option. */
function damoName(token: string): string | null {
  if (!token.startsWith("--")) return null;
  const name = `--${token.slice(2).replace(/-/g, "_")}`;
  return name in DAMOS_OPTION_ARITY ? name : null;
}

/**
 * Takes damo's DAMOS options (with their values, as argparse would: up to the option's arity, and
 * not past the next option) out of `argv`. `--opt=value` is one value.
 */
export function extractDamoOptions(argv: readonly string[]): { rest: string[]; damos: DamoOption[] } {
  const rest: string[] = [];
  const damos: DamoOption[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    const eq = a.indexOf("=");
    const name = damoName(eq < 0 ? a : a.slice(0, eq));
    if (name === null) {
      rest.push(a);
      continue;
    }
    const max = DAMOS_OPTION_ARITY[name]![1];
    const values: string[] = eq < 0 ? [] : [a.slice(eq + 1)];
    while (eq < 0 && values.length < max && i + 1 < argv.length) {
      const next = argv[i + 1]!;
      if (next.startsWith("-") && !/^-[0-9.]/.test(next)) break;
      values.push(next);
      i++;
    }
    damos.push({ name, values });
  }
  return { rest, damos };
}

/** The workload's memcg id a damo memcg path names: its last number. */
export function memcgIdOfPath(path: string): number | undefined {
  const m = /([0-9]+)\/?$/.exec(path);
  return m ? Number(m[1]) : undefined;
}

/** damo's scheme context for a run's intervals: percents and ages convert with them, memcgs by id ("/2"). */
export function damoSchemeContext(intervals: { sampleUs: number; aggrUs: number }): DamoSchemeContext {
  return { sampleUs: intervals.sampleUs, aggrUs: intervals.aggrUs, memcgIdOf: memcgIdOfPath, memcgPathOf: (id) => `/${id}` };
}

/** A -c/--schemes value that is the JSON itself rather than a file's path. */
export const isInlineJson = (s: string): boolean => /^\s*[[{]/.test(s);

/** The schemes of a damo scheme JSON list already parsed (an experiment's or a study job's); errors name `file`. */
export function schemesOfList(list: unknown, intervals: { sampleUs: number; aggrUs: number }, file: string): SchemeSpec[] {
  return parseDamosJson(JSON.stringify(list), file, damoSchemeContext(intervals))[0]?.schemes ?? [];
}

/**
 * The schemes a command line asks for: --damos_* options or -c/--schemes (not both). `schemesArg`
 * is a file path or inline JSON; `where` names the command in errors.
 */
export function schemesFromArgs(where: string, damos: readonly DamoOption[], schemesArg: string | undefined, intervals: { sampleUs: number; aggrUs: number }): SchemeSpec[] {
  const ctx = damoSchemeContext(intervals);
  if (damos.length > 0 && schemesArg !== undefined) throw new UsageError(`${where}: give DAMOS schemes either as --damos_* options or with -c/--schemes, not both`);
  if (damos.length > 0) {
    try {
      return parseDamosArgs(damos, ctx);
    } catch (e) {
      if (e instanceof InputError) throw new UsageError(`${where}: ${e.message}`);
      throw e;
    }
  }
  if (schemesArg === undefined) return [];
  const inline = isInlineJson(schemesArg);
  if (!inline && !existsSync(schemesArg)) throw new UsageError(`${where}: -c/--schemes: no such file '${schemesArg}' (give a damo scheme JSON file, or the JSON itself)`);
  const file = inline ? "--schemes" : schemesArg;
  const text = inline ? schemesArg : readFileSync(schemesArg, "utf8");
  const ctxs = parseDamosJson(text, file, ctx);
  if (ctxs.length > 1) throw new InputError(`${ctxs.length} DAMON contexts given; damon-sim runs one kdamond with one context: give one`, { file });
  return ctxs[0]?.schemes ?? [];
}
