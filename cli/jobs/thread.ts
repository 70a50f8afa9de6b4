// The body of every local worker thread (pool-worker.mjs loads it): runs one task of a named kind
// (tasks.ts), posting "started" and then its progress on the task's port, and answers with the
// output, or with the error the task threw as plain data (name, message, stack). A thread runs
// many tasks one after the other; each kind's modules are imported the first time it is asked for.

import type { PortMessage, TaskError, TaskInput, TaskKind, TaskOutput, ThreadReply, ThreadTask } from "./tasks.ts";

type Body<K extends TaskKind> = (input: TaskInput<K>, progress: (fraction: number) => void) => TaskOutput<K>;

const BODIES: { [K in TaskKind]: () => Promise<Body<K>> } = {
  "study-job": async () => {
    const { runJob } = await import("../study/job.ts");
    return (i) => runJob(i.spec, i.inputsDir);
  },
  "compare-variant": async () => {
    const { runVariant } = await import("../experiment/variant.ts");
    return (i, progress) => runVariant(i.experiment, i.variant, progress);
  },
  "check-case": async () => (await import("../check/results.ts")).runCase,
};

/** Progress is posted when it moved by this much since the last post. */
const PROGRESS_STEP = 0.01;

/** An error as plain data (it crosses a thread or a queue). */
export function errorOf(e: unknown): TaskError {
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: err.name, message: err.message, stack: err.stack ?? "" };
}

export async function runInThread<K extends TaskKind>(t: ThreadTask<K>): Promise<ThreadReply<K>> {
  const post = (m: PortMessage): void => t.port.postMessage(m);
  const t0 = performance.now();
  post({ kind: "started" });
  try {
    const body = (await BODIES[t.kind]()) as Body<K>;
    let last = 0;
    const output = body(t.input, (f) => {
      if (f - last < PROGRESS_STEP) return;
      last = f;
      post({ kind: "progress", fraction: f });
    });
    return { ok: true, output, wallMs: performance.now() - t0 };
  } catch (e) {
    return { ok: false, error: errorOf(e), wallMs: performance.now() - t0 };
  } finally {
    t.port.close();
  }
}
