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
// DAMOS (damon/schemes/; damos.md, whose ML72 = about v7.2-rc1 is "mainline" here):
//
//   rule                 v6.12  v6.18  v7.1  mainline  next   source
//   release              612    618    701   702       703    feature gates (703 = later than 7.2)
//   damosMvsum           no     no     no    yes       yes    patterns and hot/cold scores read the
//                                                             on-demand mvsum; before, nr_accesses_bp /
//                                                             10000 (scores: the raw nr_accesses)
//   damosFailCharge      no     no     no    yes       yes    fail_charge_{num,denom} (c7ec7d5f6b3d1)
//   damosQuotaFullMin-   no     no     no    yes       yes    a quota with less than min_region_sz left
//     Region                                                  is full ("handle <min_region_sz remaining
//                                                             quota as empty", the fail-charge series);
//                                                             before, only charged >= esz
//   damosGoalTuner       no     no     yes   yes       yes    goal_tuner consist/temporal (8719c59c4b928)
//   damosHistogramCore-  no     no     yes   yes       yes    core filters also decide which regions the
//     Filters                                                 prioritisation histogram counts (7.1)
//   damosRemergeSlices   no     no     no    yes       yes    damos_apply_target merges quota slices back
//   damosChargeAddr-     yes    yes    yes   no        no     charge_addr_from = r->ar.end + 1 (7.2:
//     PastEnd                                                 r->ar.end)
//   damosSkipLastRegion  yes    yes    yes   yes       no     damos_skip_charged_region skips the target's
//                                                             last region unconditionally (mm.git fixed it)
//   damosPsiSentinel     no     no     no    no        yes    last_psi_total = U64_MAX until the first read
//   damosTimeQuotaFloor  no     no     no    no        yes    min_region_sz floors the time quota before
//                                                             the min (temporal can give 0 with ms set)
//   damosTemporalSatur-  no     no     no    no        yes    the temporal tuner's sz * 10000 saturates
//     ates                                                    (7.2 wraps)
//   damosSzTriedFiltered no     no     no    no        yes    sz_tried is the size left after the core
//                                                             filters' splits (7.2: before them)
//
// A scheme using a DAMOS feature its kernel predates is refused (damon/schemes/features.ts).
//
// "mainline" is the torvalds/linux state the reference notes were taken from (core.c@004ded6b,
// stat.c@06f5ff36) plus the 6.18 age rule; v7.1 models the same monitoring rules (no change the
// simulator models is confirmed between them). For DAMOS, mainline is damos.md's ML72 (about
// v7.2-rc1) and v7.1 its ML71; v6.12 and v6.18 run v7.1's DAMOS minus the goal tuners and the
// histogram's core filters (their other DAMOS differences from 7.1 are not modelled), and refuse
// the features they predate. Without --kernel, the older --variant switch still works: its
// "mainline" is the mainline rule set with the report-access RFC and the probes series applied on
// top, so the push primitives and probes stay usable, and its "next" is the next rule set.

import { InputError } from "../sim/errors.ts";

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
  /** The release modelled, major * 100 + minor (mainline = 702, about v7.2-rc1; next = 703, later than 7.2): DAMOS feature gates. */
  readonly release: number;
  /** DAMOS reads nr_accesses as the on-demand mvsum (patterns, scores, tried regions); before, nr_accesses_bp / 10000 and the raw count. */
  readonly damosMvsum: boolean;
  /** The quota's fail-charge ratio (7.2). */
  readonly damosFailCharge: boolean;
  /** damos_quota_is_full also when less than min_region_sz is left (7.2). */
  readonly damosQuotaFullMinRegion: boolean;
  /** The quota goal tuners consist and temporal (v7.1). */
  readonly damosGoalTuner: boolean;
  /** Core filters also decide what the prioritisation histogram counts (v7.1). */
  readonly damosHistogramCoreFilters: boolean;
  /** damos_apply_target merges quota slices back into the previous region (7.2). */
  readonly damosRemergeSlices: boolean;
  /** charge_addr_from = region end + 1 (up to v7.1; 7.2 uses the end). */
  readonly damosChargeAddrPastEnd: boolean;
  /** damos_skip_charged_region always skips the target's last region while resuming (fixed after 7.2). */
  readonly damosSkipLastRegion: boolean;
  /** some_mem_psi_us starts from the U64_MAX sentinel (after 7.2). */
  readonly damosPsiSentinel: boolean;
  /** min_region_sz floors the time-derived quota before the min with the other quotas (after 7.2). */
  readonly damosTimeQuotaFloor: boolean;
  /** The temporal tuner's sz * 10000 saturates at ULONG_MAX instead of wrapping (after 7.2). */
  readonly damosTemporalSaturates: boolean;
  /** sz_tried counts the region as left by the core filters' splits (after 7.2). */
  readonly damosSzTriedFiltered: boolean;
}

const MAINLINE: Omit<KernelRules, "name"> = {
  core: "mainline",
  ageResetOnZeroChange: true,
  minRegionsAtStart: false,
  intervalsTuning: true,
  damonStat: true,
  reportAccess: false,
  probes: false,
  release: 702,
  damosMvsum: true,
  damosFailCharge: true,
  damosQuotaFullMinRegion: true,
  damosGoalTuner: true,
  damosHistogramCoreFilters: true,
  damosRemergeSlices: true,
  damosChargeAddrPastEnd: false,
  damosSkipLastRegion: true,
  damosPsiSentinel: false,
  damosTimeQuotaFloor: false,
  damosTemporalSaturates: false,
  damosSzTriedFiltered: false,
};

/** DAMOS as in v7.1: goal tuners and histogram core filters, but nr_accesses_bp, no fail charge, no slice re-merge. */
const DAMOS_V71 = { damosMvsum: false, damosFailCharge: false, damosQuotaFullMinRegion: false, damosRemergeSlices: false, damosChargeAddrPastEnd: true } as const;
/** DAMOS before v7.1: neither goal tuners nor core filters in the histogram. */
const DAMOS_OLD = { ...DAMOS_V71, damosGoalTuner: false, damosHistogramCoreFilters: false } as const;

const RULES: Record<KernelVersion, Omit<KernelRules, "name">> = {
  "v6.12": { ...MAINLINE, ...DAMOS_OLD, ageResetOnZeroChange: false, intervalsTuning: false, damonStat: false, release: 612 },
  "v6.18": { ...MAINLINE, ...DAMOS_OLD, release: 618 },
  "v7.1": { ...MAINLINE, ...DAMOS_V71, release: 701 },
  mainline: MAINLINE,
  next: {
    ...MAINLINE,
    core: "next",
    minRegionsAtStart: true,
    reportAccess: true,
    probes: true,
    release: 703,
    damosSkipLastRegion: false,
    damosPsiSentinel: true,
    damosTimeQuotaFloor: true,
    damosTemporalSaturates: true,
    damosSzTriedFiltered: true,
  },
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

/** State the split pass keeps between aggregations (the kernel's static last_nr_regions and rotation). */
export interface SplitState {
  lastNrRegions: number;
  rotation: number;
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
