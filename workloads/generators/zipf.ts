// Zipfian hot set: the range is cut into items of `granularity` bytes (pages by default) and the
// item of rank k (1-based) is chosen with probability k^-s / H(n, s). Ranks map to items in address
// order (the hottest item first) or, with `scramble`, through a fixed affine permutation that
// spreads hot items over the range. Sampling is O(1) through an alias table built once per run
// (and shared by every thread that samples the same table); the byte range inside the item is
// uniform.

import type { AccessBatch } from "../../hw/batch.ts";
import { SimError } from "../../sim/errors.ts";
import { PAGE_SIZE } from "../../sim/units.ts";
import { AliasTable } from "../alias.ts";
import type { Fields } from "../json-fields.ts";
import { PatternBase, type AccessStyle, type PatternContext, type Target } from "../pattern.ts";

/** Largest item count (the alias table costs 12 bytes per item). */
export const ZIPF_MAX_ITEMS = 1 << 22;

export interface ZipfParams {
  /** The exponent s (>= 0; 0 is uniform, about 1 is classic Zipf). */
  exponent: number;
  /** Bytes per item. */
  granularity: number;
  /** Spread ranks over the range instead of placing the hottest items first. */
  scramble: boolean;
}

export function parseZipfParams(f: Fields): ZipfParams {
  return {
    exponent: f.num("exponent", 0.99, { min: 0, max: 100 }),
    granularity: f.size("granularity", PAGE_SIZE, 1),
    scramble: f.bool("scramble", false),
  };
}

/** The Zipf probability of rank k (1-based) among n items with exponent s, computed directly. */
export function zipfPmf(k: number, n: number, s: number): number {
  let h = 0;
  for (let i = n; i >= 1; i--) h += i ** -s;
  return k ** -s / h;
}

/** An alias table over ranks 1..n (column k-1 is rank k). */
export function zipfTable(n: number, s: number): AliasTable {
  const w = new Float64Array(n);
  for (let k = 1; k <= n; k++) w[k - 1] = k ** -s;
  return new AliasTable(w);
}

const gcd = (a: number, b: number): number => {
  while (b) [a, b] = [b, a % b];
  return a;
};

/** Multiplier of the scramble permutation rank -> (rank * m + n/3) mod n; coprime with n. */
export function scrambleMultiplier(n: number): number {
  if (n <= 2) return 1;
  let m = Math.max(1, Math.round(n * 0.6180339887498949));
  while (gcd(m, n) !== 1) m++;
  return m;
}

/** Throws a SimError unless the parameters fit the target. Returns the item count. */
export function checkZipf(target: Target, style: AccessStyle, params: ZipfParams): number {
  const { exponent, granularity } = params;
  if (!(exponent >= 0) || !Number.isFinite(exponent)) throw new SimError(`exponent must be a finite number >= 0, got ${exponent}`);
  if (!Number.isSafeInteger(granularity) || granularity < style.accessSize) throw new SimError(`granularity ${granularity} must be at least the access size ${style.accessSize}`);
  const items = Math.floor(target.size / granularity);
  if (items < 1) throw new SimError(`range of ${target.size} bytes holds no ${granularity}-byte item`);
  if (items > ZIPF_MAX_ITEMS) throw new SimError(`${items} Zipf items is more than ${ZIPF_MAX_ITEMS}; use a larger granularity`);
  return items;
}

export class ZipfPattern extends PatternBase {
  readonly items: number;
  private readonly table: AliasTable;
  private readonly granularity: number;
  private readonly slotsPerItem: number;
  private readonly mult: number;
  private readonly shift: number;

  constructor(target: Target, style: AccessStyle, params: ZipfParams, ctx: PatternContext) {
    super(target, style, ctx);
    const { exponent, granularity } = params;
    this.items = checkZipf(target, style, params);
    const key = `zipf:${this.items}:${exponent}`;
    let table = ctx.memo?.get(key) as AliasTable | undefined;
    if (table === undefined) {
      table = zipfTable(this.items, exponent);
      ctx.memo?.set(key, table);
    }
    this.table = table;
    this.granularity = granularity;
    this.slotsPerItem = Math.floor((granularity - style.accessSize) / style.accessSize) + 1;
    this.mult = params.scramble ? scrambleMultiplier(this.items) : 1;
    this.shift = params.scramble ? Math.floor(this.items / 3) : 0;
  }

  /** The item holding rank k (0-based). */
  itemOfRank(k: number): number {
    return this.mult === 1 && this.shift === 0 ? k : (k * this.mult + this.shift) % this.items;
  }

  fill(out: AccessBatch, count: number): void {
    const { base, granularity, slotsPerItem, accessSize, tid, gap, rng, table, items, mult, shift } = this;
    const scrambled = mult !== 1 || shift !== 0;
    for (let i = 0; i < count; i++) {
      const rank = table.sample(rng);
      const item = scrambled ? (rank * mult + shift) % items : rank;
      const inItem = slotsPerItem > 1 ? rng.int(slotsPerItem) * accessSize : 0;
      out.push(base + item * granularity + inItem, accessSize, this.nextKind(), tid, gap);
    }
  }
}
