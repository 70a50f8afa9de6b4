// The layer rule: sim <- hw <- damon; workloads feed hw; only cli, bench and test wire everything.
// Every relative import of every module is checked against the layers it may reach, and no
// modules import each other in a cycle (type-only imports count: a cycle of types is still two
// modules that cannot be read, or moved, one without the other).

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

/** The import cycles of a module graph: its strongly connected components of more than one module (Tarjan), each sorted. */
export function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>(), low = new Map<string, number>(), stack: string[] = [], on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) out.push(c.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return out;
}

/** One cycle through the first module of a strongly connected component, as a path (shortest, by breadth-first search). */
export function cyclePath(graph: ReadonlyMap<string, readonly string[]>, component: readonly string[]): string[] {
  const start = component[0]!;
  const inside = new Set(component);
  const from = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i]!;
    for (const w of graph.get(v) ?? []) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u: string | undefined = v; u !== undefined && u !== start; u = from.get(u)) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!from.has(w)) {
        from.set(w, v);
        queue.push(w);
      }
    }
  }
  return component.slice();
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

  it("no modules import each other in a cycle (type-only imports included)", () => {
    const graph = new Map<string, string[]>();
    for (const layer of ["sim", "hw", "damon", "workloads", "cli", "bench", "test"]) {
      for (const file of tsFiles(join(ROOT, layer))) {
        const deps = importsOf(file).filter((spec) => spec.startsWith(".")).map((spec) => relative(ROOT, resolve(file, "..", spec)));
        graph.set(relative(ROOT, file), deps);
      }
    }
    expect(graph.size).toBeGreaterThan(100);
    const cycles = importCycles(graph).map((c) => `${cyclePath(graph, c).join(" -> ")}${c.length > 2 ? ` (part of ${c.length} modules that all reach each other: ${c.join(", ")})` : ""}`);
    expect(cycles, "import cycles: break each with a small types module both sides import, or by inverting the dependency").toEqual([]);
  });

  it("the cycle finder finds cycles (it can fail)", () => {
    const g = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a", "d"]], ["d", []], ["e", ["e2"]], ["e2", ["e"]]]);
    expect(importCycles(g)).toEqual([["a", "b", "c"], ["e", "e2"]]);
    expect(cyclePath(g, ["a", "b", "c"])).toEqual(["a", "b", "c", "a"]);
    expect(cyclePath(g, ["e", "e2"])).toEqual(["e", "e2", "e"]);
    // the shortest way back: a -> c -> a, not a -> b -> c -> a
    const g2 = new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", ["a"]]]);
    expect(cyclePath(g2, ["a", "b", "c"])).toEqual(["a", "c", "a"]);
  });

  it("the checker sees imports (it can fail)", () => {
    const specs = importsOf(join(ROOT, "sim/scheduler.ts"));
    expect(specs).toContain("./queue.ts");
  });
});
