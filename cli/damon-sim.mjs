#!/usr/bin/env node
// The damon-sim executable: registers the TypeScript loader (tsx) and hands over to cli/main.ts.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./main.ts");
process.exitCode = await main(process.argv.slice(2));
