// `damon-sim run [WORKLOAD|TRACE]`: simulates a machine running a workload (or replaying a trace)
// with DAMON monitoring it, and writes OUTDIR/damon.data (a damo record), summary.json,
// config.json, stats.json and stats.txt. Files are written under temporary names and renamed, so
// an interrupted run (Ctrl-C) leaves no half-written output.

import { mkdirSync } from "node:fs";
import { writeFileAtomic } from "../atomic-write.ts";
import { join } from "node:path";
import { stringOpt, type CommandSpec, type ParsedArgs } from "../args.ts";
import type { Command } from "../command.ts";
import { Progress } from "../progress.ts";
import { UsageError } from "../../sim/errors.ts";
import { Stats } from "../../sim/stats.ts";
import { formatDuration, SEC } from "../../sim/time.ts";
import { formatSize } from "../../sim/units.ts";
import { CPU_TIME_NAMES, CpuTime } from "../../hw/cpu.ts";
import { DROP_REASON_NAMES, PRIMITIVES } from "../../damon/reports/buffer.ts";
import { buildRun, describeRun, RUN_OPTIONS, type RunSetup } from "../run-setup.ts";
import { RecordWriter, recordIntervals, toRecordSnapshot } from "../../damon/record.ts";
import { version } from "../main.ts";

const spec: CommandSpec = {
  name: "run",
  summary: "Simulate a workload (or replay a trace) on a machine with DAMON monitoring it; write a damo record and a summary.",
  usage: "[WORKLOAD|TRACE] [options]",
  positionals: { min: 0, max: 1 },
  options: {
    ...RUN_OPTIONS,
    output: { type: "string", short: "o", value: "OUTDIR", description: "output folder", default: "out" },
    "record-format": { type: "string", value: "FMT", description: "json_compressed (damo's default) or json", default: "json_compressed" },
  },
  details: `WORKLOAD is a built-in generator name (damon-sim workloads), a masim config (.cfg), a JSON
workload spec (.json) or a recorded trace (.dst). Without one, the built-in default runs.
Examples:
  damon-sim run stairs --ops vaddr --duration 10s -o out/stairs
  damon-sim run workloads/configs/zigzag.cfg --machine 2s-ddr5 --ops paddr -o out/zigzag
  damon-sim report access out/stairs`,
};

/** Writes `data` to `path` via a temporary file in the same folder. */
export async function executeRun(setup: RunSetup, outDir: string, recordFormat: "json_compressed" | "json", quiet = false): Promise<{ interrupted: boolean }> {
  const { machine, sched, monitor, durationNs } = setup;
  mkdirSync(outDir, { recursive: true });
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
    })),
    recordFormat,
  );
  ctx.onAggregation((_c, snaps) => {
    for (const s of snaps) writer.add(s.targetId, toRecordSnapshot(s, setup.probes > 0, tuned));
  });
  let interrupted = false;
  const onSig = (): void => {
    interrupted = true;
  };
  process.once("SIGINT", onSig);
  const progress = new Progress(quiet ? "" : "simulating", { total: durationNs / SEC, format: (n) => `${n.toFixed(1)} s` });
  machine.onAllThreadsDone(() => sched.stop());
  monitor.kdamond.start();
  const step = Math.max(1, Math.min(durationNs, 50_000_000));
  try {
    while (!interrupted && sched.now < durationNs && !machine.finished) {
      sched.run(Math.min(durationNs, sched.now + step));
      if (!quiet) progress.update(sched.now / SEC, `${ctx.aggregations} snapshots`);
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
  return { interrupted: false };
}

export function runSummary(setup: RunSetup): Record<string, unknown> {
  const { machine, sched, monitor } = setup;
  const cpuTotal = (k: number): number => machine.cpuTime(k);
  const user = cpuTotal(CpuTime.USER);
  const overhead = cpuTotal(CpuTime.KDAMOND) + cpuTotal(CpuTime.TRAP) + cpuTotal(CpuTime.SAMPLING) + cpuTotal(CpuTime.SCAN);
  return {
    tool: `damon-sim ${version()}`,
    workload: setup.workload.name,
    machine: machine.config.name,
    ops: monitor.ops.name,
    variant: monitor.ctx.variant,
    seed: setup.seed,
    simulatedNs: sched.now,
    workloadFinished: machine.finished,
    accesses: machine.cpus.reduce((a, c) => a + c.accesses, 0),
    snapshots: monitor.ctx.aggregations,
    samples: monitor.ctx.samples,
    finalRegions: monitor.ctx.nrRegions(),
    finalIntervals: { sample_us: monitor.ctx.attrs.sampleUs, aggr_us: monitor.ctx.attrs.aggrUs },
    kdamondCpuNs: monitor.kdamond.totalCostNs,
    kdamondCpu: monitor.kdamond.cpu,
    userCpuNs: user,
    monitoringOverheadPercentOfUser: user > 0 ? (overhead / user) * 100 : 0,
    residentBytes: machine.memory.nodes.map((n) => n.used * 4096),
    primitives: monitor.primitives,
    cpuTimeNs: Object.fromEntries(CPU_TIME_NAMES.map((n, k) => [n, cpuTotal(k)])),
    reports: reportSummary(setup),
    attributes: setup.attributes ? setup.attributes.summary(2) : null,
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

export const command: Command = {
  spec,
  async run(args: ParsedArgs) {
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
    const stats = new Stats();
    setup.machine.registerStats(stats);
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
    if (!quiet) {
      process.stdout.write(
        [
          `damon-sim run: ${setup.workload.name} on ${setup.machine.config.name}, DAMON ${setup.monitor.ops.name} with ${setup.monitor.primitives.join("+")}, seed ${setup.seed}`,
          `simulated ${formatDuration(setup.sched.now)}${setup.machine.finished ? " (workload finished)" : ""}, ${summary.accesses} accesses, ${setup.monitor.ctx.aggregations} snapshots, ${setup.monitor.ctx.nrRegions()} regions at the end`,
          `kdamond CPU time: ${formatDuration(Math.round(setup.monitor.kdamond.totalCostNs))} on CPU ${setup.monitor.kdamond.cpu}; resident memory ${setup.machine.memory.nodes.map((n) => formatSize(n.used * 4096)).join(" + ")}`,
          `wrote ${join(outDir, "damon.data")} (damo record), summary.json, config.json, stats.txt, stats.json`,
          "",
        ].join("\n"),
      );
    }
    return 0;
  },
};
