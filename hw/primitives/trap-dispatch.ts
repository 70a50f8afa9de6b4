// The machine's TrapHandler: routes PROT_NONE faults the way Linux does once DAMON's page-fault
// primitive exists (damon.md 3.5). A PTE made PROT_NONE looks the same whoever did it, so the
// fault path decides by one switch only, the numa_balancing sysctl, never by who armed the trap:
//   * NUMA balancing enabled  -> the NUMA hinting handler (do_numa_page). DAMON sees the fault only
//     if the hinting handler reports it (NumaBalancing.reportToSink). Traps DAMON armed
//     (TrapOwner.DAMON) therefore also end there, counted as hint faults: while NUMA balancing is
//     on, DAMON's fault primitive receives nothing.
//   * NUMA balancing disabled (no NumaBalancing, or enabled = false) -> DAMON's fault handler
//     (do_damon_page), whoever armed the trap, including NUMA traps left over from before it was
//     disabled.
//   * neither -> the PTE is just restored, costing orphanFaultNs.
// The machine restores the PTE after whichever handler ran.

import { InputError } from "../../sim/errors.ts";
import type { Stats } from "../../sim/stats.ts";
import type { TrapFault, TrapHandler } from "../hooks.ts";
import type { Machine } from "../machine.ts";
import { TrapOwner } from "../pagetable.ts";
import type { NumaBalancing } from "./numa-balancing.ts";

export interface TrapDispatchOptions {
  /** Cost of a PROT_NONE fault no handler claims (trap + PTE restore), ns; default 1000, as a hint fault (hardware.md 1.6). */
  orphanFaultNs?: number;
}

export class TrapDispatch implements TrapHandler {
  /** NUMA balancing, when the machine runs it. */
  numa: NumaBalancing | null = null;
  /** DAMON's page-fault handler (set by the DAMON layer); returns its cost in ns. */
  damonFault: ((fault: TrapFault) => number) | null = null;
  readonly orphanFaultNs: number;
  /** Faults routed to each handler, and those no one claimed. */
  toNuma = 0;
  toDamon = 0;
  orphans = 0;
  /** DAMON-armed traps that ended in the NUMA hinting handler. */
  damonTrapsToNuma = 0;

  constructor(private readonly m: Machine, o: TrapDispatchOptions = {}) {
    this.orphanFaultNs = o.orphanFaultNs ?? 1000;
    if (!(this.orphanFaultNs >= 0)) throw new InputError(`must be a number of ns >= 0, got ${this.orphanFaultNs}`, { field: "trapDispatch.orphanFaultNs" });
  }

  /** Makes this the machine's trap handler. */
  install(): this {
    this.m.trapHandler = this;
    return this;
  }

  /** True when faults go to the NUMA hinting handler. */
  get numaEnabled(): boolean {
    return this.numa !== null && this.numa.enabled;
  }

  onTrap(fault: TrapFault): number {
    const numa = this.numa;
    if (numa !== null && numa.enabled) {
      this.toNuma++;
      if ((fault.owners & TrapOwner.DAMON) !== 0) this.damonTrapsToNuma++;
      return numa.onHintFault(fault);
    }
    const damon = this.damonFault;
    if (damon !== null) {
      this.toDamon++;
      return damon(fault);
    }
    this.orphans++;
    return this.orphanFaultNs;
  }

  registerStats(stats: Stats, prefix = "system.trapDispatch"): void {
    stats.gauge(`${prefix}.toNuma`, "PROT_NONE faults routed to the NUMA hinting handler", () => this.toNuma);
    stats.gauge(`${prefix}.toDamon`, "PROT_NONE faults routed to DAMON's fault handler", () => this.toDamon);
    stats.gauge(`${prefix}.orphans`, "PROT_NONE faults no handler claimed", () => this.orphans);
    stats.gauge(`${prefix}.damonTrapsToNuma`, "DAMON-armed traps that ended in the NUMA hinting handler", () => this.damonTrapsToNuma);
  }
}
