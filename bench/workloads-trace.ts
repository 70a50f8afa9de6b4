// workloads.trace: the .dst trace format on Lackey traces of real programs, recorded at benchmark
// time (gcc + valgrind): a qsort of 20,000 ints, and `ls /usr/bin`. For each it reports the bytes
// per access of the .dst file next to gzip -1 and zstd -3 (when installed) of the Lackey text,
// the import speed (Lackey lines/s, parse + encode + write, in process), the decode speed
// (accesses/s through openTrace with 4096-row batches) and the encode speed (accesses/s of
// TraceWriter on rows already in memory; compression "auto", level 1 and level 6). A
// uniform-random synthetic trace gives the worst case. Medians of several runs.
// Targets (workloads issue): <= 1 byte per access on Lackey traces, >= 30 M accesses/s decoding,
// >= 5 M Lackey lines/s importing; memory bounded by the chunk size.

import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AccessBatch } from "../hw/batch.ts";
import { RngRoot } from "../sim/rng.ts";
import { LackeyParser } from "../workloads/lackey.ts";
import { openTrace } from "../workloads/trace/reader.ts";
import { TraceWriter } from "../workloads/trace/writer.ts";
import type { CompressionLevel } from "../workloads/trace/chunk-codec.ts";
import { round, timeMedian, type Benchmark, type BenchResult } from "./harness.ts";

const HEADER = { source: "bench", tool: { name: "damon-sim-bench", version: "0" } };
const SORT_C = `#include <stdio.h>
#include <stdlib.h>
static int cmp(const void *a, const void *b) { int x = *(const int *)a, y = *(const int *)b; return (x > y) - (x < y); }
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 20000;
  int *v = malloc(n * sizeof *v);
  unsigned s = 12345;
  for (int i = 0; i < n; i++) { s = s * 1103515245u + 12345u; v[i] = (int)(s >> 8); }
  qsort(v, n, sizeof *v, cmp);
  long sum = 0; for (int i = 0; i < n; i += 97) sum += v[i];
  printf("%ld\\n", sum);
  return 0;
}
`;

const has = (cmd: string): boolean => spawnSync(cmd, ["--version"], { stdio: "ignore" }).status === 0;
const sh = (script: string): { status: number | null; stdout: string } => {
  const r = spawnSync("sh", ["-c", script], { encoding: "utf8", maxBuffer: 1 << 20 });
  return { status: r.status, stdout: r.stdout };
};
const q = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;

/** Parses a Lackey log into a .dst file; returns the line count. */
export function importLackey(log: string, out: string, level: CompressionLevel = "auto"): number {
  const w = TraceWriter.create(out, HEADER, { level, infer: { name: "bench" } });
  const p = new LackeyParser((b) => w.write(b), { file: log });
  const fd = openSync(log, "r");
  const buf = new Uint8Array(1 << 20);
  try {
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) p.feed(n === buf.length ? buf : buf.subarray(0, n));
    p.end();
  } finally {
    closeSync(fd);
  }
  w.close();
  return p.lines;
}

/** Reads a whole trace in 4096-row batches; returns the access count. */
export function decodeAll(path: string): number {
  const r = openTrace(path);
  const b = new AccessBatch(4096);
  let n = 0;
  for (let k = r.next(b); k > 0; k = r.next(b)) n += k;
  return n;
}

/** The first `max` rows of a trace, in memory. */
function loadRows(path: string, max: number): AccessBatch {
  const r = openTrace(path);
  const all = new AccessBatch(Math.min(max, r.header.accesses));
  const b = new AccessBatch(4096);
  while (!all.full && r.next(b) > 0) all.append(b, 0, Math.min(b.length, all.capacity - all.length));
  r.close();
  return all;
}

function encodeSpeed(rows: AccessBatch, out: string, level: CompressionLevel): { accessesPerSec: number; bytesPerAccess: number } {
  let bytes = 0;
  const t = timeMedian(3, () => {
    const w = TraceWriter.create(out, HEADER, { level, infer: { name: "bench" } });
    w.write(rows);
    bytes = w.close().bytes;
  });
  return { accessesPerSec: round(rows.length / t.median), bytesPerAccess: round(bytes / rows.length) };
}

