// Builds the simulation of one regression case: exactly what `damon-sim run` builds from the
// case's `run` options (run-setup's buildRun), except that the accuracy tracker (results.ts), not
// the run, closes the ground-truth window at every aggregation, so DAMON's snapshot and the truth
// cover exactly the same time.

import { buildRun, type RunSetup } from "../run-setup.ts";
import { CASE_FILE, runArgs, runSpec, type CaseSpec } from "./case.ts";

/** The machine (workload loaded) and the kdamond (created, not started) of case `c`. */
export function buildCaseRun(c: CaseSpec): RunSetup {
  const args = runArgs(c);
  const setup = buildRun(runSpec(`${c.name}/${CASE_FILE}`), args, { workloadArg: c.workloadArg, closeTruth: false });
  return { ...setup, options: { ...args.values, workload: c.workload } };
}
