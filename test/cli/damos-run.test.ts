// `damon-sim run` with DAMOS schemes, as a user gives them: damo's --damos_* options and damo's
// scheme JSON give the same schemes and the same run; the stats reach summary.json and stats.txt;
// the run's config.json gives the schemes back in damo's JSON, which -c takes again to the same
// bytes; bad scheme input fails with the option or file:line:column named, status 2 or 1, and no
// output folder.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./helpers.ts";

const tmp = mkdtempSync(join(tmpdir(), "damos-run-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const BASE = ["run", "workloads/configs/tiering-loop.json", "--machine", "cxl-tier-small", "--ops", "paddr", "--duration", "300ms", "--sample", "1ms", "--aggr", "20ms", "-q"];
const OPTIONS = ["--damos_action", "migrate_hot", "0", "--damos_access_rate", "5%", "max", "--damos_apply_interval", "5ms", "--damos_quotas", "0", "2MB", "5ms", "--damos_filter", "reject", "addr", "0", "64MiB"];
const JSON_FORM = [
  {
    action: "migrate_hot",
    target_nid: 0,
    access_pattern: { sz_bytes: { min: "0 B", max: "max" }, nr_accesses: { min: "5 %", max: "max" }, age: { min: "0 us", max: "max" } },
    apply_interval_us: "5 ms",
    quotas: { time_ms: "0 ms", sz_bytes: "2 MiB", reset_interval_ms: "5 ms", goals: [], weights: { sz_permil: "0", nr_accesses_permil: "0", age_permil: "0" } },
    watermarks: { metric: "none", interval_us: "0 us", high_permil: "0", mid_permil: "0", low_permil: "0" },
    filters: [{ filter_type: "addr", matching: true, allow: false, address_range: { start: "0", end: "64 MiB" } }],
  },
];

const summaryOf = (dir: string): Record<string, unknown> => JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")) as Record<string, unknown>;

describe("run with DAMOS schemes", () => {
  const byOptions = join(tmp, "opts");
  const r = runCli([...BASE, "-o", byOptions, ...OPTIONS], { timeout: 120_000 });

  it("runs damo's options and migrates: the scheme's sz_applied is what landed on node 0", () => {
    expect(r.status, r.stderr).toBe(0);
    const s = summaryOf(byOptions);
    const [scheme] = s.schemes as Array<{ action: string; stats: Record<string, number>; triedRegions: { regions: unknown[] } }>;
    expect(scheme!.action).toBe("migrate_hot");
    expect(scheme!.stats.sz_applied).toBeGreaterThan(0);
    // first touch is on node 1: everything on node 0 was migrated there by the scheme
    expect((s.residentBytes as number[])[0]).toBe(scheme!.stats.sz_applied);
    expect(Array.isArray(scheme!.triedRegions.regions)).toBe(true);
    const stats = readFileSync(join(byOptions, "stats.txt"), "utf8");
    expect(stats).toMatch(new RegExp(`damon\\.ctx0\\.scheme0\\.sz_applied\\s+${scheme!.stats.sz_applied}\\b`));
  });

  it("gives the same run for damo's JSON (-c FILE) as for the options", () => {
    const file = join(tmp, "schemes.json");
    writeFileSync(file, JSON.stringify(JSON_FORM, null, 2));
    const dir = join(tmp, "json");
    const j = runCli([...BASE, "-o", dir, "-c", file], { timeout: 120_000 });
    expect(j.status, j.stderr).toBe(0);
    expect(readFileSync(join(dir, "summary.json"), "utf8")).toBe(readFileSync(join(byOptions, "summary.json"), "utf8"));
  });

  it("writes the schemes back as damo JSON, which -c takes again to the same run", () => {
    const cfg = JSON.parse(readFileSync(join(byOptions, "config.json"), "utf8")) as { damon: { schemes: unknown[] } };
    expect(cfg.damon.schemes).toHaveLength(1);
    const dir = join(tmp, "again");
    const a = runCli([...BASE, "-o", dir, "-c", JSON.stringify(cfg.damon.schemes)], { timeout: 120_000 });
    expect(a.status, a.stderr).toBe(0);
    expect(readFileSync(join(dir, "summary.json"), "utf8")).toBe(readFileSync(join(byOptions, "summary.json"), "utf8"));
  });

  it("refuses a bad option value naming the option and the scheme (status 2, nothing written)", () => {
    const dir = join(tmp, "bad-opt");
    const b = runCli([...BASE, "-o", dir, "--damos_action", "migrate_hot", "0", "--damos_access_rate", "5x", "max"]);
    expect(b.status).toBe(2);
    expect(b.stderr).toContain("--damos_access_rate of scheme 0: '5x' is not a percent");
    expect(existsSync(dir)).toBe(false);
  });

  it("refuses a bad JSON field naming file:line:column and the field (nothing written)", () => {
    const file = join(tmp, "bad.json");
    writeFileSync(file, JSON.stringify([{ ...JSON_FORM[0], action: "migrate_warm" }], null, 2));
    const dir = join(tmp, "bad-json");
    const b = runCli([...BASE, "-o", dir, "-c", file]);
    expect(b.status).not.toBe(0);
    expect(b.stderr).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:3:\\d+`));
    expect(b.stderr).toContain("action");
    expect(existsSync(dir)).toBe(false);
  });

  it("refuses a scheme the chosen kernel predates, naming the version it arrived in", () => {
    const b = runCli([...BASE, "-o", join(tmp, "old"), "--kernel", "v6.12", "--damos_action", "migrate_hot", "0", "--damos_quota_interval", "1s", "--damos_quota_goal", "node_mem_used_bp", "99%", "0"]);
    expect(b.status).not.toBe(0);
    expect(b.stderr).toMatch(/not in kernel v6\.12: it arrived in v6\.1[16]/);
  });
});