function* measureLackey(name: string, log: string, dir: string): Iterable<BenchResult> {
  const textBytes = statSync(log).size;
  const dst = join(dir, `${name}.dst`);
  let lines = 0;
  const imp = timeMedian(3, () => {
    lines = importLackey(log, dst);
  });
  const probe = openTrace(dst);
  probe.close();
  const accesses = probe.header.accesses;
  const dstBytes = statSync(dst).size;
  const gzipBytes = has("gzip") ? Number(sh(`gzip -1 -c ${q(log)} | wc -c`).stdout.trim()) : NaN;
  const zstdBytes = has("zstd") ? Number(sh(`zstd -3 -c -q ${q(log)} | wc -c`).stdout.trim()) : NaN;
  const other = (level: CompressionLevel): number => {
    const p = join(dir, `${name}-${level}.dst`);
    importLackey(log, p, level);
    return round(statSync(p).size / accesses);
  };
  yield {
    name: "workloads.trace",
    unit: "bytes/access",
    value: round(dstBytes / accesses),
    metric: "size",
    trace: name,
    accesses,
    lackeyLines: lines,
    lackeyTextBytesPerLine: round(textBytes / lines),
    gzip1BytesPerLine: round(gzipBytes / lines),
    zstd3BytesPerLine: Number.isNaN(zstdBytes) ? "zstd not installed" : round(zstdBytes / lines),
    level: "auto",
    level1BytesPerAccess: other(1),
    level6BytesPerAccess: other(6),
    target: "<= 1 byte/access",
  };
  yield { name: "workloads.trace", unit: "lines/s", value: round(lines / imp.median), metric: "import", trace: name, measure: "Lackey log file -> LackeyParser -> TraceWriter (level auto, layout inferred), in process, median of 3", target: ">= 5e6 lines/s" };
  decodeAll(dst);
  const dec = timeMedian(5, () => decodeAll(dst));
  yield { name: "workloads.trace", unit: "accesses/s", value: round(accesses / dec.median), metric: "decode", trace: name, measure: "openTrace + next() with 4096-row batches, median of 5", target: ">= 3e7 accesses/s" };
  const rows = loadRows(dst, 4_000_000);
  for (const level of ["auto", 1, 6] as const) {
    const e = encodeSpeed(rows, join(dir, `${name}-enc.dst`), level);
    yield { name: "workloads.trace", unit: "accesses/s", value: e.accessesPerSec, metric: "encode", trace: name, level, rows: rows.length, bytesPerAccess: e.bytesPerAccess, measure: "TraceWriter.write + close of rows in memory (layout inferred), median of 3" };
  }
}

function* measureRandom(dir: string): Iterable<BenchResult> {
  const n = 4_000_000;
  const r = new RngRoot(1).stream("bench.trace.uniform");
  const rows = new AccessBatch(n);
  for (let i = 0; i < n; i++) rows.push(0x7f0000000000 + r.int(1 << 23) * 8, 8, r.chance(0.3) ? 1 : 0, 1, 0);
  const path = join(dir, "uniform.dst");
  const e = encodeSpeed(rows, path, "auto");
  decodeAll(path);
  const dec = timeMedian(5, () => decodeAll(path));
  yield { name: "workloads.trace", unit: "accesses/s", value: round(n / dec.median), metric: "decode", trace: "uniform-random-64MiB", bytesPerAccess: e.bytesPerAccess, encodeAccessesPerSec: e.accessesPerSec, measure: "worst case: uniform random 8-byte accesses over 64 MiB, 30% writes" };
}

export const benchmarks: Benchmark[] = [
  {
    name: "workloads.trace",
    description: ".dst trace size vs gzip/zstd of Lackey text, decode/encode/import speed on real programs' Lackey traces",
    *run(): Iterable<BenchResult> {
      const dir = mkdtempSync(join(tmpdir(), "bench-trace-"));
      try {
        if (has("gcc") && has("valgrind")) {
          const src = join(dir, "sort.c");
          writeFileSync(src, SORT_C);
          const exe = join(dir, "sort");
          if (spawnSync("gcc", ["-O2", "-o", exe, src]).status !== 0) throw new Error("gcc failed to build the sort benchmark program");
          const logs: Array<[string, string]> = [["qsort-20000", `${q(exe)} 20000`], ["ls-usr-bin", "ls /usr/bin"]];
          for (const [name, cmd] of logs) {
            const log = join(dir, `${name}.lk`);
            const vg = sh(`valgrind --tool=lackey --trace-mem=yes --log-fd=3 ${cmd} 3>${q(log)} >/dev/null 2>/dev/null`);
            if (vg.status !== 0) throw new Error(`valgrind failed on ${cmd}`);
            yield* measureLackey(name, log, dir);
            rmSync(log);
          }
        } else {
          yield { name: "workloads.trace", unit: "skipped", value: 0, reason: "gcc or valgrind not installed: no real Lackey traces" };
        }
        yield* measureRandom(dir);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
];
