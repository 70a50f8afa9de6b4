// Declarative option parsing for subcommands, on node:util parseArgs (strict). Each command
// declares its options once; this module parses them, reports misuse as a UsageError (exit 2) and
// prints the help text. Option names are written with dashes; damo's underscore spelling
// (--exp_ops_cpus) is accepted for every option by folding '_' to '-' in option names.

import { parseArgs } from "node:util";
import { UsageError } from "../sim/errors.ts";
import type { DamoOption } from "../damon/schemes/damo-args.ts";
import { DAMOS_OPTIONS_HELP, extractDamoOptions } from "./damos-options.ts";

export interface OptionSpec {
  type: "string" | "boolean";
  description: string;
  short?: string;
  /** Placeholder shown in help, e.g. "T" for --duration T. */
  value?: string;
  default?: string | boolean;
  multiple?: boolean;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Usage line after the command name, e.g. "[WORKLOAD] [options]". */
  usage: string;
  options: Record<string, OptionSpec>;
  /** Allowed number of positional arguments. */
  positionals?: { min: number; max: number };
  /** Extra help text (examples). */
  details?: string;
  /** The command takes damo's --damos_* options (cli/damos-options.ts takes them out of argv first). */
  damos?: boolean;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  help: boolean;
  /** damo's --damos_* options in command-line order (commands with `damos`). */
  damos: DamoOption[];
}

/** Folds damo-style underscores in option names (not in values): --exp_ops_cpus=0-3 -> --exp-ops-cpus=0-3. */
export function normaliseOptionNames(argv: readonly string[]): string[] {
  const out: string[] = [];
  let rest = false;
  for (const a of argv) {
    if (a === "--") rest = true;
    if (rest || !a.startsWith("--")) {
      out.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = eq < 0 ? a : a.slice(0, eq);
    out.push(name.replace(/_/g, "-") + (eq < 0 ? "" : a.slice(eq)));
  }
  return out;
}

export function parseCommandArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const [name, o] of Object.entries(spec.options)) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  const { rest, damos } = spec.damos ? extractDamoOptions(argv) : { rest: argv, damos: [] };
  // A negative number after a string option is its value, not another option (--snapshot -1).
  const args = normaliseOptionNames(rest);
  for (let i = 0; i + 1 < args.length; i++) {
    const name = args[i]!.startsWith("--") ? args[i]!.slice(2) : undefined;
    if (name !== undefined && spec.options[name]?.type === "string" && /^-[0-9.]/.test(args[i + 1]!)) {
      args.splice(i, 2, `--${name}=${args[i + 1]}`);
    }
  }
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${spec.name}: ${describeParseError(e)} (see 'damon-sim ${spec.name} --help')`);
  }
  const values: ParsedArgs["values"] = {};
  for (const [name, o] of Object.entries(spec.options)) {
    const v = (parsed.values as Record<string, string | boolean | string[] | undefined>)[name];
    values[name] = v ?? o.default;
  }
  const help = parsed.values.help === true;
  const pos = parsed.positionals;
  if (!help && spec.positionals) {
    const { min, max } = spec.positionals;
    if (pos.length < min) throw new UsageError(`${spec.name}: missing argument (usage: damon-sim ${spec.name} ${spec.usage})`);
    if (pos.length > max) throw new UsageError(`${spec.name}: unexpected argument '${pos[max]}' (usage: damon-sim ${spec.name} ${spec.usage})`);
  }
  return { values, positionals: pos, help, damos };
}

function describeParseError(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const unknown = /Unknown option '([^']+)'/.exec(msg);
  if (unknown) return `unknown option '${unknown[1]}'`;
  const missing = /Option '([^']+)' argument missing/.exec(msg);
  if (missing) return `option '${missing[1]!.replace(/ <value>$/, "")}' needs a value`;
  const noValue = /Option '([^']+)' does not take an argument/.exec(msg);
  if (noValue) return `option '${noValue[1]}' does not take a value`;
  return msg.split("\n")[0]!;
}

export function formatHelp(spec: CommandSpec): string {
  const lines = [`usage: damon-sim ${spec.name} ${spec.usage}`.trimEnd(), "", spec.summary, ""];
  const rows: Array<[string, string]> = [];
  for (const [name, o] of Object.entries(spec.options)) {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "string" ? ` ${o.value ?? "VALUE"}` : ""}`;
    const def = o.default !== undefined && o.default !== false ? ` (default: ${String(o.default)})` : "";
    rows.push([flag, o.description + def]);
  }
  rows.push(["-h, --help", "show this help"]);
  const width = Math.min(34, Math.max(...rows.map((r) => r[0].length)) + 2);
  lines.push("options:");
  // a flag wider than the column gets its description on the next line, aligned
  for (const [flag, desc] of rows) lines.push(flag.length + 2 > width ? `  ${flag}\n  ${" ".repeat(width)}${desc}` : `  ${flag.padEnd(width)}${desc}`);
  if (spec.damos) lines.push("", DAMOS_OPTIONS_HELP);
  if (spec.details) lines.push("", spec.details.trimEnd());
  return lines.join("\n") + "\n";
}

/** Reads a string option, throwing a UsageError when it is required but missing. */
export function stringOpt(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  if (Array.isArray(v)) return v[v.length - 1];
  return typeof v === "string" ? v : undefined;
}

export function requireOpt(spec: CommandSpec, args: ParsedArgs, name: string): string {
  const v = stringOpt(args, name);
  if (v === undefined) throw new UsageError(`${spec.name}: option --${name} is required`);
  return v;
}

/** Parses an integer option value, naming the option in the error. */
export function intOpt(spec: CommandSpec, args: ParsedArgs, name: string, min = -Infinity, max = Infinity): number | undefined {
  const v = stringOpt(args, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^-?[0-9]+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw new UsageError(`${spec.name}: --${name} needs an integer, got '${v}'`);
  if (n < min || n > max) throw new UsageError(`${spec.name}: --${name} must be in [${min}, ${max}], got ${n}`);
  return n;
}
