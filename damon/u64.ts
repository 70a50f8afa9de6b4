// The kernel's unsigned long arithmetic on 64-bit machines, in BigInt: ULONG_MAX, wrap-around
// products and sums, and mult_frac(x, n, d) = (x / d) * n + ((x % d) * n) / d with each product
// and the sum wrapping as the C expression does. Used where DAMOS values can exceed 2^53 (esz_bp,
// the goal score, throughput x time), so results match the kernel's bit for bit.

export const ULONG_MAX = (1n << 64n) - 1n;
const MOD = 1n << 64n;

/** x modulo 2^64 (an unsigned long that overflowed). */
export function wrap64(x: bigint): bigint {
  return ((x % MOD) + MOD) % MOD;
}

/** A non-negative number as an unsigned long: floored, and saturated at ULONG_MAX (2^64 as a double is one past it). */
export function u64(x: number): bigint {
  if (!(x > 0)) return 0n;
  const b = BigInt(Math.floor(x));
  return b > ULONG_MAX ? ULONG_MAX : b;
}

/** mult_frac(x, n, d) on unsigned longs (d > 0). */
export function multFrac(x: bigint, n: bigint, d: bigint): bigint {
  const q = x / d, r = x % d;
  return wrap64(wrap64(q * n) + wrap64(r * n) / d);
}

export const minU = (a: bigint, b: bigint): bigint => (a < b ? a : b);
export const maxU = (a: bigint, b: bigint): bigint => (a > b ? a : b);
