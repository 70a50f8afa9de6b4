// Reading a text input file (a machine config, a workload spec, a masim config, an experiment, a
// regression case) with a size cap: at most the cap plus one byte is ever read, so a huge file,
// a device (/dev/zero) or a pipe that never ends is refused with its size instead of filling
// memory. The caps are far above any real input of each kind.

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { InputError } from "./errors.ts";
import { formatSize } from "./units.ts";

/** Cap on text inputs: the largest shipped config is a few KiB. */
export const MAX_INPUT_TEXT = 8 * 1024 * 1024;

/**
 * The file's text (UTF-8), or an InputError naming it (shown as `shown`) when it cannot be read or
 * is larger than `maxBytes`.
 */
export function readInputText(path: string, what: string, shown = path, maxBytes = MAX_INPUT_TEXT): string {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new InputError(`cannot read ${what}: ${(e as Error).message}`, { file: shown });
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new InputError(`cannot read ${what}: it is a folder`, { file: shown });
    const tooBig = (size: string): InputError =>
      new InputError(`${what} is ${size}, larger than the ${formatSize(maxBytes)} limit for ${what}s: is this the right file?`, { file: shown });
    if (st.isFile() && st.size > maxBytes) throw tooBig(formatSize(st.size));
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(1 << 20, maxBytes + 1 - total));
      let got: number;
      try {
        got = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        throw new InputError(`cannot read ${what}: ${(e as Error).message}`, { file: shown });
      }
      if (got === 0) break;
      parts.push(buf.subarray(0, got));
      total += got;
      if (total > maxBytes) throw tooBig(`more than ${formatSize(maxBytes)}`);
    }
    return Buffer.concat(parts, total).toString("utf8");
  } finally {
    closeSync(fd);
  }
}
