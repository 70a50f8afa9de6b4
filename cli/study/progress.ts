// The study progress line on stderr (terminals only): done/total, failures, jobs per second over
// this session's finished jobs, and the ETA at that rate; cached jobs count as done at once.

export class StudyProgress {
  private done = 0;
  private failed = 0;
  private ran = 0;
  private readonly t0 = performance.now();
  private last = 0;
  private readonly enabled: boolean;
  constructor(private readonly total: number, cached: number, quiet: boolean, private readonly extra: () => string = () => "") {
    this.done = cached;
    this.enabled = !quiet && process.stderr.isTTY === true;
  }
  finished(ok: boolean): void {
    if (ok) this.done++;
    else this.failed++;
    this.ran++;
    this.draw(false);
  }
  line(): string {
    const s = (performance.now() - this.t0) / 1000;
    const rate = this.ran / Math.max(s, 1e-9);
    const left = this.total - this.done - this.failed;
    const eta = rate > 0 ? `${Math.ceil(left / rate)} s` : "?";
    const extra = this.extra();
    return `study: ${this.done}/${this.total} done, ${this.failed} failed, ${rate.toFixed(2)} jobs/s, ETA ${eta}${extra ? `, ${extra}` : ""}`;
  }
  draw(force: boolean): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (!force && now - this.last < 200) return;
    this.last = now;
    process.stderr.write(`\r${this.line()}\x1b[K`);
  }
  finish(): void {
    if (this.enabled) process.stderr.write("\r\x1b[K");
  }
}
