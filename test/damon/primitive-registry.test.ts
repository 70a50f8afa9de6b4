// The primitive registry (damon/primitives/) and the operations sets (damon/ops-sets.ts) are the
// one definition of each: every list of primitives elsewhere is derived from them. This test
// fails when a primitive is missing from any derived list: probe filter types, --param keys,
// --primitives help, compare's default variants, the tiering scenario, the report buffer's
// counters, the monitor's installs and kdamond's lifecycle (samplers on the access path, the CHMU
// on the CXL node's memory-side hook), statistics, and `damon-sim primitives`.

import { describe, expect, it } from "vitest";
import { command as compareCommand } from "../../cli/commands/compare.ts";
import { SCENARIOS } from "../../cli/experiment/scenarios.ts";
import { parsePrimitiveParams, PRIMITIVE_PARAM_KEYS, RUN_OPTIONS } from "../../cli/run-setup.ts";
import { defaultAttrs } from "../../damon/attrs.ts";
import { createMonitor } from "../../damon/monitor.ts";
import { OPS_SET_NAMES, OPS_SETS } from "../../damon/ops-sets.ts";
import { checkParamValue, PRIMITIVE_DEFS, PRIMITIVES, primitiveId, primitiveOfEvidence, primitivesHelp, REPORTING_PRIMITIVES, type ParamSpec } from "../../damon/primitives/index.ts";
import { parseProbe, PROBE_FILTER_TYPES } from "../../damon/probes.ts";
import { DROP_REASON_NAMES, ReportStore } from "../../damon/report-buffer/buffer.ts";
import { Target } from "../../damon/region.ts";
import { Stats } from "../../sim/stats.ts";
import { resolveWorkload } from "../../workloads/registry.ts";
import { makeMachine, tinyCxl } from "../hw/helpers.ts";

const specs = (d: (typeof PRIMITIVE_DEFS)[number]): Array<[string, ParamSpec]> => Object.entries(d.params as Readonly<Record<string, ParamSpec>>);

describe("the primitive registry", () => {
  it("names each primitive once, in id order, within the 8 bits of the per-region evidence masks", () => {
    expect(new Set(PRIMITIVES).size).toBe(PRIMITIVE_DEFS.length);
    PRIMITIVE_DEFS.forEach((d, i) => {
      expect(PRIMITIVES[i]).toBe(d.name);
      expect(primitiveId(d.name)).toBe(i);
    });
    // ReportDrain.reportedBy and PrimitiveOps.reportedBy are Uint8Arrays of primitive bits
    expect(PRIMITIVES.length).toBeLessThanOrEqual(8);
    // the order is part of the output format (report ids, evidence bits)
    expect(PRIMITIVES).toEqual(["pte", "fault", "numa-hint", "perf-mem", "ibs", "spe", "chmu"]);
  });

  it("gives every parameter a type, a default of that type (or a text), a source and help", () => {
    for (const d of PRIMITIVE_DEFS) {
      expect(d.summary.length, d.name).toBeGreaterThan(20);
      for (const [k, p] of specs(d)) {
        const where = `${d.name}.${k}`;
        expect(p.source.length, where).toBeGreaterThan(3);
        expect(p.help.length, where).toBeGreaterThan(3);
        if (p.default === null) expect(p.defaultText, where).toBeTruthy();
        else expect(checkParamValue(p, p.default), where).toBeNull();
      }
    }
  });

  it("every primitive appears in each derived list", () => {
    const compareDefault = String(compareCommand.spec.options.primitives!.default).split(",");
    const tiering = SCENARIOS.tiering!.build().variants.flatMap((v) => v.primitives);
    const help = primitivesHelp();
    for (const d of PRIMITIVE_DEFS) {
      expect(PROBE_FILTER_TYPES, d.name).toContain(d.evidence);
      expect(primitiveOfEvidence(d.evidence), d.name).toBe(d.name);
      expect(RUN_OPTIONS.primitives!.description, d.name).toContain(d.name);
      expect(compareDefault, d.name).toContain(d.name);
      expect(tiering, d.name).toContain(d.name);
      expect(help, d.name).toContain(d.name);
      expect(REPORTING_PRIMITIVES.includes(d.name), d.name).toBe(d.reports);
      const keys = specs(d).map(([k]) => k);
      if (keys.length > 0) expect(PRIMITIVE_PARAM_KEYS[d.name], d.name).toEqual(keys);
      else expect(PRIMITIVE_PARAM_KEYS[d.name], d.name).toBeUndefined();
      for (const k of keys) {
        expect(help, `${d.name}.${k}`).toContain(`${d.name}.${k}=`);
        const p = (d.params as Readonly<Record<string, ParamSpec>>)[k]!;
        const v = p.default ?? (p.type === "boolean" ? true : 1);
        expect(parsePrimitiveParams([`${d.name}.${k}=${String(v)}`]), `${d.name}.${k}`).toEqual({ [d.name]: { [k]: v } });
      }
      if (d.reports) expect(parseProbe(`p:${d.evidence}`, () => new Set()).filters[0]!.type).toBe(d.evidence);
    }
  });

  it("--param checks a value's type against the parameter's", () => {
    for (const d of PRIMITIVE_DEFS) {
      for (const [k, p] of specs(d)) {
        const wrong = p.type === "boolean" ? "3" : "true";
        expect(() => parsePrimitiveParams([`${d.name}.${k}=${wrong}`]), `${d.name}.${k}`).toThrow(/takes/);
      }
    }
  });

  it("the monitor installs every primitive; kdamond starts and stops each; their counters reach the statistics", () => {
    const { m } = makeMachine("tiny", { truth: false });
    m.load(resolveWorkload("stairs"));
    const mon = createMonitor(m, { ops: "vaddr", attrs: defaultAttrs(), primitives: [...PRIMITIVES] });
    expect(mon.installed.map((p) => p.name)).toEqual(PRIMITIVES);
    expect(mon.kdamond.primitives).toEqual(mon.installed);
    expect(mon.counters.delivered.length).toBe(PRIMITIVES.length);
    for (let r = 0; r < DROP_REASON_NAMES.length; r++) expect(mon.buffer!.stats.dropsByReason[r]!.length).toBe(PRIMITIVES.length);
    expect(mon.ops.set).toEqual({ pte: true, fault: true });
    const perfMem = mon.instance("perf-mem")!, ibs = mon.instance("ibs")!, numa = mon.instance("numa-hint")!, spe = mon.instance("spe")!;
    expect(m.samplers).not.toContain(perfMem);
    expect(m.samplers).not.toContain(spe);
    expect(numa.reportToSink).toBe(false);
    mon.kdamond.start();
    expect(m.samplers).toContain(perfMem);
    expect(m.samplers).toContain(ibs);
    expect(m.samplers).toContain(spe);
    expect(numa.reportToSink).toBe(true);
    expect(mon.dispatch!.damonFault).toBe(mon.instance("fault"));
    mon.kdamond.stop();
    expect(m.samplers).not.toContain(perfMem);
    expect(m.samplers).not.toContain(ibs);
    expect(m.samplers).not.toContain(spe);
    expect(numa.reportToSink).toBe(false);
    const stats = new Stats();
    mon.registerStats(stats);
    const names = stats.names();
    for (const prefix of ["system.perfMem.", "system.ibs.", "system.spe.", "system.chmu.", "system.numaBalancing.", "system.trapDispatch."]) expect(names.some((n) => n.startsWith(prefix)), prefix).toBe(true);
    for (const p of REPORTING_PRIMITIVES) expect(stats.has(`damon.reports.${p}.delivered`), p).toBe(true);
  });

  it("the memory-side primitive hooks the CXL node while kdamond runs", () => {
    const { m } = makeMachine(tinyCxl(), { truth: false });
    m.load(resolveWorkload("stairs"));
    const mon = createMonitor(m, { ops: "paddr", attrs: defaultAttrs(), primitives: ["chmu"] });
    const unit = mon.instance("chmu")!.units[0]!;
    expect(m.memory.nodes.map((n) => n.observer)).toEqual([null, null]);
    mon.kdamond.start();
    expect(m.memory.nodes.map((n) => n.observer)).toEqual([null, unit]);
    mon.kdamond.stop();
    expect(m.memory.nodes.map((n) => n.observer)).toEqual([null, null]);
  });

  it("a primitive not asked for installs nothing", () => {
    const { m } = makeMachine("tiny", { truth: false });
    m.load(resolveWorkload("stairs"));
    const mon = createMonitor(m, { ops: "paddr", attrs: defaultAttrs() });
    expect(mon.installed.map((p) => p.name)).toEqual(["pte"]);
    for (const p of REPORTING_PRIMITIVES) expect(mon.instance(p), p).toBeNull();
    expect(mon.buffer).toBeNull();
    expect(mon.dispatch).toBeNull();
  });
});

