// The body of an experiment worker thread: runs the variant it was given and posts progress
// messages and then its result (or an error) to the parent.

import { parentPort, workerData } from "node:worker_threads";
import type { ExperimentSpec, VariantSpec } from "./spec.ts";
import { runVariant } from "./variant.ts";

const { experiment, variant } = workerData as { experiment: ExperimentSpec; variant: VariantSpec };
try {
  let last = 0;
  const result = runVariant(experiment, variant, (f) => {
    if (f - last >= 0.01) {
      last = f;
      parentPort!.postMessage({ kind: "progress", fraction: f });
    }
  });
  parentPort!.postMessage({ kind: "result", result });
} catch (e) {
  const err = e as Error;
  parentPort!.postMessage({ kind: "error", message: err.message, name: err.name, stack: err.stack });
}
