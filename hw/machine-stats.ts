// The machine's statistics under gem5-style names: the memory-management counters (faults,
// migrations, shootdowns, swap and reclaim, THP splits, memory stall), per CPU its accesses, walks,
// faults, traps, cache and TLB hits and misses, CPU time by category and accesses by data source,
// per node its LLC, its memory's traffic, use and demand fills, the bytes migrated to it and its LRU.

import type { Stats } from "../sim/stats.ts";
import { CPU_TIME_NAMES } from "./cpu.ts";
import { DATA_SOURCE_NAMES } from "./hooks.ts";
import { LruList } from "./lru.ts";
import type { Machine } from "./machine.ts";

/** Registers machine `m`'s statistics in `stats` under `prefix`. */
export function registerMachineStats(m: Machine, stats: Stats, prefix = "system"): void {
  stats.gauge(`${prefix}.faults`, "demand-paging faults", () => m.faultsTotal);
  stats.gauge(`${prefix}.migrations`, "pages migrated", () => m.migrations);
  stats.gauge(`${prefix}.migrationFailures`, "migrations that found no free frame", () => m.migrationFailures);
  stats.gauge(`${prefix}.tlbShootdowns`, "TLB shootdowns", () => m.shootdowns);
  stats.gauge(`${prefix}.majorFaults`, "major faults (swap-ins and file refaults waited for)", () => m.majorFaults);
  stats.gauge(`${prefix}.swapIns`, "pages read back from swap or their file", () => m.swapIns);
  stats.gauge(`${prefix}.pagesOut`, "pages freed by pageout or reclaim", () => m.pagesOut);
  stats.gauge(`${prefix}.pageWrites`, "paged-out pages that needed a write (anon, or dirty file)", () => m.pageWrites);
  stats.gauge(`${prefix}.directReclaims`, "direct reclaim runs (an allocation found memory full)", () => m.directReclaims);
  stats.gauge(`${prefix}.directReclaimed`, "pages reclaimed by direct reclaim", () => m.directReclaimed);
  stats.gauge(`${prefix}.thpSplits`, "huge pages split", () => m.thpSplits);
  stats.gauge(`${prefix}.memStallTime`, "memory stall time (major faults, direct reclaim)", () => m.memStallNs, "Nanosecond");
  stats.gauge(`${prefix}.migrationCopyBytes`, "bytes copied by migrations that count their traffic", () => m.migrationCopyBytes, "Byte");
  m.cpus.forEach((c, i) => {
    const p = `${prefix}.cpu${i}`;
    stats.gauge(`${p}.accesses`, "memory accesses executed", () => c.accesses);
    stats.gauge(`${p}.ops`, "non-memory ops executed", () => c.ops);
    stats.gauge(`${p}.walks`, "page walks", () => c.walks);
    stats.gauge(`${p}.faults`, "demand-paging faults", () => c.faults);
    stats.gauge(`${p}.traps`, "PROT_NONE trap faults", () => c.traps);
    for (const [name, cache] of [["l1d", c.l1d], ["l1i", c.l1i], ["l2", c.l2]] as const) {
      stats.gauge(`${p}.${name}.hits`, `${name} hits`, () => cache.hits);
      stats.gauge(`${p}.${name}.misses`, `${name} misses`, () => cache.misses);
      stats.gauge(`${p}.${name}.writebacks`, `${name} dirty evictions`, () => cache.writebacks);
    }
    for (const [name, tlb] of [["dtlb", c.dtlb], ["dtlb2m", c.dtlbHuge], ["itlb", c.itlb], ["stlb", c.stlb]] as const) {
      stats.gauge(`${p}.${name}.hits`, `${name} hits`, () => tlb.hits);
      stats.gauge(`${p}.${name}.misses`, `${name} misses`, () => tlb.misses);
    }
    CPU_TIME_NAMES.forEach((n, k) => stats.gauge(`${p}.time.${n}`, `CPU time in ${n}`, () => c.time[k]!, "Nanosecond"));
    DATA_SOURCE_NAMES.forEach((n, k) => stats.gauge(`${p}.source.${n.replace(/ /g, "_")}`, `accesses served by ${n}`, () => c.sources[k]!));
  });
  m.llcs.forEach((llc, n) => {
    if (!llc) return;
    stats.gauge(`${prefix}.node${n}.llc.hits`, "LLC hits", () => llc.hits);
    stats.gauge(`${prefix}.node${n}.llc.misses`, "LLC misses", () => llc.misses);
    stats.gauge(`${prefix}.node${n}.llc.writebacks`, "LLC dirty evictions", () => llc.writebacks);
  });
  m.memory.nodes.forEach((node, n) => {
    stats.gauge(`${prefix}.node${n}.mem.readBytes`, "bytes read from this node's memory", () => node.readBytes, "Byte");
    stats.gauge(`${prefix}.node${n}.mem.writeBytes`, "bytes written to this node's memory", () => node.writeBytes, "Byte");
    stats.gauge(`${prefix}.node${n}.mem.usedBytes`, "bytes allocated on this node", () => node.used * 4096, "Byte");
    stats.gauge(`${prefix}.node${n}.migratedInBytes`, "bytes migrated to this node", () => m.migratedBytesTo[n]!, "Byte");
    stats.gauge(`${prefix}.node${n}.mem.served`, "program demand line fills this node's memory served", () => m.memServed[n]!);
    stats.gauge(`${prefix}.node${n}.mem.writebacks`, "program dirty lines written back to this node's memory", () => m.memWritebacks[n]!);
    stats.gauge(`${prefix}.node${n}.lru.activeBytes`, "bytes on this node's active LRU list", () => m.lru.pages(n, LruList.ACTIVE) * 4096, "Byte");
    stats.gauge(`${prefix}.node${n}.lru.inactiveBytes`, "bytes on this node's inactive LRU list", () => m.lru.pages(n, LruList.INACTIVE) * 4096, "Byte");
  });
}
