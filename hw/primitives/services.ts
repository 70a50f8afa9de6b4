// The kernel services the push primitives share on one machine, created on first use: the
// PROT_NONE trap dispatcher (installed as the machine's trap handler; DAMON's fault primitive and
// NUMA balancing both sit behind it) and Linux NUMA balancing (a kernel feature that runs from the
// moment it is created, whether or not DAMON listens to its hinting faults). A primitive's install
// asks for what it needs; both register their statistics here, once.

import type { Stats } from "../../sim/stats.ts";
import type { Machine } from "../machine.ts";
import { NumaBalancing, type NumaBalancingOptions } from "./numa-balancing.ts";
import { TrapDispatch } from "./trap-dispatch.ts";

export class PrimitiveServices {
  private dispatch: TrapDispatch | null = null;
  private numa: NumaBalancing | null = null;

  constructor(readonly machine: Machine) {}

  /** The trap dispatcher, created and installed on first use. */
  trapDispatch(): TrapDispatch {
    if (this.dispatch === null) {
      this.dispatch = new TrapDispatch(this.machine).install();
      this.dispatch.numa = this.numa;
    }
    return this.dispatch;
  }

  /** NUMA balancing, created (its scan timer started) on first use with `o`; later calls return it. */
  numaBalancing(o: NumaBalancingOptions = {}): NumaBalancing {
    if (this.numa === null) {
      this.numa = new NumaBalancing(this.machine, o);
      this.trapDispatch().numa = this.numa;
    }
    return this.numa;
  }

  /** The services created so far. */
  get trapDispatcher(): TrapDispatch | null {
    return this.dispatch;
  }

  get numaBalancer(): NumaBalancing | null {
    return this.numa;
  }

  registerStats(stats: Stats): void {
    this.numa?.registerStats(stats);
    this.dispatch?.registerStats(stats);
  }

  /** Stops NUMA balancing's scanner (hint faults are still handled). */
  stop(): void {
    this.numa?.stop();
  }
}
