// Reading and writing expected.json: a stable, diff-friendly JSON layout (two-space indentation,
// lists of numbers and strings on one line, keys in the order the results were built) and an
// atomic write (a temporary file in the same folder, then a rename), so an interrupted bless never
// leaves a half-written expectation behind (cli/atomic-write.ts).

import { readFileSync } from "node:fs";
import { InputError } from "../../sim/errors.ts";
import { parseJsonText } from "../../sim/json-text.ts";

const isPrimitive = (v: unknown): boolean => v === null || typeof v !== "object";

/** JSON text of `v` with scalar lists kept on one line. */
export function formatJson(v: unknown, indent = ""): string {
  if (isPrimitive(v)) return JSON.stringify(v) ?? "null";
  const inner = indent + "  ";
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    if (v.every(isPrimitive)) return `[${v.map((x) => JSON.stringify(x) ?? "null").join(", ")}]`;
    return `[\n${v.map((x) => inner + formatJson(x, inner)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  if (entries.length === 0) return "{}";
  return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${formatJson(x, inner)}`).join(",\n")}\n${indent}}`;
}

/** Reads a JSON file, naming it (and the line and column) when it cannot be read or parsed. */
export function readJsonFile(path: string, shown = path): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new InputError(`cannot read: ${(e as Error).message}`, { file: shown });
  }
  return parseJsonText(text, shown);
}
