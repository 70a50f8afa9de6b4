// Statistics: named counters, pulled gauges and log-linear histograms, dumped as JSON and as a
// gem5-style stats.txt ("name value # description (Unit)" per line).
//
// Histogram error bound: values are bucketed HDR-style with 7 sub-bucket bits. Integer values
// below 256 get a bucket each, so their percentiles are exact. Above that, a percentile is reported
// as the lower edge of the bucket holding the true nearest-rank value v, so the reported r obeys
// r <= v < r * (1 + 1/128) (under 0.8% relative error). min, max, count, sum and mean are exact.

import { SimError } from "./errors.ts";

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_.:\-[\]]*$/;

export class Counter {
  value = 0;
  constructor(readonly name: string, readonly description: string, readonly unit: string) {}
  add(n = 1): void {
    this.value += n;
  }
}

const SUB_BITS = 7;
const SUB = 1 << SUB_BITS;
const LINEAR_LIMIT = SUB * 2;

export interface HistogramSummary {
  samples: number;
  sum: number;
  mean: number;
  stdev: number;
  min: number;
  max: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

export class Histogram {
  private counts = new Float64Array(LINEAR_LIMIT + SUB * 8);
  count = 0;
  sum = 0;
  private sumSq = 0;
  min = Infinity;
  max = -Infinity;

  constructor(readonly name = "", readonly description = "", readonly unit = "") {}

  /** Records `times` occurrences of value v (v >= 0, finite). */
  record(v: number, times = 1): void {
    if (!(v >= 0 && v < Infinity)) throw new SimError(`histogram ${this.name || "(unnamed)"}: value must be finite and >= 0, got ${v}`);
    const idx = bucketOf(v);
    if (idx >= this.counts.length) {
      const c = new Float64Array(Math.max(idx + 1, this.counts.length * 2));
      c.set(this.counts);
      this.counts = c;
    }
    this.counts[idx]! += times;
    this.count += times;
    this.sum += v * times;
    this.sumSq += v * v * times;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  get stdev(): number {
    if (this.count < 2) return 0;
    const m = this.mean;
    return Math.sqrt(Math.max(0, (this.sumSq - this.count * m * m) / (this.count - 1)));
  }

  /** Nearest-rank percentile, p in [0, 100]; see the module header for the error bound. */
  percentile(p: number): number {
    if (!(p >= 0 && p <= 100)) throw new SimError(`percentile must be in [0, 100], got ${p}`);
    if (this.count === 0) return 0;
    if (p === 0) return this.min;
    if (p === 100) return this.max;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let cum = 0;
    for (let i = 0; i < this.counts.length; i++) {
      cum += this.counts[i]!;
      if (cum >= rank) return Math.min(this.max, Math.max(this.min, bucketLow(i)));
    }
    return this.max;
  }

  merge(other: Histogram): void {
    if (other.counts.length > this.counts.length) {
      const n = new Float64Array(other.counts.length);
      n.set(this.counts);
      this.counts = n;
    }
    for (let i = 0; i < other.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.sum += other.sum;
    this.sumSq += other.sumSq;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
  }

  summary(): HistogramSummary {
    return {
      samples: this.count,
      sum: this.sum,
      mean: this.mean,
      stdev: this.stdev,
      min: this.count ? this.min : 0,
      max: this.count ? this.max : 0,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      p999: this.percentile(99.9),
    };
  }
}

function bucketOf(v: number): number {
  const iv = Math.floor(v);
  if (iv < LINEAR_LIMIT) return iv;
  let e = Math.floor(Math.log2(iv));
  if (2 ** e > iv) e--;
  else if (2 ** (e + 1) <= iv) e++;
  const shift = e - SUB_BITS;
  const m = Math.floor(iv / 2 ** shift);
  return LINEAR_LIMIT + (shift - 1) * SUB + (m - SUB);
}

function bucketLow(idx: number): number {
  if (idx < LINEAR_LIMIT) return idx;
  const k = idx - LINEAR_LIMIT;
  const shift = Math.floor(k / SUB) + 1;
  const m = (k % SUB) + SUB;
  return m * 2 ** shift;
}

interface Gauge {
  name: string;
  description: string;
  unit: string;
  read: () => number;
}

type Entry = { kind: "counter"; stat: Counter } | { kind: "gauge"; stat: Gauge } | { kind: "histogram"; stat: Histogram };

export type StatsJson = Record<string, number | HistogramSummary>;

/** A registry of named statistics. Names are dotted paths like "system.cpu0.l1d.misses". */
export class Stats {
  private readonly entries = new Map<string, Entry>();

