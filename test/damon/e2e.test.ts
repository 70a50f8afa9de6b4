// End to end: DAMON on the simulated machine follows a "stairs" workload (areas touched one after
// another: the hottest region moves through them in order), and the CLI runs a workload, writes a
// damo record (zlib JSON list that damo's rules accept) and reports it in damo's formats.

import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { defaultAttrs } from "../../damon/attrs.ts";
import type { Snapshot } from "../../damon/context.ts";
import { createMonitor } from "../../damon/monitor.ts";
import { readRecordFile } from "../../damon/damo/record-file.ts";
import { parseWorkloadSpec, specWorkload } from "../../workloads/spec.ts";
import { MS } from "../../sim/time.ts";
import { makeMachine } from "../hw/helpers.ts";
import { BIN, runCli } from "../cli/helpers.ts";

const AREAS = 5;
const PHASE_MS = 200;

function stairsSpec(): unknown {
  return {
    name: "stairs-test",
    regions: Array.from({ length: AREAS }, (_, i) => ({ name: `a${i}`, size: "4MiB", area: "mmap" })),
    threads: [
      {
        cpus: [0],
        phases: Array.from({ length: AREAS }, (_, i) => ({ name: `p${i}`, duration: `${PHASE_MS}ms`, pattern: { type: "uniform", region: `a${i}`, gap: 300 } })),
      },
    ],
  };
}

describe("DAMON follows stairs", () => {
  it("the hottest region moves through the areas in order", () => {
    const wl = specWorkload(parseWorkloadSpec(stairsSpec(), { name: "stairs-test" }));
    const { m, sched } = makeMachine("tiny", { truth: false });
    m.load(wl);
    const areas = wl.layout.processes[0]!.vmas.filter((v) => /^a\d$/.test(v.name)).sort((a, b) => Number(a.name.slice(1)) - Number(b.name.slice(1)));
    expect(areas.length).toBe(AREAS);
    const mon = createMonitor(m, { ops: "vaddr", attrs: { ...defaultAttrs(), sampleUs: 2000, aggrUs: 40_000, opsUpdateUs: 400_000 } });
    const snaps: Snapshot[] = [];
    mon.ctx.onAggregation((_c, s) => snaps.push(s[0]!));
    mon.kdamond.start();
    sched.run(AREAS * PHASE_MS * MS);
    const visited: number[] = [];
    for (const s of snaps) {
      const mid = (s.startNs + s.endNs) / 2;
      const phase = Math.floor(mid / (PHASE_MS * MS));
      // skip the first two aggregations of a phase: DAMON needs them to notice the change
      if (mid - phase * PHASE_MS * MS < 2 * 40 * MS || phase >= AREAS) continue;
      const hottest = s.regions.reduce((a, r) => (r.nrAccesses > a.nrAccesses ? r : a));
      const mid2 = (hottest.start + hottest.end) / 2;
      const area = areas.findIndex((v) => mid2 >= v.start && mid2 < v.end);
      expect(area, `snapshot at ${s.endNs / MS} ms: hottest region not in area ${phase}`).toBe(phase);
      if (visited.at(-1) !== area) visited.push(area);
    }
    expect(visited).toEqual([0, 1, 2, 3, 4]);
  }, 60_000);
});

