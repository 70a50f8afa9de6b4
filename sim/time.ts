// Simulated time: an integer count of nanoseconds in a JS number, exact up to 2^53 ns (about
// 104 days). Helpers to build, check, parse and print durations so no file writes 1000000 by hand.

import { InputError, SimError } from "./errors.ts";

export const NS = 1;
export const US = 1_000;
export const MS = 1_000_000;
export const SEC = 1_000_000_000;
export const MINUTE = 60 * SEC;
export const HOUR = 60 * MINUTE;

/** Largest representable simulated time (2^53 - 1 ns, about 104.2 days). */
export const MAX_TIME = Number.MAX_SAFE_INTEGER;

export const ns = (n: number): number => n * NS;
export const us = (n: number): number => Math.round(n * US);
export const ms = (n: number): number => Math.round(n * MS);
export const sec = (n: number): number => Math.round(n * SEC);

/** True when t is a valid simulated time: an integer in [0, MAX_TIME]. */
export function isValidTime(t: number): boolean {
  return Number.isSafeInteger(t) && t >= 0;
}

/** Throws a SimError naming `what` unless t is a valid simulated time. */
export function checkTime(t: number, what = "time"): number {
  if (typeof t !== "number" || Number.isNaN(t)) throw new SimError(`${what} must be a number of nanoseconds, got ${String(t)}`);
  if (t < 0) throw new SimError(`${what} must not be negative, got ${t} ns`);
  if (!Number.isInteger(t)) throw new SimError(`${what} must be an integer number of nanoseconds, got ${t}`);
  if (t > MAX_TIME) throw new SimError(`${what} ${t} ns is past the simulated time limit of 2^53-1 ns (about 104 days)`);
  return t;
}

const DURATION_UNITS: Record<string, number> = {
  ns: NS, us: US, "µs": US, ms: MS, s: SEC, sec: SEC, m: MINUTE, min: MINUTE, h: HOUR,
};

/**
 * Parses a duration such as "5ms", "1.5s", "100us", "250 ns" or "2m" into integer nanoseconds.
 * A bare number is read in `defaultUnit` (nanoseconds unless given).
 */
export function parseDuration(text: string, defaultUnit: keyof typeof DURATION_UNITS = "ns", field?: string): number {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)\s*([a-zµ]*)\s*$/i.exec(text);
  if (!m) throw new InputError(`'${text}' is not a duration (examples: 5ms, 1.5s, 100us)`, field ? { field } : {});
  const unitName = (m[2] ?? "").toLowerCase() || defaultUnit;
  const unit = DURATION_UNITS[unitName];
  if (unit === undefined) throw new InputError(`unknown time unit '${m[2]}' in '${text}' (use ns, us, ms, s, m or h)`, field ? { field } : {});
  const value = Number(m[1]) * unit;
  const rounded = Math.round(value);
  if (!Number.isSafeInteger(rounded)) throw new InputError(`duration '${text}' is past the simulated time limit`, field ? { field } : {});
  if (Math.abs(rounded - value) > 1e-6 * Math.max(1, value)) {
    throw new InputError(`duration '${text}' is not a whole number of nanoseconds`, field ? { field } : {});
  }
  return rounded;
}

/** Short human form of a duration: "5 ms", "1.500 s", "2 m 3.000 s", "1 h 2 m 3.000 s". */
export function formatDuration(t: number): string {
  const neg = t < 0;
  const a = Math.abs(t);
  let out: string;
  if (a < US) out = `${a} ns`;
  else if (a < MS) out = `${trimZeros(a / US)} us`;
  else if (a < SEC) out = `${trimZeros(a / MS)} ms`;
  else if (a < MINUTE) out = `${(a / SEC).toFixed(3)} s`;
  else if (a < HOUR) out = `${Math.floor(a / MINUTE)} m ${((a % MINUTE) / SEC).toFixed(3)} s`;
  else out = `${Math.floor(a / HOUR)} h ${Math.floor((a % HOUR) / MINUTE)} m ${((a % MINUTE) / SEC).toFixed(3)} s`;
  return neg ? `-${out}` : out;
}

function trimZeros(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(3).replace(/0+$/, "").replace(/\.$/, "");
}
