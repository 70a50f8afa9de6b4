// damo-compatible monitoring records. A record file is a JSON list of records (one per kdamond /
// context / target), each with its intervals and its snapshots (one per aggregation) of regions
// with nr_accesses {samples, percent} and age {usec, aggr_intervals}; damo's default on-disk form
// is that JSON compressed with zlib ("json_compressed"), which is what `damo report` reads by
// default, so we write it the same way. Numbers are plain JSON integers (damo reads both numbers
// and its human-readable strings). See .scratch-free notes in the README ("Output a DAMON user
// recognises") for the schema.
//
// RecordWriter streams snapshots as JSON text into a temporary file and compresses it when it is
// closed, then renames it into place, so a record never sits whole in memory and an interrupted
// run leaves no half-written file under the final name.

import { createHash } from "node:crypto";
import { closeSync, createReadStream, createWriteStream, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { threadId } from "node:worker_threads";
import { createDeflate, inflateSync } from "node:zlib";
import { InputError } from "../../sim/errors.ts";
import type { IntervalsGoal } from "../attrs.ts";
import type { Snapshot } from "../context.ts";

/** This host in temporary names, as cli/atomic-write.ts's HOST_TAG: 8 hex digits of the SHA-256 of its name. */
const HOST_TAG = createHash("sha256").update(hostname()).digest("hex").slice(0, 8);

export interface RecordIntervals {
  sample_us: number;
  aggr_us: number;
  ops_update_us: number;
  intervals_goal?: { access_bp: number; aggrs: number; min_sample_us: number; max_sample_us: number };
}

export interface RecordRegion {
  start: number;
  end: number;
  nr_accesses: { samples: number | null; percent: number | null };
  age: { usec: number | null; aggr_intervals: number | null };
  sz_filter_passed?: number;
  /** damon-sim extension: data attribute probe hits (ignored by damo). */
  probe_hits?: number[];
}

export interface RecordSnapshot {
  start_time: number;
  end_time: number;
  regions: RecordRegion[];
  total_bytes?: number | null;
  damos_stats?: null;
  /** Present when the intervals are auto-tuned: the sample interval in force. */
  sample_interval_us?: number;
}

export interface DamonRecord {
  kdamond_idx: number | null;
  context_idx: number | null;
  intervals: RecordIntervals | null;
  scheme_idx: number | null;
  target_id: number;
  scheme_filters: unknown[];
  snapshots: RecordSnapshot[];
  data_source?: string;
  /** damon-sim's addition: the kernel rules the record was made with (--kernel, or the --variant set). */
  kernel?: string;
}

export type RecordFormat = "json_compressed" | "json";

export function recordIntervals(sampleUs: number, aggrUs: number, opsUpdateUs: number, goal?: IntervalsGoal): RecordIntervals {
  const i: RecordIntervals = { sample_us: sampleUs, aggr_us: aggrUs, ops_update_us: opsUpdateUs };
  i.intervals_goal = goal
    ? { access_bp: goal.accessBp, aggrs: goal.aggrs, min_sample_us: goal.minSampleUs, max_sample_us: goal.maxSampleUs }
    : { access_bp: 0, aggrs: 0, min_sample_us: 0, max_sample_us: 0 };
  return i;
}

/** A damo record snapshot from a DAMON snapshot (percent and usec are left for damo to derive). */
export function toRecordSnapshot(s: Snapshot, withProbes: boolean, tuned: boolean): RecordSnapshot {
  let total = 0;
  const regions = s.regions.map((r): RecordRegion => {
    total += r.end - r.start;
    const out: RecordRegion = {
      start: r.start,
      end: r.end,
      nr_accesses: { samples: r.nrAccesses, percent: null },
      age: { usec: null, aggr_intervals: r.age },
      sz_filter_passed: 0,
    };
    if (withProbes) out.probe_hits = r.probeHits.slice();
    return out;
  });
  const snap: RecordSnapshot = { start_time: s.startNs, end_time: s.endNs, regions, total_bytes: total, damos_stats: null };
  if (tuned) snap.sample_interval_us = s.sampleUs;
  return snap;
}

/**
 * Streams records to `path`: one per target, declared up front; snapshots are appended as they
 * come (in any interleaving of records); close() assembles, compresses and renames the file.
 */
export class RecordWriter {
  private readonly tmps: string[];
  private readonly tmpOut: string;
  private readonly fds: number[];
  private readonly count: number[];
  private open = true;

  constructor(
    private readonly path: string,
    private readonly heads: Array<Omit<DamonRecord, "snapshots">>,
    private readonly format: RecordFormat = "json_compressed",
  ) {
    // the naming of cli/atomic-write.ts (NAME.damon-sim-PID-THREAD-TAG-hHOST.tmp), whose cleanup finds them after a crash
    const temp = (tag: string): string => `${path}.damon-sim-${process.pid}-${threadId}-${tag}-h${HOST_TAG}.tmp`;
    this.tmps = heads.map((_, i) => temp(`r${i}`));
    this.tmpOut = temp("out");
    this.fds = [];
    try {
      for (const t of this.tmps) this.fds.push(openSync(t, "w"));
    } catch (e) {
      this.abort();
      throw e;
    }
    this.count = heads.map(() => 0);
  }

  /** Appends a snapshot to record `idx`. */
  add(idx: number, snap: RecordSnapshot): void {
    if (!this.open) throw new Error("record writer is closed");
    writeSync(this.fds[idx]!, `${this.count[idx]! > 0 ? "," : ""}\n${JSON.stringify(snap)}`);
    this.count[idx]!++;
  }

  /** Every temporary file the writer may create (for a caller that removes them on a signal). */
  get tempPaths(): string[] {
    return [...this.tmps, this.tmpOut];
  }

  snapshots(idx: number): number {
    return this.count[idx]!;
  }

  /** Finishes the file. Resolves once it is in place under its final name. */
  async close(): Promise<void> {
    if (!this.open) return;
    for (const fd of this.fds) closeSync(fd);
    this.open = false;
    const tmpOut = this.tmpOut;
    const heads = this.heads, tmps = this.tmps;
    async function* json(): AsyncGenerator<Buffer | string> {
      yield "[";
      for (let i = 0; i < heads.length; i++) {
        const head = JSON.stringify(heads[i]!);
        yield `${i > 0 ? "," : ""}\n${head.slice(0, -1)},"snapshots":[`;
        for await (const chunk of createReadStream(tmps[i]!)) yield chunk as Buffer;
        yield "\n]}";
      }
      yield "\n]\n";
    }
    try {
      if (this.format === "json") await pipeline(Readable.from(json()), createWriteStream(tmpOut));
      else await pipeline(Readable.from(json()), createDeflate(), createWriteStream(tmpOut));
      renameSync(tmpOut, this.path);
    } finally {
      for (const t of this.tmps) rmSync(t, { force: true });
      rmSync(tmpOut, { force: true });
    }
  }

  /** Drops everything written (nothing is left under the final name). */
  abort(): void {
    if (this.open) {
      for (const fd of this.fds) closeSync(fd);
      this.open = false;
    }
    for (const t of this.tmps) rmSync(t, { force: true });
    rmSync(this.tmpOut, { force: true });
  }
}

/** Reads a record file written by us or by damo (zlib-compressed or plain JSON). */
export function readRecordFile(path: string): DamonRecord[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new InputError(`cannot read record file: ${(e as Error).message}`, { file: path });
  }
  let text: string;
  if (bytes.length >= 2 && bytes[0] === 0x78 && (bytes[0]! * 256 + bytes[1]!) % 31 === 0) {
    try {
      text = inflateSync(bytes).toString("utf8");
    } catch (e) {
      throw new InputError(`corrupt zlib stream: ${(e as Error).message}`, { file: path });
    }
  } else {
    text = bytes.toString("utf8");
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`not a damo record (JSON): ${(e as Error).message}`, { file: path });
  }
  if (!Array.isArray(raw)) throw new InputError("a record file must hold a JSON list of records", { file: path });
  return raw.map((r, i) => normaliseRecord(r, path, i));
}

