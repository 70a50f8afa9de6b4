// JSON text parsing with useful errors: JSON.parse does the work, and when it fails a small
// recursive-descent scanner finds the offset of the first offending character (Node's messages
// say "at position N" or nothing), reported as file:line:column. Shared by every layer that reads
// JSON input (machine configs, workload specs, experiments, regression cases). The same scanner
// also tells where each value starts, by field name (scanJson's onValue), so that semantic errors
// can name a line:column too (sim/json-locate.ts).

import { InputError } from "./errors.ts";

/** Nesting the scanner follows; a document nested deeper is refused (not a stack overflow). */
export const MAX_JSON_DEPTH = 5000;

export interface JsonScan {
  /** Offset of the first syntax error, or of the first value nested deeper than MAX_JSON_DEPTH; -1 when valid. */
  at: number;
  /** The scan stopped at a value nested too deep (not at a syntax error). */
  tooDeep: boolean;
}

/**
 * Scans `text` as JSON. With `onValue`, calls it with the field name ("axes.seed[2]",
 * "exclude[0].machine"; the root is "(root)") and the offset of every value as it starts.
 */
export function scanJson(text: string, onValue?: (field: string, offset: number) => void): JsonScan {
  let i = 0;
  let tooDeep = false;
  const ws = (): void => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  // Each scanner returns true on success; on failure `i` is left at the offending character.
  const literal = (word: string): boolean => {
    for (let k = 0; k < word.length; k++, i++) if (text[i] !== word[k]) return false;
    return true;
  };
  const string = (): boolean => {
    i++; // opening quote
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return true;
      }
      if (c < 0x20) return false;
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i += 2;
            return false;
          }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          i++;
          return false;
        }
      } else {
        i++;
      }
    }
    return false;
  };
  const number = (): boolean => {
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === "-" || m[0] === "") return false;
    i += m[0].length;
    return true;
  };
  const value = (field: string, depth: number): boolean => {
    ws();
    if (depth > MAX_JSON_DEPTH) {
      tooDeep = true;
      return false;
    }
    onValue?.(field, i);
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return true;
      }
      for (;;) {
        ws();
        const keyAt = i;
        if (text[i] !== '"' || !string()) return false;
        // field names are made only when someone asks for them
        const sub = onValue ? `${field === "(root)" ? "" : `${field}.`}${JSON.parse(text.slice(keyAt, i)) as string}` : "";
        ws();
        if (text[i] !== ":") return false;
        i++;
        if (!value(sub, depth + 1)) return false;
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return true;
        }
        return false;
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return true;
      }
      for (let k = 0; ; k++) {
        if (!value(onValue ? `${field === "(root)" ? "" : field}[${k}]` : "", depth + 1)) return false;
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return true;
        }
        return false;
      }
    }
    if (c === '"') return string();
    if (c === "t") return literal("true");
    if (c === "f") return literal("false");
    if (c === "n") return literal("null");
    return number();
  };
  if (!value("(root)", 0)) return { at: Math.min(i, text.length), tooDeep };
  ws();
  return { at: i < text.length ? i : -1, tooDeep: false };
}

/** Offset of the first syntax error in `text` (or of the first value nested too deep), or -1 when it is valid JSON. */
export function locateJsonError(text: string): number {
  return scanJson(text).at;
}

/** Line and column (1-based) of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split("\n").length, column: offset - before.lastIndexOf("\n") };
}

/** What is at `offset` of `text`, for a syntax error message, with the usual cause when there is one. */
function describeAt(text: string, offset: number): string {
  if (offset >= text.length) return "unexpected end of file (an unclosed {, [ or string?)";
  const c = text[offset]!;
  const shown = c === "\n" ? "a line break" : c === "\t" ? "a tab" : c.charCodeAt(0) < 0x20 ? `control character U+${c.charCodeAt(0).toString(16).padStart(4, "0")}` : `'${c}'`;
  let prev = offset - 1;
  while (prev >= 0 && /\s/.test(text[prev]!)) prev--;
  if ((c === "}" || c === "]") && text[prev] === ",") return `unexpected ${shown}: JSON allows no comma before a closing ${c} (remove the one at column ${lineColumn(text, prev).column} of line ${lineColumn(text, prev).line})`;
  if (c === "'") return "unexpected \"'\": JSON strings take double quotes";
  if (c === "/" && (text[offset + 1] === "/" || text[offset + 1] === "*")) return "unexpected '/': JSON has no comments";
  if (/[A-Za-z_$]/.test(c) && text[prev] !== ":" && text[prev] !== "[" && text[prev] !== ",") return `unexpected ${shown}: property names need double quotes`;
  return `unexpected ${shown}`;
}

/** Parses JSON text; a syntax error is an InputError naming the file, line and column (never "at position N"). */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const { at, tooDeep } = scanJson(text);
    if (tooDeep) throw new InputError(`invalid JSON: nested more than ${MAX_JSON_DEPTH} levels deep`, { file, ...lineColumn(text, at) });
    if (at < 0) {
      const msg = (e instanceof Error ? e.message : String(e)).replace(/, (?:\.\.\.)?".*" is not valid JSON$/s, "").replace(/ in JSON at position \d+.*$/s, "");
      throw new InputError(`invalid JSON: ${msg}`, { file });
    }
    throw new InputError(`invalid JSON: ${describeAt(text, at)}`, { file, ...lineColumn(text, at) });
  }
}
