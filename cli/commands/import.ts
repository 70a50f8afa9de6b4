// `damon-sim import lackey LOG -o FILE.dst`: converts a Valgrind Lackey --trace-mem log (a file,
// or '-' for stdin, so Valgrind can pipe straight in) into a .dst trace, streaming: the log is
// parsed chunk by chunk (workloads/lackey.ts) into the trace writer, which infers the process
// layout from the addresses and stores it in the trace's end marker. The output appears only when
// the import succeeds (bad input, errors and Ctrl-C leave nothing behind).

import { createReadStream, statSync } from "node:fs";
import { basename, dirname, extname, resolve } from "node:path";
import { intOpt, requireOpt, stringOpt, type CommandSpec } from "../args.ts";
import type { Command } from "../command.ts";
import { cleanStaleTemps } from "../atomic-write.ts";
import { version } from "../version.ts";
import { Progress } from "../progress.ts";
import { InputError, UsageError } from "../../sim/errors.ts";
import { formatSize, parseSize } from "../../sim/units.ts";
import { LackeyParser } from "../../workloads/lackey.ts";
import { DEFAULT_CHUNK_SIZE } from "../../workloads/trace/format.ts";
import { DEFAULT_INFER_GAP } from "../../workloads/trace/infer-layout.ts";
import { yieldToEventLoop } from "../../workloads/trace/atomic-file.ts";
import { TraceWriter } from "../../workloads/trace/writer.ts";

const FORMATS = ["lackey"];

const spec: CommandSpec = {
  name: "import",
  summary: "Convert a foreign trace (a Valgrind Lackey --trace-mem log) into a .dst trace.",
  usage: "lackey LOG -o FILE.dst [options]",
  positionals: { min: 2, max: 2 },
  options: {
    output: { type: "string", short: "o", value: "FILE.dst", description: "the trace to write (required)" },
    tid: { type: "string", value: "N", description: "thread id given to every access (Lackey logs carry none)", default: "1" },
    name: { type: "string", value: "NAME", description: "process name in the inferred layout (default: the log's file name)" },
    "gap-bytes": { type: "string", value: "SIZE", description: "touched pages closer than this share a VMA of the inferred layout", default: "1MiB" },
    "chunk-size": { type: "string", value: "N", description: "accesses per trace chunk", default: String(DEFAULT_CHUNK_SIZE) },
    level: { type: "string", value: "N", description: "deflate level 1..9 of the chunks, or auto (level 1, level 6 for very compressible streams)", default: "auto" },
  },
  details: [
    "LOG is the output of `valgrind --tool=lackey --trace-mem=yes`; '-' reads stdin, e.g.",
    "  valgrind --tool=lackey --trace-mem=yes --log-fd=3 ./prog 3>&1 >/dev/null | damon-sim import lackey - -o prog.dst",
    "Valgrind's ==PID== lines are skipped. A Lackey log has no layout: the importer groups the touched",
    "pages into VMAs split at gaps of at least --gap-bytes and stores that layout in the trace.",
  ].join("\n"),
};

export const command: Command = {
  spec,
  async run(args) {
    const [format, log] = args.positionals as [string, string];
    if (!FORMATS.includes(format)) throw new UsageError(`import: unknown trace format '${format}' (known: ${FORMATS.join(", ")})`);
    const output = requireOpt(spec, args, "output");
    const tid = intOpt(spec, args, "tid", 1, 2 ** 31 - 1) ?? 1;
    const chunkSize = intOpt(spec, args, "chunk-size", 1, 1 << 22) ?? DEFAULT_CHUNK_SIZE;
    const level = stringOpt(args, "level") === "auto" ? "auto" : intOpt(spec, args, "level", 1, 9) ?? "auto";
    let gapBytes = DEFAULT_INFER_GAP;
    const gapText = stringOpt(args, "gap-bytes");
    if (gapText !== undefined) {
      try {
        gapBytes = parseSize(gapText, "--gap-bytes");
      } catch (e) {
        throw new UsageError(`import: ${e instanceof InputError ? e.message : String(e)}`);
      }
      if (gapBytes < 1) throw new UsageError("import: --gap-bytes must be positive");
    }
    const stdin = log === "-";
    const file = stdin ? "<stdin>" : log;
    const name = stringOpt(args, "name") ?? (stdin ? "stdin" : basename(log, extname(log)));
    let total: number | undefined;
    if (!stdin) {
      try {
        const st = statSync(log);
        if (st.isFile()) total = st.size;
      } catch (e) {
        throw new InputError(`cannot open Lackey log: ${(e as Error).message}`, { file });
      }
    }

    cleanStaleTemps(dirname(resolve(output)));
    const writer = TraceWriter.create(output, {
      source: `valgrind lackey log ${stdin ? "(stdin)" : basename(log)}`,
      tool: { name: "damon-sim", version: version() },
      meta: { importedFrom: "lackey", tid },
    }, { chunkSize, level, infer: { name, gapBytes } });
    const progress = new Progress(`import ${basename(output)}`, { ...(total !== undefined ? { total } : {}), format: total !== undefined ? formatSize : undefined });
    try {
      const parser = new LackeyParser((b) => writer.write(b), { file, tid });
      const input = stdin ? process.stdin : createReadStream(log, { highWaterMark: 1 << 20 });
      let bytes = 0;
      try {
        for await (const chunk of input as AsyncIterable<Buffer>) {
          parser.feed(chunk);
          bytes += chunk.length;
          if (total !== undefined) progress.update(bytes, `${parser.records.toLocaleString("en-US")} accesses`);
          else progress.update(parser.records, "accesses");
        }
      } catch (e) {
        if (e instanceof InputError) throw e;
        throw new InputError(`cannot read Lackey log: ${(e as Error).message}`, { file });
      }
      parser.end();
      await yieldToEventLoop(); // let a pending Ctrl-C abort before the file gets its name
      const s = writer.close();
      progress.finish();
      process.stdout.write(`imported ${parser.records.toLocaleString("en-US")} accesses (${parser.lines.toLocaleString("en-US")} lines) into ${output}: ${s.chunks} chunks, ${formatSize(s.bytes)}, ${s.bytesPerAccess.toFixed(3)} bytes/access\n`);
      return 0;
    } catch (e) {
      progress.finish();
      writer.abort();
      throw e;
    }
  },
};
