// Error types shared by every layer. A SimError is a programming or usage error inside the
// simulator (bad time, double cancel); an InputError is bad user input (config, trace, CLI) and
// always names where the problem is: a file, a field, a line/column or a byte offset.

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
    super(where ? `${where}: ${detail}` : detail);
    this.location = location;
    this.detail = detail;
  }
  /** The same error with more location facts filled in (the inner ones win). */
  within(outer: InputLocation): InputError {
    return new InputError(this.detail, { ...outer, ...this.location });
  }
}

/** Command-line misuse: the CLI prints the message and exits with status 2. */
export class UsageError extends Error {
  override name = "UsageError";
}