function num(v: unknown, field: string, file: string): number {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && /^-?[0-9,]+$/.test(v.trim())) return Number(v.replace(/,/g, ""));
  throw new InputError(`expected a number, got ${JSON.stringify(v)}`, { file, field });
}

function optNum(v: unknown, field: string, file: string): number | null {
  return v === null || v === undefined ? null : num(v, field, file);
}

/** Validates the fields our reports need (damo's human-readable strings for numbers are accepted). */
function normaliseRecord(r: unknown, file: string, i: number): DamonRecord {
  const f = `records[${i}]`;
  if (typeof r !== "object" || r === null) throw new InputError("record must be an object", { file, field: f });
  const o = r as Record<string, unknown>;
  const iv = o.intervals as Record<string, unknown> | null | undefined;
  const intervals: RecordIntervals | null = iv
    ? { sample_us: num(iv.sample_us, `${f}.intervals.sample_us`, file), aggr_us: num(iv.aggr_us, `${f}.intervals.aggr_us`, file), ops_update_us: num(iv.ops_update_us, `${f}.intervals.ops_update_us`, file) }
    : null;
  if (!Array.isArray(o.snapshots)) throw new InputError("missing snapshots list", { file, field: `${f}.snapshots` });
  const snapshots = o.snapshots.map((s: Record<string, unknown>, si: number): RecordSnapshot => {
    const sf = `${f}.snapshots[${si}]`;
    if (!Array.isArray(s?.regions)) throw new InputError("missing regions list", { file, field: `${sf}.regions` });
    const regions = (s.regions as Array<Record<string, unknown>>).map((g, gi): RecordRegion => {
      const gf = `${sf}.regions[${gi}]`;
      const na = (g.nr_accesses ?? {}) as Record<string, unknown>;
      const age = (g.age ?? {}) as Record<string, unknown>;
      return {
        start: num(g.start, `${gf}.start`, file),
        end: num(g.end, `${gf}.end`, file),
        nr_accesses: { samples: optNum(na.samples, `${gf}.nr_accesses.samples`, file), percent: optNum(na.percent, `${gf}.nr_accesses.percent`, file) },
        age: { usec: optNum(age.usec, `${gf}.age.usec`, file), aggr_intervals: optNum(age.aggr_intervals, `${gf}.age.aggr_intervals`, file) },
        ...(Array.isArray(g.probe_hits) ? { probe_hits: (g.probe_hits as unknown[]).map((x, k) => num(x, `${gf}.probe_hits[${k}]`, file)) } : {}),
      };
    });
    const snap: RecordSnapshot = { start_time: num(s.start_time, `${sf}.start_time`, file), end_time: num(s.end_time, `${sf}.end_time`, file), regions };
    if (s.total_bytes !== undefined && s.total_bytes !== null) snap.total_bytes = num(s.total_bytes, `${sf}.total_bytes`, file);
    if (s.sample_interval_us !== undefined && s.sample_interval_us !== null) snap.sample_interval_us = num(s.sample_interval_us, `${sf}.sample_interval_us`, file);
    return snap;
  });
  return {
    kdamond_idx: optNum(o.kdamond_idx, `${f}.kdamond_idx`, file),
    context_idx: optNum(o.context_idx, `${f}.context_idx`, file),
    intervals,
    scheme_idx: optNum(o.scheme_idx, `${f}.scheme_idx`, file),
    target_id: num(o.target_id ?? 0, `${f}.target_id`, file),
    scheme_filters: Array.isArray(o.scheme_filters) ? o.scheme_filters : [],
    snapshots,
    ...(typeof o.data_source === "string" ? { data_source: o.data_source } : {}),
    ...(typeof o.kernel === "string" ? { kernel: o.kernel } : {}),
  };
}
