// DAMON's masim ("memory access simulator") configuration files, parsed exactly as masim reads
// them (workloads/masim.ts runs them). Grammar (reference: damon.md section 7.4):
//   - lines starting with '#' are removed with their newline; an unterminated last line is
//     dropped by masim, so we require the file to end with a newline;
//   - paragraphs are separated by exactly one empty line; the first lists the regions, one per
//     line: `name, size[, init_data_file]`; every later paragraph is a phase: a name line, a
//     duration line (ms), then pattern lines `region, random(0|1), stride, probability[, ro|wo|rw]`
//     (mode defaults to wo, or to the --default_rw_mode option).
// Beyond masim, which crashes or silently misreads such files, we reject: a missing final newline,
// CR line endings, duplicate region names, non-numeric or negative numbers, random other than
// 0/1, and phases whose probabilities sum to 0. Errors are InputErrors naming the file, line and
// column. Files over sim/input-text.ts's cap (8 MiB; real configs are a few KiB) are refused
// before they are read whole.

import { clip, InputError } from "../sim/errors.ts";
import { readInputText } from "../sim/input-text.ts";

export type RwMode = "ro" | "wo" | "rw";
export const RW_MODES: readonly RwMode[] = ["ro", "wo", "rw"];

const INT_MAX = 2 ** 31 - 1;

export interface MasimRegion {
  name: string;
  size: number;
  /** null for `none` or no third field. */
  initDataFile: string | null;
  line: number;
}

export interface MasimPattern {
  /** Index into MasimConfig.regions. */
  region: number;
  random: boolean;
  stride: number;
  probability: number;
  /** null: the default mode (wo unless overridden). */
  mode: RwMode | null;
  line: number;
}

export interface MasimPhase {
  name: string;
  durationMs: number;
  patterns: MasimPattern[];
  line: number;
}

export interface MasimConfig {
  file: string;
  regions: MasimRegion[];
  phases: MasimPhase[];
}

interface Line {
  text: string;
  /** 1-based line number in the original file. */
  no: number;
}

/** A comma-separated field with the column (1-based) where it starts in its line. */
interface Field {
  text: string;
  column: number;
}

function splitFields(line: string): Field[] {
  const out: Field[] = [];
  let start = 0;
  for (;;) {
    const comma = line.indexOf(",", start);
    out.push({ text: line.slice(start, comma < 0 ? line.length : comma), column: start + 1 });
    if (comma < 0) return out;
    start = comma + 1;
  }
}

/** Column of the first non-blank character of a field (where a number is read from). */
const valueColumn = (f: Field): number => f.column + (f.text.length - f.text.trimStart().length);

/** Reads masim configuration text; `file` names the file in errors. */
export function parseMasimConfig(text: string, file = "<masim config>"): MasimConfig {
  const fail = (line: number, column: number, detail: string): never => {
    throw new InputError(detail, { file, line, column });
  };
  const cr = text.indexOf("\r");
  if (cr >= 0) {
    const before = text.slice(0, cr);
    fail(before.split("\n").length, cr - before.lastIndexOf("\n"), "carriage return found: masim configs use Unix line endings (\\n only)");
  }
  // Comment lines go away with their newline; remember original line numbers.
  const lines: Line[] = [];
  let pos = 0;
  let no = 1;
  while (pos < text.length) {
    const nl = text.indexOf("\n", pos);
    if (nl < 0) {
      const rest = text.slice(pos);
      if (!rest.startsWith("#")) fail(no, rest.length + 1, "the file must end with a newline (masim silently drops an unterminated last line)");
      break;
    }
    const t = text.slice(pos, nl);
    if (!t.startsWith("#")) lines.push({ text: t, no });
    pos = nl + 1;
    no++;
  }
  if (lines.length === 0) fail(1, 1, "no regions: the first paragraph must list the regions (`name, size[, init_data_file]`)");
  const firstEmpty = lines.findIndex((l) => l.text === "");
  if (firstEmpty === 0) fail(lines[0]!.no, 1, "the file starts with an empty line; the first paragraph must list the regions");
  if (firstEmpty < 0) {
    const last = lines[lines.length - 1]!;
    fail(last.no, last.text.length + 1, "no phases: the regions paragraph must be followed by one empty line and at least one phase");
  }

  const regions = lines.slice(0, firstEmpty).map((l) => parseRegionLine(l, fail));
  const byName = new Map<string, number>();
  regions.forEach((r, i) => {
    if (byName.has(r.name)) fail(r.line, 1, `duplicate region name '${r.name}' (first defined on line ${regions[byName.get(r.name)!]!.line})`);
    byName.set(r.name, i);
  });

  const rest = lines.slice(firstEmpty + 1);
  const emptyLine = lines[firstEmpty]!;
  if (rest.length === 0) fail(emptyLine.no + 1, 1, "no phases after the regions paragraph");
  // Paragraphs: split on empty lines; an empty paragraph means two empty lines in a row, or an
  // empty line at the end of the file, which masim parses as a phase and rejects.
  const paragraphs: Line[][] = [[]];
  let prevEmpty = emptyLine;
  for (const l of rest) {
    if (l.text === "") {
      if (paragraphs[paragraphs.length - 1]!.length === 0) fail(l.no, 1, "extra empty line: paragraphs are separated by exactly one empty line");
      paragraphs.push([]);
      prevEmpty = l;
    } else {
      paragraphs[paragraphs.length - 1]!.push(l);
    }
  }
  if (paragraphs[paragraphs.length - 1]!.length === 0) fail(prevEmpty.no, 1, "empty line at the end of the file: the last phase must end with a single newline");

  const phases = paragraphs.map((para) => {
    const head = para[0]!;
    if (para.length < 3) fail(head.no, 1, `phase '${head.text}' has ${para.length} line${para.length === 1 ? "" : "s"}; a phase needs a name line, a duration line (ms) and at least one pattern line`);
    const durLine = para[1]!;
    const durationMs = parseUint(durLine.text, durLine.no, 1, "phase duration (ms)", INT_MAX * 2 + 1, fail);
    const patterns = para.slice(2).map((l) => parsePatternLine(l, regions, byName, fail));
    const total = patterns.reduce((a, p) => a + p.probability, 0);
    if (total === 0) fail(head.no, 1, `the probabilities of phase '${head.text}' sum to 0; at least one must be positive`);
    if (total > INT_MAX) fail(head.no, 1, `the probabilities of phase '${head.text}' sum to ${total}, more than masim's int can hold (${INT_MAX})`);
    return { name: head.text, durationMs, patterns, line: head.no };
  });
  return { file, regions, phases };
}

