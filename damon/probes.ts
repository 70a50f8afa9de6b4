// Data attributes monitoring (damon.md 4.2-4.4): a context holds up to 4 probes (the limit is a
// switch), each a list of filters. At every sample, each region's sampled page is tested against
// every probe; a probe the sample passes adds one hit to the region. Hits are reset at each
// aggregation (last hits kept), copied on split and size-weighted on merge, like nr_accesses, so
// hits / samples-per-aggregation x region size estimates the bytes with the attribute.
// Attributes: the page's backing (anon), memory cgroup and NUMA node; and access evidence per
// primitive, one filter type each from the registry (damon/primitives/: "pte-accessed" for the
// Accessed bit, "NAME-reported" for a primitive that reports), plus written and accessed from a
// CPU set.
// Filter evaluation is the intended one: the first filter whose match equals `matching` decides
// (pass = allow); if none does, pass = !(last filter's allow); no filters pass everything; a
// sample with no page behind it matches no filter.

import { InputError } from "../sim/errors.ts";
import { PRIMITIVE_DEFS, primitiveId, type EvidenceType } from "./primitives/index.ts";

export type ProbeFilterType = "anon" | "memcg" | "node" | EvidenceType | "written" | "cpus";
export const PROBE_FILTER_TYPES: readonly ProbeFilterType[] = ["anon", "memcg", "node", ...PRIMITIVE_DEFS.map((d) => d.evidence), "written", "cpus"];

export interface ProbeFilter {
  type: ProbeFilterType;
  matching: boolean;
  allow: boolean;
  memcg?: number;
  node?: number;
  cpus?: ReadonlySet<number>;
}

export interface Probe {
  name: string;
  filters: ProbeFilter[];
  /** Attributes-only mode: a non-zero weight makes the probe drive region adjustment. */
  weight: number;
}

export const DEFAULT_MAX_PROBES = 4;

/** What is known about one region's sample this interval. */
export interface SampleEvidence {
  /** A page is mapped at the sampling address. */
  present: boolean;
  anon: boolean;
  memcg: number;
  node: number;
  pteYoung: boolean;
  /** Bitmask by primitive id (the registry's order, damon/primitives/) of reports crediting the region. */
  reportedBy: number;
  /** A credited report was a write. */
  written: boolean;
  /** Bitmask over this context's CPU-set filters: a credited report came from a CPU of set j. */
  cpuSets: number;
}

/** Each reporting primitive's evidence type: its bit in SampleEvidence.reportedBy. */
const REPORT_BIT: ReadonlyMap<string, number> = new Map(PRIMITIVE_DEFS.filter((d) => d.reports).map((d) => [d.evidence, 1 << primitiveId(d.name)]));

/** Index of each distinct CPU set used by cpus filters, in first-use order. */
export function cpuSetsOf(probes: readonly Probe[]): Array<ReadonlySet<number>> {
  const out: Array<ReadonlySet<number>> = [];
  for (const p of probes) for (const f of p.filters) if (f.type === "cpus" && f.cpus && !out.includes(f.cpus)) out.push(f.cpus);
  return out;
}

function matches(f: ProbeFilter, e: SampleEvidence, cpuSets: ReadonlyArray<ReadonlySet<number>>): boolean {
  if (!e.present && (f.type === "anon" || f.type === "memcg" || f.type === "node" || f.type === "pte-accessed")) return false;
  switch (f.type) {
    case "anon":
      return e.anon;
    case "memcg":
      return e.memcg === f.memcg;
    case "node":
      return e.node === f.node;
    case "pte-accessed":
      return e.pteYoung;
    case "written":
      return e.written;
    case "cpus":
      return (e.cpuSets & (1 << cpuSets.indexOf(f.cpus!))) !== 0;
    default:
      return (e.reportedBy & REPORT_BIT.get(f.type)!) !== 0;
  }
}

export function probePasses(p: Probe, e: SampleEvidence, cpuSets: ReadonlyArray<ReadonlySet<number>>): boolean {
  if (p.filters.length === 0) return true;
  for (const f of p.filters) if (matches(f, e, cpuSets) === f.matching) return f.allow;
  return !p.filters[p.filters.length - 1]!.allow;
}

/** Whether any probe needs PTE Accessed-bit evidence (then samples are mkold'ed, like set_pgidle). */
export const needsPteEvidence = (probes: readonly Probe[]): boolean => probes.some((p) => p.filters.some((f) => f.type === "pte-accessed"));

/**
 * Parses a probe from the command line: "name:FILTER[;FILTER...][@weight]" where a filter is
 * "[!]type[=value][/reject]" ('!' = matching N; '/reject' = allow N), e.g. "anon:anon",
 * "memcg2:memcg=2", "node1:node=1", "ibs:ibs-reported", "local0:cpus=0-7;node=0".
 */
export function parseProbe(text: string, parseCpus: (s: string) => Set<number>): Probe {
  const at = text.lastIndexOf("@");
  const body = at >= 0 ? text.slice(0, at) : text;
  const weight = at >= 0 ? Number(text.slice(at + 1)) : 0;
  if (!Number.isInteger(weight) || weight < 0) throw new InputError(`bad probe weight in '${text}'`, { field: "--probe" });
  const colon = body.indexOf(":");
  const name = colon >= 0 ? body.slice(0, colon) : body;
  const list = colon >= 0 ? body.slice(colon + 1) : name;
  const filters = list.split(";").filter((s) => s.trim() !== "").map((raw): ProbeFilter => {
    let s = raw.trim();
    const matching = !s.startsWith("!");
    if (!matching) s = s.slice(1);
    const reject = s.endsWith("/reject");
    if (reject) s = s.slice(0, -"/reject".length);
    const eq = s.indexOf("=");
    const type = (eq >= 0 ? s.slice(0, eq) : s) as ProbeFilterType;
    const value = eq >= 0 ? s.slice(eq + 1) : undefined;
    if (!PROBE_FILTER_TYPES.includes(type)) throw new InputError(`unknown probe filter type '${type}' in '${text}' (known: ${PROBE_FILTER_TYPES.join(", ")})`, { field: "--probe" });
    const f: ProbeFilter = { type, matching, allow: !reject };
    if (type === "memcg" || type === "node") {
      const n = Number(value);
      if (value === undefined || !Number.isInteger(n) || n < 0) throw new InputError(`probe filter '${type}' needs a non-negative integer (${type}=N) in '${text}'`, { field: "--probe" });
      if (type === "memcg") f.memcg = n;
      else f.node = n;
    } else if (type === "cpus") {
      if (value === undefined) throw new InputError(`probe filter 'cpus' needs a cpulist (cpus=0-3) in '${text}'`, { field: "--probe" });
      f.cpus = parseCpus(value);
    } else if (value !== undefined) {
      throw new InputError(`probe filter '${type}' takes no value in '${text}'`, { field: "--probe" });
    }
    return f;
  });
  return { name, filters, weight };
}
