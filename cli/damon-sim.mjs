#!/usr/bin/env node
// The damon-sim executable: registers the TypeScript loader (tsx) and hands over to cli/main.ts.
import { register } from "tsx/esm/api";

// a reader that stops early (`damon-sim report ... | head`) is not an error
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
}

register();
const { main } = await import("./main.ts");
process.exitCode = await main(process.argv.slice(2));
