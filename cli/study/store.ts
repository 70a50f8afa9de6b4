// The result store: a folder (local, or on a filesystem every worker mounts) holding each finished
// job's result under its key, results/<k0k1>/<key>.json (the spec, the simulator id and the
// result; written atomically, so a killed writer leaves no half file), its host time beside it
// (<key>.timing.json, never part of a table), and the study's input files by digest
// (inputs/<sha256><ext>), which is how inputs travel to workers. Writing into a results/<k0k1>/ or
// the inputs/ folder first removes (once a process) the temporary files there that a killed
// writer of this host left (cleanStaleTemps(); another host's are left alone). storedText() is
// the text of a stored result, the same bytes in this folder and in a Redis store
// (redis-results.ts).

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cleanStaleTemps, ensureOutputDir, writeFileAtomic } from "../atomic-write.ts";
import { FolderInputs, refOf } from "../jobs/inputs.ts";
import { canonicalJson, simulatorId, type JobResult, type JobSpec } from "./job.ts";

export interface StoredResult {
  key: string;
  spec: JobSpec;
  simulator: { version: string; source: string };
  result: JobResult;
}

/** The text a result is stored as: its key, spec, the simulator that computed it and the result, as canonical JSON. */
export function storedText(key: string, spec: JobSpec, result: JobResult): string {
  return `${canonicalJson({ key, spec, simulator: simulatorId(), result })}\n`;
}

/** The text its host time is kept as. */
export const timingText = (wallSeconds: number): string => `${JSON.stringify({ wallSeconds })}\n`;

export class ResultStore {
  readonly inputsDir: string;
  readonly inputs: FolderInputs;
  /** readOnly: addInput() names inputs by digest without copying them (study plan). */
  constructor(readonly dir: string, private readonly readOnly = false) {
    this.inputsDir = join(dir, "inputs");
    this.inputs = new FolderInputs(this.inputsDir);
  }
  /** Folders this process has created and cleaned of stale temporary files. */
  private readonly prepared = new Set<string>();
  /** ensureOutputDir() and, the first time, cleanStaleTemps() on a folder the store writes into. */
  private prepare(dir: string): void {
    if (this.prepared.has(dir)) return;
    ensureOutputDir(dir);
    cleanStaleTemps(dir);
    this.prepared.add(dir);
  }
  private path(key: string): string {
    return join(this.dir, "results", key.slice(0, 2), `${key}.json`);
  }
  has(key: string): boolean {
    return existsSync(this.path(key));
  }
  get(key: string): StoredResult | null {
    const p = this.path(key);
    if (!existsSync(p)) return null;
    return JSON.parse(readFileSync(p, "utf8")) as StoredResult;
  }
  put(key: string, spec: JobSpec, result: JobResult, wallSeconds: number): void {
    const p = this.path(key);
    this.prepare(join(this.dir, "results", key.slice(0, 2)));
    writeFileAtomic(p.replace(/\.json$/, ".timing.json"), timingText(wallSeconds));
    writeFileAtomic(p, storedText(key, spec, result));
  }
  /** Host seconds the job took when it ran (null if unknown). */
  wallSeconds(key: string): number | null {
    const p = this.path(key).replace(/\.json$/, ".timing.json");
    if (!existsSync(p)) return null;
    return (JSON.parse(readFileSync(p, "utf8")) as { wallSeconds: number }).wallSeconds;
  }
  /** Copies an input file into the store (once) and returns its "input:" reference. */
  addInput(path: string): string {
    const ref = refOf(path, false);
    if (!this.readOnly) this.inputs.putSync(ref, path);
    return ref;
  }
}
