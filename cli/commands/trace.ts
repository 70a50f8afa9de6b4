// `damon-sim trace info FILE.dst [--json]`: describes a .dst trace: its header (source, tool, seed,
// layout, metadata) and, from reading every chunk (which also verifies the whole file), the
// accesses per kind, the address span, the threads, the chunk count and the bytes per access.

import type { CommandSpec } from "../args.ts";
import type { Command } from "../command.ts";
import { UsageError } from "../../sim/errors.ts";
import { formatSize } from "../../sim/units.ts";
import { traceInfo, type TraceInfo } from "../../workloads/trace/info.ts";

const spec: CommandSpec = {
  name: "trace",
  summary: "Inspect damon-sim .dst trace files.",
  usage: "info FILE.dst [--json]",
  positionals: { min: 2, max: 2 },
  options: {
    json: { type: "boolean", description: "print the summary as JSON" },
  },
  details: [
    "subcommands:",
    "  info FILE.dst   print the header, counts of reads/writes/ifetches/modifies, the address",
    "                  span, threads, chunks and bytes per access (reads and checks the whole file)",
    "",
    "Traces come from 'damon-sim record' and 'damon-sim import lackey'.",
  ].join("\n"),
};

const num = (n: number): string => n.toLocaleString("en-US");
const hex = (n: number): string => `0x${n.toString(16)}`;

export function formatTraceInfo(info: TraceInfo): string {
  const h = info.header;
  const c = info.counts;
  const lines = [
    `file:           ${info.path} (${formatSize(info.fileBytes)}, .dst format ${h.formatVersion})`,
    `source:         ${h.source}`,
    `tool:           ${h.tool.name} ${h.tool.version}`,
    `seed:           ${h.seed ?? "none"}`,
    `accesses:       ${num(info.accesses)} in ${num(info.chunks)} chunks of up to ${num(h.chunkSize)}`,
    `  reads:        ${num(c.read)}`,
    `  writes:       ${num(c.write)}`,
    `  ifetches:     ${num(c.ifetch)}`,
    `  modifies:     ${num(c.modify)}`,
    `gap ops:        ${num(info.gapOps)}`,
    `address span:   ${info.addressSpan ? `${hex(info.addressSpan.start)}-${hex(info.addressSpan.end)} (${formatSize(info.addressSpan.end - info.addressSpan.start)})` : "none"}`,
    `threads:        ${info.threads.length} (tids ${info.threads.join(", ") || "none"}; header lists ${h.threads.join(", ")})`,
    `bytes/access:   ${info.bytesPerAccess.toFixed(3)}`,
    `layout:         ${h.layoutInferred ? "inferred from the addresses" : "recorded"}, ${h.layout.processes.length} process(es)`,
  ];
  for (const p of h.layout.processes) {
    lines.push(`  pid ${p.pid} ${p.name}: threads ${p.threads.map((t) => t.tid).join(", ")}`);
    const ranges = p.vmas.map((v) => `${hex(v.start)}-${hex(v.end)}`);
    const width = Math.max(...ranges.map((r) => r.length));
    p.vmas.forEach((v, i) => {
      lines.push(`    ${ranges[i]!.padEnd(width)} ${formatSize(v.end - v.start).padStart(12)}  ${v.kind.padEnd(5)} ${v.backing.padEnd(4)} ${v.writable === false ? "r-" : "rw"}  ${v.name}`);
    });
  }
  if (Object.keys(h.meta).length > 0) lines.push(`meta:           ${JSON.stringify(h.meta)}`);
  return lines.join("\n") + "\n";
}

export const command: Command = {
  spec,
  async run(args) {
    const [sub, file] = args.positionals as [string, string];
    if (sub !== "info") throw new UsageError(`trace: unknown subcommand '${sub}' (known: info)`);
    const info = traceInfo(file);
    process.stdout.write(args.values.json === true ? JSON.stringify(info, null, 2) + "\n" : formatTraceInfo(info));
    return 0;
  },
};
