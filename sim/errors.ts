// Error types shared by every layer. A SimError is a programming or usage error inside the
// simulator (bad time, double cancel); an InputError is bad user input (config, trace, CLI) and
// always names where the problem is: a file, a field, a line/column or a byte offset. Messages
// never echo a huge token back whole: clip() shortens a value for quoting, and every error's
// message has its quoted tokens clipped (a 10 MB "number" in a config shows as its first 60
// characters and its length).

/** Longest quoted token a message shows whole. */
export const MAX_QUOTED = 160;

/** A value shortened for an error message: its first 60 characters and its length when it is long. */
export function clip(text: string, max = MAX_QUOTED): string {
  if (text.length <= max) return text;
  return `${text.slice(0, 60)}... (${text.length.toLocaleString("en-US")} characters)`;
}

/** The message with every quoted token ('...' or "...") longer than MAX_QUOTED clipped, and any line over 4000 characters. */
export function clipQuoted(message: string): string {
  if (message.length <= MAX_QUOTED) return message;
  // a scan, not a regular expression: V8's backtracking overflows its stack on megabyte tokens
  let out = "";
  let i = 0;
  while (i < message.length) {
    const q = nextQuote(message, i);
    if (q < 0) break;
    const close = message.indexOf(message[q]!, q + 1);
    const nl = message.indexOf("\n", q + 1);
    if (close < 0 || (nl >= 0 && nl < close)) {
      out += message.slice(i, q + 1);
      i = q + 1;
      continue;
    }
    const token = message.slice(q + 1, close);
    out += message.slice(i, q + 1) + (token.length > MAX_QUOTED ? clip(token) : token) + message[q];
    i = close + 1;
  }
  out += message.slice(i);
  return out.split("\n").map((line) => clip(line, 4000)).join("\n");
}

function nextQuote(s: string, from: number): number {
  const a = s.indexOf("'", from), b = s.indexOf('"', from);
  return a < 0 ? b : b < 0 ? a : Math.min(a, b);
}

/** Levenshtein distance between two short strings (for "did you mean"). */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

/** " (did you mean 'x'?)" for the known name nearest to `word` (case aside, at most 2 edits), or "". */
export function didYouMean(word: string, known: readonly string[]): string {
  if (word.length > 100) return "";
  let best = "", bestD = Infinity;
  for (const k of known) {
    const d = distance(word.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return bestD <= Math.min(2, Math.max(1, Math.floor(word.length / 3))) ? ` (did you mean '${best}'?)` : "";
}

export class SimError extends Error {
  override name = "SimError";
}

/** Where in the user's input a problem was found. Every part is optional; give what is known. */
export interface InputLocation {
  file?: string;
  field?: string;
  line?: number;
  column?: number;
  offset?: number;
}

export function formatLocation(loc: InputLocation): string {
  const parts: string[] = [];
  if (loc.file !== undefined) {
    let p = loc.file;
    if (loc.line !== undefined) p += `:${loc.line}`;
    if (loc.line !== undefined && loc.column !== undefined) p += `:${loc.column}`;
    parts.push(p);
  } else if (loc.line !== undefined) {
    parts.push(loc.column !== undefined ? `line ${loc.line}, column ${loc.column}` : `line ${loc.line}`);
  }
  if (loc.offset !== undefined) parts.push(`byte offset ${loc.offset}`);
  if (loc.field !== undefined) parts.push(`field '${loc.field}'`);
  return parts.join(", ");
}

export class InputError extends Error {
  override name = "InputError";
  readonly location: InputLocation;
  readonly detail: string;
  constructor(detail: string, location: InputLocation = {}) {
    const where = formatLocation(location);
    const shown = clipQuoted(detail);
    super(where ? `${where}: ${shown}` : shown);
    this.location = location;
    this.detail = shown;
  }
  /** The same error with more location facts filled in (the inner ones win). */
  within(outer: InputLocation): InputError {
    return new InputError(this.detail, { ...outer, ...this.location });
  }
}

/** The run could not finish for a reason outside its input (a full disk, an I/O error): exit status 1. */
export class OutputFailure extends Error {
  override name = "OutputFailure";
}

/** Command-line misuse: the CLI prints the message and exits with status 2. */
export class UsageError extends Error {
  override name = "UsageError";
}
