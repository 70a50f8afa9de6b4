// The kinds of task the local worker pool runs, with what goes in and what comes back: a study
// job (cli/study/job.ts runJob: one content-addressed simulation, its input files read from
// `inputsDir`; whoever asked for it stores the result), a compare
// variant (cli/experiment/variant.ts: one variant of an experiment) and a check case
// (cli/check/results.ts: one regression case). Types only, so the coordinator's thread loads none
// of the simulator for them; thread.ts maps each kind to its body. Everything here crosses a
// thread boundary by structured clone: plain data.

import type { MessagePort } from "node:worker_threads";
import type { CaseSpec } from "../check/case.ts";
import type { CaseResults } from "../check/results.ts";
import type { ExperimentSpec, VariantSpec } from "../experiment/spec.ts";
import type { VariantResult } from "../experiment/variant.ts";
import type { JobResult, JobSpec } from "../study/job.ts";

export interface Tasks {
  "study-job": { input: { spec: JobSpec; inputsDir: string }; output: { result: JobResult; wallSeconds: number } };
  "compare-variant": { input: { experiment: ExperimentSpec; variant: VariantSpec }; output: VariantResult };
  "check-case": { input: CaseSpec; output: CaseResults };
}

export type TaskKind = keyof Tasks;
export type TaskInput<K extends TaskKind> = Tasks[K]["input"];
export type TaskOutput<K extends TaskKind> = Tasks[K]["output"];

/** What the pool hands a thread: the kind, its input, and a port for the messages below. */
export interface ThreadTask<K extends TaskKind = TaskKind> {
  kind: K;
  input: TaskInput<K>;
  port: MessagePort;
}

/** An error as the thread saw it: its class name too (structured clone keeps only built-in ones). */
export interface TaskError {
  name: string;
  message: string;
  stack: string;
}

/** The thread's answer: the output or what the task threw, and the host time it took there. */
export type ThreadReply<K extends TaskKind = TaskKind> = ({ ok: true; output: TaskOutput<K> } | { ok: false; error: TaskError }) & { wallMs: number };

/** Sent on the task's port: once when a thread takes the task up, then the fraction done. */
export type PortMessage = { kind: "started" } | { kind: "progress"; fraction: number };
