// Worker-thread entry of `damon-sim check`: registers the TypeScript loader in this thread, then
// runs the case worker.
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
