// What kdamond's work costs the CPU it runs on, so overhead is comparable across primitives.
// Defaults are order-of-magnitude figures: a 4-level page-table walk that hits the page-walk
// caches (~30 cycles, hardware.md 4.2) plus the mm lock and locking of the PTE page; an rmap walk
// per mapping with folio lookup and lock; a few tens of ns of region bookkeeping per sample
// (random address, rate update). They are parameters, reported with results, not facts.

export interface DamonCosts {
  /** Per region per sample: pick the sampling address, update the access rate. */
  regionNs: number;
  /** vaddr: find and lock the PTE of a sampled address (mkold or young check). */
  vaddrWalkNs: number;
  /** paddr: look up and lock the folio of a sampled physical address. */
  folioLookupNs: number;
  /** paddr: visit one mapping during an rmap walk (mkold or young check of that PTE). */
  rmapPerMappingNs: number;
  /** Per region per aggregation: merge, reset, split and snapshot bookkeeping. */
  aggregateRegionNs: number;
  /** Draining one access report (report-based primitives). */
  reportNs: number;
}

export function defaultDamonCosts(): DamonCosts {
  return { regionNs: 25, vaddrWalkNs: 120, folioLookupNs: 60, rmapPerMappingNs: 150, aggregateRegionNs: 40, reportNs: 15 };
}

/**
 * DAMOS action walks (damon/schemes/machine-actions.ts): kdamond's time per page step of the walk
 * over a region, ns. paddr steps through every page frame (pfn_to_online_page, folio lookup and
 * refcount, LRU test), by whole folios where one is found; vaddr through every PTE of populated
 * page tables. A stated estimate, not a measurement: about 100 cycles at 3 GHz, below a sampled
 * folio lookup with its lock (folioLookupNs) since a walk goes through neighbouring, cached
 * entries. Filters, migrations, pageouts and shootdowns are charged on top by what they cost.
 */
export const SCHEME_WALK_PAGE_NS = 30;
