// Piscina worker entry for the local study backend: registers the TypeScript loader in this thread
// (as cli/experiment/worker-entry.mjs does), then exports the job body as the pool's task function.
import { register } from "tsx/esm/api";

register();
const { runTask } = await import("./task.ts");
export default runTask;
