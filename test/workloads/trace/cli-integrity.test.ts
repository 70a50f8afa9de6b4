// Damaged and lying traces through the commands that read them, as a user meets them: `trace
// info`, `cachegrind` and `run` (replay) reject a trace with rows of a thread its header does not
// declare, and one with two chunks swapped, naming the file, the byte offset and the chunk (never
// an internal error, never counts from the wrong rows); and a run cut short by --duration still
// fails on a truncated trace, because the end of the file is checked when it is opened.

import { describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { upgradeTrace } from "../../../workloads/trace/upgrade.ts";
import { ROOT, runCli, type CliResult } from "../../cli/helpers.ts";
import { joinFrames, reseal, splitFrames } from "./frames.ts";
import { tempDir } from "./helpers.ts";

const dir = tempDir("dst-cli-integrity-");
const GOOD = join(dir, "mt.dst");
upgradeTrace(resolve(ROOT, "test/workloads/trace/fixtures/v1-mt.dst"), GOOD); // 4 threads, 5 chunks
const GEOMETRY = ["--I1=32768,8,64", "--D1=49152,12,64", "--LL=2097152,16,64"];

/** A failure on bad input: an error line naming the place, and no internal error. */
function expectRejected(r: CliResult, where: RegExp): void {
  expect(r.status).toBe(2); // input error (README: exit statuses)
  expect(r.stderr).not.toMatch(/internal error/);
  expect(r.stderr).toMatch(/^damon-sim: error: /);
  expect(r.stderr).toMatch(where);
}

describe("commands reading a damaged or lying trace", () => {
  it("trace info, cachegrind and run reject rows of an undeclared thread with file, byte offset and chunk", () => {
    const bad = join(dir, "undeclared.dst");
    writeFileSync(bad, reseal(splitFrames(readFileSync(GOOD)), {
      header: (h) => {
        const layout = h.layout as { processes: Array<{ threads: Array<{ tid: number }> }> };
        layout.processes[0]!.threads = layout.processes[0]!.threads.filter((t) => t.tid !== 1003);
        return { ...h, layout, threads: (h.threads as number[]).filter((t) => t !== 1003) };
      },
    }));
    const where = /undeclared\.dst, byte offset \d+, field 'chunk \d+ tid': access \d+ of chunk \d+ \(access \d+ of the trace\) belongs to thread 1003, which the trace does not declare \(its threads: 1000, 1001, 1002\)/;
    expectRejected(runCli(["trace", "info", bad]), where);
    expectRejected(runCli(["cachegrind", bad, ...GEOMETRY]), where);
    expectRejected(runCli(["run", bad, "--duration", "1ms", "-q", "-o", join(dir, "run-undeclared")]), where);
    // the good trace passes the same commands
    expect(runCli(["cachegrind", GOOD, ...GEOMETRY]).status).toBe(0);
  });

  it("swapped chunks: no cachegrind counts from reordered rows, the chunk named instead", () => {
    const f = splitFrames(readFileSync(GOOD));
    [f.chunks[1], f.chunks[3]] = [f.chunks[3]!, f.chunks[1]!];
    const bad = join(dir, "swapped.dst");
    writeFileSync(bad, joinFrames(f));
    const where = /swapped\.dst, byte offset \d+, field 'chunk 1 sequence': chunks out of order: chunk 3 is where chunk 1 belongs/;
    expectRejected(runCli(["cachegrind", bad, ...GEOMETRY]), where);
    expectRejected(runCli(["trace", "info", bad]), where);
  });

  it("a run cut short by --duration still rejects a truncated trace", () => {
    const bytes = readFileSync(GOOD);
    const bad = join(dir, "truncated.dst");
    for (const cut of [1, 100, Math.floor(bytes.length / 2)]) {
      writeFileSync(bad, bytes.subarray(0, bytes.length - cut));
      expectRejected(runCli(["run", bad, "--duration", "20us", "-q", "-o", join(dir, "run-truncated")]), /truncated\.dst, byte offset \d+, field '(trailer|footer)/);
    }
  });
});
