// hw.cachegrind: speed of the cachegrind-exact cache model (hw/cachegrind.ts) and of the Lackey
// parser (workloads/lackey.ts), next to cachegrind itself.
//   * builds test/fixtures/c/sort.c (merge sort of 20,000 numbers) with gcc and records its Lackey
//     --trace-mem log once (~8 M lines; Valgrind + Lackey take several seconds);
//   * Lackey parsing: lines/s over the log held in memory (median of 5), and streamed from the file;
//   * replay: references/s of CachegrindSim over the trace held in memory as AccessBatches
//     (median of 7, a fresh simulator per run), for two geometries, checking that all nine counts
//     equal cachegrind's;
//   * replay from a .dst file: the Lackey log imported once into a .dst trace (importLackey of
//     bench/workloads-trace.ts, timed), then openTrace + CachegrindSim.run in 4096-row batches as
//     `damon-sim cachegrind` does, decoding included (the file is in the page cache); the nine
//     counts must equal the in-memory replay's. Its 7 runs alternate with the in-memory replay's
//     (after one warm-up of each), so ratioToInMemory compares runs made side by side.
//     Target (issue): >= 2e7 refs/s.
//   * cachegrind: wall time of `valgrind --tool=cachegrind --cache-sim=yes` on the same program
//     and geometry, raw, and net of a `--tool=none` baseline (Valgrind's own translation and
//     start-up); 9 interleaved runs of each, medians, the net figure as the median of paired
//     differences. The net times are
//     tens of ms on top of ~0.2 s, so they are noisy: compare ratios over several bench runs.
//     ratio = our refs/s over cachegrind's net refs/s.
// Targets (issue): replay >= 1e8 refs/s (floor 2e7), Lackey parsing >= 5e6 lines/s.

import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { AccessBatch } from "../hw/batch.ts";
import { CachegrindSim, parseCacheGeometry, parseCachegrindSummary, type CachegrindConfig } from "../hw/cachegrind.ts";
import { LackeyParser, openLackeySource } from "../workloads/lackey.ts";
import { openTrace } from "../workloads/trace/reader.ts";
import { median, round, timeMedian, type Benchmark, type BenchResult } from "./harness.ts";
import { importLackey } from "./workloads-trace.ts";

const ROOT = resolve(import.meta.dirname, "..");
const SORT_N = "20000";
const GEOMETRIES: Array<Record<"I1" | "D1" | "LL", string>> = [
  { I1: "32768,8,64", D1: "49152,12,64", LL: "2097152,16,64" },
  { I1: "4096,2,64", D1: "8192,2,64", LL: "131072,4,64" },
];
// The guest program's stdout must go to the same kind of file in every run: glibc's stdio takes
// different paths (different instruction counts) for /dev/null and for a pipe.
const SAME_STDIO: Array<"ignore" | "pipe"> = ["ignore", "ignore", "pipe"];
const flags = (g: Record<string, string>): string[] => Object.entries(g).map(([k, v]) => `--${k}=${v}`);
const config = (g: Record<"I1" | "D1" | "LL", string>): CachegrindConfig => ({ I1: parseCacheGeometry(g.I1, "I1"), D1: parseCacheGeometry(g.D1, "D1"), LL: parseCacheGeometry(g.LL, "LL") });

function mustRun(cmd: string, args: string[], stdio: Array<"ignore" | "pipe" | number> = ["ignore", "pipe", "pipe"]): void {
  const r = spawnSync(cmd, args, { stdio, encoding: "utf8" });
  if (r.error) throw new Error(`hw.cachegrind needs ${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (status ${r.status}): ${r.stderr}`);
}

