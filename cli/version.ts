// The tool's version (package.json) and the exit statuses the README documents, apart from the
// entry point (main.ts) so that commands can use them without importing it.

import { readFileSync } from "node:fs";

/** Exit statuses, as the README documents them. */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, INTERRUPTED: 130 } as const;

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}