type Fail = (line: number, column: number, detail: string) => never;

function parseUint(text: string, line: number, column: number, what: string, max: number, fail: Fail): number {
  const t = text.trim();
  const col = column + (text.length - text.trimStart().length);
  if (!/^[0-9]+$/.test(t)) fail(line, col, `${what} must be a non-negative integer, got '${t}'`);
  const v = Number(t);
  if (!Number.isSafeInteger(v) || v > max) fail(line, col, `${what} ${clip(t)} is too large (at most ${max})`);
  return v;
}

function parseRegionLine(l: Line, fail: Fail): MasimRegion {
  const fields = splitFields(l.text);
  if (fields.length !== 2 && fields.length !== 3) {
    fail(l.no, fields.length > 3 ? fields[3]!.column - 1 : 1, `a region line needs 2 or 3 comma-separated fields (name, size[, init_data_file]), found ${fields.length}`);
  }
  const [nameF, sizeF, initF] = fields as [Field, Field, Field | undefined];
  const name = nameF.text;
  if (name === "") fail(l.no, 1, "empty region name");
  if (/^\s/.test(name)) fail(l.no, 1, `region name '${name}' starts with a space; names are matched exactly and must start at the beginning of the line`);
  if (name.length >= 256) fail(l.no, 1, "region name is longer than masim's 255-character limit");
  const size = parseUint(sizeF.text, l.no, sizeF.column, "region size", Number.MAX_SAFE_INTEGER, fail);
  if (size === 0) fail(l.no, valueColumn(sizeF), "region size must be positive");
  let initDataFile: string | null = null;
  if (initF) {
    const t = initF.text.trim();
    if (t === "") fail(l.no, initF.column, "empty init_data_file field (write 'none' for no initial data)");
    initDataFile = t === "none" ? null : t;
  }
  return { name, size, initDataFile, line: l.no };
}

function parsePatternLine(l: Line, regions: MasimRegion[], byName: Map<string, number>, fail: Fail): MasimPattern {
  const fields = splitFields(l.text);
  if (fields.length !== 4 && fields.length !== 5) {
    fail(l.no, fields.length > 5 ? fields[5]!.column - 1 : 1, `a pattern line needs 4 or 5 comma-separated fields (region, random 0|1, stride, probability[, ro|wo|rw]), found ${fields.length}`);
  }
  const [regF, rndF, strideF, probF, modeF] = fields as [Field, Field, Field, Field, Field | undefined];
  const region = byName.get(regF.text);
  if (region === undefined) {
    const trimmed = byName.get(regF.text.trim());
    const hint = trimmed !== undefined ? ` (region names are matched exactly; remove the spaces around '${regF.text.trim()}')` : ` (regions: ${regions.map((r) => r.name).join(", ")})`;
    fail(l.no, 1, `unknown region '${regF.text}'${hint}`);
  }
  const rnd = rndF.text.trim();
  if (rnd !== "0" && rnd !== "1") fail(l.no, valueColumn(rndF), `random must be 0 (sequential) or 1 (random), got '${rnd}'`);
  const stride = parseUint(strideF.text, l.no, strideF.column, "stride", Number.MAX_SAFE_INTEGER, fail);
  const probability = parseUint(probF.text, l.no, probF.column, "probability", INT_MAX, fail);
  let mode: RwMode | null = null;
  if (modeF) {
    const m = modeF.text.trim();
    if (!(RW_MODES as readonly string[]).includes(m)) fail(l.no, valueColumn(modeF), `access mode must be ro, wo or rw, got '${m}'`);
    mode = m as RwMode;
  }
  return { region, random: rnd === "1", stride, probability, mode, line: l.no };
}

/** Reads and parses a masim configuration file. */
export function loadMasimConfig(path: string): MasimConfig {
  return parseMasimConfig(readInputText(path, "masim config"), path);
}
