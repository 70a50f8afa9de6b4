// Typed reading of JSON objects for the workload spec format: each accessor checks one field and
// throws an InputError naming its path ("threads[1].phases[0].pattern.stride"); `done()` rejects
// fields nobody asked for, so a typo is an error rather than a silently ignored setting.

import { InputError } from "../sim/errors.ts";
import { parseDuration } from "../sim/time.ts";
import { parseSize } from "../sim/units.ts";

export type JsonObject = Record<string, unknown>;

/** Joins a path and a key: ("", "a") -> "a", ("a", "b") -> "a.b", ("a", 2) -> "a[2]". */
export function fieldPath(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path === "" ? key : `${path}.${key}`;
}

export function describeJson(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === "object") return "an object";
  return `${typeof v} ${String(v)}`;
}

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
  /** Exclusive lower bound. */
  above?: number;
}

/** One JSON object being read, with its path; remembers which keys were read. */
export class Fields {
  private readonly seen = new Set<string>();

  constructor(readonly obj: JsonObject, readonly path: string) {}

  static of(v: unknown, path: string): Fields {
    if (!isJsonObject(v)) throw new InputError(`must be an object, got ${describeJson(v)}`, { field: path || "(top level)" });
    return new Fields(v, path);
  }

  at(key: string): string {
    return fieldPath(this.path, key);
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined;
  }

  raw(key: string): unknown {
    this.seen.add(key);
    return this.obj[key];
  }

  fail(key: string, detail: string): never {
    throw new InputError(detail, { field: this.at(key) });
  }

  num(key: string, def: number | undefined, rule: NumberRule = {}): number {
    const v = this.raw(key);
    if (v === undefined) {
      if (def === undefined) this.fail(key, "is required");
      return def;
    }
    if (typeof v !== "number" || !Number.isFinite(v)) this.fail(key, `must be a number, got ${describeJson(v)}`);
    if (rule.integer && !Number.isSafeInteger(v)) this.fail(key, `must be an integer, got ${v}`);
    if (rule.min !== undefined && v < rule.min) this.fail(key, `must be at least ${rule.min}, got ${v}`);
    if (rule.max !== undefined && v > rule.max) this.fail(key, `must be at most ${rule.max}, got ${v}`);
    if (rule.above !== undefined && !(v > rule.above)) this.fail(key, `must be greater than ${rule.above}, got ${v}`);
    return v;
  }

  optNum(key: string, rule: NumberRule = {}): number | undefined {
    return this.has(key) ? this.num(key, undefined, rule) : undefined;
  }

  str(key: string, def?: string): string {
    const v = this.raw(key);
    if (v === undefined) {
      if (def === undefined) this.fail(key, "is required");
      return def;
    }
    if (typeof v !== "string") this.fail(key, `must be a string, got ${describeJson(v)}`);
    return v;
  }

  optStr(key: string): string | undefined {
    return this.has(key) ? this.str(key) : undefined;
  }

  bool(key: string, def: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined) return def;
    if (typeof v !== "boolean") this.fail(key, `must be true or false, got ${describeJson(v)}`);
    return v;
  }

  oneOf<T extends string>(key: string, values: readonly T[], def?: T): T {
    const v = this.str(key, def);
    if (!(values as readonly string[]).includes(v)) this.fail(key, `must be one of ${values.map((x) => `'${x}'`).join(", ")}, got '${v}'`);
    return v as T;
  }

  /** A byte count: a non-negative integer, or a size string such as "64MiB". */
  size(key: string, def?: number, min = 0): number {
    const v = this.raw(key);
    let n: number;
    if (v === undefined) {
      if (def === undefined) this.fail(key, "is required");
      n = def;
    } else if (typeof v === "number") {
      if (!Number.isSafeInteger(v)) this.fail(key, `must be a whole number of bytes, got ${v}`);
      n = v;
    } else if (typeof v === "string") {
      n = parseSize(v, this.at(key));
    } else {
      this.fail(key, `must be a size (bytes, or a string like "64MiB"), got ${describeJson(v)}`);
    }
    if (n < min) this.fail(key, `must be at least ${min} bytes, got ${n}`);
    return n;
  }

  /** A duration in ns: a string with a unit ("250ms", "1.5s"), or a number of milliseconds. */
  duration(key: string, def?: number): number {
    const v = this.raw(key);
    if (v === undefined) {
      if (def === undefined) this.fail(key, "is required");
      return def;
    }
    if (typeof v === "number") {
      if (!Number.isFinite(v) || v < 0) this.fail(key, `must be a non-negative number of milliseconds, got ${v}`);
      return parseDuration(String(v), "ms", this.at(key));
    }
    if (typeof v === "string") return parseDuration(v, "ms", this.at(key));
    this.fail(key, `must be a duration (a string like "250ms" or a number of milliseconds), got ${describeJson(v)}`);
  }

  array(key: string, minLength = 0): unknown[] {
    const v = this.raw(key);
    if (!Array.isArray(v)) this.fail(key, v === undefined ? "is required" : `must be an array, got ${describeJson(v)}`);
    if (v.length < minLength) this.fail(key, `needs at least ${minLength} element${minLength === 1 ? "" : "s"}`);
    return v;
  }

  /** A list of non-negative integers (CPU or node ids). */
  intList(key: string, minLength = 1): number[] {
    const arr = this.array(key, minLength);
    return arr.map((x, i) => {
      if (typeof x !== "number" || !Number.isSafeInteger(x) || x < 0) {
        throw new InputError(`must be a non-negative integer, got ${describeJson(x)}`, { field: fieldPath(this.at(key), i) });
      }
      return x;
    });
  }

  /** Rejects keys that were never read. */
  done(): void {
    for (const k of Object.keys(this.obj)) {
      if (!this.seen.has(k)) {
        const known = [...this.seen].sort().join(", ");
        throw new InputError(`unknown field '${k}'${known ? ` (known here: ${known})` : ""}`, { field: this.at(k) });
      }
    }
  }
}
