// The built-in workloads, one per generator plus a few combinations, written in the JSON spec
// format (workloads/spec.ts) so each is also an example of it. Default sizes are small so tests
// and demos are quick; `scale` multiplies every region size and the other options override the
// access style of every pattern.

import { InputError } from "../sim/errors.ts";
import { MiB, PAGE_SIZE } from "../sim/units.ts";
import type { JsonObject } from "./json-fields.ts";

export interface BuiltinOptions {
  /** Multiplies every default region size (default 1; results are rounded to pages). */
  scale?: number;
  /** Threads of multi-threaded built-ins (default 4). */
  threads?: number;
  /** CPUs the threads of multi-threaded built-ins are pinned to, round robin (default thread i on CPU i). */
  cpus?: number[];
  /** Override every pattern's write fraction, gap or access size. */
  writeFraction?: number;
  gap?: number;
  accessSize?: number;
  /** Every thread ends after this many ns of simulated time (default: runs until stopped). Also caps JSON specs and masim configs. */
  duration?: number;
  /** Process id (default 1000). */
  pid?: number;
}

interface Builtin {
  description: string;
  spec(o: Required<Pick<BuiltinOptions, "scale" | "threads">> & BuiltinOptions): JsonObject;
}

function sizer(scale: number): (mib: number) => number {
  return (mib) => Math.max(PAGE_SIZE, Math.round((mib * MiB * scale) / PAGE_SIZE) * PAGE_SIZE);
}

/** One process, one thread, one region, one pattern. */
function single(name: string, regionMiB: number, pattern: JsonObject, o: BuiltinOptions & { scale: number }, region = "buf"): JsonObject {
  return {
    name,
    regions: [{ name: region, size: sizer(o.scale)(regionMiB) }],
    threads: [{ pattern: { region, ...pattern } }],
  };
}

