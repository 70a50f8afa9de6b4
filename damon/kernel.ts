// Kernel versions as DAMON rule sets: `--kernel VERSION` picks one, and it sets every
// version-dependent rule the simulator models at once. Each rule names the kernel change behind it
// (mm/damon/core.c unless said otherwise); a version that predates a feature refuses to use it.
//
//   rule                 v6.12  v6.18  v7.1  mainline  next   source
//   core semantics       ML     ML     ML    ML        DN-b   merge escalation, split_some_regions, mvsum
//   age reset on 0<->n   no     yes    yes   yes       yes    damon_merge_regions_of, "reset age if
//                                                             nr_accesses changes between non-zero and
//                                                             zero" (posted 2025-09-15 for 6.18)
//   min regions at start no     no     no    no        yes    damon_apply_min_nr_regions, "always respect
//                                                             min_nr_regions from the beginning" (posted
//                                                             2026-02-17; damon/next, mm-new in 2026-03);
//                                                             before it vaddr splits its three regions
//                                                             evenly (__damon_va_init_regions) and paddr
//                                                             starts with the ranges it was given
//   intervals tuning     no     yes    yes   yes       yes    damon_intervals_goal, kdamond_tune_intervals
//                                                             (v6.15)
//   DAMON_STAT           no     yes    yes   yes       yes    mm/damon/stat.c (v6.17)
//   damon_report_access  no     no     no    no        yes    the report-access RFC series, damon/next only
//   probes               no     no     no    no        yes    struct damon_probe, data attributes monitoring
//                                                             (mm-new 2026-05-18; not in v7.1)
//
// "mainline" is the torvalds/linux state the reference notes were taken from (core.c@004ded6b,
// stat.c@06f5ff36) plus the 6.18 age rule; v7.1 models the same rules (no change the simulator models
// is confirmed between them). Without --kernel, the older --variant switch still works: its
// "mainline" is the mainline rule set with the report-access RFC and the probes series applied on
// top, so the push primitives and probes stay usable, and its "next" is the next rule set.

import { InputError } from "../sim/errors.ts";
import type { SplitState } from "./aggregate.ts";

/** DAMON core semantics: mainline, or damon/next where they differ (damon.md: ML vs DN-b). */
export type Variant = "mainline" | "next";

export const KERNEL_VERSIONS = ["v6.12", "v6.18", "v7.1", "mainline", "next"] as const;
export type KernelVersion = (typeof KERNEL_VERSIONS)[number];

export interface KernelRules {
  /** The version as given (--kernel), or "mainline+reports" for --variant mainline. */
  readonly name: string;
  readonly core: Variant;
  /** damon_merge_regions_of also resets the age when nr_accesses goes between zero and non-zero. */
  readonly ageResetOnZeroChange: boolean;
  /** damon_apply_min_nr_regions at start (vaddr then installs its three regions unsplit). */
  readonly minRegionsAtStart: boolean;
  readonly intervalsTuning: boolean;
  readonly damonStat: boolean;
  readonly reportAccess: boolean;
  /** Data-attribute probes (struct damon_probe). */
  readonly probes: boolean;
}

const MAINLINE: Omit<KernelRules, "name"> = {
  core: "mainline",
  ageResetOnZeroChange: true,
  minRegionsAtStart: false,
  intervalsTuning: true,
  damonStat: true,
  reportAccess: false,
  probes: false,
};

const RULES: Record<KernelVersion, Omit<KernelRules, "name">> = {
  "v6.12": { ...MAINLINE, ageResetOnZeroChange: false, intervalsTuning: false, damonStat: false },
  "v6.18": MAINLINE,
  "v7.1": MAINLINE,
  mainline: MAINLINE,
  next: { ...MAINLINE, core: "next", minRegionsAtStart: true, reportAccess: true, probes: true },
};

export function isKernelVersion(s: string): s is KernelVersion {
  return (KERNEL_VERSIONS as readonly string[]).includes(s);
}

/** The rules of a kernel version. */
export function kernelRules(v: KernelVersion): KernelRules {
  return { name: v, ...RULES[v] };
}

/** The rules --variant selected before --kernel existed (mainline keeps the push primitives usable). */
export function variantRules(v: Variant): KernelRules {
  return v === "next" ? kernelRules("next") : { name: "mainline+reports", ...RULES.mainline, reportAccess: true, probes: true };
}

/** Rules from a variant (the older switch) or rules; the default is --variant mainline. */
export function rulesOf(k: KernelRules | Variant | undefined): KernelRules {
  if (k === undefined) return variantRules("mainline");
  return typeof k === "string" ? variantRules(k) : k;
}

/** Parses --kernel (with --variant as its older spelling); throws an InputError naming `field`. */
export function parseKernel(kernel: string | undefined, variant: string | undefined, field = "kernel"): KernelRules {
  if (variant !== undefined && variant !== "mainline" && variant !== "next") throw new InputError(`--variant must be mainline or next, got '${variant}'`, { field: field.replace(/kernel$/, "variant") });
  if (kernel === undefined) return variantRules((variant as Variant | undefined) ?? "mainline");
  if (!isKernelVersion(kernel)) throw new InputError(`unknown kernel '${kernel}': one of ${KERNEL_VERSIONS.join(", ")}`, { field });
  const rules = kernelRules(kernel);
  if (variant !== undefined && variant !== rules.core) throw new InputError(`--variant ${variant} contradicts --kernel ${kernel} (whose core semantics are ${rules.core}); give one of them`, { field });
  return rules;
}

const SPLIT_STATICS = new WeakMap<object, SplitState>();

/**
 * kdamond_split_regions' `static unsigned int last_nr_regions` (and damon/next's rotating split
 * offset, also a function static): one per kernel, shared by every kdamond. The simulator's kernel
 * is its machine, so every context created on `machine` gets the same state.
 */
export function kernelSplitState(machine: object): SplitState {
  let s = SPLIT_STATICS.get(machine);
  if (s === undefined) {
    s = { lastNrRegions: 0, rotation: 0 };
    SPLIT_STATICS.set(machine, s);
  }
  return s;
}
