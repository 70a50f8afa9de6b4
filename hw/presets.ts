// Built-in machines. Numbers come from ../shared/reference/hardware.md section 4 (Golden Cove /
// Sapphire Rapids caches and TLBs, DDR5 local/remote latencies, CXL about +80 ns, Pond) and 1.6
// (fault and PTE costs measured on this workplace's VM); section 4.4 gives the latency ladder.
//   tiny      1 node, 2 CPUs, small caches and TLBs: fast tests with visible evictions.
//   2s-ddr5   two sockets of 8 CPUs, local DRAM ~100 ns, remote ~160 ns.
//   cxl-tier  one DRAM node with 8 CPUs plus a CPU-less CXL node ~80 ns slower.
//   cxl-tier-small  cxl-tier with 64 MiB of DRAM and 512 MiB of CXL: a fast tier smaller than a
//             few-hundred-MiB workload, for DAMOS tiering (the tiering-loop scenario).

import { GiB, KiB, MiB } from "../sim/units.ts";
import { validateMachineConfig, type MachineConfig } from "./config.ts";

const GHZ = 3.0;
const cycles = (n: number): number => Math.round((n / GHZ) * 100) / 100;

const serverCaches: MachineConfig["caches"] = {
  l1d: { size: 48 * KiB, assoc: 12, line: 64, latencyNs: cycles(5), policy: "lru" },
  l1i: { size: 32 * KiB, assoc: 8, line: 64, latencyNs: cycles(5), policy: "lru" },
  l2: { size: 2 * MiB, assoc: 16, line: 64, latencyNs: cycles(16), policy: "lru" },
  // SPR has ~1.875 MiB of LLC per core; rounded to a power-of-two set count for 8 cores.
  llc: { size: 16 * MiB, assoc: 16, line: 64, latencyNs: cycles(60), policy: "lru" },
};

const serverTlb: MachineConfig["tlb"] = {
  l1d: { entries: 96, assoc: 6 },
  l1dHuge: { entries: 32, assoc: 4 },
  l1i: { entries: 256, assoc: 8 },
  l2: { entries: 2048, assoc: 16 },
  l2HitNs: cycles(8),
  walkNs: cycles(30),
};

const serverCosts: MachineConfig["costs"] = {
  faultNs: 2000,
  hugeFaultNs: 60_000,
  migrateNs: 3000,
  shootdownNs: 1500,
  dirtyAssistNs: cycles(20),
};

function cpusOn(node: number, n: number): { node: number }[] {
  return Array.from({ length: n }, () => ({ node }));
}

const PRESETS: Record<string, () => MachineConfig> = {
  tiny: () => ({
    name: "tiny",
    description: "1 node (256 MiB), 2 CPUs, small caches and TLBs; for tests",
    nodes: [{ id: 0, capacity: 256 * MiB, kind: "dram", latencyNs: 90, bandwidthGBps: 20 }],
    distance: [[10]],
    latencyNs: [[90]],
    cpus: cpusOn(0, 2),
    cpuGHz: GHZ,
    nsPerOp: cycles(1),
    caches: {
      l1d: { size: 8 * KiB, assoc: 4, line: 64, latencyNs: cycles(4), policy: "lru" },
      l1i: { size: 8 * KiB, assoc: 4, line: 64, latencyNs: cycles(4), policy: "lru" },
      l2: { size: 64 * KiB, assoc: 8, line: 64, latencyNs: cycles(14), policy: "lru" },
      llc: { size: 512 * KiB, assoc: 16, line: 64, latencyNs: cycles(40), policy: "lru" },
    },
    tlb: {
      l1d: { entries: 16, assoc: 4 },
      l1dHuge: { entries: 8, assoc: 4 },
      l1i: { entries: 16, assoc: 4 },
      l2: { entries: 128, assoc: 8 },
      l2HitNs: cycles(8),
      walkNs: cycles(30),
    },
    costs: { ...serverCosts },
  }),
  "2s-ddr5": () => ({
    name: "2s-ddr5",
    description: "two sockets x 8 CPUs, 64 GiB DDR5 each; local ~100 ns, remote ~160 ns",
    nodes: [
      { id: 0, capacity: 64 * GiB, kind: "dram", latencyNs: 100, bandwidthGBps: 200 },
      { id: 1, capacity: 64 * GiB, kind: "dram", latencyNs: 100, bandwidthGBps: 200 },
    ],
    distance: [[10, 21], [21, 10]],
    latencyNs: [[100, 160], [160, 100]],
    cpus: [...cpusOn(0, 8), ...cpusOn(1, 8)],
    cpuGHz: GHZ,
    nsPerOp: cycles(1),
    caches: structuredClone(serverCaches),
    tlb: structuredClone(serverTlb),
    costs: { ...serverCosts },
  }),
  "cxl-tier": () => ({
    name: "cxl-tier",
    description: "one DRAM node (32 GiB, 8 CPUs) plus a CPU-less CXL node (128 GiB) ~80 ns slower",
    nodes: [
      { id: 0, capacity: 32 * GiB, kind: "dram", latencyNs: 100, bandwidthGBps: 200 },
      { id: 1, capacity: 128 * GiB, kind: "cxl", latencyNs: 180, bandwidthGBps: 64 },
    ],
    distance: [[10, 20], [20, 10]],
    latencyNs: [[100, 180], [180, 180]],
    cpus: cpusOn(0, 8),
    cpuGHz: GHZ,
    nsPerOp: cycles(1),
    caches: structuredClone(serverCaches),
    tlb: structuredClone(serverTlb),
    costs: { ...serverCosts },
  }),
  "cxl-tier-small": () => {
    const c = PRESETS["cxl-tier"]!();
    c.name = "cxl-tier-small";
    c.description = "cxl-tier with a fast tier smaller than its workloads: 64 MiB DRAM (8 CPUs) + 512 MiB CXL ~80 ns slower";
    c.nodes[0]!.capacity = 64 * MiB;
    c.nodes[1]!.capacity = 512 * MiB;
    return c;
  },
};

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}

/** A fresh copy of a built-in machine, or undefined. */
export function preset(name: string): MachineConfig | undefined {
  const make = PRESETS[name];
  return make ? validateMachineConfig(make()) : undefined;
}