/** Wall seconds of one run of a command, its output discarded like the recording run's. */
function wall(cmd: string, args: string[]): number {
  const t0 = process.hrtime.bigint();
  mustRun(cmd, args, SAME_STDIO);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/**
 * Interleaved timing of several commands (A B C, B C A, C A B, ...) so that drift on the shared
 * machine hits them alike; returns every run's wall seconds, per command.
 */
function wallInterleaved(cmds: string[][], repeats: number): number[][] {
  const times = cmds.map(() => [] as number[]);
  for (let r = 0; r < repeats; r++) {
    for (let j = 0; j < cmds.length; j++) {
      const k = (r + j) % cmds.length;
      times[k]!.push(wall("valgrind", cmds[k]!));
    }
  }
  return times;
}

/** Median of the paired differences a[r] - b[r] of two interleaved series. */
const pairedMedian = (a: number[], b: number[]): number => median(a.map((x, r) => x - b[r]!));

/** Replays a .dst trace through a fresh simulator, decoding as it goes; returns the counts and rows. */
function replayDst(path: string, cfg: CachegrindConfig): { values: number[]; rows: number } {
  const sim = new CachegrindSim(cfg);
  const src = openTrace(path);
  const b = new AccessBatch(4096);
  let rows = 0;
  try {
    for (let n = src.next(b); n > 0; n = src.next(b)) {
      sim.run(b);
      rows += n;
    }
  } finally {
    src.close();
  }
  return { values: sim.values(), rows };
}

/** The whole trace as AccessBatches of 64 Ki rows (a benchmark may hold it; library code streams). */
function loadTrace(path: string): { batches: AccessBatch[]; rows: number } {
  const batches: AccessBatch[] = [];
  const src = openLackeySource(path);
  let rows = 0;
  for (;;) {
    const b = new AccessBatch(1 << 16);
    if (src.next(b) === 0) break;
    batches.push(b);
    rows += b.length;
  }
  src.close();
  return { batches, rows };
}

export const benchmarks: Benchmark[] = [
  {
    name: "hw.cachegrind",
    description: "cachegrind-exact cache replay (refs/s) and Lackey parsing (lines/s), versus valgrind --tool=cachegrind",
    *run(): Iterable<BenchResult> {
      const dir = mkdtempSync(join(tmpdir(), "bench-cachegrind-"));
      try {
        const exe = join(dir, "sort");
        mustRun("gcc", ["-O1", "-g", "-o", exe, join(ROOT, "test/fixtures/c/sort.c")]);
        const tracePath = join(dir, "sort.lk");
        const fd = openSync(tracePath, "w");
        const t0 = process.hrtime.bigint();
        try {
          mustRun("valgrind", ["--tool=lackey", "--trace-mem=yes", "--log-fd=3", exe, SORT_N], [...SAME_STDIO, fd]);
        } finally {
          closeSync(fd);
        }
        const lackeySeconds = Number(process.hrtime.bigint() - t0) / 1e9;

        // Lackey parsing, from memory and streamed from the file
        const bytes = readFileSync(tracePath);
        let lines = 0;
        const sink = (): void => {};
        const parseOnce = (): void => {
          const p = new LackeyParser(sink);
          const chunk = 1 << 20;
          for (let o = 0; o < bytes.length; o += chunk) p.feed(bytes.subarray(o, Math.min(o + chunk, bytes.length)));
          p.end();
          lines = p.lines;
        };
        parseOnce();
        const parse = timeMedian(5, parseOnce);
        const t1 = process.hrtime.bigint();
        const { batches, rows } = loadTrace(tracePath);
        const streamSeconds = Number(process.hrtime.bigint() - t1) / 1e9;
        // the same trace as a .dst file
        const dstPath = join(dir, "sort.dst");
        const t2 = process.hrtime.bigint();
        importLackey(tracePath, dstPath);
        const importSeconds = Number(process.hrtime.bigint() - t2) / 1e9;
        const dstBytes = statSync(dstPath).size;
        yield {
          name: "hw.cachegrind.lackey-parse",
          unit: "lines/s",
          value: round(lines / parse.median),
          measure: "LackeyParser over the log in memory, 1 MiB chunks, median of 5",
          lines,
          bytes: bytes.length,
          bytesPerSec: round(bytes.length / parse.median),
          streamedFromFileLinesPerSec: round(lines / streamSeconds),
          lackeyRecordSeconds: round(lackeySeconds),
          lackeyLinesPerSec: round(lines / lackeySeconds),
          target: ">= 5e6 lines/s",
        };

        for (const g of GEOMETRIES) {
          const cfg = config(g);
          let sim = new CachegrindSim(cfg);
          for (const b of batches) sim.run(b); // warm-up, and the counts to check
          const ours = sim.values();
          let dst = replayDst(dstPath, cfg); // warm-up, and the counts to check
          // the constructor (allocating and zeroing the tag arrays) is inside the timing; it is small
          const memoryRun = (): void => {
            sim = new CachegrindSim(cfg);
            for (const b of batches) sim.run(b);
          };
          const dstRun = (): void => {
            dst = replayDst(dstPath, cfg);
          };
          const memoryTimes: number[] = [], dstTimes: number[] = [];
          for (let r = 0; r < 7; r++) {
            for (const which of r % 2 ? ["dst", "memory"] : ["memory", "dst"]) {
              if (which === "memory") memoryTimes.push(timeMedian(1, memoryRun).median);
              else dstTimes.push(timeMedian(1, dstRun).median);
            }
          }
          const replay = { median: median(memoryTimes) };
          const dstReplay = { median: median(dstTimes) };
          const cgOut = join(dir, "cg.out");
          const cgArgs = ["--tool=cachegrind", "--cache-sim=yes", `--cachegrind-out-file=${cgOut}`, ...flags(g), exe, SORT_N];
          mustRun("valgrind", cgArgs, SAME_STDIO);
          const theirs = parseCachegrindSummary(readFileSync(cgOut, "utf8"), cgOut);
          const noneArgs = ["--tool=none", exe, SORT_N];
          const [noneRuns, cgRuns] = wallInterleaved([noneArgs, cgArgs], 9) as [number[], number[]];
          const cgWall = median(cgRuns);
          const noneWall = median(noneRuns);
          const netVsNone = pairedMedian(cgRuns, noneRuns);
          const oursRate = rows / replay.median;
          yield {
            name: "hw.cachegrind",
            unit: "refs/s",
            value: round(oursRate),
            measure: "CachegrindSim.run over the in-memory Lackey trace of sort 20000, median of 7 (alternating with the .dst replay)",
            geometry: flags(g).join(" "),
            refs: rows,
            countsMatchCachegrind: ours.join(" ") === theirs.join(" "),
            summary: ours.join(" "),
            cachegrindSummary: theirs.join(" "),
            cachegrindWallSeconds: round(cgWall),
            valgrindNoneWallSeconds: round(noneWall),
            cachegrindRawRefsPerSec: round(rows / cgWall),
            cachegrindNetRefsPerSec: netVsNone > 0 ? round(rows / netVsNone) : null,
            ratioOursOverCachegrindNet: netVsNone > 0 ? round(oursRate / (rows / netVsNone)) : null,
            ratioOursOverCachegrindRaw: round(oursRate / (rows / cgWall)),
            target: ">= 1e8 refs/s (floor 2e7)",
          };
          yield {
            name: "hw.cachegrind.dst",
            unit: "refs/s",
            value: round(dst.rows / dstReplay.median),
            measure: "openTrace + CachegrindSim.run over the .dst file of the same trace, 4096-row batches, decoding included, median of 7 (alternating with the in-memory replay)",
            geometry: flags(g).join(" "),
            refs: dst.rows,
            countsMatchInMemory: dst.rows === rows && dst.values.join(" ") === ours.join(" "),
            countsMatchCachegrind: dst.values.join(" ") === theirs.join(" "),
            summary: dst.values.join(" "),
            ratioToInMemory: round(dst.rows / dstReplay.median / oursRate),
            dstBytes,
            dstBytesPerRef: round(dstBytes / dst.rows),
            importSeconds: round(importSeconds),
            importLackeyLinesPerSec: round(lines / importSeconds),
            target: ">= 2e7 refs/s",
          };
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
];
