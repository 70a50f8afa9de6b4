// The layer rule: sim <- hw <- damon; workloads feed hw; only cli, bench and test wire everything.
// Every relative import of every module is checked against the layers it may reach.

import { describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");
const ALLOWED: Record<string, string[]> = {
  sim: ["sim"],
  hw: ["sim", "hw"],
  workloads: ["sim", "hw", "workloads"],
  damon: ["sim", "hw", "damon"],
};

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (p.endsWith(".ts")) out.push(p);
  }
  return out;
}

function importsOf(file: string): string[] {
  const src = readFileSync(file, "utf8");
  const specs: string[] = [];
  const re = /(?:import|export)\s[^'"]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
  for (let m = re.exec(src); m !== null; m = re.exec(src)) specs.push((m[1] ?? m[2])!);
  return specs;
}

describe("layering", () => {
  for (const [layer, allowed] of Object.entries(ALLOWED)) {
    it(`${layer}/ imports only from ${allowed.join(", ")}`, () => {
      const bad: string[] = [];
      for (const file of tsFiles(join(ROOT, layer))) {
        for (const spec of importsOf(file)) {
          if (!spec.startsWith(".")) continue;
          const target = relative(ROOT, resolve(file, "..", spec)).split(sep)[0]!;
          if (!allowed.includes(target)) bad.push(`${relative(ROOT, file)} imports ${spec}`);
        }
      }
      expect(bad).toEqual([]);
    });
  }

  it("the checker sees imports (it can fail)", () => {
    const specs = importsOf(join(ROOT, "sim/scheduler.ts"));
    expect(specs).toContain("./queue.ts");
  });
});
