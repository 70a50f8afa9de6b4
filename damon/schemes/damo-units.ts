// damo's value spellings (its _damo_fmt_str.py text_to_* rules, re-expressed in our own code) for
// the DAMOS options and scheme JSON, and the exact printers that write values back so they parse
// to the same number. These are damo's rules, not the simulator's own (sim/units.ts parseSize,
// sim/time.ts parseDuration), and they differ on purpose:
// - sizes: "MB" and "M" are MiB (2^20; ours: MB = 10^6); units are case-sensitive ("4 kib" is an
//   error); "min" is 0 and "max" is ULONG_MAX; a result is int(number x unit), capped at ULONG_MAX;
// - times: ns us ms s m h d, where "m" is a minute and "min" is the minimum (0), never a minute
//   (ours: "min" = minute, no "d"); several fields add up ("1 m 2 s"); a bare number is in the
//   option's own unit;
// - ratios: "N%" / "N %", or a bare number in the option's unit (percent, permil or bp);
// - numbers: commas are dropped ("1,234"); Python's int()/float() syntax otherwise, minus inf/nan
//   and digit underscores, which nothing here can use.
// Every parser returns damo's value before its sysfs writer's '%d' (a fraction survives here and
// is truncated by the field helpers in damo-spelling.ts). Values come as command-line words or
// JSON strings and numbers (a JSON number is taken as it is; anything else is an error).

import { clip, InputError } from "../../sim/errors.ts";
import { pyInt } from "../damo/format.ts";

/** The kernel's ULONG_MAX as a double (2^64 - 1 rounds to 2^64): what damo's "max" means. */
export const ULONG_MAX = 2 ** 64 - 1;

const NUMBER = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

const shown = (v: unknown): string => (typeof v === "string" ? `'${clip(v)}'` : clip(JSON.stringify(v) ?? String(v)));

/** damo text_to_nr: a number, or undefined when `v` is not one. "max" is ULONG_MAX. */
function number(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v !== "string") return undefined;
  if (v === "max") return ULONG_MAX;
  const t = v.replaceAll(",", "");
  return NUMBER.test(t) ? Number(t) : undefined;
}

/** damo try_common_input: "min", "max" or a bare number; undefined otherwise. */
function common(v: unknown, min = 0): number | undefined {
  if (v === "min") return min;
  if (v === "max") return ULONG_MAX;
  return number(v);
}

function fail(v: unknown, what: string, examples: string): never {
  throw new InputError(`${shown(v)} is not ${what} (examples: ${examples})`);
}

/** A plain number (commas allowed, "max" = ULONG_MAX). */
export function damoNumber(v: unknown): number {
  return number(v) ?? fail(v, "a number", "12, 1,234, 0.5, max");
}

const BYTE_UNITS: Record<string, number> = {
  B: 1,
  K: 2 ** 10, KB: 2 ** 10, KiB: 2 ** 10,
  M: 2 ** 20, MB: 2 ** 20, MiB: 2 ** 20,
  G: 2 ** 30, GB: 2 ** 30, GiB: 2 ** 30,
  T: 2 ** 40, TB: 2 ** 40, TiB: 2 ** 40,
  P: 2 ** 50, PB: 2 ** 50, PiB: 2 ** 50,
  E: 2 ** 60, EB: 2 ** 60, EiB: 2 ** 60,
};

/** Bytes: "4096", "4K", "4 KiB", "1.5 GB" (= 1.5 GiB), "min", "max". */
export function damoBytes(v: unknown): number {
  const c = common(v);
  if (c !== undefined) return c;
  if (typeof v === "string") {
    // the unit is the longest of the last 3, 2 or 1 characters that names one (damo's order)
    for (const len of [3, 2, 1]) {
      if (v.length <= len && len > 1) continue;
      const unit = BYTE_UNITS[v.slice(-len)];
      if (unit === undefined) continue;
      const n = number(v.slice(0, -len));
      if (n === undefined) break;
      return Math.min(ULONG_MAX, pyInt(n * unit));
    }
  }
  return fail(v, "a size", "4096, 4K, 4 KiB, 200MB (MB = MiB), min, max");
}

const NS_UNITS: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9, d: 86400e9 };

/** Nanoseconds; undefined when `v` does not parse. */
function ns(v: unknown): number | undefined {
  const c = common(v);
  if (c !== undefined || typeof v !== "string") return c;
  const fields = v.split(/\s+/).filter((f) => f !== "");
  if (fields.length > 1) {
    // "1 m 2 s": every (number, unit) pair on its own, summed
    let sum = 0;
    for (let i = 0; i < fields.length; i += 2) {
      const part = ns(fields.slice(i, i + 2).join(""));
      if (part === undefined) return undefined;
      sum += part;
    }
    return sum;
  }
  const two = v.slice(-2);
  const unit = two === "ns" || two === "us" || two === "ms" ? two : v.slice(-1);
  const scale = NS_UNITS[unit];
  if (scale === undefined || v.length <= unit.length) return undefined;
  const n = number(v.slice(0, -unit.length));
  return n === undefined ? undefined : n * scale;
}

