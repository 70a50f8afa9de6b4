// The adaptive-regions arithmetic of DAMON's core, as pure functions over targets so that the
// kernel's KUnit cases can be checked directly: the per-sample access-rate update with mainline's
// moving sum (and damon/next's mvsum), the merge pass with its age rules and threshold escalation,
// the split pass, reset at aggregation, damon_apply_min_nr_regions and damon_region_sz_limit, and
// the rescaling of results when the intervals change. Reference: damon.md sections 1.2-1.7.

import type { DamonAttrs } from "./attrs.ts";
import { nrSamplesPerAggr } from "./attrs.ts";
import { rulesOf, type KernelRules, type SplitState, type Variant } from "./kernel.ts";
import { alignDown, alignUp, MAX_PROBES, mergeTwo, splitRegionAt, type Region, type Target } from "./region.ts";

export type { SplitState, Variant } from "./kernel.ts";

/** Mainline's damon_moving_sum: mvsum - nomvsum / window + new (integer). */
export function movingSum(mvsum: number, nomvsum: number, lenWindow: number, newValue: number): number {
  return mvsum - Math.floor(nomvsum / lenWindow) + newValue;
}

/** damon/next's damon_mvsum: cur + last * leftBp / 10000 (integer). */
export function mvsum(cur: number, last: number, leftBp: number): number {
  return cur + Math.floor((last * leftBp) / 10000);
}

/** damon/next's damon_nr_accesses_mvsum at sample count `passed` with the next aggregation at `nextAggr`. */
export function nrAccessesMvsum(r: Region, attrs: Pick<DamonAttrs, "sampleUs" | "aggrUs">, passed: number, nextAggr: number): number {
  const window = nrSamplesPerAggr(attrs);
  const left = passed >= nextAggr ? 0 : nextAggr - passed;
  const leftBp = Math.floor((left * 10000) / window);
  if (leftBp === 10000) return r.lastNrAccesses;
  return mvsum(r.nrAccesses, r.lastNrAccesses, leftBp);
}

/** damon_update_region_access_rate: +1 if accessed, and mainline's moving sum in basis points. */
export function updateAccessRate(r: Region, accessed: boolean, windowLen: number): void {
  r.nrAccessesBp = movingSum(r.nrAccessesBp, r.lastNrAccesses * 10000, windowLen, accessed ? 10000 : 0);
  if (accessed) r.nrAccesses++;
}

/**
 * damon_merge_regions_of: walks t's regions in address order updating ages (when `countAge`) and
 * merging each region into the previous one if adjacent, |nr difference| <= thres and the merged
 * size stays within szLimit. `score` gives the value compared and aged (nr_accesses by default;
 * the attributes-only mode passes the weighted probe hits). The age restarts at 0 when the value
 * moved by more than thres and, from v6.18 on (`zeroChangeResetsAge`), also when it went from zero
 * to non-zero or back.
 */
export function mergeRegionsOf(
  t: Target,
  thres: number,
  szLimit: number,
  countAge = true,
  score: (r: Region) => number = (r) => r.nrAccesses,
  lastScore: (r: Region) => number = (r) => r.lastNrAccesses,
  zeroChangeResetsAge = true,
): void {
  let prev = -1;
  for (let i = 0; i < t.regions.length; ) {
    const r = t.regions[i]!;
    if (countAge) {
      const cur = score(r), last = lastScore(r);
      if (Math.abs(cur - last) > thres) r.age = 0;
      else if (zeroChangeResetsAge && (cur === 0) !== (last === 0)) r.age = 0;
      else r.age++;
    }
    if (prev >= 0) {
      const p = t.regions[prev]!;
      if (p.end === r.start && Math.abs(score(p) - score(r)) <= thres && p.size + r.size <= szLimit) {
        mergeTwo(t, prev);
        continue; // the next region now sits at index i
      }
    }
    prev = i;
    i++;
  }
}

function totalRegions(targets: Target[]): number {
  let n = 0;
  for (const t of targets) n += t.regions.length;
  return n;
}

/**
 * kdamond_merge_regions: merge passes over every target with escalating thresholds while the region
 * count exceeds maxNrRegions. Mainline repeats the age update on every pass and stops when
 * threshold/2 >= max_thres; damon/next ages only on the first pass and jumps to max_thres once the
 * doubled threshold reaches max_thres/2. `kernel` gives the core semantics and the age rule (a bare
 * variant means that variant's rules).
 */
export function mergeRegions(
  targets: Target[],
  threshold: number,
  szLimit: number,
  attrs: DamonAttrs,
  kernel: Variant | KernelRules = "mainline",
  score?: (r: Region) => number,
  lastScore?: (r: Region) => number,
): void {
  const rules = rulesOf(kernel);
  const variant = rules.core;
  const maxThres = nrSamplesPerAggr(attrs);
  let thres = threshold;
  let first = true;
  for (;;) {
    for (const t of targets) mergeRegionsOf(t, thres, szLimit, variant === "mainline" || first, score, lastScore, rules.ageResetOnZeroChange);
    first = false;
    const n = totalRegions(targets);
    if (variant === "mainline") {
      thres = Math.max(1, thres * 2);
      if (!(n > attrs.maxNrRegions && Math.floor(thres / 2) < maxThres)) return;
    } else {
      if (n <= attrs.maxNrRegions || thres >= maxThres) return;
      thres = Math.max(1, thres * 2);
      if (thres >= Math.floor(maxThres / 2)) thres = maxThres;
    }
  }
}

