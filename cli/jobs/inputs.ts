// Input files by digest, the way they travel to workers. A reference is "input:<sha256><ext>" (a
// study job: the file's name is no part of the job) or "input:<sha256>/<name>" (a compare variant
// or a check case: the file keeps its name, from which a trace's workload name and a masim
// config's random streams are derived, so a run reads the same as on the coordinator). A store
// keeps an input's bytes once under its digest; a worker reads it at `<dir>/<sha256><ext>` or
// `<dir>/<sha256>/<name>`, dir being a folder store's inputs/ or the worker's local cache.
// Digests are taken reading the file in 1 MiB pieces, so a large trace is never in memory whole.

import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { basename, dirname, extname, join } from "node:path";
import { cleanStaleTemps, copyFileAtomic, ensureOutputDir } from "../atomic-write.ts";
import { SimError } from "../../sim/errors.ts";

/** Bytes read (or sent) at a time. */
export const CHUNK_BYTES = 1 << 20;

const REF = /^input:([0-9a-f]{64})(?:(\.[A-Za-z0-9]+)|\/([^/\\]+))?$/;

export interface ParsedRef {
  digest: string;
  /** Where the file is under an inputs folder: "<sha256><ext>" or "<sha256>/<name>". */
  rel: string;
}

export function parseRef(ref: string): ParsedRef | null {
  const m = REF.exec(ref);
  if (!m || m[3] === "." || m[3] === "..") return null;
  return { digest: m[1]!, rel: m[3] !== undefined ? join(m[1]!, m[3]) : `${m[1]}${m[2] ?? ""}` };
}

/** SHA-256 of a file's bytes, read a piece at a time. */
export function fileDigest(path: string): string {
  const h = createHash("sha256");
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  const fd = openSync(path, "r");
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest("hex");
}

/** The reference of the file at `path`: with its name kept, or only its extension (lower case). */
export function refOf(path: string, keepName: boolean): string {
  const d = fileDigest(path);
  return keepName ? `input:${d}/${basename(path)}` : `input:${d}${extname(path).toLowerCase()}`;
}

/** Where reference `ref` lives under inputs folder `dir`; anything that is not a reference passes through. */
export function refPath(ref: string, dir: string): string {
  const r = parseRef(ref);
  return r ? join(dir, r.rel) : ref;
}

/** Where inputs are kept for workers, and where a worker finds one. */
export interface InputStore {
  /** Keeps the bytes of the file at `path` under `ref` (once: a second put of a ref does nothing). */
  put(ref: string, path: string): Promise<void>;
  /** A local path holding `ref`'s bytes, fetched (and cached) first where need be. */
  localPath(ref: string): Promise<string>;
}

/** Inputs in a folder (a result store's inputs/, on this machine or a filesystem every worker mounts). */
export class FolderInputs implements InputStore {
  /** Folders this process has created and cleaned of the temporary files a killed copy left. */
  private readonly prepared = new Set<string>();
  constructor(readonly dir: string) {}
  async put(ref: string, path: string): Promise<void> {
    this.putSync(ref, path);
  }
  putSync(ref: string, path: string): void {
    const dest = refPath(ref, this.dir);
    if (existsSync(dest)) return;
    const dir = dirname(dest);
    if (!this.prepared.has(dir)) {
      ensureOutputDir(dir);
      cleanStaleTemps(dir);
      this.prepared.add(dir);
    }
    copyFileAtomic(path, dest);
  }
  async localPath(ref: string): Promise<string> {
    const p = refPath(ref, this.dir);
    if (!existsSync(p)) throw new SimError(`input ${ref.slice(6, 18)} is not in the store folder ${this.dir} (the coordinator puts it there: is this the folder it wrote, mounted here? 'damon-sim worker --store DIR' names it where it is mounted elsewhere)`);
    return p;
  }
}