const TIME_EXAMPLES = "100us, 5 ms, 1s, 1 m 30 s, 2h, min, max";

/** A time in microseconds ("5ms", "1 s", "1 m 2 s", "max"); a bare number is microseconds. */
export function damoUs(v: unknown): number {
  const c = common(v);
  if (c !== undefined) return c;
  const t = ns(v);
  return t === undefined ? fail(v, "a time", TIME_EXAMPLES) : t / 1e3;
}

/** A time in milliseconds; a bare number is milliseconds. */
export function damoMs(v: unknown): number {
  const c = common(v);
  if (c !== undefined) return c;
  const t = ns(v);
  return t === undefined ? fail(v, "a time", TIME_EXAMPLES) : t / 1e3 / 1e3;
}

/** damo text_to_ratio: "N%" is N/100; a bare number is the ratio itself. */
function ratio(v: unknown): number | undefined {
  const c = common(v);
  if (c !== undefined || typeof v !== "string" || !v.endsWith("%")) return c;
  const n = number(v.slice(0, -1));
  return n === undefined ? undefined : n / 100;
}

/** A ratio option's value in `scale` units per 1 (100 percent, 1000 permil, 10000 bp); a bare number is already in them. */
function scaled(v: unknown, scale: number, what: string): number {
  const c = common(v);
  if (c !== undefined) return c;
  const r = ratio(v);
  return r === undefined ? fail(v, what, `${scale === 100 ? "5%, 12.5 %, 5" : scale === 1000 ? "10%, 100 (permil)" : "99.7%, 9970 (bp)"}, min, max`) : r * scale;
}

export const damoPercent = (v: unknown): number => scaled(v, 100, "a percent");
export const damoPermil = (v: unknown): number => scaled(v, 1000, "a permil value");
export const damoBp = (v: unknown): number => scaled(v, 10000, "a bp value");

/** damo text_to_bool: true/false, or y yes true n no false in any case. */
export function damoBool(v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "string") {
    const t = v.toLowerCase();
    if (t === "y" || t === "yes" || t === "true") return true;
    if (t === "n" || t === "no" || t === "false") return false;
  }
  return fail(v, "true or false", "true, false, yes, no, Y, N");
}

/** damo text_to_nr_unit: "<number> <unit>" (two words), or undefined. */
export function damoNumberUnit(v: unknown): { value: number; unit: string } | undefined {
  if (typeof v !== "string") return undefined;
  const fields = v.split(/\s+/).filter((f) => f !== "");
  if (fields.length !== 2) return undefined;
  const value = number(fields[0]);
  return value === undefined ? undefined : { value, unit: fields[1]! };
}

/**
 * An integer as its exact decimal digits (String() would switch to exponents above 1e21); the
 * double 2^64 stands for ULONG_MAX, so it prints as 18446744073709551615, which damo and the
 * kernel take (2^64 itself the kernel refuses).
 */
const digits = (n: number): string => (n >= ULONG_MAX ? "18446744073709551615" : BigInt(n).toString());

const SIZE_UNITS_DOWN: Array<[number, string]> = [
  [2 ** 60, "EiB"], [2 ** 50, "PiB"], [2 ** 40, "TiB"], [2 ** 30, "GiB"], [2 ** 20, "MiB"], [2 ** 10, "KiB"],
];

/** Bytes (an integer) in the largest binary unit that divides it exactly: "4 KiB", "200 MiB", "4097 B", "max". */
export function printBytes(n: number): string {
  if (n >= ULONG_MAX) return "max";
  for (const [u, name] of SIZE_UNITS_DOWN) if (n !== 0 && n % u === 0) return `${digits(n / u)} ${name}`;
  return `${digits(n)} B`;
}

const US_UNITS_DOWN: Array<[number, string]> = [[86400e6, "d"], [3600e6, "h"], [60e6, "m"], [1e6, "s"], [1e3, "ms"], [1, "us"]];

/**
 * A time (an integer in `unitUs` microseconds: 1 for us fields, 1000 for ms ones) in the largest
 * unit that divides it exactly: "1 s", "250 ms", "max". A value so large that damo's ns
 * arithmetic would round it is written as a bare number, which damo reads in the field's unit.
 */
export function printTime(n: number, unitUs: 1 | 1000): string {
  if (n >= ULONG_MAX) return "max";
  if (n * unitUs * 1e3 > Number.MAX_SAFE_INTEGER) return digits(n);
  const us = n * unitUs;
  for (const [u, name] of US_UNITS_DOWN) {
    if (u < unitUs) break;
    if (us !== 0 && us % u === 0) return `${digits(us / u)} ${name}`;
  }
  return `0 ${unitUs === 1 ? "us" : "ms"}`;
}

/** A count as decimal digits (for bp, permil, ids and the like). */
export const printNumber = digits;
