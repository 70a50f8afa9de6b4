// The primitive registry: the one list of DAMON's access check primitives, in id order (the id is
// a report's primitive number and a bit in the per-region evidence masks, so the order is part of
// the output format). Everything that lists primitives (report buffers' drop counters, the
// monitor, probe filter types, --primitives and --param, compare's defaults, the scenarios, help)
// derives from PRIMITIVE_DEFS. Adding a primitive: one module in this folder (importing its
// hardware/kernel model from hw/primitives/, a new file there when it needs one) and one entry in
// PRIMITIVE_DEFS; test/damon/primitive-registry.test.ts checks that every derived list has it.

import { chmu } from "./chmu.ts";
import { fault } from "./fault.ts";
import { ibs } from "./ibs.ts";
import { numaHint } from "./numa-hint.ts";
import { perfMem } from "./perf-mem.ts";
import { pte } from "./pte.ts";
import { spe } from "./spe.ts";
import type { ParamSpec, ParamValue, PrimitiveDef } from "./types.ts";

export const PRIMITIVE_DEFS = [pte, fault, numaHint, perfMem, ibs, spe, chmu] as const satisfies readonly PrimitiveDef[];

type Def = (typeof PRIMITIVE_DEFS)[number];
/** The one primitive-name type. */
export type PrimitiveName = Def["name"];
/** The definition of primitive N. */
export type DefOf<N extends PrimitiveName> = Extract<Def, { name: N }>;
/** What primitive N's install returns (its sampler or handler). */
export type InstanceOf<N extends PrimitiveName> = ReturnType<DefOf<N>["install"]>;
/** Primitive N's options (what --param N.KEY=V sets). */
export type OptionsOf<N extends PrimitiveName> = DefOf<N> extends PrimitiveDef<N, infer O, unknown> ? O : never;
/** Options per primitive, as the monitor takes them. */
export type PrimitiveParams = { [N in PrimitiveName]?: Partial<OptionsOf<N>> };
/** A probe filter type some primitive's evidence answers ("pte-accessed", "ibs-reported", ...). */
export type EvidenceType = Def["evidence"];

export const PRIMITIVES: readonly PrimitiveName[] = PRIMITIVE_DEFS.map((d) => d.name);
/** The primitives that report through damon_report_access(). */
export const REPORTING_PRIMITIVES: readonly PrimitiveName[] = PRIMITIVE_DEFS.filter((d) => d.reports).map((d) => d.name);

const BY_NAME: ReadonlyMap<string, Def> = new Map(PRIMITIVE_DEFS.map((d) => [d.name, d]));

export const isPrimitiveName = (s: unknown): s is PrimitiveName => typeof s === "string" && BY_NAME.has(s);

/** A primitive's id: its index in the registry. */
export const primitiveId = (p: PrimitiveName): number => PRIMITIVES.indexOf(p);

export function primitiveDef<N extends PrimitiveName>(name: N): DefOf<N> {
  return BY_NAME.get(name) as DefOf<N>;
}

/** The primitive whose evidence a probe filter type is, if any. */
export function primitiveOfEvidence(type: string): PrimitiveName | undefined {
  return PRIMITIVE_DEFS.find((d) => d.evidence === type)?.name;
}

/** "a, b, c or d" */
export const orList = (xs: readonly string[]): string => (xs.length < 2 ? xs.join("") : `${xs.slice(0, -1).join(", ")} or ${xs[xs.length - 1]}`);

/** A primitive's parameters, as ParamSpecs by key. */
export function paramSpecs(name: PrimitiveName): Readonly<Record<string, ParamSpec>> {
  return primitiveDef(name).params;
}

/** "1000 ns", "on when the machine has more than one node": how a parameter's default reads. */
export function defaultText(p: ParamSpec): string {
  if (p.default === null) return p.defaultText ?? "-";
  return `${String(p.default)}${p.unit !== null && typeof p.default === "number" ? ` ${p.unit}` : ""}`;
}

/** Checks a --param value against its spec; returns an error message or null. */
export function checkParamValue(p: ParamSpec, v: ParamValue): string | null {
  if (p.type === "boolean") return typeof v === "boolean" ? null : `takes true or false, got ${String(v)}`;
  if (typeof v !== "number") return `takes a number${p.unit !== null ? ` (${p.unit})` : ""}, got ${String(v)}`;
  if (p.type === "integer" && Number.isFinite(v) && !Number.isInteger(v)) return `takes an integer${p.unit !== null ? ` (${p.unit})` : ""}, got ${v}`;
  return null;
}

/** Every primitive with its parameters, for `damon-sim primitives` and --help. */
export function primitivesHelp(only?: PrimitiveName): string {
  const lines: string[] = [];
  for (const d of PRIMITIVE_DEFS) {
    if (only !== undefined && d.name !== only) continue;
    lines.push(`${d.name.padEnd(10)} ${d.summary}`);
    lines.push(`${"".padEnd(10)} evidence for probes: ${d.evidence}${d.reports ? "; reports through damon_report_access()" : ""}`);
    const params: Readonly<Record<string, ParamSpec>> = d.params;
    for (const [k, p] of Object.entries(params)) {
      const aliases = p.aliases && p.aliases.length > 0 ? ` (also ${p.aliases.map((a) => `${d.name}.${a}`).join(", ")})` : "";
      lines.push(`  ${d.name}.${k}=${p.type === "boolean" ? "true|false" : p.unit ?? "N"}${aliases}`);
      lines.push(`      ${p.help}`);
      lines.push(`      default ${defaultText(p)}: ${p.source}`);
    }
  }
  return lines.join("\n");
}

export type { ParamSpec, ParamValue, PrimitiveDef } from "./types.ts";
