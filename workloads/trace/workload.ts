// traceWorkload: a recorded .dst trace as a hw Workload. Its layout comes from the trace (header,
// or footer when it was inferred) and every start() replays the file from the beginning as one
// merged stream of all threads' accesses in recorded order. The reader streams chunk by chunk and
// closes its file when the trace ends.

import type { AccessSource } from "../../hw/batch.ts";
import type { Workload, WorkloadRun } from "../../hw/program.ts";
import { basename } from "node:path";
import type { TraceHeader } from "./format.ts";
import { openTrace } from "./reader.ts";

/** The trace at `path` as a Workload (the header is exposed too). Throws an InputError if it is not a valid trace. */
export function traceWorkload(path: string): Workload & { readonly header: TraceHeader } {
  const probe = openTrace(path);
  probe.close();
  const header = probe.header;
  return {
    name: `trace:${basename(path)}`,
    layout: header.layout,
    header,
    start(): WorkloadRun {
      const source: AccessSource = openTrace(path);
      return { kind: "merged", source };
    },
  };
}
