// The PTE Accessed-bit primitive (DAMON's pull primitive, mainline): at every sample kdamond
// clears the Accessed bit of each region's sampled page (mkold) and later asks whether the page
// is young. Nothing installs on the machine and nothing is reported: the page table is the
// evidence, so it cannot tell which CPU or thread accessed, nor whether it was a write.

import type { PrimitiveDef } from "./types.ts";

export const pte = {
  name: "pte",
  summary: "PTE Accessed bit: mkold each region's sampled page, test it young at the next check (mainline DAMON)",
  reports: false,
  sample: "accessed-bit",
  evidence: "pte-accessed",
  params: {},
  scenarioParams: {},
  filteredScenarios: false,
  install: (): null => null,
  start(): void {},
  stop(): void {},
  registerStats(): void {},
} as const satisfies PrimitiveDef<"pte", Record<never, never>, null>;
