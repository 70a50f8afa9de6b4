// Damaged .dst files: every single flipped byte and every truncation of small traces must raise
// an InputError that names the file and a byte offset, and the rows handed out before the error
// must be exactly the recorded ones (never a wrong row). Plus the specific diagnoses: magic,
// version, checksums, and an end marker whose totals disagree with the chunks (found when the
// file is opened, before any row).

import { describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AccessBatch } from "../../../hw/batch.ts";
import { InputError } from "../../../sim/errors.ts";
import { RngRoot } from "../../../sim/rng.ts";
import { TraceWriter } from "../../../workloads/trace/writer.ts";
import { openTrace } from "../../../workloads/trace/reader.ts";
import { crc32 } from "node:zlib";
import { recordPackr } from "../../../workloads/trace/format.ts";
import { HEADER, batchOf, lackeyLikeRows, randomRows, rowsOf, tempDir, type Row } from "./helpers.ts";

const dir = tempDir();

function makeTrace(name: string, rows: Row[], withLayout: boolean): { path: string; bytes: Buffer } {
  const path = join(dir, name);
  const { layout: _drop, ...noLayout } = HEADER;
  const w = TraceWriter.create(path, withLayout ? HEADER : noLayout, { chunkSize: 64 });
  w.write(batchOf(rows));
  w.close();
  return { path, bytes: readFileSync(path) };
}

/** Reads a damaged file: the error thrown (or null) and the rows handed out before it. */
function readDamaged(path: string): { error: unknown; rows: Row[] } {
  const rows: Row[] = [];
  try {
    const r = openTrace(path);
    const b = new AccessBatch(50);
    while (r.next(b) > 0) rows.push(...rowsOf(b));
    return { error: null, rows };
  } catch (e) {
    return { error: e, rows };
  }
}

function expectDetected(path: string, original: Row[], what: string): void {
  const { error, rows } = readDamaged(path);
  if (!(error instanceof InputError)) throw new Error(`${what}: not detected (got ${String(error)}, ${rows.length} rows)`);
  expect(error.location.file).toBe(path);
  expect(typeof error.location.offset).toBe("number");
  expect(error.message).toMatch(/byte offset \d+/);
  expect(rows).toEqual(original.slice(0, rows.length));
}

describe("damaged traces", () => {
  const cases = [
    { name: "layout-in-header.dst", rows: randomRows(300, 1), withLayout: true },
    { name: "layout-in-footer.dst", rows: lackeyLikeRows(300, 2).map((r) => ({ ...r, addr: r.addr % 2 ** 40 })), withLayout: false },
  ];
  for (const c of cases) {
    it(`detects every flipped byte (${c.name})`, () => {
      const { bytes } = makeTrace(c.name, c.rows, c.withLayout);
      const rng = new RngRoot(3).stream("flip");
      const bad = join(dir, `flipped-${c.name}`);
      for (let off = 0; off < bytes.length; off++) {
        const copy = Buffer.from(bytes);
        copy[off] ^= 1 + rng.int(255);
        writeFileSync(bad, copy);
        expectDetected(bad, c.rows, `flip at ${off} of ${bytes.length}`);
      }
    });

    it(`detects every truncation (${c.name})`, () => {
      const { bytes } = makeTrace(c.name, c.rows, c.withLayout);
      const bad = join(dir, `cut-${c.name}`);
      for (let len = 0; len < bytes.length; len++) {
        writeFileSync(bad, bytes.subarray(0, len));
        expectDetected(bad, c.rows, `truncated to ${len} of ${bytes.length}`);
      }
      // and trailing garbage
      writeFileSync(bad, Buffer.concat([bytes, Buffer.from([0])]));
      expectDetected(bad, c.rows, "one byte appended");
    });
  }

  it("names what is wrong", () => {
    const { path, bytes } = makeTrace("named.dst", randomRows(200, 4), true);
    const bad = join(dir, "named-bad.dst");
    const check = (mutate: (b: Buffer) => Buffer, message: RegExp, offset: number | null, field: RegExp): void => {
      writeFileSync(bad, mutate(Buffer.from(bytes)));
      const { error } = readDamaged(bad);
      expect(error).toBeInstanceOf(InputError);
      const e = error as InputError;
      expect(e.message).toMatch(message);
      if (offset === null) expect(e.location.offset).toBeTypeOf("number");
      else expect(e.location.offset).toBe(offset);
      expect(e.location.field).toMatch(field);
    };
    check(() => Buffer.from("I  0401ab70,3\n I 1fff000758,8\n"), /not a \.dst trace/, 0, /header/);
    check((b) => (b.writeUInt16LE(3, 8), b), /unsupported \.dst format version 3\.0/, 8, /header\.version/);
    check((b) => (b[20]! ^= 4, b), /header checksum mismatch/, null, /header\.crc/);
    const headerEnd = 16 + bytes.readUInt32LE(12) + 4;
    check((b) => (b[headerEnd + 20]! ^= 4, b), /chunk checksum mismatch/, null, /^chunk 0 crc$/);
    check((b) => (b[headerEnd]! = 0x41, b), /expected a chunk tag/, headerEnd, /^chunk 0 tag$/);
    check((b) => b.subarray(0, b.length - 3), /end marker/, null, /trailer/);
    expect(readDamaged(path).error).toBeNull();
  });

  it("checks the end marker's totals against the chunks (a consistent but lying footer)", () => {
    const rows = randomRows(200, 5);
    const { bytes } = makeTrace("liar.dst", rows, true);
    const footerOffset = bytes.readUInt32LE(bytes.length - 16);
    const len = bytes.readUInt32LE(footerOffset + 1);
    const footer = recordPackr.unpack(bytes.subarray(footerOffset + 5, footerOffset + 5 + len)) as { accesses: number };
    footer.accesses += 1;
    const body = recordPackr.pack(footer);
    const frame = Buffer.alloc(5 + body.length + 4 + 16);
    frame[0] = 0x45;
    frame.writeUInt32LE(body.length, 1);
    body.copy(frame, 5);
    frame.writeUInt32LE(crc32(frame.subarray(0, 5 + body.length)), 5 + body.length);
    bytes.copy(frame, 5 + body.length + 4, bytes.length - 16);
    const bad = join(dir, "liar-bad.dst");
    writeFileSync(bad, Buffer.concat([bytes.subarray(0, footerOffset), frame]));
    const { error, rows: got } = readDamaged(bad);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toMatch(/end marker counts 4 chunks and 201 accesses but the file holds 4 and 200/);
    expect(got).toEqual([]);
  });

  it("reports a missing file or a directory as an InputError naming it", () => {
    expect(() => openTrace(join(dir, "nope.dst"))).toThrow(/nope\.dst: cannot open trace/);
    expect(() => openTrace(dir)).toThrow(InputError);
  });
});
