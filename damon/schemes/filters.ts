// DAMOS core filters (damos.md 5; core.c damos_filter_match, damos_core_filter_out,
// damos_set_filters_default_reject). A core filter decides per region: `addr` splits a region
// that straddles its range (aligned down to min_region_sz) so that the piece at hand is wholly in
// or out, `target` compares the target's index in its context. The first matching filter decides;
// with none matching, the layer's default: ops layer rejects when its last filter allows; the core
// layer never rejects by default once ops filters exist, else rejects when its last filter allows.

import { alignDown, splitRegionAt, type Target } from "../region.ts";
import type { DamosFilter } from "./types.ts";

/** damos_filters_default_reject: an empty list allows; otherwise the last filter's `allow`. */
function lastAllows(filters: readonly DamosFilter[]): boolean {
  return filters.length > 0 && filters[filters.length - 1]!.allow;
}

/** damos_set_filters_default_reject: the core and ops layers' defaults for unmatched memory. */
export function filtersDefaultReject(coreFilters: readonly DamosFilter[], opsFilters: readonly DamosFilter[]): { core: boolean; ops: boolean } {
  return { core: opsFilters.length > 0 ? false : lastAllows(coreFilters), ops: lastAllows(opsFilters) };
}

/**
 * damos_filter_match for core filters on region index i of t (among `targets`): may split the
 * region (the piece at index i is then wholly inside or outside the range; the rest follows it).
 */
export function coreFilterMatch(targets: readonly Target[], t: Target, i: number, f: DamosFilter, minSz: number): boolean {
  let matched = false;
  if (f.type === "target") {
    matched = targets.indexOf(t) === f.targetIdx;
  } else if (f.type === "addr") {
    const r = t.regions[i]!;
    const start = alignDown(f.addrStart ?? 0, minSz);
    const end = alignDown(f.addrEnd ?? 0, minSz);
    if (start <= r.start && r.end <= end) matched = true;
    else if (r.end <= start || end <= r.start) matched = false;
    else if (r.start < start) {
      splitRegionAt(t, i, start - r.start);
      matched = false;
    } else {
      splitRegionAt(t, i, end - r.start);
      matched = true;
    }
  } else {
    return false; // ops-layer types never match in the core
  }
  return matched === f.matching;
}

/** What damos_core_filter_out reads and sets on a scheme. */
export interface CoreFilterState {
  readonly coreFilters: readonly DamosFilter[];
  readonly coreFiltersDefaultReject: boolean;
  /** Set when an allow filter admitted the region (the ops layer then passes every folio). */
  coreFiltersAllowed: boolean;
}

/** damos_core_filter_out on region index i of t: the first matching filter decides, else the default. */
export function coreFilterOut(targets: readonly Target[], t: Target, i: number, s: CoreFilterState, minSz: number): boolean {
  s.coreFiltersAllowed = false;
  for (const f of s.coreFilters) {
    if (coreFilterMatch(targets, t, i, f, minSz)) {
      if (f.allow) s.coreFiltersAllowed = true;
      return !f.allow;
    }
  }
  return s.coreFiltersDefaultReject;
}
