// `damon-sim run [WORKLOAD|TRACE]`: simulates a machine running a workload (or replaying a trace)
// with DAMON monitoring it, and writes OUTDIR/damon.data (a damo record), summary.json,
// config.json, stats.json and stats.txt. Files are written under temporary names and renamed, so
// an interrupted run (Ctrl-C) leaves no half-written output. A finite workload runs to its end
// unless --duration cuts it short; the summary says which. The host timing line printed at the end
// (wall seconds, accesses/s, host seconds per simulated second) is the only output that differs
// between identical runs, so it goes to stdout only, never into a file.

import { prepareOutputDir, trackTemp, untrackTemp, writeFileAtomic } from "../atomic-write.ts";
import { join } from "node:path";
import { stringOpt, type CommandSpec, type ParsedArgs } from "../args.ts";
import type { Command } from "../command.ts";
import { formatRate, Progress } from "../progress.ts";
import { UsageError } from "../../sim/errors.ts";
import { Stats } from "../../sim/stats.ts";
import { formatDuration, SEC } from "../../sim/time.ts";
import { formatSize } from "../../sim/units.ts";
import { CPU_TIME_NAMES, CpuTime } from "../../hw/cpu.ts";
import { registerMachineStats } from "../../hw/machine-stats.ts";
import { PRIMITIVES } from "../../damon/primitives/index.ts";
import { DROP_REASON_NAMES } from "../../damon/report-buffer/buffer.ts";
import { buildRun, DEFAULT_ENDLESS_DURATION, describeRun, RUN_OPTIONS, runEnd, type RunSetup } from "../run-setup.ts";
import { RecordWriter, recordIntervals, toRecordSnapshot } from "../../damon/damo/record-file.ts";
import { version } from "../version.ts";
import { overheadPercent } from "../metrics.ts";

const spec: CommandSpec = {
  name: "run",
  summary: "Simulate a workload (or replay a trace) on a machine with DAMON monitoring it; write a damo record and a summary.",
  usage: "[WORKLOAD|TRACE] [options]",
  positionals: { min: 0, max: 1 },
  damos: true,
  options: {
    ...RUN_OPTIONS,
    output: { type: "string", short: "o", value: "OUTDIR", description: "output folder", default: "out" },
    "record-format": { type: "string", value: "FMT", description: "json_compressed (damo's default) or json", default: "json_compressed" },
  },
  details: `WORKLOAD is a built-in generator name (damon-sim workloads), a masim config (.cfg), a JSON
workload spec (.json) or a recorded trace (.dst). Without one, the built-in default runs.
A workload with an end (masim configs, traces, specs whose threads all end) runs to it unless
--duration cuts it short; one without an end (the built-in generators) stops at ${DEFAULT_ENDLESS_DURATION}
unless --duration says otherwise. At the end, the host wall time, accesses per second and host
seconds per simulated second are printed (not written to any file: they vary run to run); on a
terminal a progress bar shows simulated time, accesses per second and the time left.
Examples:
  damon-sim run stairs-60s --ops vaddr -o out/stairs       masim's full 60 s stairs, to its end
  damon-sim run stairs --ops vaddr --duration 3s -o out/stairs
  damon-sim run workloads/configs/zigzag.cfg --machine 2s-ddr5 --ops paddr -o out/zigzag
  damon-sim report access out/stairs`,
};

/** Runs the simulation until the workload ends or the limit, recording every aggregation into OUTDIR/damon.data (nothing is left on Ctrl-C). */
export async function executeRun(setup: RunSetup, outDir: string, recordFormat: "json_compressed" | "json", quiet = false): Promise<{ interrupted: boolean }> {
  const { machine, sched, monitor, durationNs } = setup;
  prepareOutputDir(outDir);
  const ctx = monitor.ctx;
  const tuned = ctx.attrs.intervalsGoal.aggrs !== 0;
  const writer = new RecordWriter(
    join(outDir, "damon.data"),
    ctx.targets.map((t) => ({
      kdamond_idx: 0,
      context_idx: null,
      intervals: recordIntervals(ctx.attrs.sampleUs, ctx.attrs.aggrUs, ctx.attrs.opsUpdateUs, ctx.attrs.intervalsGoal),
      scheme_idx: null,
      target_id: t.id,
      scheme_filters: [],
      data_source: "damon-sim",
      kernel: ctx.kernel.name,
    })),
    recordFormat,
  );
  trackTemp(...writer.tempPaths);
  ctx.onAggregation((_c, snaps) => {
    for (const s of snaps) writer.add(s.targetId, toRecordSnapshot(s, setup.probes > 0, tuned));
  });
  let interrupted = false;
  const onSig = (): void => {
    interrupted = true;
  };
  process.once("SIGINT", onSig);
  // progress in simulated time when the end is known in time (or unknown); a trace replayed to its end goes by accesses
  const accesses = (): number => machine.cpus.reduce((a, c) => a + c.accesses, 0);
  const timeTotal = Math.min(durationNs, setup.workloadEnd.lengthNs ?? Infinity);
  const traceTotal = Number.isFinite(timeTotal) ? null : setup.workloadEnd.accesses;
  const common = { eta: true, rateOf: "accesses", delayMs: 1000 };
  const progress =
    traceTotal !== null
      ? new Progress("replaying", { ...common, total: traceTotal, format: (n) => formatRate(n) })
      : new Progress("simulating", { ...common, ...(Number.isFinite(timeTotal) ? { total: timeTotal / SEC } : {}), format: (n) => `${n.toFixed(1)} s` });
  machine.onAllThreadsDone(() => sched.stop());
  monitor.kdamond.start();
  const step = Math.max(1, Math.min(durationNs, 50_000_000));
  try {
    while (!interrupted && sched.now < durationNs && !machine.finished) {
      sched.run(Math.min(durationNs, sched.now + step));
      if (!quiet) {
        const n = accesses();
        if (traceTotal !== null) progress.update(n, `${formatDuration(sched.now)} simulated, ${ctx.aggregations} snapshots`, n);
        else progress.update(sched.now / SEC, `${ctx.aggregations} snapshots`, n);
      }
      await new Promise((r) => setImmediate(r));
    }
  } catch (e) {
    writer.abort();
    throw e;
  } finally {
    progress.finish();
    process.removeListener("SIGINT", onSig);
  }
  if (interrupted) {
    writer.abort();
    return { interrupted: true };
  }
  monitor.kdamond.stop();
  await writer.close();
  untrackTemp(...writer.tempPaths);
  return { interrupted: false };
}

