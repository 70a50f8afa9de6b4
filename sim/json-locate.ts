// Where each value of a JSON document starts, by field name ("axes.seed[2]", "exclude[0].machine",
// "[0].quotas" in a document that is a list), so that semantic errors in a JSON input (a study
// file, a damo scheme list), not only the syntax errors sim/json-text.ts locates, can name
// file:line:column. The scanner only runs on text JSON.parse accepted.

import { lineColumn } from "./json-text.ts";
import { InputError } from "./errors.ts";

/** Nesting the scanner follows (as sim/json-text.ts's); deeper is an input error, not a stack overflow. */
export const MAX_DEPTH = 5000;

/**
 * Offsets of every value in `text` (valid JSON), by field name; the root is "(root)" and the
 * items of a root list are "[0]", "[1]"... A document nested deeper than MAX_DEPTH is an
 * InputError at the first value too deep (in `file`).
 */
export function valueOffsets(text: string, file?: string): Map<string, number> {
  const out = new Map<string, number>();
  let i = 0;
  const ws = (): void => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (field: string, depth: number): void => {
    ws();
    if (depth > MAX_DEPTH) throw new InputError(`nested more than ${MAX_DEPTH} levels deep`, { ...(file !== undefined ? { file } : {}), ...lineColumn(text, i) });
    if (!out.has(field)) out.set(field, i);
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        const k = str();
        ws();
        i++; // ':'
        value(field === "(root)" ? k : `${field}.${k}`, depth + 1);
        ws();
        if (text[i++] === "}") return;
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (let k = 0; ; k++) {
        value(field === "(root)" ? `[${k}]` : `${field}[${k}]`, depth + 1);
        ws();
        if (text[i++] === "]") return;
      }
    }
    if (c === '"') {
      str();
      return;
    }
    while (i < text.length && !/[\s,\]}]/.test(text[i]!)) i++;
  };
  value("(root)", 0);
  return out;
}

/** Makes InputErrors that name the file, the field and the line:column where its value starts. */
export class Locator {
  private readonly offsets: Map<string, number>;
  constructor(readonly file: string, private readonly text: string) {
    this.offsets = valueOffsets(text, file);
  }
  /** An InputError at `field` (or the nearest enclosing field the document has). */
  error(detail: string, field: string): InputError {
    let f = field;
    while (!this.offsets.has(f) && f !== "(root)") {
      const cut = Math.max(f.lastIndexOf("."), f.lastIndexOf("["));
      f = cut > 0 ? f.slice(0, cut) : "(root)";
    }
    const at = this.offsets.get(f);
    return new InputError(detail, { file: this.file, ...(at !== undefined ? lineColumn(this.text, at) : {}), field });
  }
}
