// The catalogue of access patterns and their JSON form: parsePattern() checks a pattern object
// (its type, the region it works on and the type's own fields) and resolves its address range;
// createPattern() builds the per-thread generator for one run. Errors are InputErrors naming the
// field path, e.g. "threads[1].phases[0].pattern.stride".
//
// Fields every pattern (but "mix") takes:
//   type           one of PATTERN_TYPES
//   region         name of a region of the thread's process
//   offset, length the part of the region to use (bytes or "4MiB"; default: all of it)
//   accessSize     bytes per access, 1..255 (default 8)
//   writeFraction  share of accesses that write, 0..1 (default 0)
//   writeKind      "write" (default) or "modify" (read-modify-write of the same bytes)
//   gap            non-memory operations before each access (default 0)

import { AccessKind } from "../hw/batch.ts";
import { InputError, SimError } from "../sim/errors.ts";
import { HotColdPattern, checkHotCold, parseHotColdParams, type HotColdParams } from "./generators/hot-cold.ts";
import { MixPattern } from "./generators/mix.ts";
import { PointerChasePattern, checkPointerChase, parsePointerChaseParams, type PointerChaseParams } from "./generators/pointer-chase.ts";
import { SequentialPattern, parseSequentialParams, type SequentialParams } from "./generators/sequential.ts";
import { UniformPattern, parseUniformParams, type UniformParams } from "./generators/uniform.ts";
import { WorkingSetPattern, checkWorkingSet, parseWorkingSetParams, type WorkingSetParams } from "./generators/working-set.ts";
import { ZipfPattern, checkZipf, parseZipfParams, type ZipfParams } from "./generators/zipf.ts";
import { Fields, fieldPath } from "./json-fields.ts";
import { DEFAULT_STYLE, checkStyle, type AccessStyle, type Pattern, type PatternContext, type Target } from "./pattern.ts";

export const PATTERN_TYPES = [
  { name: "sequential", description: "sweep the range in order, `stride` bytes apart (default: the access size), wrapping at the end" },
  { name: "strided", description: "like sequential with a default stride of 4096 (one access per page)" },
  { name: "uniform", description: "uniformly random accesses, aligned to `align` (default: the access size)" },
  { name: "zipf", description: "Zipfian choice of `granularity`-byte items (default pages) with `exponent` s (default 0.99); `scramble` spreads the hot items" },
  { name: "pointer-chase", description: "follow one random cycle through `granularity`-byte elements (default cache lines)" },
  { name: "hot-cold", description: "`hotProbability` (0.9) of accesses to a `hotFraction` (0.1) of the range at `hotOffset`, the rest to the cold part" },
  { name: "working-set", description: "a window that grows and shrinks between `minBytes` and `maxBytes` every `period` (`shape` triangle/sine/sawtooth/square)" },
  { name: "mix", description: "`parts`: [{weight, pattern}], one part picked per access (or per `burst` accesses)" },
] as const;

export type PatternType = (typeof PATTERN_TYPES)[number]["name"];

interface Ranged {
  region: string;
  target: Target;
  style: AccessStyle;
}

export type PatternSpec =
  | (Ranged & { type: "sequential" | "strided"; params: SequentialParams })
  | (Ranged & { type: "uniform"; params: UniformParams })
  | (Ranged & { type: "zipf"; params: ZipfParams })
  | (Ranged & { type: "pointer-chase"; params: PointerChaseParams })
  | (Ranged & { type: "hot-cold"; params: HotColdParams })
  | (Ranged & { type: "working-set"; params: WorkingSetParams })
  | { type: "mix"; burst: number; parts: { weight: number; pattern: PatternSpec }[] };

/** The regions a pattern may name: name -> address range. */
export type RegionTable = ReadonlyMap<string, Target>;

function parseStyle(f: Fields): AccessStyle {
  return {
    accessSize: f.num("accessSize", DEFAULT_STYLE.accessSize, { integer: true, min: 1, max: 255 }),
    writeFraction: f.num("writeFraction", DEFAULT_STYLE.writeFraction, { min: 0, max: 1 }),
    writeKind: f.oneOf("writeKind", ["write", "modify"] as const, "write") === "modify" ? AccessKind.MODIFY : AccessKind.WRITE,
    gap: f.num("gap", DEFAULT_STYLE.gap, { integer: true, min: 0, max: 0xffffffff }),
  };
}

