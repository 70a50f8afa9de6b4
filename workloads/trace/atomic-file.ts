// Atomic output files: bytes go to a hidden temporary file in the target's directory, which is
// renamed over the target only on commit(). abort(), an exception that reaches process exit, or
// SIGINT/SIGTERM/SIGHUP remove the temporary file, so no half-written file ever carries the final
// name. While any atomic file is open, this module listens for those signals; it cleans up, stops
// listening and re-raises the signal so the process still dies of it. Signal handlers run on the
// event loop: long synchronous writers should yield now and then (yieldToEventLoop) and once more
// before commit(), so an interrupt that arrived meanwhile is honoured.

import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { InputError, SimError } from "../../sim/errors.ts";

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
const open = new Set<AtomicFile>();
let tempSeq = 0;
let listening = false;

function onSignal(sig: NodeJS.Signals): void {
  abortAll();
  stopListening();
  process.kill(process.pid, sig);
}

function abortAll(): void {
  for (const f of [...open]) f.abort();
}

function startListening(): void {
  if (listening) return;
  listening = true;
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on("exit", abortAll);
}

function stopListening(): void {
  if (!listening) return;
  listening = false;
  for (const s of SIGNALS) process.off(s, onSignal);
  process.off("exit", abortAll);
}

export class AtomicFile {
  private fd: number;
  private done = false;
  private written = 0;
  readonly tempPath: string;

  private constructor(readonly path: string) {
    this.tempPath = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${++tempSeq}`);
    try {
      this.fd = openSync(this.tempPath, "wx", 0o644);
    } catch (e) {
      throw new InputError(`cannot create output file: ${(e as Error).message}`, { file: path });
    }
    open.add(this);
    startListening();
  }

  /** Opens a temporary file next to `path`. */
  static create(path: string): AtomicFile {
    return new AtomicFile(path);
  }

  get bytesWritten(): number {
    return this.written;
  }

  get isOpen(): boolean {
    return !this.done;
  }

  write(bytes: Uint8Array): void {
    if (this.done) throw new SimError(`atomic file ${this.path}: write after commit or abort`);
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
    } catch (e) {
      this.abort();
      throw new InputError(`cannot write output file: ${(e as Error).message}`, { file: this.path });
    }
    this.written += bytes.length;
  }

  /** Flushes, closes and renames the temporary file to the final name. */
  commit(): void {
    if (this.done) throw new SimError(`atomic file ${this.path}: commit after commit or abort`);
    try {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = -1;
      renameSync(this.tempPath, this.path);
    } catch (e) {
      this.abort();
      throw new InputError(`cannot finish output file: ${(e as Error).message}`, { file: this.path });
    }
    this.finish();
  }

  /** Closes and removes the temporary file; the final name is left untouched. Idempotent. */
  abort(): void {
    if (this.done) return;
    try {
      if (this.fd >= 0) closeSync(this.fd);
    } catch {
      // already closed
    }
    this.fd = -1;
    try {
      unlinkSync(this.tempPath);
    } catch {
      // already gone
    }
    this.finish();
  }

  private finish(): void {
    this.done = true;
    open.delete(this);
    if (open.size === 0) stopListening();
  }
}

/** Lets pending I/O and signal handlers run (await it between batches of synchronous work). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