export const BUILTINS: Record<string, Builtin> = {
  seq: {
    description: "one thread sweeping a 64 MiB buffer sequentially (8-byte reads)",
    spec: (o) => single("seq", 64, { type: "sequential" }, o),
  },
  stride: {
    description: "one thread touching a 256 MiB buffer with a 4 KiB stride (one access per page)",
    spec: (o) => single("stride", 256, { type: "strided", stride: 4096 }, o),
  },
  uniform: {
    description: "uniformly random 8-byte reads over a 64 MiB buffer",
    spec: (o) => single("uniform", 64, { type: "uniform" }, o),
  },
  zipf: {
    description: "Zipfian (s = 0.99) choice among the pages of a 256 MiB buffer, hottest pages first",
    spec: (o) => single("zipf", 256, { type: "zipf", exponent: 0.99, granularity: 4096 }, o),
  },
  chase: {
    description: "pointer chase along one random cycle through the cache lines of a 16 MiB list",
    spec: (o) => single("chase", 16, { type: "pointer-chase", granularity: 64 }, o, "list"),
  },
  hotcold: {
    description: "90% of accesses to a hot 10% of a 128 MiB buffer (at its middle), 10% to the rest",
    spec: (o) => {
      const size = sizer(o.scale)(128);
      const hotOffset = Math.floor((size * 0.45) / PAGE_SIZE) * PAGE_SIZE;
      return single("hotcold", 128, { type: "hot-cold", hotFraction: 0.1, hotProbability: 0.9, hotOffset }, o);
    },
  },
  wss: {
    description: "a working set growing from 8 to 64 MiB and back every second (random accesses inside it)",
    spec: (o) => single("wss", 64, { type: "working-set", minBytes: sizer(o.scale)(8), maxBytes: sizer(o.scale)(64), period: "1s", shape: "triangle" }, o),
  },
  phases: {
    description: "phase changes every 250 ms: sequential sweep, Zipfian table lookups, random accesses, pointer chase (repeating)",
    spec: (o) => {
      const mib = sizer(o.scale);
      return {
        name: "phases",
        regions: [
          { name: "buf", size: mib(64) },
          { name: "table", size: mib(32) },
        ],
        threads: [
          {
            repeat: "forever",
            phases: [
              { name: "scan", duration: "250ms", pattern: { type: "sequential", region: "buf" } },
              { name: "lookup", duration: "250ms", pattern: { type: "zipf", region: "table", exponent: 1.1 } },
              { name: "random", duration: "250ms", pattern: { type: "uniform", region: "buf", writeFraction: 0.5 } },
              { name: "chase", duration: "250ms", pattern: { type: "pointer-chase", region: "table" } },
            ],
          },
        ],
      };
    },
  },
  mt: {
    description: "4 threads pinned to CPUs 0-3: 70% of each thread's accesses to its private 16 MiB buffer (uniform, sequential, hot/cold or pointer chase), 30% to a shared 64 MiB Zipfian table",
    spec: (o) => {
      const mib = sizer(o.scale);
      const privatePatterns: JsonObject[] = [
        { type: "uniform", writeFraction: 0.2 },
        { type: "sequential", writeFraction: 0.5 },
        { type: "hot-cold", hotFraction: 0.05, hotProbability: 0.95, writeFraction: 0.2 },
        { type: "pointer-chase" },
      ];
      const threads = Array.from({ length: o.threads }, (_, i) => ({
        cpus: [o.cpus ? o.cpus[i % o.cpus.length]! : i],
        pattern: {
          type: "mix",
          parts: [
            { weight: 7, pattern: { region: `priv${i}`, ...privatePatterns[i % privatePatterns.length]! } },
            { weight: 3, pattern: { type: "zipf", region: "shared", exponent: 0.9, scramble: true } },
          ],
        },
      }));
      return {
        name: "mt",
        regions: [{ name: "shared", size: mib(64) }, ...threads.map((_, i) => ({ name: `priv${i}`, size: mib(16) }))],
        threads,
      };
    },
  },
  rwmix: {
    description: "random accesses over a 64 MiB buffer, 30% of them writes, 10 non-memory ops between accesses",
    spec: (o) => single("rwmix", 64, { type: "uniform", writeFraction: 0.3, gap: 10 }, o),
  },
};

/** Applies the style overrides to every pattern object of a spec (in place). */
function overrideStyles(node: unknown, o: BuiltinOptions): void {
  if (Array.isArray(node)) {
    for (const x of node) overrideStyles(x, o);
    return;
  }
  if (typeof node !== "object" || node === null) return;
  const obj = node as JsonObject;
  if (typeof obj.type === "string" && obj.type !== "mix" && typeof obj.region === "string") {
    if (o.writeFraction !== undefined) obj.writeFraction = o.writeFraction;
    if (o.gap !== undefined) obj.gap = o.gap;
    if (o.accessSize !== undefined) obj.accessSize = o.accessSize;
  }
  for (const v of Object.values(obj)) overrideStyles(v, o);
}

/** The spec (JSON form) of built-in `name` with `options` applied; undefined for unknown names. */
export function builtinSpec(name: string, options: BuiltinOptions = {}): JsonObject | undefined {
  const b = BUILTINS[name];
  if (b === undefined || !Object.hasOwn(BUILTINS, name)) return undefined;
  const scale = options.scale ?? 1;
  if (!(scale > 0) || !Number.isFinite(scale)) throw new InputError(`scale must be a positive number, got ${scale}`, { field: "scale" });
  const threads = options.threads ?? 4;
  if (!Number.isSafeInteger(threads) || threads < 1 || threads > 4096) throw new InputError(`threads must be an integer in 1..4096, got ${threads}`, { field: "threads" });
  const spec = b.spec({ ...options, scale, threads });
  overrideStyles(spec, options);
  if (options.pid !== undefined) spec.pid = options.pid;
  if (options.duration !== undefined) {
    for (const t of spec.threads as JsonObject[]) t.duration = `${options.duration}ns`;
  }
  return spec;
}