/** kdamond_reset_aggregated: last_nr_accesses (and last probe hits) take the window's values, which restart at 0. */
export function resetAggregated(targets: Target[], onRegion?: (t: Target, r: Region) => void): number {
  let fixes = 0;
  for (const t of targets) {
    for (const r of t.regions) {
      if (onRegion) onRegion(t, r);
      // damon_warn_fix_nr_accesses_corruption: at a window boundary the moving sum equals nr * 10000
      if (r.nrAccessesBp !== r.nrAccesses * 10000) {
        r.nrAccessesBp = r.nrAccesses * 10000;
        fixes++;
      }
      r.lastNrAccesses = r.nrAccesses;
      r.nrAccesses = 0;
      for (let p = 0; p < MAX_PROBES; p++) {
        r.lastProbeHits[p] = r.probeHits[p]!;
        r.probeHits[p] = 0;
      }
    }
  }
  return fixes;
}

/** Random integer in [lo, hi) (damon_rand). */
export type RandRange = (lo: number, hi: number) => number;

/**
 * damon_split_regions_of: up to nrSubs-1 rounds per region (while it is larger than 2*minSz), each
 * cutting the current left piece at ALIGN_DOWN(rand(1..9) * size / 10, minSz); pieces made in this
 * call are not visited again.
 */
export function splitRegionsOf(t: Target, nrSubs: number, minSz: number, rand: RandRange): void {
  for (let i = 0; i < t.regions.length; ) {
    const orig = t.regions.length;
    let sz = t.regions[i]!.size;
    for (let k = 0; k < nrSubs - 1 && sz > 2 * minSz; k++) {
      const sub = alignDown(Math.floor((rand(1, 10) * sz) / 10), minSz);
      if (sub === 0 || sub >= sz) continue;
      splitRegionAt(t, i, sub);
      sz = sub;
    }
    i += 1 + (t.regions.length - orig);
  }
}


/**
 * kdamond_split_regions. Mainline: nothing above max/2 regions; 3 pieces when the count did not
 * change since the last split and is below max/3, else 2. damon/next: nothing at or above max;
 * between max/2 and max, damon_split_some_regions splits every step-th region (step =
 * max / (max - N)) at a rotating offset.
 */
export function splitRegions(targets: Target[], attrs: DamonAttrs, minSz: number, rand: RandRange, state: SplitState, kernel: Variant | KernelRules = "mainline"): void {
  const variant = rulesOf(kernel).core;
  const n = totalRegions(targets);
  const max = attrs.maxNrRegions;
  if (variant === "mainline") {
    if (n > Math.floor(max / 2)) return;
    const nrSubs = n === state.lastNrRegions && n < Math.floor(max / 3) ? 3 : 2;
    for (const t of targets) splitRegionsOf(t, nrSubs, minSz, rand);
    state.lastNrRegions = n;
    return;
  }
  if (n >= max) {
    state.lastNrRegions = n;
    return;
  }
  if (n > Math.floor(max / 2)) {
    const step = Math.floor(max / (max - n));
    const offset = state.rotation++ % step;
    let idx = 0;
    for (const t of targets) {
      for (let i = 0; i < t.regions.length; i++, idx++) {
        if (idx % step !== offset) continue;
        const r = t.regions[i]!;
        if (r.size < 2 * minSz) continue;
        const sub = alignDown(Math.floor((rand(1, 10) * r.size) / 10), minSz);
        if (sub === 0 || sub >= r.size) continue;
        splitRegionAt(t, i, sub);
        i++; // skip the new piece
      }
    }
    state.lastNrRegions = n;
    return;
  }
  const nrSubs = n === state.lastNrRegions && n < Math.floor(max / 3) ? 3 : 2;
  for (const t of targets) splitRegionsOf(t, nrSubs, minSz, rand);
  state.lastNrRegions = n;
}

/** damon_region_sz_limit: total bytes / min_nr_regions, at least minSz. */
export function regionSzLimit(targets: Target[], minNrRegions: number, minSz: number): number {
  let sz = 0;
  for (const t of targets) sz += t.totalBytes();
  const lim = Math.floor(sz / minNrRegions);
  return lim < minSz ? minSz : lim;
}

/**
 * damon_apply_min_nr_regions: limit = max(total / min_nr_regions, minSz) aligned up to minSz;
 * every region larger than the limit is cut into pieces of exactly `limit` bytes (the remainder
 * last). Returns the limit.
 */
export function applyMinNrRegions(targets: Target[], minNrRegions: number, minSz: number): number {
  let total = 0;
  for (const t of targets) total += t.totalBytes();
  const limit = alignUp(Math.max(Math.floor(total / minNrRegions), minSz), minSz);
  for (const t of targets) {
    for (let i = 0; i < t.regions.length; i++) {
      while (t.regions[i]!.size > limit) {
        splitRegionAt(t, i, limit);
        i++;
      }
    }
  }
  return limit;
}

/**
 * damon_update_monitoring_result: rescales a region's age and nr_accesses when the intervals change
 * from `old` to `now`. Mid-window, last_nr_accesses is converted instead and nr_accesses restarts
 * at 0 (mainline also resets the moving sum to last * 10000).
 */
export function updateMonitoringResult(r: Region, old: DamonAttrs, now: DamonAttrs, aggregating: boolean): void {
  const convert = (nr: number): number => {
    const bp = Math.floor((nr * 10000) / nrSamplesPerAggr(old));
    return Math.floor((bp * nrSamplesPerAggr(now)) / 10000);
  };
  if (!aggregating) {
    r.nrAccesses = convert(r.nrAccesses);
    r.nrAccessesBp = r.nrAccesses * 10000;
  } else {
    r.lastNrAccesses = convert(r.lastNrAccesses);
    r.nrAccesses = 0;
    r.nrAccessesBp = r.lastNrAccesses * 10000;
  }
  r.age = now.aggrUs === 0 ? r.age : Math.floor((r.age * old.aggrUs) / now.aggrUs);
}
