// `damon-sim stat WORKLOAD|TRACE`: runs the workload with DAMON_STAT as the only monitor, with no
// other setting, and prints its two published values the way its module parameters read
// (estimated_memory_bandwidth, shown as memory_bw_estimate, and memory_idle_ms_percentiles),
// then compares the bandwidth estimate with the machine's true memory bandwidth.

import { intOpt, stringOpt, type CommandSpec } from "../args.ts";
import type { Command } from "../command.ts";
import { kernelFromArgs, machineConfig } from "../run-setup.ts";
import { KERNEL_VERSIONS } from "../../damon/kernel.ts";
import { UsageError } from "../../sim/errors.ts";
import { formatDuration, parseDuration } from "../../sim/time.ts";
import { formatSize } from "../../sim/units.ts";
import { createDamonStat, type DamonStat } from "../../damon/stat.ts";
import { buildSimulation } from "../simulation.ts";
import { resolveWorkload } from "../../workloads/registry.ts";

const spec: CommandSpec = {
  name: "stat",
  summary: "Run a workload with DAMON_STAT monitoring it and print its memory bandwidth estimate and idle time percentiles.",
  usage: "WORKLOAD|TRACE [options]",
  positionals: { min: 1, max: 1 },
  options: {
    machine: { type: "string", value: "PRESET|FILE", description: "machine preset or JSON file", default: "2s-ddr5" },
    duration: { type: "string", value: "T", description: "simulated time limit (also ends when the workload does)", default: "30s" },
    seed: { type: "string", value: "N", description: "root random seed", default: "1" },
    region: { type: "string", value: "biggest|all", description: "monitored range: the biggest System RAM resource (stat.c) or all memory", default: "biggest" },
    kernel: { type: "string", value: "VERSION", description: `DAMON as kernel VERSION does it: ${KERNEL_VERSIONS.join(", ")} (DAMON_STAT needs v6.17 or later)`, default: "mainline" },
    json: { type: "boolean", description: "print JSON" },
  },
  details: "DAMON_STAT publishes its values every 5 s, so runs shorter than that print zeros.",
};

export const command: Command = {
  spec,
  async run(args) {
    const region = stringOpt(args, "region") ?? "biggest";
    if (region !== "biggest" && region !== "all") throw new UsageError("stat: --region must be biggest or all");
    const durationNs = parseDuration(stringOpt(args, "duration") ?? "30s", "s", "--duration");
    const seed = intOpt(spec, args, "seed") ?? 1;
    const config = machineConfig(stringOpt(args, "machine") ?? "2s-ddr5");
    const workload = resolveWorkload(args.positionals[0]!);
    const built: { stat: DamonStat | null } = { stat: null };
    const { sched, machine } = buildSimulation({
      config,
      workload,
      seed,
      truth: false,
      monitor: (m) => (built.stat = createDamonStat(m, region, undefined, kernelFromArgs(spec, args))).monitor,
    });
    const stat = built.stat!;
    machine.onAllThreadsDone(() => sched.stop());
    stat.monitor.kdamond.start();
    while (sched.now < durationNs && !machine.finished) {
      sched.run(Math.min(durationNs, sched.now + 100_000_000));
      await new Promise((r) => setImmediate(r));
    }
    const v = stat.values;
    const bytes = machine.memory.nodes.reduce((a, n) => a + n.readBytes + n.writeBytes, 0);
    const trueBw = sched.now > 0 ? (bytes * 1e9) / sched.now : 0;
    const out = {
      memory_bw_estimate: v.estimatedMemoryBandwidth,
      estimated_memory_bandwidth: v.estimatedMemoryBandwidth,
      memory_idle_ms_percentiles: v.memoryIdleMsPercentiles,
      aggr_interval_us: v.aggrIntervalUs,
      sample_interval_us: v.sampleIntervalUs,
      refreshes: v.refreshes,
      last_refresh_ns: v.refreshes > 0 ? v.refreshedAt : null,
      window_fraction_counted: v.windowFraction,
      simulated_ns: sched.now,
      true_memory_bandwidth: Math.round(trueBw),
      estimate_over_truth: trueBw > 0 ? v.estimatedMemoryBandwidth / trueBw : null,
      workload: workload.name,
      machine: machine.config.name,
      kernel: stat.monitor.ctx.kernel.name,
      seed,
    };
    if (args.values.json === true) {
      process.stdout.write(JSON.stringify(out, null, 2) + "\n");
      return 0;
    }
    process.stdout.write(
      [
        `memory_bw_estimate: ${v.estimatedMemoryBandwidth}`,
        `memory_idle_ms_percentiles: ${v.memoryIdleMsPercentiles.join(",")}`,
        `# aggr_interval_us: ${v.aggrIntervalUs} (sample interval ${formatDuration(v.sampleIntervalUs * 1000)}, self-tuned); refreshed ${v.refreshes} time(s)${v.refreshes ? `, last at ${formatDuration(v.refreshedAt)}` : " (runs shorter than 5 s publish nothing)"}`,
        `# true memory bandwidth (DRAM reads + writes over ${formatDuration(sched.now)}): ${formatSize(Math.round(trueBw))} per second; estimate ${formatSize(v.estimatedMemoryBandwidth)} per second${trueBw > 0 ? ` (${(v.estimatedMemoryBandwidth / trueBw).toFixed(2)}x the truth)` : ""}`,
        "",
      ].join("\n"),
    );
    return 0;
  },
};