function parseRange(f: Fields, regions: RegionTable): { region: string; target: Target } {
  const region = f.str("region");
  const r = regions.get(region);
  if (r === undefined) {
    const names = [...regions.keys()];
    f.fail("region", `unknown region '${region}'${names.length ? ` (known: ${names.join(", ")})` : " (the process has no regions)"}`);
  }
  const offset = f.size("offset", 0);
  if (offset >= r.size) f.fail("offset", `offset ${offset} is not inside region '${region}' of ${r.size} bytes`);
  const length = f.size("length", r.size - offset, 1);
  if (offset + length > r.size) f.fail("length", `offset ${offset} + length ${length} runs past the end of region '${region}' (${r.size} bytes)`);
  return { region, target: { base: r.base + offset, size: length } };
}

/** Parses and checks one pattern object found at `path`. */
export function parsePattern(v: unknown, path: string, regions: RegionTable): PatternSpec {
  const f = Fields.of(v, path);
  const type = f.oneOf("type", PATTERN_TYPES.map((t) => t.name));
  if (type === "mix") return parseMix(f, regions);
  const { region, target } = parseRange(f, regions);
  const style = parseStyle(f);
  let spec: PatternSpec;
  switch (type) {
    case "sequential":
      spec = { type, region, target, style, params: parseSequentialParams(f) };
      break;
    case "strided":
      spec = { type, region, target, style, params: { stride: parseSequentialParams(f).stride ?? 4096 } };
      break;
    case "uniform":
      spec = { type, region, target, style, params: parseUniformParams(f) };
      break;
    case "zipf":
      spec = { type, region, target, style, params: parseZipfParams(f) };
      break;
    case "pointer-chase":
      spec = { type, region, target, style, params: parsePointerChaseParams(f) };
      break;
    case "hot-cold":
      spec = { type, region, target, style, params: parseHotColdParams(f) };
      break;
    case "working-set":
      spec = { type, region, target, style, params: parseWorkingSetParams(f) };
      break;
  }
  f.done();
  try {
    checkPatternSpec(spec);
  } catch (e) {
    if (e instanceof SimError) throw new InputError(e.message, { field: path });
    throw e;
  }
  return spec;
}

function parseMix(f: Fields, regions: RegionTable): PatternSpec {
  const burst = f.num("burst", 1, { integer: true, min: 1 });
  const parts = f.array("parts", 1).map((p, i) => {
    const pf = Fields.of(p, fieldPath(f.at("parts"), i));
    const weight = pf.num("weight", undefined, { min: 0 });
    const pattern = parsePattern(pf.raw("pattern"), pf.at("pattern"), regions);
    pf.done();
    return { weight, pattern };
  });
  if (!(parts.reduce((a, p) => a + p.weight, 0) > 0)) f.fail("parts", "the weights sum to 0; at least one must be positive");
  f.done();
  return { type: "mix", burst, parts };
}

/** Checks what only the pattern classes know (e.g. the item count); throws SimError. */
export function checkPatternSpec(spec: PatternSpec): void {
  if (spec.type === "mix") {
    for (const p of spec.parts) checkPatternSpec(p.pattern);
    return;
  }
  checkStyle(spec.style, spec.target);
  switch (spec.type) {
    case "sequential":
    case "strided":
    case "uniform":
      return;
    case "zipf":
      checkZipf(spec.target, spec.style, spec.params);
      return;
    case "pointer-chase":
      checkPointerChase(spec.target, spec.style, spec.params);
      return;
    case "hot-cold":
      checkHotCold(spec.target, spec.style, spec.params);
      return;
    case "working-set":
      checkWorkingSet(spec.target, spec.style, spec.params);
      return;
  }
}

/** Builds the generator for one thread of one run. */
export function createPattern(spec: PatternSpec, ctx: PatternContext): Pattern {
  switch (spec.type) {
    case "sequential":
    case "strided":
      return new SequentialPattern(spec.target, spec.style, spec.params, ctx);
    case "uniform":
      return new UniformPattern(spec.target, spec.style, spec.params, ctx);
    case "zipf":
      return new ZipfPattern(spec.target, spec.style, spec.params, ctx);
    case "pointer-chase":
      return new PointerChasePattern(spec.target, spec.style, spec.params, ctx);
    case "hot-cold":
      return new HotColdPattern(spec.target, spec.style, spec.params, ctx);
    case "working-set":
      return new WorkingSetPattern(spec.target, spec.style, spec.params, ctx);
    case "mix":
      return new MixPattern(
        spec.parts.map((p) => createPattern(p.pattern, ctx)),
        spec.parts.map((p) => p.weight),
        ctx.rng,
        spec.burst,
      );
  }
}

/** The regions a pattern touches (for reports). */
export function patternRegions(spec: PatternSpec): string[] {
  return spec.type === "mix" ? [...new Set(spec.parts.flatMap((p) => patternRegions(p.pattern)))] : [spec.region];
}

