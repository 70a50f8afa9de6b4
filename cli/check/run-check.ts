// The `damon-sim check` pipeline: finds and loads the cases, runs them on the local pool of worker
// threads (cli/jobs/local.ts, one per core by default) or on a BullMQ queue served by
// `damon-sim worker` (cli/jobs/backend.ts; a case that throws, whose thread dies or
// that outlives its time limit, its thread then stopped, is "crashed" or "timeout" and the others
// carry on), compares each one's results with its expected.json (or, blessing, rewrites
// expected.json atomically and lists what changed), and hands each finished case to `onCase` in
// case order as soon as it and every case before it are done. Ctrl-C stops the pool.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../../sim/errors.ts";
import { caseName, EXPECTED_FILE, findCases, loadCase, type CaseSpec } from "./case.ts";
import { compareResults } from "./compare.ts";
import { formatJson, readJsonFile } from "./json-file.ts";
import { cleanStaleTemps, writeFileAtomic } from "../atomic-write.ts";
import type { Settled } from "../jobs/local.ts";
import { runOn, type Backend } from "../jobs/backend.ts";
import type { TaskError } from "../jobs/tasks.ts";
import type { CaseResults } from "./results.ts";
import { buildReport, type CaseReport, type CheckReport } from "./outcome.ts";

export interface CheckOptions {
  bless: boolean;
  jobs?: number;
  timeoutMs: number;
  onCase?: (c: CaseReport) => void;
  /** Default: local. */
  backend?: Backend;
  /** bullmq: a folder every worker mounts for the input files (default: Redis). */
  inputsFolder?: string;
  quiet?: boolean;
}

const blank = (name: string, dir: string): CaseReport => ({ name, dir, status: "crashed", wallSeconds: null, error: null, firstDivergentAggregation: null, divergenceEndNs: null, diffs: [] });

/** Results as they are stored: through JSON, so NaN, -0 and undefined read back as they were written. */
function normalise(results: unknown): unknown {
  return JSON.parse(JSON.stringify(results)) as unknown;
}

function errorText(e: unknown): string {
  return e instanceof InputError ? e.message : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** What a case threw, as reported: the class too when it is not one of the simulator's own errors (the stack with DAMON_SIM_DEBUG). */
function thrownText(e: TaskError): string {
  const internal = e.name !== "InputError" && e.name !== "UsageError" && e.name !== "SimError";
  return `${internal ? `${e.name}: ` : ""}${e.message}${process.env.DAMON_SIM_DEBUG !== undefined && e.stack ? `\n${e.stack}` : ""}`;
}

/** Compares (or blesses) one finished case. */
function judge(c: CaseSpec, outcome: Settled<CaseResults>, bless: boolean): CaseReport {
  const r = blank(c.name, c.dir);
  r.wallSeconds = Math.round(outcome.wallMs) / 1000;
  if (outcome.status === "failed") {
    r.error = thrownText(outcome.error);
    return r;
  }
  if (outcome.status === "timeout") {
    r.status = "timeout";
    r.error = `no result within ${outcome.timeoutMs / 1000} s (the worker was stopped)`;
    return r;
  }
  const got = normalise(outcome.output);
  const path = join(c.dir, EXPECTED_FILE);
  const shown = `${c.name}/${EXPECTED_FILE}`;
  const has = existsSync(path);
  if (bless) {
    let old: unknown = null;
    if (has) {
      try {
        old = readJsonFile(path, shown);
      } catch {
        old = null; // unreadable expectations are simply replaced
      }
    }
    const cmp = old === null ? null : compareResults(old, got, {}, { exact: true });
    if (cmp !== null && cmp.diffs.length === 0) {
      r.status = "unchanged";
      return r;
    }
    try {
      writeFileAtomic(path, formatJson(got) + "\n");
    } catch (e) {
      r.error = `cannot write ${shown}: ${(e as Error).message}`;
      return r;
    }
    r.status = "blessed";
    if (cmp) {
      r.diffs = cmp.diffs;
      r.firstDivergentAggregation = cmp.firstDivergentAggregation;
      r.divergenceEndNs = cmp.divergenceEndNs;
    } else {
      r.error = has ? `${EXPECTED_FILE} was unreadable; written afresh` : `${EXPECTED_FILE} created`;
    }
    return r;
  }
  if (!has) {
    r.status = "missing";
    r.error = `no ${EXPECTED_FILE}: run 'damon-sim check --bless ${c.name}' to record the current results`;
    return r;
  }
  let expected: unknown;
  try {
    expected = readJsonFile(path, shown);
  } catch (e) {
    r.error = errorText(e);
    return r;
  }
  const cmp = compareResults(expected, got, c.tolerances);
  r.diffs = cmp.diffs;
  r.firstDivergentAggregation = cmp.firstDivergentAggregation;
  r.divergenceEndNs = cmp.divergenceEndNs;
  r.status = cmp.diffs.length === 0 ? "pass" : "fail";
  return r;
}

/** Runs every case under `paths`; resolves to the report (null entries never remain). */
export async function checkCases(paths: readonly string[], o: CheckOptions): Promise<CheckReport & { interrupted: boolean }> {
  const dirs = findCases(paths);
  for (const dir of dirs) cleanStaleTemps(dir); // an expected.json.*.tmp left by a killed --bless
  const reports: Array<CaseReport | null> = dirs.map(() => null);
  const specs: CaseSpec[] = [];
  const specIndex: number[] = [];
  dirs.forEach((dir, i) => {
    try {
      specs.push(loadCase(dir));
      specIndex.push(i);
    } catch (e) {
      const r = blank(caseName(dir), dir);
      r.error = `invalid case: ${errorText(e)}`;
      reports[i] = r;
    }
  });
  let shown = 0;
  const flush = (): void => {
    while (shown < reports.length && reports[shown] !== null) {
      const r = reports[shown++]!;
      o.onCase?.(r);
    }
  };
  flush();
  const pool = await runOn("check-case", specs, {
    backend: o.backend ?? { kind: "local" },
    what: "check",
    quiet: o.quiet ?? false,
    describe: (k) => `case ${specs[k]!.name}`,
    ...(o.inputsFolder !== undefined ? { inputsFolder: o.inputsFolder } : {}),
    timeoutMs: (k) => specs[k]!.timeoutMs ?? o.timeoutMs,
    ...(o.jobs !== undefined ? { workers: o.jobs } : {}),
    onDone: (k, outcome) => {
      reports[specIndex[k]!] = judge(specs[k]!, outcome, o.bless);
      flush();
    },
  });
  const done = reports.filter((r): r is CaseReport => r !== null);
  return { ...buildReport(done, o.bless), interrupted: pool.interrupted };
}
