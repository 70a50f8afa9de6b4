// Built-in machines. Numbers come from ../shared/reference/hardware.md section 4 (Golden Cove /
// Sapphire Rapids caches and TLBs, DDR5 local/remote latencies, CXL about +80 ns, Pond) and 1.6
// (fault and PTE costs measured on this workplace's VM); section 4.4 gives the latency ladder.
//   tiny      1 node, 2 CPUs, small caches and TLBs: fast tests with visible evictions.
//   2s-ddr5   two sockets of 8 CPUs, local DRAM ~100 ns, remote ~160 ns.
//   cxl-tier  one DRAM node with 8 CPUs plus a CPU-less CXL node ~80 ns slower.
//   cxl-tier-small  cxl-tier with 64 MiB of DRAM and 512 MiB of CXL: a fast tier smaller than a
//             few-hundred-MiB workload, for DAMOS tiering (the tiering-loop scenario).
//   neoverse-v2  an Arm server: two sockets of 8 Neoverse V2 CPUs (a Graviton4-class slice), the
//             machine where ARM SPE exists (the primitives do not check the ISA: SPE on an x86
//             preset, or IBS and perf mem on this one, model what that hardware would report
//             there). Its sources are given field by field below.

import { GiB, KiB, MiB } from "../sim/units.ts";
import { validateMachineConfig, type MachineConfig } from "./config.ts";

const GHZ = 3.0;
const cycles = (n: number, ghz = GHZ): number => Math.round((n / ghz) * 100) / 100;

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

// Neoverse V2 at 2.8 GHz (AWS's Graviton4 clock; unverified here). core-and-devices.md section 2
// gives the core: 4-cycle L1D load-to-use (LLVM's AArch64SchedNeoverseV2.td, "optimistic"), ROB
// 320, 6-wide dispatch (not modelled: the CPU model is in order); it has no cache or TLB sizes for
// V2 (hardware.md 4 is x86), so those come from public sources named per field, unverified.
const V2_GHZ = 2.8;
const v2 = (n: number): number => cycles(n, V2_GHZ);

const neoverseV2Caches: MachineConfig["caches"] = {
  // 64 KiB 4-way L1s, 64 B lines (Arm's Graviton4 cache-hierarchy notes, learn.arm.com); 4 cycles (section 2)
  l1d: { size: 64 * KiB, assoc: 4, line: 64, latencyNs: v2(4), policy: "lru" },
  l1i: { size: 64 * KiB, assoc: 4, line: 64, latencyNs: v2(4), policy: "lru" },
  // 2 MiB 8-way private L2 on Graviton4 (learn.arm.com; Grace has 1 MiB, Chips and Cheese, Hot Chips
  // 2023); ~11 cycles (unverified)
  l2: { size: 2 * MiB, assoc: 8, line: 64, latencyNs: v2(11), policy: "lru" },
  // 36 MB of shared L3 for 96 cores on Graviton4 (learn.arm.com; Chips and Cheese, Graviton 4):
  // 0.375 MiB a core, 3 MiB for 8; associativity and ~33 ns (92 cycles) unverified
  llc: { size: 3 * MiB, assoc: 12, line: 64, latencyNs: v2(92), policy: "lru" },
};

const neoverseV2Tlb: MachineConfig["tlb"] = {
  // 48-entry fully associative L1 data and instruction TLBs, 2048-entry 8-way L2 TLB (the V2
  // technical reference manual's figures, unverified here); V2's L1 DTLB holds every page size in
  // one structure, modelled as the x86 presets' separate 2 MiB L1 DTLB
  l1d: { entries: 48, assoc: 48 },
  l1dHuge: { entries: 32, assoc: 4 },
  l1i: { entries: 48, assoc: 48 },
  l2: { entries: 2048, assoc: 8 },
  l2HitNs: v2(6),
  walkNs: v2(30),
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
  "neoverse-v2": () => ({
    name: "neoverse-v2",
    description: "Arm: two sockets x 8 Neoverse V2 CPUs (a Graviton4-class slice), 64 GiB DDR5 each; local ~115 ns, remote ~170 ns; has SPE",
    // DDR5 per socket; ~115 ns local and ~170 ns across the socket link are unverified estimates
    // (Chips and Cheese measured 30-60 ns core-to-core in a socket, 138.6 ns across sockets)
    nodes: [
      { id: 0, capacity: 64 * GiB, kind: "dram", latencyNs: 115, bandwidthGBps: 200 },
      { id: 1, capacity: 64 * GiB, kind: "dram", latencyNs: 115, bandwidthGBps: 200 },
    ],
    distance: [[10, 20], [20, 10]],
    latencyNs: [[115, 170], [170, 115]],
    cpus: [...cpusOn(0, 8), ...cpusOn(1, 8)],
    cpuGHz: V2_GHZ,
    nsPerOp: v2(1),
    caches: structuredClone(neoverseV2Caches),
    tlb: structuredClone(neoverseV2Tlb),
    // the x86 presets' costs (measured on this workplace's x86 VM, hardware.md 1.6): no Arm figures
    costs: { ...serverCosts },
  }),
};

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}

/** A fresh copy of a built-in machine, or undefined. */
export function preset(name: string): MachineConfig | undefined {
  const make = PRESETS[name];
  return make ? validateMachineConfig(make()) : undefined;
}
