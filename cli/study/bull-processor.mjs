// BullMQ sandboxed processor (run in a worker thread by `damon-sim worker`): registers the
// TypeScript loader in this thread, then runs the job body; the store folder may be overridden
// by the worker's --store (DAMON_SIM_STUDY_STORE).
import { register } from "tsx/esm/api";

register();
const { runTask } = await import("./task.ts");

export default async function process(job) {
  const store = globalThis.process.env.DAMON_SIM_STUDY_STORE || job.data.store;
  return runTask({ ...job.data, store });
}
