// The damon-sim executable: version, help, dispatch and exit statuses for misuse.

import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ROOT, runCli } from "./helpers.ts";
import { normaliseOptionNames } from "../../cli/args.ts";

describe("damon-sim CLI", () => {
  it("--version prints the package version", () => {
    const pkg = JSON.parse(readFileSync(resolve(ROOT, "package.json"), "utf8"));
    const r = runCli(["--version"]);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(`damon-sim ${pkg.version}`);
  });

  it("--help lists the commands", () => {
    const r = runCli(["--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/usage: damon-sim <command>/);
    expect(r.stdout).toMatch(/\n  demo\s/);
  });

  it("an unknown command exits 2 with a clear message", () => {
    const r = runCli(["frobnicate"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
    expect(r.stdout).toBe("");
  });

  it("bad flags exit 2 and name the flag", () => {
    let r = runCli(["demo", "--frob"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--frob'/);
    r = runCli(["demo", "--seed"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--seed/);
    r = runCli(["--frob"]);
    expect(r.status).toBe(2);
    r = runCli(["demo", "extra"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unexpected argument 'extra'/);
    r = runCli(["demo", "--duration", "5 fortnights"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--duration.*unknown time unit/);
  });

  it("every command's help keeps each flag apart from its description", () => {
    const names = [...runCli(["--help"]).stdout.matchAll(/^  ([a-z]+)  /gm)].map((m) => m[1]!);
    expect(names).toContain("compare");
    for (const name of names) {
      const r = runCli([name, "--help"]);
      expect(r.status, name).toBe(0);
      const optionLines = r.stdout.split("\n").filter((l) => /^ {2}(-\w, | {4})--/.test(l));
      expect(optionLines.length, name).toBeGreaterThan(0);
      // descriptions start in one column, after at least two spaces; a wider flag stands alone
      // on its line and its description follows on the next line, in that column
      const col = r.stdout.split("\n").find((l) => l.includes("--help"))!.indexOf("show this help");
      expect(col, name).toBeGreaterThan(10);
      const lines = r.stdout.split("\n");
      for (const l of optionLines) {
        const next = lines[lines.indexOf(l) + 1] ?? "";
        const wrapped = next.slice(0, col) === " ".repeat(col) && /\S/.test(next.charAt(col));
        if (wrapped) expect(l, `${name}: ${l}`).toMatch(/^ {2}(-\w, | {4})--[\w-]+( \S+)*$/);
        else expect(l.slice(col - 2, col + 1), `${name}: ${l}`).toMatch(/^ {2}\S$/);
      }
    }
  }, 60_000);

  it("subcommand --help prints the options", () => {
    const r = runCli(["demo", "--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--seed N/);
  });

  it("demo runs and is deterministic", () => {
    const a = runCli(["demo", "--json", "--duration", "5ms"]);
    expect(a.status).toBe(0);
    const j = JSON.parse(a.stdout);
    expect(j["system.accesses"]).toBeGreaterThan(0);
    const b = runCli(["demo", "--json", "--duration", "5ms"]);
    expect(b.stdout).toBe(a.stdout);
  });

  it("folds damo's underscore option spelling to dashes, in names only", () => {
    expect(normaliseOptionNames(["--exp_ops_cpus", "0-3", "--a_b=c_d", "x_y", "--", "--p_q"])).toEqual(["--exp-ops-cpus", "0-3", "--a-b=c_d", "x_y", "--", "--p_q"]);
  });
});