describe("the operations sets", () => {
  it("are defined once: --ops lists each, and each builds the ops set of its name", () => {
    const { m } = makeMachine("tiny", { truth: false });
    for (const o of OPS_SETS) {
      expect(RUN_OPTIONS.ops!.value, o.name).toContain(o.name);
      expect(o.create(m).name).toBe(o.name);
    }
    expect(OPS_SET_NAMES).toEqual(["vaddr", "paddr"]);
  });

  it("each declares eligible_report: vaddr takes its process's reports at their virtual address, paddr every report at its physical one", () => {
    const { m } = makeMachine("tiny", { truth: false });
    const store = new ReportStore(2);
    store.put(0, { time: 0, cpu: 0, tid: 70, pid: 7, vaddr: 0x1000, paddr: 0x5000, size: 8, isWrite: false, primitive: "fault", context: "process" });
    store.put(1, { time: 0, cpu: 1, tid: 80, pid: 8, vaddr: 0x2000, paddr: 0x6000, size: 8, isWrite: true, primitive: "ibs", context: "nmi" });
    const target = (pid: number | null): Target => new Target(0, pid);
    const want: Record<string, Array<[number | null, number, boolean, number]>> = {
      vaddr: [[7, 0, true, 0x1000], [7, 1, false, 0x2000], [8, 1, true, 0x2000]],
      paddr: [[null, 0, true, 0x5000], [null, 1, true, 0x6000]],
    };
    for (const o of OPS_SETS) {
      const ops = o.create(m);
      for (const [pid, i, eligible, addr] of want[o.name]!) {
        expect(o.reports.eligibleReport(store, i, target(pid)), `${o.name} report ${i} target ${pid}`).toBe(eligible);
        expect(ops.eligibleReport(store, i, target(pid)), `${o.name} ops report ${i}`).toBe(eligible);
        expect(o.reports.reportAddress(store, i)).toBe(addr);
        expect(ops.reportAddress(store, i)).toBe(addr);
      }
    }
  });
});

