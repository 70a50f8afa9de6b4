// Runs regression cases in parallel worker threads (one per core by default), one fresh worker per
// case. A case whose worker throws, dies or outlives its timeout (the worker is terminated) gets a
// "crashed" or "timeout" outcome and the other cases carry on. Outcomes come back in case order
// whatever order the workers finish in. Ctrl-C terminates the running workers and stops.
// Wall time is used only for timeouts and for the informational run time of each case.

import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { CaseSpec } from "./case.ts";
import type { CaseResults } from "./results.ts";
import { WorkerLanes } from "../lanes.ts";

export type CaseOutcome =
  | { status: "done"; results: CaseResults; wallMs: number }
  | { status: "crashed"; error: string; wallMs: number }
  | { status: "timeout"; timeoutMs: number; wallMs: number };

export interface PoolOptions {
  jobs?: number;
  /** Default per-case timeout, ms (a case's own timeout wins). */
  timeoutMs: number;
  /** Called as each case finishes (in completion order). */
  onDone?: (index: number, outcome: CaseOutcome) => void;
}

export interface PoolResult {
  outcomes: Array<CaseOutcome | null>;
  interrupted: boolean;
}

export async function runCasesInWorkers(cases: readonly CaseSpec[], o: PoolOptions): Promise<PoolResult> {
  const outcomes: Array<CaseOutcome | null> = cases.map(() => null);
  const jobs = Math.max(1, Math.min(o.jobs ?? availableParallelism(), cases.length));
  const lanes = new WorkerLanes();
  const entry = new URL("./worker-entry.mjs", import.meta.url);
  const debug = process.env.DAMON_SIM_DEBUG !== undefined;

  const runOne = (i: number): Promise<void> =>
    new Promise((resolveRun) => {
      const c = cases[i]!;
      const timeoutMs = c.timeoutMs ?? o.timeoutMs;
      const t0 = performance.now();
      let result: CaseResults | null = null;
      let error: string | null = null;
      let timedOut = false;
      const w = lanes.track(new Worker(entry, { workerData: { spec: c } }));
      const timer = setTimeout(() => {
        timedOut = true;
        void w.terminate();
      }, timeoutMs);
      w.on("message", (msg: { kind: string; results?: CaseResults; name?: string; message?: string; stack?: string }) => {
        if (msg.kind === "result") result = msg.results!;
        else if (msg.kind === "error") {
          const internal = msg.name !== "InputError" && msg.name !== "UsageError" && msg.name !== "SimError";
          error = `${internal ? `${msg.name ?? "Error"}: ` : ""}${msg.message ?? "error"}${debug && msg.stack ? `\n${msg.stack}` : ""}`;
        }
      });
      w.on("error", (e) => {
        error ??= `${e.name}: ${e.message}`;
      });
      w.on("exit", (code) => {
        clearTimeout(timer);
        const wallMs = performance.now() - t0;
        let out: CaseOutcome;
        if (result !== null) out = { status: "done", results: result, wallMs };
        else if (timedOut) out = { status: "timeout", timeoutMs, wallMs };
        else out = { status: "crashed", error: error ?? (lanes.interrupted ? "interrupted" : `worker exited with code ${code} without a result`), wallMs };
        if (!lanes.interrupted) {
          outcomes[i] = out;
          o.onDone?.(i, out);
        }
        resolveRun();
      });
    });

  await lanes.run(cases.length, jobs, runOne);
  return { outcomes, interrupted: lanes.interrupted };
}
