// A one-line progress bar on stderr for long imports and recordings. It draws only when stderr is
// a terminal (so pipes, files and tests see nothing), at most every 100 ms, and erases itself when
// done. With a known total it shows a bar and a percentage; otherwise just the count. Wall-clock
// time is read here only to throttle redraws and show a rate, never to influence results.

export interface ProgressOptions {
  /** The amount that means 100 %, if known. */
  total?: number;
  /** How to print amounts (default: plain integers with thousands separators). */
  format?: (n: number) => string;
  /** Where to draw (default process.stderr); drawing happens only if it is a TTY. */
  stream?: NodeJS.WriteStream;
}

const BAR = 24;

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

  /** Reports `done` units so far (cheap to call often); `detail` is appended to the line. */
  update(done: number, detail = ""): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.last < 100) return;
    this.last = now;
    const total = this.opts.total;
    let line = this.label;
    if (total !== undefined && total > 0) {
      const f = Math.min(1, done / total);
      const full = Math.round(f * BAR);
      line += ` [${"#".repeat(full)}${"-".repeat(BAR - full)}] ${(f * 100).toFixed(0).padStart(3)}% ${this.format(done)} / ${this.format(total)}`;
    } else line += ` ${this.format(done)}`;
    line += `  ${((now - this.started) / 1000).toFixed(0)} s`;
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
