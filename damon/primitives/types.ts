// What one access check primitive is to DAMON (the shape every module of damon/primitives/
// fills): its name, its parameters (type, unit, default and where that default comes from, help),
// what kdamond does for it at each sample, how it installs on the machine and feeds
// damon_report_access(), its start and stop (kdamond calls them for every installed primitive),
// its statistics, the data-attribute evidence it gives, and its line of CLI help; and the start,
// stop and statistics that every primitive backed by a hardware sampler shares (SAMPLER_LIFECYCLE).

import type { Stats } from "../../sim/stats.ts";
import type { Machine } from "../../hw/machine.ts";
import type { PrimitiveServices, PrimitiveSink } from "../../hw/primitives/index.ts";

export type ParamValue = number | boolean;

/** One --param PRIMITIVE.KEY=VALUE a primitive takes. */
export interface ParamSpec {
  readonly type: "number" | "integer" | "boolean";
  /** Unit of a number ("ns", "ms", "ops", ...); null for counts and booleans. */
  readonly unit: string | null;
  /** The default, or null when it depends on the machine (defaultText says how). */
  readonly default: ParamValue | null;
  readonly defaultText?: string;
  /** Where the default comes from (a kernel default, a paper, an estimate). */
  readonly source: string;
  readonly help: string;
  /** Other spellings accepted after "PRIMITIVE." (dashed keys are accepted anyway). */
  readonly aliases?: readonly string[];
}

/** What kdamond does for a primitive at every sample, on each region's sampled address. */
export type SampleAction =
  /** mkold the PTE at prepare, test young at check (the Accessed-bit primitive). */
  | "accessed-bit"
  /** arm a PROT_NONE trap at prepare; a touch reports (the page-fault primitive). */
  | "trap"
  /** nothing: the primitive reports by itself, drained at check. */
  | "none";

/** What an install gets: the machine, the shared kernel services, the primitive's parameters (checked against its ParamSpecs) and its report sink. */
export interface InstallEnv<O = object> {
  readonly machine: Machine;
  readonly services: PrimitiveServices;
  readonly params: Readonly<O>;
  /** damon_report_access() for this primitive's events (null for a primitive that does not report). */
  readonly sink: PrimitiveSink;
}

/** A ParamSpec for every option of O (the compiler checks none is missing or extra). */
export type ParamSpecs<O> = { readonly [K in keyof Required<O>]: ParamSpec };

/**
 * One primitive. O is its options (what --param sets), I what its install returns (the hardware
 * sampler, the kernel handler) and start/stop/registerStats receive; method syntax keeps every
 * definition assignable to the registry's element type.
 */
export interface PrimitiveDef<N extends string = string, O = object, I = unknown> {
  readonly name: N;
  /** One line for --help and `damon-sim primitives`. */
  readonly summary: string;
  /** Reports through damon_report_access() (and so can be filtered, and tells who accessed). */
  readonly reports: boolean;
  readonly sample: SampleAction;
  /** The probe filter type its evidence answers (data attributes). */
  readonly evidence: string;
  readonly params: ParamSpecs<O>;
  /** Parameters the built-in comparison scenarios use for their short runs (dense sampling). */
  readonly scenarioParams: Readonly<Record<string, ParamValue>>;
  /** It joins the built-in filtered-monitoring scenarios (numa-hit-miss, ksm-targets, live-migration). */
  readonly filteredScenarios: boolean;
  install(env: InstallEnv<O>): I;
  /** Called by kdamond when it starts (before its first sample). */
  start(instance: I): void;
  /** Called by kdamond when it stops. */
  stop(instance: I): void;
  registerStats(instance: I, stats: Stats): void;
}

/** A primitive instance that is a hardware sampler: it joins and leaves the machine (attach, detach) and has its own counters. */
export interface Sampler {
  attach(): unknown;
  detach(): void;
  registerStats(stats: Stats): void;
}

/** start, stop and registerStats of a primitive whose instance is a Sampler: kdamond's start attaches it, its stop detaches it. */
export const SAMPLER_LIFECYCLE = {
  start(s: Sampler): void {
    s.attach();
  },
  stop(s: Sampler): void {
    s.detach();
  },
  registerStats(s: Sampler, stats: Stats): void {
    s.registerStats(stats);
  },
} as const;
