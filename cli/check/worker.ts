// The body of a `damon-sim check` worker thread: runs the one case it was given and posts its
// results (or the error it threw) to the parent.

import { parentPort, workerData } from "node:worker_threads";
import type { CaseSpec } from "./case.ts";
import { runCase } from "./results.ts";

const { spec } = workerData as { spec: CaseSpec };
try {
  const results = runCase(spec);
  parentPort!.postMessage({ kind: "result", results });
} catch (e) {
  const err = e instanceof Error ? e : new Error(String(e));
  parentPort!.postMessage({ kind: "error", name: err.name, message: err.message, stack: err.stack ?? "" });
}
