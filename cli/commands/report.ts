// `damon-sim report access|wss|heatmap|numa OUTDIR|RECORD`: damo's reports over a run's record
// (OUTDIR/damon.data, or any damo record file, compressed or not), with damo's option spellings.

import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { stringOpt, type CommandSpec, type ParsedArgs } from "../args.ts";
import type { Command } from "../command.ts";
import { UsageError } from "../../sim/errors.ts";
import { readRecordFile, type DamonRecord } from "../../damon/damo/record-file.ts";
import { accessReport, type SortKey } from "../../damon/damo/access.ts";
import { heatmapAscii, heatmapGrid, heatmapRanges, heatmapRaw } from "../../damon/damo/heatmap.ts";
import type { TemperatureWeights } from "../../damon/damo/regions.ts";
import { wssReport } from "../../damon/damo/wss.ts";
import { numaReport } from "../../damon/damo/numa.ts";
import type { NumaSnapshot } from "../../damon/numa.ts";
import { writeHeatmapImage } from "../plot/heatmap-image.ts";

const spec: CommandSpec = {
  name: "report",
  summary: "Print damo-style reports of a run: the regions of each snapshot (access), working set size percentiles (wss), an access heatmap (heatmap), or NUMA local/remote access per region (numa, for runs made with --numa).",
  usage: "access|wss|heatmap|numa OUTDIR|RECORD [options]",
  positionals: { min: 2, max: 2 },
  options: {
    "raw-number": { type: "boolean", description: "print plain numbers (damo's --raw_number)" },
    // access
    "sort-regions-by": { type: "string", value: "KEY", description: "access: address, access_rate, age, size or temperature", default: "address" },
    "sort-regions-dsc": { type: "boolean", description: "access: sort in descending order" },
    "temperature-weights": { type: "string", value: "W W W", description: "access: weights of size, access rate and age", default: "0,100,100" },
    snapshot: { type: "string", value: "IDX", description: "access: only this snapshot (negative counts from the end; repeatable)", multiple: true },
    color: { type: "boolean", description: "access/heatmap: colour the heatmap digits (default when stdout is a terminal)" },
    // wss
    range: { type: "string", value: "S,E,STEP", description: "wss: percentile range", default: "0,101,25" },
    "exclude-samples": { type: "string", value: "N", description: "wss: skip the first N snapshots", default: "20" },
    "acc-thres": { type: "string", value: "N", description: "wss: minimum samples for a region to count", default: "1" },
    "sz-thres": { type: "string", value: "B", description: "wss: minimum region size to count", default: "1" },
    sortby: { type: "string", value: "size|time", description: "wss: order of the values", default: "size" },
    "all-wss": { type: "boolean", description: "wss: print every value" },
    // heatmap
    output: { type: "string", value: "stdout|raw|FILE.png", description: "heatmap: where to draw", default: "stdout" },
    resol: { type: "string", value: "ROWS,COLS", description: "heatmap: time rows and address columns (default 40,80 text, 500,500 image)" },
    "draw-range": { type: "string", value: "hottest|all", description: "heatmap: the hottest contiguous address range, or all", default: "hottest" },
    "abs-time": { type: "boolean", description: "heatmap raw: absolute times" },
    "abs-addr": { type: "boolean", description: "heatmap raw: absolute addresses" },
  },
  details: `Examples:
  damon-sim report access out
  damon-sim report access out --snapshot -1 --sort-regions-by temperature --sort-regions-dsc
  damon-sim report wss out --range 50,51,1 --raw-number
  damon-sim report heatmap out --output heatmap.png --draw-range all`,
};

function recordPath(arg: string): string {
  if (existsSync(arg) && statSync(arg).isDirectory()) {
    const p = join(arg, "damon.data");
    if (!existsSync(p)) throw new UsageError(`report: ${arg} has no damon.data (run 'damon-sim run -o ${arg}' first)`);
    return p;
  }
  if (!existsSync(arg)) throw new UsageError(`report: no such output folder or record file: ${arg}`);
  return arg;
}

function numbers(text: string, n: number, opt: string): number[] {
  const parts = text.split(/[ ,]+/).filter(Boolean).map(Number);
  if (parts.length !== n || parts.some((x) => !Number.isFinite(x))) throw new UsageError(`report: --${opt} needs ${n} numbers, got '${text}'`);
  return parts;
}

