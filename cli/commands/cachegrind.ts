// `damon-sim cachegrind TRACE --I1=S,A,L --D1=S,A,L --LL=S,A,L`: replays a Valgrind Lackey
// --trace-mem log (a file, or "-" for stdin, read as a stream) through the cachegrind-exact cache
// model of hw/cachegrind.ts and prints cachegrind's counts: a short human-readable table with miss
// rates, then the `summary: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw` line that cachegrind writes to
// its cachegrind.out file, so the two can be compared directly.
// The three geometries are required: cachegrind's auto-detection is wrong inside the team's VMs.

import { stringOpt, type CommandSpec, type ParsedArgs } from "../args.ts";
import type { Command } from "../command.ts";
import { AccessBatch, type AccessSource } from "../../hw/batch.ts";
import { CachegrindSim, describeCacheGeometry, parseCacheGeometry, type CacheGeometry, type CachegrindCounters } from "../../hw/cachegrind.ts";
import { InputError, UsageError } from "../../sim/errors.ts";
import { openTrace as openDstTrace } from "../../workloads/trace/index.ts";
import { openLackeySource } from "../../workloads/lackey.ts";

const GEOMETRY_HELP = "SIZE,ASSOC,LINE in bytes, ways, bytes (e.g. 32768,8,64); the set count must be a power of two";

const spec: CommandSpec = {
  name: "cachegrind",
  summary: "Replay a Valgrind Lackey trace through an exact model of cachegrind's cache simulation and print its nine counts.",
  usage: "TRACE --I1=SIZE,ASSOC,LINE --D1=SIZE,ASSOC,LINE --LL=SIZE,ASSOC,LINE",
  positionals: { min: 1, max: 1 },
  options: {
    I1: { type: "string", value: "S,A,L", description: `level 1 instruction cache (required): ${GEOMETRY_HELP}` },
    D1: { type: "string", value: "S,A,L", description: "level 1 data cache (required)" },
    LL: { type: "string", value: "S,A,L", description: "unified last-level cache (required)" },
  },
  details: [
    "TRACE is a log of `valgrind --tool=lackey --trace-mem=yes` ('-' reads stdin), e.g.",
    "  valgrind --tool=lackey --trace-mem=yes --log-fd=3 ./prog 3>prog.lk",
    "  damon-sim cachegrind prog.lk --I1=32768,8,64 --D1=49152,12,64 --LL=2097152,16,64",
    "matches the `summary:` line of",
    "  valgrind --tool=cachegrind --cache-sim=yes --I1=32768,8,64 --D1=49152,12,64 --LL=2097152,16,64 ./prog",
    "when both runs send the program's output to the same kind of file (a terminal, a pipe or /dev/null",
    "change what glibc executes). Each geometry must have a power-of-two number of sets.",
  ].join("\n"),
};

function geometryOpt(args: ParsedArgs, name: "I1" | "D1" | "LL"): CacheGeometry {
  const v = stringOpt(args, name);
  if (v === undefined) throw new UsageError(`cachegrind: option --${name}=SIZE,ASSOC,LINE is required (cachegrind's auto-detection is not used)`);
  try {
    return parseCacheGeometry(v, name);
  } catch (e) {
    if (e instanceof InputError) throw new UsageError(`cachegrind: --${name}=${v}: ${e.detail}`);
    throw e;
  }
}

/** Opens TRACE as a stream of accesses. */
function openTrace(path: string): AccessSource & { close(): void } {
  // damon-sim's own binary traces replay the same rows (the cachegrind numbers must match those of
  // the Lackey log the trace was imported from).
  if (path.endsWith(".dst")) return openDstTrace(path);
  return openLackeySource(path);
}

const num = (n: number): string => n.toLocaleString("en-US");
const pct = (part: number, whole: number): string => `${whole === 0 ? "0.00" : ((100 * part) / whole).toFixed(2)}%`;

/** The human-readable table, in the spirit of cachegrind's end-of-run summary. */
export function formatCachegrindTable(c: CachegrindCounters, geometry: Record<"I1" | "D1" | "LL", CacheGeometry>): string {
  const dRefs = c.Dr + c.Dw;
  const d1m = c.D1mr + c.D1mw;
  const dLm = c.DLmr + c.DLmw;
  const llRefs = c.I1mr + d1m;
  const llMiss = c.ILmr + dLm;
  const w = Math.max(num(c.Ir + dRefs).length, 6);
  const rw = Math.max(num(Math.max(c.Dr, c.Dw)).length, 7);
  const n = (x: number): string => num(x).padStart(w);
  const r = (x: number): string => num(x).padStart(rw);
  const p = (part: number, whole: number): string => pct(part, whole).padStart(w);
  const pr = (part: number, whole: number): string => pct(part, whole).padStart(rw);
  const split = (rd: number, wr: number): string => `  (${r(rd)} rd + ${r(wr)} wr)`;
  const splitPct = (rd: number, rdWhole: number, wr: number, wrWhole: number): string => `  (${pr(rd, rdWhole)} rd + ${pr(wr, wrWhole)} wr)`;
  return [
    `I1  cache:     ${describeCacheGeometry(geometry.I1)}`,
    `D1  cache:     ${describeCacheGeometry(geometry.D1)}`,
    `LL  cache:     ${describeCacheGeometry(geometry.LL)}`,
    "",
    `I   refs:      ${n(c.Ir)}`,
    `I1  misses:    ${n(c.I1mr)}`,
    `LLi misses:    ${n(c.ILmr)}`,
    `I1  miss rate: ${p(c.I1mr, c.Ir)}`,
    `LLi miss rate: ${p(c.ILmr, c.Ir)}`,
    "",
    `D   refs:      ${n(dRefs)}${split(c.Dr, c.Dw)}`,
    `D1  misses:    ${n(d1m)}${split(c.D1mr, c.D1mw)}`,
    `LLd misses:    ${n(dLm)}${split(c.DLmr, c.DLmw)}`,
    `D1  miss rate: ${p(d1m, dRefs)}${splitPct(c.D1mr, c.Dr, c.D1mw, c.Dw)}`,
    `LLd miss rate: ${p(dLm, dRefs)}${splitPct(c.DLmr, c.Dr, c.DLmw, c.Dw)}`,
    "",
    `LL  refs:      ${n(llRefs)}${split(c.I1mr + c.D1mr, c.D1mw)}`,
    `LL  misses:    ${n(llMiss)}${split(c.ILmr + c.DLmr, c.DLmw)}`,
    `LL  miss rate: ${p(llMiss, c.Ir + dRefs)}${splitPct(c.ILmr + c.DLmr, c.Ir + c.Dr, c.DLmw, c.Dw)}`,
    "",
  ].join("\n");
}

export const command: Command = {
  spec,
  async run(args) {
    const geometry = { I1: geometryOpt(args, "I1"), D1: geometryOpt(args, "D1"), LL: geometryOpt(args, "LL") };
    const trace = args.positionals[0]!;
    const sim = new CachegrindSim(geometry);
    const source = openTrace(trace);
    const batch = new AccessBatch(4096);
    try {
      while (source.next(batch) > 0) sim.run(batch);
    } finally {
      source.close();
    }
    process.stdout.write(`trace: ${trace === "-" ? "<stdin>" : trace}\n` + formatCachegrindTable(sim.counters(), geometry) + sim.summaryLine() + "\n");
    return 0;
  },
};
