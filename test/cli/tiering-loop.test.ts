// The tiering-loop scenario end to end, cut short: the baselines behave as defined (no tiering
// leaves every access on the slow tier, all-DRAM is faster, the oracle puts the hot region on the
// fast node), and a DAMOS variant really migrates: the bytes the machine moved to each node equal
// what its schemes say they applied (two independent counters), and it lifts the fast-tier share.

import { describe, expect, it } from "vitest";
import { SCENARIOS } from "../../cli/experiment/scenarios.ts";
import { rowsOf } from "../../cli/experiment/output.ts";
import { runVariant, type VariantResult } from "../../cli/experiment/variant.ts";
import type { ExperimentSpec } from "../../cli/experiment/spec.ts";

function shortLoop(): ExperimentSpec {
  const x = SCENARIOS["tiering-loop"]!.build();
  // 0.6 s: populate (0.2 s), then serving the first hot table, which is "the hot set" here
  x.durationNs = 600_000_000;
  x.tiering = { ...x.tiering!, hotRegion: { pid: 100, vma: "hot" }, phaseChangeNs: 200_000_000, settled: 0.5 };
  x.variants = x.variants.filter((v) => ["baseline", "all DRAM", "oracle", "perf-mem"].includes(v.name));
  return x;
}

describe("tiering-loop (short)", () => {
  const x = shortLoop();
  const results: VariantResult[] = x.variants.map((v) => runVariant(x, v));
  const by = (name: string): VariantResult => results.find((r) => r.name === name)!;
  const rows = rowsOf(results);
  const row = (name: string) => rows.find((r) => r.variant === name)!;

  it("has the four variants, each with a tiering outcome", () => {
    expect(results.map((r) => r.name)).toEqual(["baseline", "all DRAM", "oracle", "perf-mem"]);
    for (const r of results) expect(r.tiering).toBeDefined();
  });

  it("no tiering: first touch on CXL stays there, nothing migrates", () => {
    const t = by("baseline").tiering!;
    expect(t.placement).toBe("none");
    expect(t.fastTierFraction).toBe(0);
    expect(t.promotedBytes + t.demotedBytes).toBe(0);
  });

  it("all DRAM: the reference is faster than first touch on CXL, and is the base of 'vs DRAM'", () => {
    expect(row("all DRAM").slowdownPercent!).toBeLessThan(0);
    expect(row("all DRAM").vsAllDramPercent).toBeNull();
    expect(row("all DRAM").fastTierPercent).toBeNull();
    expect(row("baseline").vsAllDramPercent!).toBeGreaterThan(0);
  });

  it("oracle: the hot region settles on the fast node, and the fast tier serves more than under any primitive", () => {
    const t = by("oracle").tiering!;
    expect(t.placement).toBe("oracle");
    expect(t.hotSetInDramNs).not.toBeNull();
    expect(t.fastTierFractionAfterChange!).toBeGreaterThan(0.3);
    expect(t.fastTierFractionAfterChange!).toBeGreaterThan(by("perf-mem").tiering!.fastTierFractionAfterChange!);
    expect(t.promotedBytes).toBeGreaterThan(0);
    expect(t.migrationCpuNs).toBeGreaterThan(0);
  });

  it("DAMOS with perf-mem: migrated bytes match the schemes' sz_applied, and the fast tier serves more than without tiering", () => {
    const r = by("perf-mem");
    const t = r.tiering!;
    expect(t.placement).toBe("damos");
    const [hot, cold] = r.schemes!;
    expect(hot!.action).toBe("migrate_hot");
    expect(cold!.action).toBe("migrate_cold");
    // paddr's applied bytes are the pages it migrated: the machine's own per-node counters agree
    expect(t.promotedBytes).toBe(hot!.stats.sz_applied);
    expect(t.demotedBytes).toBe(cold!.stats.sz_applied);
    expect(t.promotedBytes).toBeGreaterThan(0);
    expect(t.fastTierFraction!).toBeGreaterThan(0);
    expect(t.migrationCpuNs).toBe(hot!.actionCpuNs + cold!.actionCpuNs);
  });
});
