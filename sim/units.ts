// Size units (bytes) and page sizes, with parsing and damo-style printing of byte counts.

import { InputError } from "./errors.ts";

export const B = 1;
export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

export const KB = 1000;
export const MB = 1000 * KB;
export const GB = 1000 * MB;

/** Base page and the x86-64 huge page sizes. */
export const PAGE_SIZE = 4 * KiB;
export const PAGE_SHIFT = 12;
export const HUGE_PAGE_SIZE = 2 * MiB;
export const HUGE_PAGE_SHIFT = 21;
export const CACHE_LINE = 64;

const SIZE_UNITS: Record<string, number> = {
  b: B, k: KiB, kb: KB, kib: KiB, m: MiB, mb: MB, mib: MiB, g: GiB, gb: GB, gib: GiB, t: TiB, tib: TiB,
};

/**
 * Parses a byte size: "4096", "4KiB", "4k" (binary), "1.5GiB", "10MB" (decimal), "0x1000".
 * The result must be a whole number of bytes.
 */
export function parseSize(text: string, field?: string): number {
  const where = field ? { field } : {};
  const t = text.trim();
  if (/^0x[0-9a-f]+$/i.test(t)) return checkBytes(parseInt(t, 16), text, where);
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([a-z]*)$/i.exec(t);
  if (!m) throw new InputError(`'${text}' is not a size (examples: 4096, 64KiB, 2MiB, 1.5GiB)`, where);
  const unitName = (m[2] ?? "").toLowerCase();
  const unit = unitName === "" ? 1 : SIZE_UNITS[unitName];
  if (unit === undefined) throw new InputError(`unknown size unit '${m[2]}' in '${text}' (use B, KiB, MiB, GiB, TiB, KB, MB, GB)`, where);
  return checkBytes(Number(m[1]) * unit, text, where);
}

function checkBytes(v: number, text: string, where: { field?: string }): number {
  if (!Number.isSafeInteger(v)) throw new InputError(`size '${text}' is not a whole number of bytes below 2^53`, where);
  return v;
}

/** damo's size format: plain bytes below 1 KiB, otherwise "%.3f KiB/MiB/GiB/TiB". */
export function formatSize(bytes: number): string {
  const a = Math.abs(bytes);
  if (a < KiB) return `${bytes} B`;
  if (a < MiB) return `${(bytes / KiB).toFixed(3)} KiB`;
  if (a < GiB) return `${(bytes / MiB).toFixed(3)} MiB`;
  if (a < TiB) return `${(bytes / GiB).toFixed(3)} GiB`;
  return `${(bytes / TiB).toFixed(3)} TiB`;
}

export const isPowerOfTwo = (x: number): boolean =>
  Number.isSafeInteger(x) && x > 0 && 2 ** Math.round(Math.log2(x)) === x;

export function log2Exact(x: number): number {
  const l = Math.round(Math.log2(x));
  if (2 ** l !== x) throw new RangeError(`${x} is not a power of two`);
  return l;
}
