// The operations-set interface: how a DAMON context reaches the monitored address space. vaddr and
// paddr implement it with the PTE Accessed bit; the push primitives (faults, perf mem, IBS) plug
// in behind the same interface, so the core never asks which primitive is in use.

import type { DamonContext } from "./context.ts";

export interface DamonOps {
  readonly name: string;
  /** Builds the initial regions of targets that have none (called once, at start). */
  init(ctx: DamonContext): void;
  /** Re-reads the monitored address space (every ops update interval). */
  update(ctx: DamonContext): void;
  /** Picks each region's sampling address and arms the access check for the next interval. */
  prepareAccessChecks(ctx: DamonContext): void;
  /** Checks each region's sample, updates nr_accesses; returns the largest nr_accesses. */
  checkAccesses(ctx: DamonContext): number;
  /** Releases anything armed (traps, samplers) when monitoring stops. */
  cleanup?(ctx: DamonContext): void;
}
