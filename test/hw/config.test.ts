// Machine configs: presets validate, every kind of mistake names its field, JSON files load with
// size strings, and `damon-sim machines` lists and prints them.

import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadMachineConfig, validateMachineConfig, type MachineConfig } from "../../hw/config.ts";
import { preset, presetNames } from "../../hw/presets.ts";
import { runCli } from "../cli/helpers.ts";

const mutate = (f: (c: MachineConfig) => void): MachineConfig => {
  const c = preset("2s-ddr5")!;
  f(c);
  return c;
};

describe("machine configs", () => {
  it("ships tiny, 2s-ddr5 and cxl-tier, all valid", () => {
    expect(presetNames()).toEqual(expect.arrayContaining(["tiny", "2s-ddr5", "cxl-tier"]));
    for (const n of presetNames()) expect(() => validateMachineConfig(preset(n)!)).not.toThrow();
    const cxl = preset("cxl-tier")!;
    expect(cxl.cpus.every((c) => c.node === 0)).toBe(true);
    const extra = cxl.latencyNs[0]![1]! - cxl.latencyNs[0]![0]!;
    expect(extra).toBeGreaterThanOrEqual(70);
    expect(extra).toBeLessThanOrEqual(90);
    expect(preset("nope")).toBeUndefined();
  });

  it.each([
    ["nodes[1].id", (c: MachineConfig) => { c.nodes[1]!.id = 5; }],
    ["nodes[0].capacity", (c: MachineConfig) => { c.nodes[0]!.capacity = 1000; }],
    ["nodes[0].kind", (c: MachineConfig) => { (c.nodes[0] as { kind: string }).kind = "hbm"; }],
    ["distance[1][1]", (c: MachineConfig) => { c.distance[1]![1] = 11; }],
    ["latencyNs[0]", (c: MachineConfig) => { c.latencyNs[0] = [100]; }],
    ["cpus[3].node", (c: MachineConfig) => { c.cpus[3]!.node = 7; }],
    ["caches.l2.size", (c: MachineConfig) => { c.caches.l2.size = 3 * 1024 * 1024; }],
    ["caches.llc.line", (c: MachineConfig) => { c.caches.llc.line = 48; }],
    ["caches.l1d.assoc", (c: MachineConfig) => { c.caches.l1d.policy = "plru"; }],
    ["tlb.l2.assoc", (c: MachineConfig) => { c.tlb.l2.assoc = 3; }],
    ["costs.faultNs", (c: MachineConfig) => { c.costs.faultNs = -1; }],
  ])("rejects a bad %s, naming it", (field, f) => {
    expect(() => validateMachineConfig(mutate(f))).toThrow(new RegExp(`field '${field.replace(/[[\].]/g, "\\$&")}'`));
  });

  it("loads a JSON file with size strings, and names the file in errors", () => {
    const dir = mkdtempSync(join(tmpdir(), "damon-sim-cfg-"));
    const good = preset("tiny")! as unknown as Record<string, unknown>;
    (good.nodes as Array<Record<string, unknown>>)[0]!.capacity = "128MiB";
    const p = join(dir, "m.json");
    writeFileSync(p, JSON.stringify(good));
    expect(loadMachineConfig(p).nodes[0]!.capacity).toBe(128 * 1024 * 1024);
    (good.nodes as Array<Record<string, unknown>>)[0]!.capacity = "12 parsecs";
    writeFileSync(p, JSON.stringify(good));
    expect(() => loadMachineConfig(p)).toThrow(/m\.json.*field 'nodes\[0\]\.capacity'/);
    writeFileSync(p, "{ not json");
    expect(() => loadMachineConfig(p)).toThrow(/m\.json/);
  });

  it("damon-sim machines lists the presets and prints one as JSON", () => {
    const list = runCli(["machines"]);
    expect(list.status).toBe(0);
    for (const n of presetNames()) expect(list.stdout).toMatch(new RegExp(`^${n}\\s`, "m"));
    const one = runCli(["machines", "cxl-tier"]);
    expect(one.status).toBe(0);
    expect(JSON.parse(one.stdout)).toEqual(preset("cxl-tier"));
    const bad = runCli(["machines", "nope"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/no built-in machine 'nope'/);
  });
});
