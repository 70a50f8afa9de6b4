// Piscina worker entry of the local pool (cli/jobs/local.ts): registers the TypeScript loader in
// this thread, then exports the task body (thread.ts) as the pool's task function.
import { register } from "tsx/esm/api";

register();
const { runInThread } = await import("./thread.ts");
export default runInThread;