describe("damon-sim run and report", () => {
  const dir = mkdtempSync(join(tmpdir(), "damon-sim-run-"));
  const spec = join(dir, "stairs.json");
  writeFileSync(spec, JSON.stringify(stairsSpec()));
  const out = join(dir, "out");

  it("run writes a damo record (zlib-compressed JSON list) and a summary", () => {
    const r = runCli(["run", spec, "--machine", "tiny", "--sample", "2ms", "--aggr", "40ms", "--update", "400ms", "--duration", "1s", "-o", out]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/wrote .*damon\.data/);
    const raw = readFileSync(join(out, "damon.data"));
    expect(raw[0]).toBe(0x78); // zlib header, what `file -b` calls "zlib compressed data"
    const list = JSON.parse(inflateSync(raw).toString("utf8"));
    expect(Array.isArray(list)).toBe(true);
    const rec = list[0];
    expect(rec.intervals).toMatchObject({ sample_us: 2000, aggr_us: 40000, ops_update_us: 400000 });
    expect(rec.target_id).toBe(0);
    expect(rec.kernel).toBe("mainline+reports");
    expect(rec.snapshots.length).toBeGreaterThanOrEqual(20);
    for (const s of rec.snapshots) {
      // damo validate's default rules for this aggregation interval
      expect((s.end_time - s.start_time) / 1000).toBe(40000);
      expect(s.regions.length).toBeGreaterThanOrEqual(3);
      expect(s.regions.length).toBeLessThanOrEqual(1200);
      for (const g of s.regions) {
        expect(g.start).toBeLessThan(g.end);
        expect(g.nr_accesses.samples).toBeLessThanOrEqual(20);
        expect(g.age).toHaveProperty("usec");
        expect(g.age).toHaveProperty("aggr_intervals");
      }
    }
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    expect(summary.workloadFinished).toBe(true);
    expect(summary.snapshots).toBe(rec.snapshots.length);
    for (const f of ["config.json", "stats.txt", "stats.json"]) expect(existsSync(join(out, f))).toBe(true);
    expect(readRecordFile(join(out, "damon.data"))[0]!.snapshots.length).toBe(rec.snapshots.length);
  }, 60_000);

  it("report access prints damo's layout", () => {
    const r = runCli(["report", "access", out, "--snapshot", "-1"]);
    expect(r.status).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^snapshot time: \[\d+(\.\d+)? (ms|s), \d+(\.\d+)? (ms|s)\] \(40 ms\)$/);
    expect(lines[1]).toMatch(/^[0-9.[\]]{80,}$/);
    expect(lines[2]).toMatch(/^# min\/max temperatures: -?[\d,]+, -?[\d,]+, column size: /);
    expect(lines[3]).toBe("intervals: sample 2 ms aggr 40 ms (max access hz 500)");
    expect(lines[4]).toMatch(/^0   addr [\d.]+ [KMGT]iB +size [\d.]+ [KMG]iB +access [\d.,]+ hz +age /);
    expect(r.stdout).toMatch(/\nmemory bw estimate: .* per second\ntotal size: .*\nrecord DAMON intervals: sample 2 ms, aggr 40 ms\n$/);
    // which kernel's rules made the record: in damon.data, and on report's stderr (stdout stays damo's)
    expect(r.stderr).toBe("report: record made by damon-sim with kernel mainline+reports\n");
    const all = runCli(["report", "access", out]);
    expect(all.stdout.split("\n\n").length).toBeGreaterThan(20);
  });

  it("report wss and heatmap (text, raw, png)", () => {
    const w = runCli(["report", "wss", out, "--raw-number"]);
    expect(w.status).toBe(0);
    expect(w.stdout).toMatch(/^# target_id\t0\n# <percentile> <wss>\n# avr:\t\d+\n  0 +\d+ \|\**/);
    // each phase touches one 4 MiB area: the median working set is about that
    const med = runCli(["report", "wss", out, "--raw-number", "--range", "50,51,1"]);
    const v = Number(/^ 50 +(\d+)/m.exec(med.stdout)![1]);
    expect(v).toBeGreaterThan(3 * 1024 * 1024);
    expect(v).toBeLessThan(6 * 1024 * 1024);
    const h = runCli(["report", "heatmap", out]);
    expect(h.status).toBe(0);
    const hl = h.stdout.trimEnd().split("\n");
    expect(hl.slice(0, 40).every((l) => /^[0-9 ]{80}$/.test(l))).toBe(true);
    expect(hl[40]).toBe("# access_frequency: 0123456789");
    expect(hl[43]).toMatch(/^# resolution: 80x40 /);
    const raw = runCli(["report", "heatmap", out, "--output", "raw", "--resol", "4,5"]);
    const rows = raw.stdout.trimEnd().split("\n");
    expect(rows.length).toBe(20);
    expect(rows[0]).toMatch(/^0\t0\t(\d+(\.\d+)?(e[+-]\d+)?|NaN)$/);
    const png = join(dir, "heat.png");
    const p = runCli(["report", "heatmap", out, "--output", png]);
    expect(p.status).toBe(0);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe("PNG");
  }, 60_000);

  it("a reader that stops early (| head) ends the report quietly", () => {
    const r = spawnSync("sh", ["-c", `"${process.execPath}" "${BIN}" report heatmap "${out}" --output raw --resol 2000,500 | head -n 1`], { encoding: "utf8" });
    expect(r.stdout.split("\n")[0]).toMatch(/^\d+\t\d+\t/);
    expect(r.stderr).not.toMatch(/EPIPE|Error/);
  });

  it("bad arguments exit 2 with a message; a missing record folder is named", () => {
    expect(runCli(["run", spec, "--ops", "kaddr", "-o", out]).status).toBe(2);
    const bad = runCli(["run", spec, "--min-regions", "2", "-o", out]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/minNrRegions/);
    const none = runCli(["report", "access", join(dir, "nope")]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/nope/);
    expect(runCli(["report", "frob", out]).status).toBe(2);
  });
});
