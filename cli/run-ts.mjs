#!/usr/bin/env node
// Runs a TypeScript file with the tsx loader: node cli/run-ts.mjs FILE.ts [ARGS...]
import { register } from "tsx/esm/api";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

register();
const [file, ...rest] = process.argv.slice(2);
if (!file) {
  console.error("usage: node cli/run-ts.mjs FILE.ts [ARGS...]");
  process.exit(2);
}
process.argv = [process.argv[0], resolve(file), ...rest];
await import(pathToFileURL(resolve(file)).href);
