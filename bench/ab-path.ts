// A/B of the access path against another checkout, for a machine that is shared and noisy:
//   node cli/run-ts.mjs bench/ab-path.ts OTHER_ROOT [PATTERN...]
// OTHER_ROOT is another checkout of damon-sim (e.g. `git worktree add /tmp/base COMMIT` with
// node_modules linked in). Both checkouts' hw.path patterns run in this one process, alternating
// A and B eight times per pattern for 60 ms of simulated time each, and the best rate of each is
// printed: load from other processes only ever slows a run down, so the best of interleaved runs
// is the steadiest figure a shared machine gives (medians moved by 2-3x under load here).

import { resolve } from "node:path";
import { CycleProgram, type Pattern } from "./hw-path.ts";

interface Checkout {
  patterns(): Pattern[];
  buildProcess(spec: unknown): { process: unknown; areas: Map<string, { start: number }> };
  newMachine(): { load(wl: unknown): void; cpus: Array<{ accesses: number }>; sched: { now: number; run(until: number): void } };
}

async function checkout(root: string): Promise<Checkout> {
  const hp = (await import(`${root}/bench/hw-path.ts`)) as { patterns(): Pattern[] };
  const layout = (await import(`${root}/hw/layout.ts`)) as Pick<Checkout, "buildProcess">;
  const { Machine } = (await import(`${root}/hw/machine.ts`)) as { Machine: new (c: unknown, s: unknown, r: unknown) => { load(wl: unknown): void; cpus: Array<{ accesses: number }> } };
  const { preset } = (await import(`${root}/hw/presets.ts`)) as { preset(n: string): unknown };
  const { RngRoot } = (await import(`${root}/sim/rng.ts`)) as { RngRoot: new (seed: number) => unknown };
  const { Scheduler } = (await import(`${root}/sim/scheduler.ts`)) as { Scheduler: new () => { now: number; run(until: number): void } };
  return {
    patterns: hp.patterns,
    buildProcess: layout.buildProcess,
    newMachine() {
      const sched = new Scheduler();
      const m = new Machine(preset("2s-ddr5"), sched, new RngRoot(1));
      return { load: (wl) => m.load(wl), cpus: m.cpus, sched };
    },
  };
}

/** Accesses per second of one 60 ms stretch (after 20 ms of warm-up) of pattern p on checkout c. */
function once(c: Checkout, p: Pattern): number {
  const { process: proc, areas } = c.buildProcess({ mmap: [{ name: "buf", size: 64 * 1024 * 1024 + 4096 }], threads: [{ tid: 1, cpus: [0] }] });
  const base = areas.get("buf")!.start;
  // this checkout's program: access batches have the same shape in both
  const program = new CycleProgram(p, base);
  const m = c.newMachine();
  m.load({ name: p.name, layout: { processes: [proc] }, start: () => ({ kind: "threads", threads: [program] }) });
  m.sched.run(20_000_000);
  const before = m.cpus[0]!.accesses;
  const t0 = process.hrtime.bigint();
  m.sched.run(m.sched.now + 60_000_000);
  return (m.cpus[0]!.accesses - before) / (Number(process.hrtime.bigint() - t0) / 1e9);
}

const [other, ...want] = process.argv.slice(2);
if (other === undefined) {
  process.stderr.write("usage: node cli/run-ts.mjs bench/ab-path.ts OTHER_ROOT [PATTERN...]\n");
  process.exit(2);
}
const roots = [resolve(other), resolve(import.meta.dirname, "..")];
const cs = await Promise.all(roots.map(checkout));
const pats = cs.map((c) => c.patterns().filter((p) => want.length === 0 || want.includes(p.name)));
for (let k = 0; k < pats[0]!.length; k++) {
  const best = [0, 0];
  for (let r = 0; r < 8; r++) for (const w of r % 2 ? [1, 0] : [0, 1]) best[w] = Math.max(best[w]!, once(cs[w]!, pats[w]![k]!));
  process.stdout.write(JSON.stringify({ name: "hw.path.ab", pattern: pats[0]![k]!.name, unit: "accesses/s", other: Math.round(best[0]!), this: Math.round(best[1]!), ratio: Number((best[1]! / best[0]!).toFixed(3)), otherRoot: roots[0], measure: "best of 8 interleaved 60 ms runs" }) + "\n");
}
