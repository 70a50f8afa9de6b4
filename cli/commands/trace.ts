// `damon-sim trace info FILE.dst [--json] [--chunks]`: describes a .dst trace: its header (source,
// tool, seed, layout, metadata) and, from reading every chunk (which also verifies the whole file,
// chunk checksums, sequence and the whole-file digest), the accesses per kind, the address span,
// the threads, the chunks and the bytes per access; --json also lists every chunk (sequence
// number, byte offset, size, accesses), and --chunks prints that list as a table.
// `damon-sim trace upgrade IN.dst -o OUT.dst`: rewrites a version 1 trace as version 2 (same
// payloads, checked on the way; written atomically, OUT may be IN).

import { requireOpt, type CommandSpec } from "../args.ts";
import type { Command } from "../command.ts";
import { UsageError } from "../../sim/errors.ts";
import { formatSize } from "../../sim/units.ts";
import { traceInfo, type TraceInfo } from "../../workloads/trace/info.ts";
import { upgradeTrace } from "../../workloads/trace/upgrade.ts";

const SUBCOMMANDS = ["info", "upgrade"];

const spec: CommandSpec = {
  name: "trace",
  summary: "Inspect damon-sim .dst trace files and upgrade old ones.",
  usage: "info FILE.dst [--json] [--chunks] | upgrade IN.dst -o OUT.dst",
  positionals: { min: 2, max: 2 },
  options: {
    json: { type: "boolean", description: "info: print the summary, with every chunk, as JSON" },
    chunks: { type: "boolean", description: "info: also list every chunk (sequence, byte offset, bytes, accesses)" },
    output: { type: "string", short: "o", value: "OUT.dst", description: "upgrade: the version 2 trace to write (may be IN itself)" },
  },
  details: [
    "subcommands:",
    "  info FILE.dst         print the header, counts of reads/writes/ifetches/modifies, the address",
    "                        span, threads, chunks and bytes per access (reads and checks the whole",
    "                        file: chunk checksums and sequence numbers, and the file's SHA-256)",
    "  upgrade IN -o OUT     convert a version 1 trace to version 2 (chunk sequence numbers and a",
    "                        whole-file digest); accesses and compression stay the same",
    "",
    "Traces come from 'damon-sim record' and 'damon-sim import lackey'.",
  ].join("\n"),
};

const num = (n: number): string => n.toLocaleString("en-US");
const hex = (n: number): string => `0x${n.toString(16)}`;

export function formatTraceInfo(info: TraceInfo, withChunks = false): string {
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
    `sha256:         ${h.sha256 ?? "none (version 1: no whole-file digest)"}`,
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
  if (withChunks) {
    const rows = info.chunkList.map((k) => [num(k.seq), num(k.offset), num(k.bytes), num(k.accesses)]);
    const head = ["chunk", "offset", "bytes", "accesses"];
    const widths = head.map((t, i) => Math.max(t.length, ...rows.map((r) => r[i]!.length)));
    lines.push("chunks:");
    for (const r of [head, ...rows]) lines.push(`  ${r.map((x, i) => x.padStart(widths[i]!)).join("  ")}`);
  }
  return lines.join("\n") + "\n";
}

export const command: Command = {
  spec,
  async run(args) {
    const [sub, file] = args.positionals as [string, string];
    if (!SUBCOMMANDS.includes(sub)) throw new UsageError(`trace: unknown subcommand '${sub}' (known: ${SUBCOMMANDS.join(", ")})`);
    if (sub === "upgrade") {
      if (args.values.json !== undefined || args.values.chunks !== undefined) throw new UsageError("trace upgrade: --json and --chunks belong to 'trace info'");
      const output = requireOpt(spec, args, "output");
      const s = upgradeTrace(file, output);
      process.stdout.write(`upgraded ${s.input} (.dst ${s.from}, ${formatSize(s.inputBytes)}) to ${s.output} (.dst 2.0, ${formatSize(s.outputBytes)}): ${num(s.chunks)} chunks, ${num(s.accesses)} accesses, sha256 ${s.sha256}\n`);
      return 0;
    }
    if (args.values.output !== undefined) throw new UsageError("trace info: --output belongs to 'trace upgrade'");
    const info = traceInfo(file);
    process.stdout.write(args.values.json === true ? JSON.stringify(info, null, 2) + "\n" : formatTraceInfo(info, args.values.chunks === true));
    return 0;
  },
};