export function runSummary(setup: RunSetup): Record<string, unknown> {
  const { machine, sched, monitor } = setup;
  const cpuTotal = (k: number): number => machine.cpuTime(k);
  const user = cpuTotal(CpuTime.USER);
  return {
    tool: `damon-sim ${version()}`,
    workload: setup.workload.name,
    machine: machine.config.name,
    ops: monitor.ops.name,
    kernel: monitor.ctx.kernel.name,
    variant: monitor.ctx.variant,
    seed: setup.seed,
    simulatedNs: sched.now,
    workloadFinished: machine.finished,
    ended: runEnd(setup),
    durationLimitNs: Number.isFinite(setup.durationNs) ? setup.durationNs : null,
    accesses: machine.cpus.reduce((a, c) => a + c.accesses, 0),
    snapshots: monitor.ctx.aggregations,
    samples: monitor.ctx.samples,
    finalRegions: monitor.ctx.nrRegions(),
    finalIntervals: { sample_us: monitor.ctx.attrs.sampleUs, aggr_us: monitor.ctx.attrs.aggrUs },
    kdamondCpuNs: monitor.kdamond.totalCostNs,
    kdamondCpu: monitor.kdamond.cpu,
    userCpuNs: user,
    overheadPercent: overheadPercent(machine),
    residentBytes: machine.memory.nodes.map((n) => n.used * 4096),
    primitives: monitor.primitives,
    cpuTimeNs: Object.fromEntries(CPU_TIME_NAMES.map((n, k) => [n, cpuTotal(k)])),
    reports: reportSummary(setup),
    attributes: setup.attributes ? setup.attributes.summary(2) : null,
    // with the last round's tried regions as sysfs lists them (tried_regions/<N>/{start,end,nr_accesses,age,sz_filter_passed})
    ...(monitor.ctx.damos ? { schemes: monitor.ctx.damos.summary().map((sc, i) => ({ ...sc, triedRegions: { ...sc.triedRegions, regions: monitor.ctx.damos!.schemes[i]!.triedRegions.map((r) => ({ target: r.target, start: r.start, end: r.end, nr_accesses: r.nrAccesses, age: r.age, sz_filter_passed: r.szFilterPassed })) } })) } : {}),
  };
}


/** Reports made, accepted, dropped (by reason and primitive) and drained. */
export function reportSummary(setup: RunSetup): Record<string, unknown> | null {
  const { monitor } = setup;
  const b = monitor.buffer;
  if (!b) return null;
  const byPrim = (row: number[]): Record<string, number> => Object.fromEntries(PRIMITIVES.map((p, i) => [p, row[i]!]).filter(([, v]) => (v as number) > 0));
  return {
    buffer: b.kind,
    delivered: byPrim(monitor.counters.delivered),
    submitted: b.stats.submitted,
    accepted: b.stats.accepted,
    dropped: Object.fromEntries(DROP_REASON_NAMES.map((r, i) => [r, byPrim(b.stats.dropsByReason[i]!)])),
    droppedByCpu: b.stats.dropsByCpu,
    drained: b.stats.drained,
    stale: b.stats.stale,
    drain: monitor.drain ? { ...monitor.drain.stats } : null,
  };
}

/** Host wall-clock figures of a run. They differ between identical runs: print them, never write them to the run's files. */
export interface HostTiming {
  wallSeconds: number;
  accesses: number;
  simulatedSeconds: number;
  accessesPerSecond: number;
  hostSecondsPerSimulatedSecond: number;
}

