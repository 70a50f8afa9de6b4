// The trace commands end to end, as a user runs them: `import lackey` (file and stdin) of a
// hand-written log and, when Valgrind and gcc are installed, of a real program's trace (checked
// against counts taken from the log text by a separate string parser); `trace info` (text and
// JSON); `record` of a generator (twice: byte-identical files); and the error paths (exit 2 with
// file and line or byte offset, exit 2 for misuse, never an output file).

import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AccessKind } from "../../../hw/batch.ts";
import { BIN, runCli } from "../../cli/helpers.ts";
import { readAll, tempDir, type Row } from "./helpers.ts";

const dir = tempDir("dst-cli-");

const LOG = [
  "==12345== Lackey, an example Valgrind tool",
  "==12345== Command: ./prog",
  "I  00108000,4",
  " S 1fff000768,8",
  "I  00108004,3",
  " L 04a14000,4",
  " M 04a14ffe,4", // crosses into page 0x4a15
  "I  00108007,5",
  "",
  "I  00108100,2",
  " L 1fff000760,8",
  " S 1fff000758,8",
  "==12345== ",
].join("\n") + "\n";

/** What the log says, parsed here with string functions (the oracle). */
function expectedRows(text: string, tid = 1): Row[] {
  const kinds: Record<string, number> = { I: AccessKind.IFETCH, L: AccessKind.READ, S: AccessKind.WRITE, M: AccessKind.MODIFY };
  return text.split("\n").filter((l) => /^(I |  ?[LSM] )/.test(l)).map((l) => {
    const [a, s] = l.slice(3).split(",");
    return { addr: parseInt(a!, 16), size: Number(s), kind: kinds[l.trim()[0]!]!, tid, gap: 0 };
  });
}

function files(): string[] {
  return readdirSync(dir).sort();
}

