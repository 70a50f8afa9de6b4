// Benchmark plumbing: a benchmark yields result objects, printed one JSON object per line as
// {"name", "unit", "value", ...details}. Timing helpers report medians because the machine is
// shared and noisy; quote ratios rather than absolute figures.

export interface BenchResult {
  name: string;
  unit: string;
  value: number;
  [detail: string]: unknown;
}

export interface Benchmark {
  name: string;
  description: string;
  run(): AsyncIterable<BenchResult> | Iterable<BenchResult>;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs fn `repeats` times and returns the median wall time in seconds. */
export function timeMedian(repeats: number, fn: () => void): { median: number; all: number[] } {
  const all: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    all.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return { median: median(all), all };
}

export const round = (x: number, digits = 3): number => Number(x.toPrecision(digits + 3));
