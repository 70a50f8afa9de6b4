// Output files whole or not at all, and output folders that fail at once with a clear message.
// - writeFileAtomic() writes to a temporary file in the same folder, then renames it over the
//   target (removed if anything fails), so a reader sees the complete old file or the complete
//   new one (copyFileAtomic() copies a file in the same way, never holding it whole). Temporary
//   files are named NAME.damon-sim-PID-THREAD-TAG-hHOST.tmp (tempPath()): the worker thread's id
//   keeps the names of a process's threads apart (each counts TAGs on its own), HOST (8 hex
//   digits of the host name's SHA-256) tells a folder many machines share (a study's result
//   store) which machine's PIDs a name holds.
// - Every temporary file in flight is tracked (trackTemp()). While any is, SIGINT, SIGTERM and
//   SIGHUP are caught: if no command handles the signal itself (run and compare stop gracefully on
//   Ctrl-C and clean up after themselves), the tracked files are removed and the signal is raised
//   again so the process still dies of it; on any exit, whatever is still tracked is removed.
// - A SIGKILL or a crash of the machine leaves temporary files behind; removeStaleTemps() finds
//   the ones of our naming (NAME.damon-sim-PID-THREAD-TAG-hHOST.tmp here and in damon/damo/record-file.ts,
//   the older NAME.damon-sim-PID-TAG.tmp and OUTPUT.PID[.TAG].tmp, .NAME.tmp-PID-N from
//   workloads/trace/atomic-file.ts) whose process is gone (no such PID, or the PID now belongs to a
//   process started after the file was written), removes them and says so. A name of another host
//   is left alone: its PID says nothing about the processes here.
// - ensureOutputDir() creates a folder and its missing parents one at a time (Node's recursive
//   mkdirSync loops forever on /proc), turning ENOENT, EEXIST, ENOTDIR, EACCES, EPERM and EROFS
//   into InputErrors naming the path (exit status 2); a full disk or an I/O error while writing is
//   an OutputFailure (exit status 1).

import { closeSync, copyFileSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import { threadId } from "node:worker_threads";
import { InputError, OutputFailure } from "../sim/errors.ts";

let tmpCounter = 0;
const tracked = new Set<string>();
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
let listening = false;

/** This host in temporary names: 8 hex digits of the SHA-256 of its name (as damon/damo/record-file.ts's). */
export const HOST_TAG = createHash("sha256").update(hostname()).digest("hex").slice(0, 8);

/**
 * A temporary name next to `path`, unique on this host across processes and their worker threads:
 * NAME.damon-sim-PID-THREAD-TAG-hHOST.tmp (as damon/damo/record-file.ts's).
 */
export function tempPath(path: string, tag: string = String(++tmpCounter)): string {
  return `${path}.damon-sim-${process.pid}-${threadId}-${tag}-h${HOST_TAG}.tmp`;
}

function removeTracked(): void {
  for (const t of tracked) rmSync(t, { force: true });
  tracked.clear();
}

function onSignal(sig: NodeJS.Signals): void {
  // a command that handles the signal itself stops gracefully and aborts its own files
  if (process.listenerCount(sig) > 1) return;
  removeTracked();
  for (const s of SIGNALS) process.off(s, onSignal);
  listening = false;
  process.kill(process.pid, sig);
}

function listen(): void {
  if (listening) return;
  listening = true;
  // once installed, the handlers stay (removing them could drop a signal that is already pending)
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on("exit", removeTracked);
}

/** Tracks temporary files in flight: they are removed on a signal nobody else handles, and at exit. */
export function trackTemp(...paths: string[]): void {
  listen();
  for (const p of paths) tracked.add(p);
}

/** Stops tracking temporary files (renamed into place or removed). */
export function untrackTemp(...paths: string[]): void {
  for (const p of paths) tracked.delete(p);
}

/** Makes `path` by `make(temporary name)` in the same folder and a rename (the temporary removed if anything fails). */
function atomically(path: string, make: (tmp: string) => void): void {
  const tmp = tempPath(path);
  trackTemp(tmp);
  try {
    make(tmp);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw outputError(e, path, "cannot write output file");
  } finally {
    untrackTemp(tmp);
  }
}

/** Writes `data` to `path` through a temporary file in the same folder and a rename. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  atomically(path, (tmp) => {
    const fd = openSync(tmp, "w");
    try {
      const bytes = typeof data === "string" ? Buffer.from(data) : data;
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    } finally {
      closeSync(fd);
    }
  });
}

/** Copies file `src` to `path` (never held in memory whole) through a temporary file and a rename. */
export function copyFileAtomic(src: string, path: string): void {
  atomically(path, (tmp) => copyFileSync(src, tmp));
}

const HINTS: Record<string, string> = {
  ENOENT: "it cannot be created there (a special file system such as /proc?); choose another folder",
  EEXIST: "it exists and is not a folder; give another -o, or remove the file",
  ENOTDIR: "a part of the path is a file, not a folder",
  EACCES: "permission denied; choose a folder you can write to",
  EPERM: "the operation is not permitted there (a system folder such as /proc or /sys?); choose another folder",
  EROFS: "the file system is read-only; choose another folder",
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is exhausted",
  EISDIR: "a folder has that name",
  ENAMETOOLONG: "the name is too long",
  EIO: "an I/O error",
};
/** Errors of the machine, not of the path given: the run failed (exit 1) rather than its input. */
const FAILURES = new Set(["ENOSPC", "EDQUOT", "EIO", "EMFILE", "ENFILE", "ENOMEM"]);

/** An error of the file system on an output path as an InputError naming the path and what to do. */
export function outputError(e: unknown, path: string, what: string): Error {
  if (e instanceof InputError) return e;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === undefined) return e instanceof Error ? e : new Error(String(e));
  const hint = code === "ENOENT" && what.endsWith("file") ? "its folder does not exist; create it or choose another path" : HINTS[code];
  const text = `${what}: ${code}: ${hint ?? (e as Error).message}`;
  return FAILURES.has(code) ? new OutputFailure(`${path}: ${text}`) : new InputError(text, { file: path });
}

