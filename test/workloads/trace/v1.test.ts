// Version 1 .dst files (fixtures/, written by damon-sim before format 2.0): still readable, with a
// notice, and `trace upgrade` turns them into version 2 files with the same rows, header and chunk
// payloads (compared with a v1 frame parser written here); upgrading a version 2 file changes no
// byte; a damaged input leaves no output; the CLI prints the notice once and upgrades in place.

import { describe, expect, it } from "vitest";
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { AccessKind } from "../../../hw/batch.ts";
import { InputError } from "../../../sim/errors.ts";
import { openTrace } from "../../../workloads/trace/reader.ts";
import { upgradeTrace } from "../../../workloads/trace/upgrade.ts";
import { ROOT, runCli } from "../../cli/helpers.ts";
import { splitFrames } from "./frames.ts";
import { readAll, tempDir, type Row } from "./helpers.ts";

const FIXTURES = resolve(ROOT, "test/workloads/trace/fixtures");
const V1_LACKEY = join(FIXTURES, "v1-lackey.dst"); // import lackey of LOG below, --chunk-size 2
const V1_MT = join(FIXTURES, "v1-mt.dst"); // record mt --duration 4us --quantum 1us --chunk-size 2048 --seed 3
const dir = tempDir("dst-v1-");

// the log v1-lackey.dst was imported from
const LOG = [
  "I  00108000,4", " S 1fff000768,8", "I  00108004,3", " L 04a14000,4", " M 04a14ffe,4", "I  00108007,5",
  "I  00108100,2", " L 1fff000760,8", " S 1fff000758,8",
];
const KINDS: Record<string, number> = { I: AccessKind.IFETCH, L: AccessKind.READ, S: AccessKind.WRITE, M: AccessKind.MODIFY };
const logRows = (): Row[] => LOG.map((l) => {
  const [a, s] = l.slice(3).split(",");
  return { addr: parseInt(a!, 16), size: Number(s), kind: KINDS[l.trim()[0]!]!, tid: 1, gap: 0 };
});

/** Chunk payloads of a version 1 file, parsed here: 9-byte heads (tag, count, length). */
function v1Payloads(b: Buffer): Array<{ count: number; payload: Buffer }> {
  const footer = b.readUInt32LE(b.length - 16);
  const out: Array<{ count: number; payload: Buffer }> = [];
  for (let p = 16 + b.readUInt32LE(12) + 4; p < footer;) {
    const len = b.readUInt32LE(p + 5);
    out.push({ count: b.readUInt32LE(p + 1), payload: b.subarray(p + 9, p + 9 + len) });
    p += 9 + len + 4;
  }
  return out;
}

describe("version 1 traces", () => {
  it("read as they were written, with a notice", () => {
    const notices: string[] = [];
    const r = openTrace(V1_LACKEY, { notice: (t) => notices.push(t) });
    r.close();
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/v1-lackey\.dst is a version 1 \.dst trace.*'damon-sim trace upgrade .*v1-lackey\.dst -o NEW\.dst'/);
    expect(r.header.formatVersion).toBe("1.0");
    expect(r.header.sha256).toBeNull();
    expect(r.header.layoutInferred).toBe(true);
    expect(r.chunkList.map((c) => [c.seq, c.accesses])).toEqual([[0, 2], [1, 2], [2, 2], [3, 2], [4, 1]]);
    expect(readAll(V1_LACKEY, 3)).toEqual(logRows());
  });

  it("upgrade to version 2 with the same rows, header and chunk payloads", () => {
    for (const src of [V1_LACKEY, V1_MT]) {
      const out = join(dir, `up-${src.endsWith("mt.dst") ? "mt" : "lackey"}.dst`);
      const s = upgradeTrace(src, out);
      const v1 = openTrace(src, { notice: () => {} });
      v1.close();
      const v2 = openTrace(out, { notice: () => expect.unreachable("no notice for version 2") });
      v2.close();
      expect(s.from).toBe("1.0");
      expect(v2.header.formatVersion).toBe("2.0");
      expect({ ...v2.header, formatVersion: "", sha256: null }).toEqual({ ...v1.header, formatVersion: "", sha256: null });
      expect(s.sha256).toBe(v2.header.sha256);
      expect(readAll(out, 777)).toEqual(readAll(src, 777));
      const frames = splitFrames(readFileSync(out));
      const old = v1Payloads(readFileSync(src));
      expect(frames.chunks.map((c) => [c.readUInt32LE(1), c.readUInt32LE(5)])).toEqual(old.map((o, i) => [i, o.count]));
      frames.chunks.forEach((c, i) => expect(c.subarray(13, c.length - 4).equals(old[i]!.payload)).toBe(true));
      // upgrading a version 2 file gives the very same bytes
      const again = join(dir, "again.dst");
      upgradeTrace(out, again);
      expect(readFileSync(again).equals(readFileSync(out))).toBe(true);
    }
  });

  it("a damaged input is named and leaves no output", () => {
    const bad = join(dir, "bad-v1.dst");
    const b = Buffer.from(readFileSync(V1_MT));
    const payload2 = v1Payloads(b)[2]!.payload;
    b[payload2.byteOffset - b.byteOffset + 10]! ^= 0x40;
    writeFileSync(bad, b);
    const before = readdirSync(dir).sort();
    let err: unknown = null;
    try {
      upgradeTrace(bad, join(dir, "never.dst"));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(/bad-v1\.dst, byte offset \d+, field 'chunk 2 crc'/);
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it("the CLI notes a version 1 file once on stderr, and `trace upgrade` converts it in place", () => {
    const f = join(dir, "cli-v1.dst");
    copyFileSync(V1_MT, f);
    const info = runCli(["trace", "info", f, "--json"]);
    expect(info.status).toBe(0);
    expect(info.stderr.match(/damon-sim: note: .*cli-v1\.dst is a version 1 \.dst trace/g)).toHaveLength(1);
    const v1Info = JSON.parse(info.stdout);
    expect(v1Info.header.formatVersion).toBe("1.0");
    const up = runCli(["trace", "upgrade", f, "-o", f]);
    expect(up.stderr).toBe("");
    expect(up.status).toBe(0);
    expect(up.stdout).toMatch(/upgraded .*cli-v1\.dst \(\.dst 1\.0, .*\) to .*cli-v1\.dst \(\.dst 2\.0, .*\): 5 chunks, 9,580 accesses, sha256 [0-9a-f]{64}/);
    const after = runCli(["trace", "info", f, "--json"]);
    expect(after.stderr).toBe("");
    const v2Info = JSON.parse(after.stdout);
    expect(v2Info.header.formatVersion).toBe("2.0");
    expect(v2Info.counts).toEqual(v1Info.counts);
    expect(v2Info.chunkList.map((c: { accesses: number }) => c.accesses)).toEqual(v1Info.chunkList.map((c: { accesses: number }) => c.accesses));
    expect(readdirSync(dir).filter((x) => x.includes(".tmp"))).toEqual([]);
    const misuse = runCli(["trace", "upgrade", f]);
    expect(misuse.status).toBe(2);
    expect(misuse.stderr).toMatch(/--output is required/);
  });
});
