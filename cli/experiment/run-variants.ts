// Runs an experiment's variants on the local pool (cli/jobs/local.ts: piscina threads, one per
// core by default) or on a BullMQ queue served by `damon-sim worker` (cli/jobs/backend.ts), with a
// progress bar per variant on a terminal. Results and errors come back
// in variant order whatever order the threads finish in, so the output never depends on
// scheduling. Ctrl-C stops the pool: only the variants that finished are returned, and the ones
// that were running are reported "interrupted".

import { SimError } from "../../sim/errors.ts";
import { runOn, type Backend } from "../jobs/backend.ts";
import { ProgressBoard } from "../progress.ts";
import type { ExperimentSpec, VariantSpec } from "./spec.ts";
import type { VariantResult } from "./variant.ts";

export interface VariantsOutcome {
  results: Array<VariantResult | null>;
  errors: Array<string | null>;
  interrupted: boolean;
}

export interface VariantsOptions {
  jobs?: number;
  quiet?: boolean;
  /** Default: local. */
  backend?: Backend;
  /** bullmq: a folder every worker mounts for the input files (default: Redis). */
  inputsFolder?: string;
}

export async function runVariants(x: ExperimentSpec, variants: VariantSpec[], o: VariantsOptions = {}): Promise<VariantsOutcome> {
  const board = new ProgressBoard(variants.map((v) => v.name), o.quiet ?? false);
  const run = await runOn(
    "compare-variant",
    variants.map((variant) => ({ experiment: x, variant })),
    {
      backend: o.backend ?? { kind: "local" },
      what: "compare",
      quiet: o.quiet ?? false,
      describe: (i) => `variant '${variants[i]!.name}'`,
      ...(o.inputsFolder !== undefined ? { inputsFolder: o.inputsFolder } : {}),
      ...(o.jobs !== undefined ? { workers: o.jobs } : {}),
      onProgress: (i, f) => board.set(i, f),
      onDone: (i, r) => {
        if (r.status === "done") board.set(i, 1);
      },
    },
  ).finally(() => board.finish());
  const results = run.outcomes.map((r) => (r?.status === "done" ? r.output : null));
  const errors = run.outcomes.map((r, i) => {
    if (r === null) return run.started[i] ? "interrupted" : null;
    return r.status === "done" ? null : r.status === "failed" ? r.error.message : "timed out";
  });
  if (!run.interrupted && results.every((r) => r === null)) throw new SimError(`every variant failed: ${errors.find((e) => e !== null)}`);
  return { results, errors, interrupted: run.interrupted };
}
