// `npm run bench [-- NAME...]`: runs every benchmark under bench/ (or those whose name starts with
// one of the NAMEs) and prints one JSON object per result line.

import type { Benchmark } from "./harness.ts";

const MODULES: Array<() => Promise<{ benchmarks: Benchmark[] }>> = [
  () => import("./sim-queue.ts"),
  () => import("./hw-cachegrind.ts"),
  () => import("./workloads-trace.ts"),
  () => import("./workloads-gen.ts"),
  () => import("./hw-path.ts"),
  () => import("./damon-kdamond.ts"),
  () => import("./hw-primitives.ts"),
  () => import("./damon-reports.ts"),
  () => import("./run-masim.ts"),
  () => import("./study-fleet.ts"),
  // @benchmarks-end (add new benchmark modules just above this line)
];

async function main(): Promise<number> {
  const filters = process.argv.slice(2).filter((a) => !a.startsWith("-"));
  const all: Benchmark[] = [];
  for (const load of MODULES) all.push(...(await load()).benchmarks);
  if (process.argv.includes("--list")) {
    for (const b of all) process.stdout.write(`${b.name}\t${b.description}\n`);
    return 0;
  }
  const chosen = filters.length ? all.filter((b) => filters.some((f) => b.name === f || b.name.startsWith(`${f}.`) || b.name.startsWith(f))) : all;
  if (chosen.length === 0) {
    process.stderr.write(`bench: no benchmark matches ${filters.join(", ")}; known: ${all.map((b) => b.name).join(", ")}\n`);
    return 2;
  }
  for (const b of chosen) {
    for await (const r of b.run()) process.stdout.write(JSON.stringify(r) + "\n");
  }
  return 0;
}

process.exitCode = await main();
