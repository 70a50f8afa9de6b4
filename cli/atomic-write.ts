// Writing an output file whole or not at all: the data goes to a temporary file in the same
// folder, which is then renamed over the target (and removed if anything fails), so an
// interrupted or failing command never leaves half a file behind.

import { renameSync, rmSync, writeFileSync } from "node:fs";

let tmpCounter = 0;

/** Writes `data` to `path` through a temporary file in the same folder and a rename. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.${++tmpCounter}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