export function hostTiming(setup: RunSetup, wallSeconds: number): HostTiming {
  const accesses = setup.machine.cpus.reduce((a, c) => a + c.accesses, 0);
  const simulatedSeconds = setup.sched.now / SEC;
  return {
    wallSeconds,
    accesses,
    simulatedSeconds,
    accessesPerSecond: wallSeconds > 0 ? accesses / wallSeconds : 0,
    hostSecondsPerSimulatedSecond: simulatedSeconds > 0 ? wallSeconds / simulatedSeconds : 0,
  };
}

/** Writes summary.json, config.json, stats.json, stats.txt (and attributes.json, numa.json when asked for); returns the summary. */
export function writeRunOutputs(setup: RunSetup, outDir: string): Record<string, unknown> {
  const stats = new Stats();
  registerMachineStats(setup.machine, stats);
  setup.monitor.registerStats(stats);
  stats.gauge("damon.kdamond.cpuNs", "kdamond CPU time", () => setup.monitor.kdamond.totalCostNs, "Nanosecond");
  stats.gauge("damon.snapshots", "aggregations (snapshots)", () => setup.monitor.ctx.aggregations);
  stats.gauge("simSeconds", "simulated seconds", () => setup.sched.now / 1e9, "Second");
  const summary = runSummary(setup);
  writeFileAtomic(join(outDir, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
  writeFileAtomic(join(outDir, "config.json"), JSON.stringify(describeRun(setup), null, 2) + "\n");
  writeFileAtomic(join(outDir, "stats.json"), JSON.stringify(stats.toJSON(), null, 2) + "\n");
  writeFileAtomic(join(outDir, "stats.txt"), stats.toStatsTxt());
  if (setup.attributes) writeFileAtomic(join(outDir, "attributes.json"), JSON.stringify({ probes: setup.monitor.ctx.probes.map((p) => p.name), windows: setup.attributes.windows }) + "\n");
  if (setup.numa) writeFileAtomic(join(outDir, "numa.json"), JSON.stringify({ machine: setup.machine.config.name, nodes: setup.machine.config.nodes.length, snapshots: setup.numa.snapshots }) + "\n");
  return summary;
}

/** "(workload finished)", "(cut at --duration ...)" or "(cut at the default limit ...)", for the summary line. */
function endNote(setup: RunSetup): string {
  const end = runEnd(setup);
  if (end === "workload finished") return "workload finished";
  if (end === "cut at the default limit") return `cut at the ${DEFAULT_ENDLESS_DURATION} default limit for workloads without an end; --duration sets it`;
  const len = setup.workloadEnd.lengthNs;
  if (!setup.workloadEnd.finite) return "cut at --duration; the workload has no end";
  return len !== null ? `cut at --duration; the workload runs about ${formatDuration(len)}` : "cut at --duration before the workload's end";
}

export const command: Command = {
  spec,
  async run(args: ParsedArgs) {
    const t0 = performance.now();
    const fmt = stringOpt(args, "record-format") ?? "json_compressed";
    if (fmt !== "json_compressed" && fmt !== "json") throw new UsageError(`run: --record-format must be json_compressed or json, got '${fmt}'`);
    const setup = buildRun(spec, args);
    const outDir = stringOpt(args, "output") ?? "out";
    const quiet = args.values.quiet === true;
    const res = await executeRun(setup, outDir, fmt, quiet);
    if (res.interrupted) {
      process.stderr.write("damon-sim: interrupted; nothing was written\n");
      return 130;
    }
    const summary = writeRunOutputs(setup, outDir);
    const host = hostTiming(setup, (performance.now() - t0) / 1000);
    if (!quiet) {
      process.stdout.write(
        [
          `damon-sim run: ${setup.workload.name} on ${setup.machine.config.name}, DAMON ${setup.monitor.ops.name} with ${setup.monitor.primitives.join("+")}, seed ${setup.seed}`,
          `simulated ${formatDuration(setup.sched.now)} (${endNote(setup)}), ${summary.accesses} accesses, ${setup.monitor.ctx.aggregations} snapshots, ${setup.monitor.ctx.nrRegions()} regions at the end`,
          `kdamond CPU time: ${formatDuration(Math.round(setup.monitor.kdamond.totalCostNs))} on CPU ${setup.monitor.kdamond.cpu}; resident memory ${setup.machine.memory.nodes.map((n) => formatSize(n.used * 4096)).join(" + ")}`,
          ...(setup.monitor.ctx.damos?.schemes ?? []).map((sc) => `scheme ${sc.index} ${sc.spec.action}: tried ${sc.stat.nrTried} regions (${formatSize(sc.stat.szTried)}), applied to ${sc.stat.nrApplied} (${formatSize(sc.stat.szApplied)}), quota exceeded ${sc.stat.qtExceeds} times, action CPU ${formatDuration(Math.round(sc.actionCostNs))}`),
          `wrote ${join(outDir, "damon.data")} (damo record), summary.json, config.json, stats.txt, stats.json`,
          `host: ${host.wallSeconds.toFixed(1)} s wall, ${formatRate(host.accessesPerSecond)} accesses/s end to end, ${host.hostSecondsPerSimulatedSecond.toFixed(2)} host s per simulated s (wall-clock figures: not in any file)`,
          "",
        ].join("\n"),
      );
    }
    return 0;
  },
};
