// DAMON_STAT: its two formulas on fixed, hand-computed region sets, its refresh cadence, and an
// end-to-end check that the bandwidth estimate is within a stated factor of the machine's true
// memory bandwidth on a steady streaming workload.

import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Region } from "../../damon/region.ts";
import { createDamonStat, damonStatAttrs, estimatedMemoryBandwidth, idleMsPercentiles } from "../../damon/stat.ts";
import { parseWorkloadSpec, specWorkload } from "../../workloads/spec.ts";
import { SEC } from "../../sim/time.ts";
import { makeMachine } from "../hw/helpers.ts";
import { runCli } from "../cli/helpers.ts";

function region(size: number, nr: number, age: number, start = 0): Region {
  const r = new Region(start, start + size);
  r.nrAccesses = nr;
  r.age = age;
  return r;
}

describe("DAMON_STAT formulas", () => {
  it("estimated_memory_bandwidth = sum(size x nr_accesses) x 1e6 / aggr_us", () => {
    const rs = [region(4096, 3, 0), region(8192, 0, 5), region(1 << 20, 20, 2)];
    // (4096*3 + 0 + 1048576*20) * 1e6 / 100000
    expect(estimatedMemoryBandwidth(rs, 100_000)).toBe((4096 * 3 + 1048576 * 20) * 10);
  });

  it("memory_idle_ms_percentiles: byte-weighted, negative for accessed regions", () => {
    // 25% of bytes accessed (age 1 -> -2 aggrs), 25% idle for 4 aggrs (5), 50% idle for 9 (10)
    const rs = [region(100, 0, 9), region(50, 2, 1), region(50, 0, 4)];
    const p = idleMsPercentiles(rs, 100_000);
    expect(p.length).toBe(101);
    // sorted: -2 (50 B, reaches 25%), 5 (50 B, reaches 50%), 10 (100 B, reaches 100%); 1 aggr = 100 ms
    expect(p.slice(0, 26).every((v) => v === -200)).toBe(true);
    expect(p.slice(26, 51).every((v) => v === 500)).toBe(true);
    expect(p.slice(51).every((v) => v === 1000)).toBe(true);
  });

  it("uses the module's own attributes", () => {
    const a = damonStatAttrs();
    expect([a.sampleUs, a.aggrUs, a.opsUpdateUs, a.minNrRegions, a.maxNrRegions]).toEqual([5000, 100000, 60000000, 10, 1000]);
    expect(a.intervalsGoal).toEqual({ accessBp: 400, aggrs: 3, minSampleUs: 5000, maxSampleUs: 10_000_000 });
  });
});

const streamSpec = (seconds: number): unknown => ({
  name: "stream",
  regions: [{ name: "buf", size: "128MiB", area: "mmap" }],
  threads: [{ cpus: [0], duration: `${seconds}s`, pattern: { type: "sequential", region: "buf", stride: 64, gap: 200 } }],
});

describe("DAMON_STAT on the machine", () => {
  it("refreshes at most every 5 s, and estimates a streaming workload's bandwidth within 3x", () => {
    const { m, sched } = makeMachine("tiny", { truth: false });
    m.load(specWorkload(parseWorkloadSpec(streamSpec(11), { name: "stream" })));
    const stat = createDamonStat(m, "all");
    stat.monitor.kdamond.start();
    sched.run(4 * SEC);
    expect(stat.values.refreshes).toBe(0);
    sched.run(11 * SEC);
    expect(stat.values.refreshes).toBe(2);
    expect(stat.values.refreshedAt).toBeGreaterThanOrEqual(10 * SEC);
    const bytes = m.memory.nodes.reduce((a, n) => a + n.readBytes + n.writeBytes, 0);
    const truth = (bytes * 1e9) / sched.now;
    // The module reads nr_accesses in the middle of an aggregation window (a partial count):
    // scaled up by the counted fraction, the estimate must be within 3x of the truth.
    expect(stat.values.windowFraction).toBeGreaterThan(0);
    expect(stat.values.windowFraction).toBeLessThanOrEqual(1);
    const ratio = stat.values.estimatedMemoryBandwidth / stat.values.windowFraction / truth;
    expect(ratio).toBeGreaterThan(1 / 3);
    expect(ratio).toBeLessThan(3);
    // the intervals were tuned away from the 5 ms start
    expect(stat.values.sampleIntervalUs).not.toBe(5000);
  }, 120_000);

  it("damon-sim stat prints the module parameters and the comparison", () => {
    const dir = mkdtempSync(join(tmpdir(), "damon-sim-stat-"));
    const spec = join(dir, "stream.json");
    writeFileSync(spec, JSON.stringify(streamSpec(6)));
    const r = runCli(["stat", spec, "--machine", "tiny", "--duration", "6s", "--region", "all", "--json"]);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.memory_idle_ms_percentiles.length).toBe(101);
    expect(j.refreshes).toBe(1);
    expect(j.memory_bw_estimate).toBeGreaterThan(0);
    expect(j.true_memory_bandwidth).toBeGreaterThan(0);
    const t = runCli(["stat", spec, "--machine", "tiny", "--duration", "6s", "--region", "all"]);
    expect(t.stdout).toMatch(/^memory_bw_estimate: \d+\nmemory_idle_ms_percentiles: (-?\d+,){100}-?\d+\n# aggr_interval_us: \d+/);
  }, 180_000);
});