function access(records: DamonRecord[], args: ParsedArgs): string {
  const sortBy = stringOpt(args, "sort-regions-by") ?? "address";
  if (!["address", "access_rate", "age", "size", "temperature"].includes(sortBy)) throw new UsageError(`report: --sort-regions-by must be address, access_rate, age, size or temperature`);
  const snaps = (args.values.snapshot as string[] | undefined)?.map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n)) throw new UsageError(`report: --snapshot needs an integer index, got '${s}'`);
    return n;
  });
  return accessReport(records, {
    raw: args.values["raw-number"] === true,
    color: args.values.color === true || (args.values.color === undefined && process.stdout.isTTY === true),
    sortBy: sortBy as SortKey,
    sortDesc: args.values["sort-regions-dsc"] === true,
    temperatureWeights: numbers(stringOpt(args, "temperature-weights")!, 3, "temperature-weights") as TemperatureWeights,
    ...(snaps ? { snapshots: snaps } : {}),
  });
}

function wss(records: DamonRecord[], args: ParsedArgs): string {
  const range = numbers(stringOpt(args, "range")!, 3, "range") as [number, number, number];
  if (range[2] <= 0) throw new UsageError("report: the --range step must be positive");
  const sortby = stringOpt(args, "sortby") ?? "size";
  if (sortby !== "size" && sortby !== "time") throw new UsageError("report: --sortby must be size or time");
  return wssReport(records, {
    raw: args.values["raw-number"] === true,
    range,
    excludeSamples: numbers(stringOpt(args, "exclude-samples")!, 1, "exclude-samples")[0]!,
    accThres: numbers(stringOpt(args, "acc-thres")!, 1, "acc-thres")[0]!,
    szThres: numbers(stringOpt(args, "sz-thres")!, 1, "sz-thres")[0]!,
    sortBy: sortby,
    allWss: args.values["all-wss"] === true,
  });
}

async function heatmap(records: DamonRecord[], args: ParsedArgs): Promise<string> {
  const output = stringOpt(args, "output") ?? "stdout";
  const image = output !== "stdout" && output !== "raw";
  if (image && !/\.(png|svg)$/i.test(output)) throw new UsageError("report: heatmap --output must be stdout, raw, or a .png/.svg file");
  const [rows, cols] = stringOpt(args, "resol") !== undefined ? numbers(stringOpt(args, "resol")!, 2, "resol") : image ? [500, 500] : [40, 80];
  if (!(rows! >= 1 && cols! >= 1)) throw new UsageError("report: --resol values must be positive");
  const drawRange = stringOpt(args, "draw-range") ?? "hottest";
  if (drawRange !== "hottest" && drawRange !== "all") throw new UsageError("report: --draw-range must be hottest or all");
  const ranges = heatmapRanges(records, drawRange);
  if (ranges.length === 0) return "# no snapshot\n";
  let out = "";
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    const grid = heatmapGrid(r.records, r.time, r.addr, rows!, cols!);
    if (output === "stdout") out += heatmapAscii(grid, args.values.color === true || (args.values.color === undefined && process.stdout.isTTY === true));
    else if (output === "raw") out += heatmapRaw(grid, args.values["abs-time"] === true, args.values["abs-addr"] === true);
    else {
      const file = i === 0 ? output : output.replace(/(\.[a-z]+)$/i, `.${i}$1`);
      await writeHeatmapImage(grid, file);
      out += `wrote ${file}\n`;
    }
  }
  return out;
}

/** Which kernel rules a damon-sim record was made with (empty for records that do not say, like damo's). */
export function kernelLine(records: readonly DamonRecord[]): string {
  const k = records.find((r) => r.kernel !== undefined)?.kernel;
  return k === undefined ? "" : `report: record made by damon-sim with kernel ${k}\n`;
}

export const command: Command = {
  spec,
  async run(args) {
    const [kind, target] = args.positionals as [string, string];
    if (kind !== "access" && kind !== "wss" && kind !== "heatmap" && kind !== "numa") throw new UsageError(`report: unknown report '${kind}' (access, wss, heatmap or numa)`);
    if (kind === "numa") {
      const p = join(target, "numa.json");
      if (!existsSync(p)) throw new UsageError(`report: ${target} has no numa.json (run with --numa and a report-based primitive)`);
      const snaps = (JSON.parse(readFileSync(p, "utf8")) as { snapshots: NumaSnapshot[] }).snapshots;
      const idx = (args.values.snapshot as string[] | undefined)?.map(Number)[0] ?? -1;
      process.stdout.write(numaReport(snaps, Number.isInteger(idx) ? idx : -1, args.values["raw-number"] === true));
      return 0;
    }
    const records = readRecordFile(recordPath(target));
    const text = kind === "access" ? access(records, args) : kind === "wss" ? wss(records, args) : await heatmap(records, args);
    process.stdout.write(text);
    // on stderr, so that stdout stays in damo's layout for scripts written for damo
    process.stderr.write(kernelLine(records));
    return 0;
  },
};