  counter(name: string, description: string, unit = "Count"): Counter {
    const c = new Counter(this.claim(name), description, unit);
    this.entries.set(name, { kind: "counter", stat: c });
    return c;
  }

  /** A value read from its owner when the stats are dumped (keeps hot-path counters in typed arrays). */
  gauge(name: string, description: string, read: () => number, unit = "Count"): void {
    this.entries.set(this.claim(name), { kind: "gauge", stat: { name, description, unit, read } });
  }

  histogram(name: string, description: string, unit = "Count"): Histogram {
    const h = new Histogram(this.claim(name), description, unit);
    this.entries.set(name, { kind: "histogram", stat: h });
    return h;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Current value of a counter or gauge. */
  value(name: string): number {
    const e = this.entries.get(name);
    if (e === undefined) throw new SimError(`no statistic named '${name}'`);
    if (e.kind === "counter") return e.stat.value;
    if (e.kind === "gauge") return e.stat.read();
    return e.stat.count;
  }

  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  toJSON(): StatsJson {
    const out: StatsJson = {};
    for (const name of this.names()) {
      const e = this.entries.get(name)!;
      out[name] = e.kind === "counter" ? e.stat.value : e.kind === "gauge" ? e.stat.read() : e.stat.summary();
    }
    return out;
  }

  /** gem5-style text dump: one block, names padded to 40 and values to 12 columns. */
  toStatsTxt(): string {
    const lines = ["", "---------- Begin Simulation Statistics ----------"];
    for (const name of this.names()) {
      const e = this.entries.get(name)!;
      if (e.kind === "histogram") {
        const h = e.stat;
        const s = h.summary();
        const rows: Array<[string, number, string]> = [
          ["samples", s.samples, "Number of samples"],
          ["mean", s.mean, "Mean"],
          ["stdev", s.stdev, "Standard deviation"],
          ["min_value", s.min, "Smallest value"],
          ["p50", s.p50, "50th percentile"],
          ["p90", s.p90, "90th percentile"],
          ["p99", s.p99, "99th percentile"],
          ["p999", s.p999, "99.9th percentile"],
          ["max_value", s.max, "Largest value"],
          ["total", s.sum, "Sum of values"],
        ];
        for (const [sub, v, d] of rows) lines.push(statLine(`${name}::${sub}`, v, `${h.description}: ${d}`, h.unit));
      } else {
        const v = e.kind === "counter" ? e.stat.value : e.stat.read();
        lines.push(statLine(name, v, e.stat.description, e.stat.unit));
      }
    }
    lines.push("", "---------- End Simulation Statistics   ----------", "");
    return lines.join("\n");
  }

  private claim(name: string): string {
    if (!NAME_RE.test(name)) throw new SimError(`invalid statistic name '${name}'`);
    if (this.entries.has(name)) throw new SimError(`statistic '${name}' is already registered`);
    return name;
  }
}

export function formatStatValue(v: number): string {
  if (Number.isInteger(v)) return String(v);
  if (!Number.isFinite(v)) return String(v);
  return v.toFixed(6);
}

function statLine(name: string, v: number, description: string, unit: string): string {
  return `${name.padEnd(40)} ${formatStatValue(v).padStart(12)}                       # ${description} (${unit})`;
}
