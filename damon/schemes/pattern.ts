// __damos_valid_target: does a region fit a scheme's access pattern (damos.md 1, "How nr_accesses
// is matched")? Size in bytes, age in aggregation intervals, and nr_accesses as the kernel reads it
// for matching: the on-demand mvsum in 7.2 (rule damosMvsum), nr_accesses_bp / 10000 before.
// Every range is closed.

import { nrAccessesMvsum } from "../aggregate.ts";
import type { Region } from "../region.ts";
import type { AccessPattern, SchemeContext } from "./types.ts";

/** The nr_accesses a pattern is matched against. */
export function patternNr(ctx: SchemeContext, r: Region): number {
  return ctx.kernel.damosMvsum ? nrAccessesMvsum(r, ctx.attrs, ctx.passed, ctx.nextAggregationSis) : Math.floor(r.nrAccessesBp / 10000);
}

export function patternMatch(ctx: SchemeContext, r: Region, p: AccessPattern): boolean {
  const sz = r.size, nr = patternNr(ctx, r);
  return p.szRegion.min <= sz && sz <= p.szRegion.max && p.nrAccesses.min <= nr && nr <= p.nrAccesses.max && p.age.min <= r.age && r.age <= p.age.max;
}