describe("damon-sim import lackey / trace info", () => {
  it("imports a hand-written log and describes it", () => {
    const log = join(dir, "prog.lk");
    writeFileSync(log, LOG);
    const out = join(dir, "prog.dst");
    const r = runCli(["import", "lackey", log, "-o", out]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/imported 9 accesses \(13 lines\) into .*prog\.dst/);
    expect(readAll(out)).toEqual(expectedRows(LOG));

    const j = runCli(["trace", "info", out, "--json"]);
    expect(j.status).toBe(0);
    const info = JSON.parse(j.stdout);
    expect(info.accesses).toBe(9);
    expect(info.counts).toEqual({ read: 2, write: 2, ifetch: 4, modify: 1 });
    expect(info.addressSpan).toEqual({ start: 0x108000, end: 0x1fff000770 });
    expect(info.threads).toEqual([1]);
    expect(info.chunks).toBe(1);
    expect(info.bytesPerAccess).toBeCloseTo(readFileSync(out).length / 9, 10);
    expect(info.header.seed).toBeNull();
    expect(info.header.layoutInferred).toBe(true);
    // touched pages: 0x108 (code and nothing written) | 0x4a14, 0x4a15 | 0x1fff000
    const vmas = info.header.layout.processes[0].vmas.map((v: { start: number; end: number; kind: string }) => [v.start, v.end, v.kind]);
    expect(vmas).toEqual([[0x108000, 0x109000, "text"], [0x4a14000, 0x4a16000, "mmap"], [0x1fff000000, 0x1fff001000, "stack"]]);
    expect(info.header.layout.processes[0].name).toBe("prog");

    const t = runCli(["trace", "info", out]);
    expect(t.status).toBe(0);
    for (const re of [/accesses:\s+9 in 1 chunks/, /reads:\s+2\b/, /writes:\s+2\b/, /ifetches:\s+4\b/, /modifies:\s+1\b/, /address span:\s+0x108000-0x1fff000770/, /threads:\s+1 \(tids 1;/, /bytes\/access:\s+\d+\.\d{3}/, /inferred from the addresses/]) {
      expect(t.stdout).toMatch(re);
    }
  });

  it("imports from stdin ('-') with a chosen tid and small chunks", () => {
    const out = join(dir, "stdin.dst");
    const r = runCli(["import", "lackey", "-", "-o", out, "--tid", "42", "--chunk-size", "2"], { input: LOG });
    expect(r.status).toBe(0);
    expect(readAll(out)).toEqual(expectedRows(LOG, 42));
    const info = JSON.parse(runCli(["trace", "info", out, "--json"]).stdout);
    expect(info.chunks).toBe(5);
    expect(info.header.layout.processes[0].threads).toEqual([{ tid: 42 }]);
  });

  it("rejects a bad log with file, line and column, and leaves no output", () => {
    const log = join(dir, "bad.lk");
    writeFileSync(log, LOG.replace(" L 04a14000,4", " L 04a1x000,4"));
    const before = files();
    const r = runCli(["import", "lackey", log, "-o", join(dir, "bad.dst")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bad\.lk:6:8: expected ',' after the address/);
    expect(files()).toEqual(before);
  });

  it("rejects an empty log (no layout can be inferred) and leaves no output", () => {
    const before = files();
    const r = runCli(["import", "lackey", "-", "-o", join(dir, "empty.dst")], { input: "==1== nothing\n" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/empty\.dst: the trace has no accesses/);
    expect(files()).toEqual(before);
  });

  it("reports misuse with exit status 2", () => {
    const cases: Array<[string[], RegExp]> = [
      [["import", "dinero", "x", "-o", "y.dst"], /unknown trace format 'dinero'/],
      [["import", "lackey", "x"], /--output is required/],
      [["import", "lackey", "x", "-o", "y.dst", "--frob"], /unknown option '--frob'/],
      [["import", "lackey", "x", "-o", "y.dst", "--level", "12"], /--level must be in \[1, 9\]/],
      [["trace", "dump", "x.dst"], /unknown subcommand 'dump'/],
      [["trace", "info"], /missing argument/],
      [["record"], /missing argument/],
      [["record", "seq", "-o", "x.dst", "--duration", "soon"], /not a duration/],
    ];
    for (const [args, re] of cases) {
      const r = runCli(args, { cwd: dir });
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(re);
    }
    expect(existsSync(join(dir, "y.dst"))).toBe(false);
  });

  it("trace info on a damaged or missing file exits 2 naming the byte offset", () => {
    const log = join(dir, "prog.lk");
    writeFileSync(log, LOG);
    const good = join(dir, "dmg-src.dst");
    expect(runCli(["import", "lackey", log, "-o", good]).status).toBe(0);
    const bytes = readFileSync(good);
    const bad = join(dir, "dmg.dst");
    writeFileSync(bad, bytes.subarray(0, bytes.length - 1));
    let r = runCli(["trace", "info", bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/dmg\.dst, byte offset \d+, field 'trailer/);
    const flipped = Buffer.from(bytes);
    flipped[bytes.readUInt32LE(12) + 16 + 4 + 20]! ^= 0x10; // inside chunk 0's payload (after its 13-byte head)
    writeFileSync(bad, flipped);
    r = runCli(["trace", "info", bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/dmg\.dst, byte offset \d+, field 'chunk 0 crc': chunk checksum mismatch/);
    r = runCli(["trace", "info", join(dir, "missing.dst")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/missing\.dst: cannot open trace/);
  });
});

describe("damon-sim record", () => {
  it("records a generator twice into byte-identical files; the seed matters", () => {
    const a = join(dir, "rec-a.dst");
    const b = join(dir, "rec-b.dst");
    const c = join(dir, "rec-c.dst");
    for (const [out, seed] of [[a, "5"], [b, "5"], [c, "6"]] as const) {
      const r = runCli(["record", "uniform", "-o", out, "--seed", seed, "--duration", "200us"]);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
    }
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    expect(readFileSync(a).equals(readFileSync(c))).toBe(false);
    const info = JSON.parse(runCli(["trace", "info", a, "--json"]).stdout);
    expect(info.header.seed).toBe(5);
    expect(info.header.layoutInferred).toBe(false);
    expect(info.header.meta.workload).toBe("uniform");
    // 200 us at 1.67 ns per access and no gaps: the accesses at round(1.67 k) < 200000 ns
    const expected = Math.ceil(199_999.5 / 1.67);
    expect(info.accesses).toBe(expected);
    // every access lies inside a VMA of the recorded layout
    const vmas: Array<{ start: number; end: number }> = info.header.layout.processes.flatMap((p: { vmas: unknown[] }) => p.vmas);
    for (const row of readAll(a, 4096)) {
      if (!vmas.some((v) => v.start <= row.addr && row.addr + row.size <= v.end)) throw new Error(`access 0x${row.addr.toString(16)} outside the layout`);
    }
  });

  it("records a multi-threaded generator with every thread", () => {
    const out = join(dir, "mt.dst");
    expect(runCli(["record", "mt", "-o", out, "--duration", "50us", "--quantum", "5us"]).status).toBe(0);
    const info = JSON.parse(runCli(["trace", "info", out, "--json"]).stdout);
    expect(info.threads).toEqual(info.header.threads.slice().sort((x: number, y: number) => x - y));
    expect(info.threads.length).toBeGreaterThan(1);
  });

  it("reports an unknown workload with exit 2 and leaves no file", () => {
    const before = files();
    const r = runCli(["record", "no-such-workload", "-o", join(dir, "nope.dst"), "--duration", "1ms"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown workload 'no-such-workload'/);
    expect(files()).toEqual(before);
  });
});

const hasTools = spawnSync("valgrind", ["--version"]).status === 0 && spawnSync("gcc", ["--version"]).status === 0;

describe.runIf(hasTools)("import of a real program's Lackey trace (valgrind)", () => {
  it("matches the counts and rows of the log, from a file and through a pipe", () => {
    const src = join(dir, "walk.c");
    writeFileSync(src, [
      "#include <stdlib.h>",
      "int main(void) { int n = 5000; int *a = malloc(n * sizeof *a); long s = 0;",
      "  for (int i = 0; i < n; i++) a[i] = i * 7;",
      "  for (int r = 0; r < 3; r++) for (int i = 0; i < n; i += 3) s += a[i];",
      "  return (int)(s & 1); }",
    ].join("\n"));
    const exe = join(dir, "walk");
    expect(spawnSync("gcc", ["-O1", "-o", exe, src]).status).toBe(0);
    const log = join(dir, "walk.lk");
    const vg = spawnSync("valgrind", ["--tool=lackey", "--trace-mem=yes", `--log-file=${log}`, exe]);
    expect(vg.status).not.toBeNull();
    const text = readFileSync(log, "utf8");
    const rows = expectedRows(text);
    expect(rows.length).toBeGreaterThan(100_000);

    const out = join(dir, "walk.dst");
    expect(runCli(["import", "lackey", log, "-o", out]).status).toBe(0);
    const info = JSON.parse(runCli(["trace", "info", out, "--json"]).stdout);
    const count = (k: number): number => rows.filter((r) => r.kind === k).length;
    expect(info.counts).toEqual({ read: count(AccessKind.READ), write: count(AccessKind.WRITE), ifetch: count(AccessKind.IFETCH), modify: count(AccessKind.MODIFY) });
    expect(info.bytesPerAccess).toBeLessThan(1);
    const got = readAll(out, 65536);
    expect(got.length).toBe(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const a = got[i]!;
      const b = rows[i]!;
      if (a.addr !== b.addr || a.size !== b.size || a.kind !== b.kind) throw new Error(`row ${i} differs: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
    // every access inside the inferred layout, whose VMAs are separated by >= 1 MiB
    const vmas: Array<{ start: number; end: number }> = info.header.layout.processes[0].vmas;
    for (let i = 1; i < vmas.length; i++) expect(vmas[i]!.start - vmas[i - 1]!.end).toBeGreaterThanOrEqual(1 << 20);
    let v = 0;
    const sorted = [...got].sort((x, y) => x.addr - y.addr);
    for (const r of sorted) {
      while (v < vmas.length && vmas[v]!.end <= r.addr) v++;
      if (!(v < vmas.length && vmas[v]!.start <= r.addr && r.addr + r.size <= vmas[v]!.end)) throw new Error(`0x${r.addr.toString(16)} outside the layout`);
    }

    // the documented pipeline: Valgrind's trace on fd 3, straight into the importer
    const piped = join(dir, "walk-piped.dst");
    const sh = spawnSync("sh", ["-c", `valgrind --tool=lackey --trace-mem=yes --log-fd=3 '${exe}' 3>&1 >/dev/null 2>/dev/null | '${process.execPath}' '${BIN}' import lackey - -o '${piped}'`], { encoding: "utf8" });
    expect(sh.status).toBe(0);
    const pinfo = JSON.parse(runCli(["trace", "info", piped, "--json"]).stdout);
    expect(pinfo.counts).toEqual(info.counts);
  }, 120_000);
});
