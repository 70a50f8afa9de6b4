// The CXL Hotness Monitoring Unit as a DAMON primitive: the CXL memory device counts the fills and
// write-backs that reach it per unit over an epoch; at each epoch end the host reads the hotlist
// (units at or above a threshold, hottest first) and reports every entry through
// damon_report_access() as a physical address range with an access count and no CPU, thread,
// process or virtual address (hw/primitives/chmu.ts; core-and-devices.md 6). How DAMON takes such
// a report (damon/report-buffer/drain.ts): it credits the region holding it once for the check,
// whatever its count (nr_accesses counts sample intervals with an access, at most +1 per check, so
// a count of 1000 and a single sample weigh the same); a report straddling a region end is
// rejected like any report, so units larger than a page are credited only where regions are at
// least as large and aligned. A CPU or thread sample filter sees a CPU in no mask and a thread in
// no list (filters.ts): an allow-list rejects these reports, a deny-list passes them. paddr takes
// them at their physical address; vaddr places them through the reverse map when it drains them
// (damon/vaddr.ts: a folio lookup and one rmap step each, the first mapping's process). The unit
// is enabled when kdamond starts and disabled when it stops; it sees only CXL-resident memory.

import { CHMU_DEFAULTS, ChmuSampler, type ChmuOptions } from "../../hw/primitives/chmu.ts";
import { SAMPLER_LIFECYCLE, type PrimitiveDef } from "./types.ts";

const d = CHMU_DEFAULTS;

export const chmu = {
  name: "chmu",
  summary: "CXL hotness monitoring unit: the CXL device counts fills and write-backs per unit over an epoch; the host reads the hotlist and reports each hot unit as a physical address with a count (no CPU, thread or virtual address)",
  reports: true,
  sample: "none",
  evidence: "chmu-reported",
  params: {
    unitBytes: { type: "integer", unit: "bytes", default: d.unitBytes, source: "our choice: a base page, what DAMON's regions and migration work in; the spec allows any power of two >= 256 B, the RFC up to 2 GiB (core-and-devices.md 6.2 [S40, S41])", help: "bytes per counted unit (hotness granularity), a power of two in [256, 2 GiB]", aliases: ["unit"] },
    epochUs: { type: "integer", unit: "us", default: d.epochUs, source: "our choice: DAMON's default sample interval, so each check sees one epoch; 1 ms scale x multiplier 5 (core-and-devices.md 6.2 [S40, S41])", help: "epoch length, a multiple of 100 us", aliases: ["epoch"] },
    threshold: { type: "integer", unit: null, default: d.threshold, source: "our choice: the RFC's hotness_threshold has no stated default (core-and-devices.md 6.3 [S40])", help: "count a unit must reach in an epoch to enter the hotlist" },
    hotlistSize: { type: "integer", unit: null, default: d.hotlistSize, source: "QEMU's emulated hotlist (core-and-devices.md 6.3 [S43]); the capability field is 16-bit", help: "hotlist entries per epoch (1..65535); the hottest units are kept" },
    reads: { type: "boolean", unit: null, default: d.reads, source: "access type 'both' (core-and-devices.md 6.2 [S40, S41])", help: "count reads (fills: MemRd)" },
    writes: { type: "boolean", unit: null, default: d.writes, source: "access type 'both' (core-and-devices.md 6.2 [S40, S41])", help: "count writes (write-backs: MemWr); writes only makes the reports writes" },
    trackedUnits: { type: "integer", unit: null, default: d.trackedUnits, source: "an estimate: the tracker is implementation-defined and expected to run out of counters (core-and-devices.md 6.1 [S37])", help: "counters per epoch: distinct units the device can count" },
    readCostNs: { type: "number", unit: "ns", default: d.readCostNs, source: "an estimate: the MSI and the status and head/tail register reads over CXL.io (unverified)", help: "host CPU time per hotlist read" },
    entryCostNs: { type: "number", unit: "ns", default: d.entryCostNs, source: "an estimate: one 8-byte uncached read and the DPA-to-HPA translation (unverified)", help: "host CPU time per hotlist entry, the report's cost added" },
    readerCpu: { type: "integer", unit: null, default: null, defaultText: "the last CPU", source: "our choice: where kdamond runs by default", help: "the CPU whose kernel thread reads the hotlists (and is charged for it)" },
  },
  // one hotlist per epoch fits one per-CPU report ring (256 entries) of the reading CPU
  scenarioParams: { hotlistSize: 256 },
  // its reports carry no CPU or thread (a CPU filter rejects them all) and are reads unless only
  // writes are counted, so the filtered scenarios would not tell anything about it
  filteredScenarios: false,
  install: (env): ChmuSampler => new ChmuSampler(env.machine, env.params, env.sink),
  ...SAMPLER_LIFECYCLE,
} as const satisfies PrimitiveDef<"chmu", ChmuOptions, ChmuSampler>;
