// Where each value of a JSON document starts, by field name ("axes.seed[2]", "exclude[0].machine",
// "[0].quotas" in a document that is a list), so that semantic errors in a JSON input (a study
// file, a damo scheme list), not only its syntax errors, can name file:line:column. The scan is
// sim/json-text.ts's (scanJson), run on text JSON.parse accepted.

import { lineColumn, MAX_JSON_DEPTH, scanJson } from "./json-text.ts";
import { InputError } from "./errors.ts";

/** Nesting followed; deeper is an input error, not a stack overflow. */
export const MAX_DEPTH = MAX_JSON_DEPTH;

/**
 * Offsets of every value in `text` (valid JSON), by field name; the root is "(root)" and the
 * items of a root list are "[0]", "[1]"... A document nested deeper than MAX_DEPTH is an
 * InputError at the first value too deep (in `file`).
 */
export function valueOffsets(text: string, file?: string): Map<string, number> {
  const out = new Map<string, number>();
  const scan = scanJson(text, (field, at) => {
    if (!out.has(field)) out.set(field, at);
  });
  if (scan.tooDeep) throw new InputError(`nested more than ${MAX_DEPTH} levels deep`, { ...(file !== undefined ? { file } : {}), ...lineColumn(text, scan.at) });
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
