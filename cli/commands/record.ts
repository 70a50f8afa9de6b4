// `damon-sim record WORKLOAD -o FILE.dst`: runs a workload (a built-in generator, a masim config or
// a JSON spec; see workloads/registry.ts) without a machine, on a nominal clock (a fixed cost per
// access and per gap op; workloads/trace/nominal-recorder.ts), and writes its interleaved accesses as a .dst
// trace with the workload's layout and the seed. Same workload and seed: byte-identical file.

import { basename, dirname, resolve } from "node:path";
import { intOpt, requireOpt, stringOpt, type CommandSpec, type ParsedArgs } from "../args.ts";
import type { Command } from "../command.ts";
import { cleanStaleTemps } from "../atomic-write.ts";
import { version } from "../version.ts";
import { Progress } from "../progress.ts";
import { InputError, UsageError } from "../../sim/errors.ts";
import { formatDuration, parseDuration } from "../../sim/time.ts";
import { resolveWorkload } from "../../workloads/registry.ts";
import { yieldToEventLoop } from "../../workloads/trace/atomic-file.ts";
import { DEFAULT_CHUNK_SIZE } from "../../workloads/trace/format.ts";
import { DEFAULT_NOMINAL_CLOCK, NominalRecorder } from "../../workloads/trace/nominal-recorder.ts";
import { TraceWriter } from "../../workloads/trace/writer.ts";

const spec: CommandSpec = {
  name: "record",
  summary: "Record a workload's accesses into a .dst trace, driving its threads on a nominal clock.",
  usage: "WORKLOAD -o FILE.dst [options]",
  positionals: { min: 1, max: 1 },
  options: {
    output: { type: "string", short: "o", value: "FILE.dst", description: "the trace to write (required)" },
    seed: { type: "string", value: "N", description: "root random seed", default: "1" },
    duration: { type: "string", value: "T", description: "stop after this much nominal time (default: when every thread ends)" },
    "ns-per-access": { type: "string", value: "X", description: "nominal ns per memory access", default: String(DEFAULT_NOMINAL_CLOCK.nsPerAccess) },
    "ns-per-op": { type: "string", value: "X", description: "nominal ns per non-memory op (gap)", default: String(DEFAULT_NOMINAL_CLOCK.nsPerOp) },
    quantum: { type: "string", value: "T", description: "threads interleave in quanta of this much nominal time", default: "10us" },
    "chunk-size": { type: "string", value: "N", description: "accesses per trace chunk", default: String(DEFAULT_CHUNK_SIZE) },
    level: { type: "string", value: "N", description: "deflate level 1..9 of the chunks, or auto (level 1, level 6 for very compressible streams)", default: "auto" },
  },
  details: [
    "WORKLOAD is a built-in generator name, a shipped config name, a masim config file or a JSON",
    "workload spec. There is no machine: each thread's clock is accesses x --ns-per-access + gap ops",
    "x --ns-per-op (defaults: an L1 hit and one op per cycle at 3 GHz); the thread with the smallest",
    "clock runs next for one --quantum. Built-in generators run until stopped, so give --duration.",
    "  damon-sim record zipf -o zipf.dst --duration 5ms --seed 3",
  ].join("\n"),
};

function numberOpt(args: ParsedArgs, name: string, fallback: number): number {
  const v = stringOpt(args, name);
  if (v === undefined) return fallback;
  const x = Number(v);
  if (v.trim() === "" || !Number.isFinite(x) || x < 0) throw new UsageError(`record: --${name} needs a non-negative number, got '${v}'`);
  return x;
}

function durationOpt(args: ParsedArgs, name: string): number | undefined {
  const v = stringOpt(args, name);
  if (v === undefined) return undefined;
  try {
    return parseDuration(v, "ns", `--${name}`);
  } catch (e) {
    throw new UsageError(`record: ${e instanceof InputError ? e.message : String(e)}`);
  }
}

export const command: Command = {
  spec,
  async run(args) {
    const arg = args.positionals[0]!;
    const output = requireOpt(spec, args, "output");
    const seed = intOpt(spec, args, "seed") ?? 1;
    const durationNs = durationOpt(args, "duration");
    if (durationNs !== undefined && durationNs <= 0) throw new UsageError("record: --duration must be positive");
    const quantumNs = durationOpt(args, "quantum") ?? DEFAULT_NOMINAL_CLOCK.quantumNs;
    if (quantumNs <= 0) throw new UsageError("record: --quantum must be positive");
    const nsPerAccess = numberOpt(args, "ns-per-access", DEFAULT_NOMINAL_CLOCK.nsPerAccess);
    if (nsPerAccess <= 0) throw new UsageError("record: --ns-per-access must be positive");
    const nsPerOp = numberOpt(args, "ns-per-op", DEFAULT_NOMINAL_CLOCK.nsPerOp);
    const chunkSize = intOpt(spec, args, "chunk-size", 1, 1 << 22) ?? DEFAULT_CHUNK_SIZE;
    const level = stringOpt(args, "level") === "auto" ? "auto" : intOpt(spec, args, "level", 1, 9) ?? "auto";

    const workload = resolveWorkload(arg, durationNs !== undefined ? { duration: durationNs } : {});
    const clock = { nsPerAccess, nsPerOp, quantumNs };
    const recorder = new NominalRecorder(workload, { seed, clock, ...(durationNs !== undefined ? { durationNs } : {}) });
    cleanStaleTemps(dirname(resolve(output)));
    const writer = TraceWriter.create(output, {
      source: `damon-sim record ${arg}`,
      tool: { name: "damon-sim", version: version() },
      layout: workload.layout,
      seed,
      meta: { workload: arg, workloadName: workload.name, nominalClock: clock, durationNs: durationNs ?? null },
    }, { chunkSize, level });
    const progress = new Progress(`record ${basename(output)}`, durationNs !== undefined ? { total: durationNs, format: formatDuration } : {});
    try {
      const sink = writer.write.bind(writer);
      for (;;) {
        const more = recorder.step(sink, 1 << 18);
        progress.update(durationNs !== undefined ? recorder.now : recorder.accesses, `${recorder.accesses.toLocaleString("en-US")} accesses`);
        await yieldToEventLoop(); // lets Ctrl-C abort the recording
        if (!more) break;
      }
      const s = writer.close();
      progress.finish();
      process.stdout.write(`recorded ${s.accesses.toLocaleString("en-US")} accesses of ${workload.name} (seed ${seed}, ${formatDuration(recorder.now)} nominal) into ${output}: ${s.chunks} chunks, ${s.bytes} bytes, ${s.bytesPerAccess.toFixed(3)} bytes/access\n`);
      return 0;
    } catch (e) {
      progress.finish();
      writer.abort();
      throw e;
    }
  },
};