/**
 * Creates the output folder `dir` (and missing parents) or fails at once naming it. Each missing
 * level is created on its own: Node's recursive mkdirSync loops forever where mkdir says ENOENT
 * for a path whose parent exists (/proc/nope).
 */
export function ensureOutputDir(dir: string): void {
  const missing: string[] = [];
  let p = resolve(dir);
  for (;;) {
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && dirname(p) !== p) {
        missing.push(p);
        p = dirname(p);
        continue;
      }
      throw outputError(e, dir, "cannot create output folder");
    }
    if (!st.isDirectory()) throw outputError(Object.assign(new Error("not a folder"), { code: p === resolve(dir) ? "EEXIST" : "ENOTDIR" }), dir, "cannot create output folder");
    break;
  }
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST" && statSync(m).isDirectory()) continue; // made meanwhile
      throw outputError(e, dir, "cannot create output folder");
    }
  }
}

// NAME.damon-sim-PID-THREAD-TAG-hHOST.tmp (this module, damon/damo/record-file.ts; NAME.damon-sim-PID-TAG.tmp before);
// .NAME.tmp-PID-N (workloads/trace/atomic-file.ts); OUTPUT.PID.N.tmp, damon.data.PID[.rN].tmp (the names
// before, of our own outputs only)
const OUR_TEMPS = [
  /^.+\.damon-sim-(\d+)-(?:\d+-)?[A-Za-z0-9]+(?:-h[0-9a-f]{8})?\.tmp$/,
  /^\..+\.tmp-(\d+)-\d+$/,
  /^(?:damon\.data|summary\.json|config\.json|stats\.json|stats\.txt|attributes\.json|numa\.json|results\.json|results\.csv|report\.html|expected\.json|[A-Za-z0-9_.-]+\.png)\.(\d+)\.(?:r?\d+\.)?tmp$/,
];

/** The PID in a temporary file name of ours, or null. */
export function tempCreator(name: string): number | null {
  for (const re of OUR_TEMPS) {
    const m = re.exec(name);
    if (m) return Number(m[1]);
  }
  return null;
}

/** The host tag in a temporary file name of ours (NAME.damon-sim-...-hHOST.tmp), or null (older names: this host's). */
export function tempHost(name: string): string | null {
  return /\.damon-sim-\d+-(?:\d+-)?[A-Za-z0-9]+-h([0-9a-f]{8})\.tmp$/.exec(name)?.[1] ?? null;
}

/** Start time (ms since the epoch) of a running process, from /proc; null where unknown. */
function processStartMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[19]); // field 22, starttime, in clock ticks after boot
    const btime = /^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"));
    if (!Number.isFinite(ticks) || !btime) return null;
    return Number(btime[1]) * 1000 + (ticks / 100) * 1000; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

/** Whether the process that named a temporary file `pid`, and wrote it at `mtimeMs`, is gone. */
function creatorGone(pid: number, mtimeMs: number): boolean {
  if (pid === process.pid) return mtimeMs + 1000 < Date.now() - process.uptime() * 1000; // an earlier process with our PID
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
  // the pid is in use: by the creator, or by a later process that reused it (started after the file's last write)
  const start = processStartMs(pid);
  return start !== null && start > mtimeMs + 1000;
}

/** Removes temporary files of our naming in `dir` whose process (of this host) is gone; returns what it removed. */
export function removeStaleTemps(dir: string): Array<{ path: string; pid: number }> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: Array<{ path: string; pid: number }> = [];
  for (const name of names) {
    const pid = tempCreator(name);
    if (pid === null) continue;
    const host = tempHost(name);
    if (host !== null && host !== HOST_TAG) continue; // another machine's process: not ours to judge
    const path = join(dir, name);
    try {
      const st = statSync(path);
      if (!st.isFile() || !creatorGone(pid, st.mtimeMs)) continue;
      rmSync(path, { force: true });
      removed.push({ path, pid });
    } catch {
      // gone meanwhile, or not ours to remove
    }
  }
  return removed;
}

/** removeStaleTemps(), saying on stderr what it removed. */
export function cleanStaleTemps(dir: string): number {
  const removed = removeStaleTemps(dir);
  for (const r of removed) process.stderr.write(`damon-sim: removed stale temporary file ${r.path} (left by process ${r.pid}, which is no longer running)\n`);
  return removed.length;
}

/** ensureOutputDir() then cleanStaleTemps(): the start of every command that writes into a folder. */
export function prepareOutputDir(dir: string): void {
  ensureOutputDir(dir);
  cleanStaleTemps(dir);
}
