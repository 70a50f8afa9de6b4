// Progress on stderr: a one-line bar for long imports, recordings and runs (Progress), and one bar
// per task for the variants compare runs (ProgressBoard). Both draw only when stderr is a
// terminal (so pipes, files and tests see nothing), throttled, and erase themselves when done.
// Progress shows, with a known total, a bar and a percentage, and optionally the time left;
// otherwise just the count. A second counter (e.g. accesses) can be shown as a rate.
// Wall-clock time is read here only to throttle redraws and show rates, never to influence results.

export interface ProgressOptions {
  /** The amount that means 100 %, if known. */
  total?: number;
  /** How to print amounts (default: plain integers with thousands separators). */
  format?: (n: number) => string;
  /** Where to draw (default process.stderr); drawing happens only if it is a TTY. */
  stream?: NodeJS.WriteStream;
  /** Show the estimated wall time left (from the average rate so far) when the total is known. */
  eta?: boolean;
  /** Name of the second counter given to update(), shown as a rate per wall second (e.g. "accesses"). */
  rateOf?: string;
  /** Draw nothing until this many ms have passed (so short runs never flash a bar). Default 0. */
  delayMs?: number;
}

const BAR = 24;

/** Wall seconds as "42 s", "3m05s" or "1h02m". */
export function formatWallSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  const t = Math.round(s);
  if (t < 60) return `${t} s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, "0")}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, "0")}m`;
}

/** A rate with an SI prefix: 3.8 M, 950 k, 12. */
export function formatRate(r: number): string {
  if (!Number.isFinite(r)) return "?";
  if (r >= 1e9) return `${(r / 1e9).toFixed(2)} G`;
  if (r >= 1e6) return `${(r / 1e6).toFixed(1)} M`;
  if (r >= 1e3) return `${(r / 1e3).toFixed(0)} k`;
  return r.toFixed(0);
}

export class Progress {
  private readonly stream: NodeJS.WriteStream;
  private readonly enabled: boolean;
  private readonly format: (n: number) => string;
  private last = 0;
  private drawn = false;
  private readonly started = performance.now();

  constructor(private readonly label: string, private readonly opts: ProgressOptions = {}) {
    this.stream = opts.stream ?? process.stderr;
    this.enabled = this.stream.isTTY === true;
    this.format = opts.format ?? ((n) => Math.round(n).toLocaleString("en-US"));
  }

  /** Reports `done` units so far (cheap to call often); `detail` is appended to the line; `count` feeds the rate. */
  update(done: number, detail = "", count?: number): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.last < 100 || now - this.started < (this.opts.delayMs ?? 0)) return;
    this.last = now;
    const elapsed = (now - this.started) / 1000;
    const total = this.opts.total;
    const known = total !== undefined && total > 0 && Number.isFinite(total);
    let line = this.label;
    if (known) {
      const f = Math.min(1, done / total);
      const full = Math.round(f * BAR);
      line += ` [${"#".repeat(full)}${"-".repeat(BAR - full)}] ${(f * 100).toFixed(0).padStart(3)}% ${this.format(done)} / ${this.format(total)}`;
    } else line += ` ${this.format(done)}`;
    if (this.opts.rateOf !== undefined && count !== undefined && elapsed > 0) line += `  ${formatRate(count / elapsed)} ${this.opts.rateOf}/s`;
    line += `  ${formatWallSeconds(elapsed)}`;
    if (known && this.opts.eta === true) line += done > 0 ? `, ETA ${formatWallSeconds((elapsed * Math.max(0, total - done)) / done)}` : ", ETA ?";
    if (detail) line += `  ${detail}`;
    const width = this.stream.columns ?? 100;
    this.stream.write(`\r${line.slice(0, width - 1)}\x1b[K`);
    this.drawn = true;
  }

  /** Erases the line. */
  finish(): void {
    if (this.drawn) this.stream.write("\r\x1b[K");
    this.drawn = false;
  }
}

/**
 * One bar per task (compare's variants) on stderr, redrawn in place at most every 150 ms; only on
 * a terminal and unless quiet. finish() erases it.
 */
export class ProgressBoard {
  private readonly enabled: boolean;
  private readonly fractions: number[];
  private drawn = 0;
  private last = 0;
  constructor(private readonly names: string[], quiet: boolean) {
    this.enabled = !quiet && process.stderr.isTTY === true;
    this.fractions = names.map(() => 0);
  }
  set(i: number, f: number): void {
    this.fractions[i] = f;
    this.draw(false);
  }
  draw(force: boolean): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (!force && now - this.last < 150) return;
    this.last = now;
    if (this.drawn > 0) process.stderr.write(`\x1b[${this.drawn}A`);
    const width = Math.max(...this.names.map((n) => n.length));
    for (let i = 0; i < this.names.length; i++) {
      const f = this.fractions[i]!;
      const full = Math.round(f * 30);
      process.stderr.write(`\r${this.names[i]!.padEnd(width)} [${"#".repeat(full)}${"-".repeat(30 - full)}] ${(f * 100).toFixed(0).padStart(3)}%\x1b[K\n`);
    }
    this.drawn = this.names.length;
  }
  finish(): void {
    if (!this.enabled || this.drawn === 0) return;
    process.stderr.write(`\x1b[${this.drawn}A`);
    for (let i = 0; i < this.drawn; i++) process.stderr.write("\r\x1b[K\n");
    process.stderr.write(`\x1b[${this.drawn}A`);
  }
}
