// The self-checking parts of .dst version 2, against files built and damaged here (frames.ts):
// the writer's output follows the format description byte for byte (CRC chain and digest
// recomputed independently); swapped, duplicated, missing and truncated chunks fail when the file
// is opened, before any row, naming the chunk's sequence number and byte offset; a chunk of another
// recording fails its CRC, and one that shares every earlier chunk fails the whole-file digest;
// lying footers are caught; rows of threads the trace does not declare, thread lists that name
// threads outside the layout and unknown VMA kinds are rejected with the place; the writer refuses
// rows of undeclared threads; and the chunk list that `trace info` reports tiles the file.

import { describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AccessBatch } from "../../../hw/batch.ts";
import { InputError, SimError } from "../../../sim/errors.ts";
import { openTrace } from "../../../workloads/trace/reader.ts";
import { traceInfo } from "../../../workloads/trace/info.ts";
import { TraceWriter } from "../../../workloads/trace/writer.ts";
import type { TraceHeaderInput } from "../../../workloads/trace/format.ts";
import { chunkOffset, joinFrames, reseal, splitFrames, type Frames } from "./frames.ts";
import { HEADER, batchOf, lackeyLikeRows, randomRows, rowsOf, tempDir, type Row } from "./helpers.ts";

const dir = tempDir();
const CHUNK = 50;
let n = 0;

function write(rows: Row[], header: TraceHeaderInput = HEADER): Buffer {
  const path = join(dir, `src-${++n}.dst`);
  const w = TraceWriter.create(path, header, { chunkSize: CHUNK });
  w.write(batchOf(rows));
  w.close();
  return readFileSync(path);
}

function put(bytes: Buffer): string {
  const path = join(dir, `bad-${++n}.dst`);
  writeFileSync(path, bytes);
  return path;
}

/** The error openTrace itself throws (before any row is read), or null. */
function openError(path: string): InputError | null {
  try {
    openTrace(path).close();
    return null;
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
}

/** Reads to the end, a chunk per batch: the rows handed out and the error that stopped it. */
function readThrough(path: string): { rows: Row[]; error: InputError | null } {
  const rows: Row[] = [];
  try {
    const r = openTrace(path);
    const b = new AccessBatch(CHUNK);
    while (r.next(b) > 0) rows.push(...rowsOf(b));
    return { rows, error: null };
  } catch (e) {
    if (e instanceof InputError) return { rows, error: e };
    throw e;
  }
}

const ROWS = randomRows(400, 11);
const GOOD = write(ROWS);
const frames = (): Frames => splitFrames(GOOD);

describe(".dst version 2 integrity", () => {
  it("writes what format.ts describes: resealing the file from its own frames changes no byte", () => {
    const f = frames();
    expect(f.chunks.length).toBe(8);
    f.chunks.forEach((c, i) => expect(c.readUInt32LE(1)).toBe(i));
    expect(reseal(f).equals(GOOD)).toBe(true);
    expect(readThrough(put(GOOD))).toEqual({ rows: ROWS, error: null });
  });

  it("names swapped chunks when the file is opened, even with their CRCs recomputed", () => {
    for (const resealed of [false, true]) {
      const f = frames();
      [f.chunks[2], f.chunks[5]] = [f.chunks[5]!, f.chunks[2]!];
      const e = openError(put(resealed ? reseal(f) : joinFrames(f)));
      expect(e?.message).toMatch(/chunks out of order: chunk 5 is where chunk 2 belongs \(chunk 2 is at byte offset \d+\)/);
      expect(e?.location.offset).toBe(chunkOffset(f, 2) + 1);
      expect(e?.location.field).toBe("chunk 2 sequence");
    }
  });

  it("names a duplicated chunk with both byte offsets", () => {
    const f = frames();
    f.chunks.splice(4, 0, Buffer.from(f.chunks[3]!));
    const e = openError(put(joinFrames(f)));
    expect(e?.message).toContain(`chunk 3 appears twice, at byte offsets ${chunkOffset(f, 3)} and ${chunkOffset(f, 4)} (duplicated)`);
  });

  it("names a missing chunk and where it belongs", () => {
    const f = frames();
    f.chunks.splice(3, 1);
    let e = openError(put(joinFrames(f)));
    expect(e?.message).toMatch(/chunk 3 of 8 is missing \(chunk 4 is where it belongs; the file holds 7 chunks\)/);
    expect(e?.location.offset).toBe(chunkOffset(f, 3));
    const g = frames();
    g.chunks.pop();
    e = openError(put(joinFrames(g)));
    expect(e?.message).toMatch(/chunk 7 of 8 is missing \(the end marker follows/);
  });

  it("names a truncated chunk: cut short at its end, or in the middle of the file", () => {
    const f = frames();
    f.chunks[7] = f.chunks[7]!.subarray(0, f.chunks[7]!.length - 10);
    const e = openError(put(joinFrames(f)));
    expect(e?.location.field).toBe("chunk 7 length");
    expect(e?.message).toMatch(/runs past the end marker \(truncated or corrupted\)/);
    const g = frames();
    g.chunks[2] = g.chunks[2]!.subarray(0, g.chunks[2]!.length - 10);
    const e2 = openError(put(joinFrames(g)));
    expect(e2?.location.field).toMatch(/^chunk 3 /);
    expect(e2?.location.offset).toBeGreaterThanOrEqual(chunkOffset(g, 3));
  });

  it("fails at open, before any row, for every truncation of the file (a replay that stops early still notices)", () => {
    const path = join(dir, "cut.dst");
    for (let len = 0; len < GOOD.length; len += 7) {
      writeFileSync(path, GOOD.subarray(0, len));
      const e = openError(path);
      expect(e, `cut to ${len}`).toBeInstanceOf(InputError);
      expect(e!.location.file).toBe(path);
      expect(e!.location.offset).toBeTypeOf("number");
    }
  });

  it("rejects a chunk of another recording at that chunk, even chunk 0 or one sharing every earlier chunk (by the footer's CRC list)", () => {
    const other = splitFrames(write(randomRows(400, 12)));
    const f = frames();
    f.chunks[3] = other.chunks[3]!;
    const path = put(joinFrames(f));
    expect(openError(path)).toBeNull();
    const r = readThrough(path);
    expect(r.error?.location.field).toBe("chunk 3 crc");
    expect(r.rows).toEqual(ROWS.slice(0, 3 * CHUNK));

    // chunk 0 of a recording with the same header, or the last chunk of one with the same earlier
    // rows: the CRC chain matches, the end marker's list of chunk CRCs does not
    const twin = splitFrames(write([...ROWS.slice(0, 7 * CHUNK), ...randomRows(50, 13)]));
    for (const [i, from] of [[0, other], [7, twin]] as const) {
      const g = frames();
      g.chunks[i] = from.chunks[i]!;
      const t = readThrough(put(joinFrames(g)));
      expect(t.error?.location.field).toBe(`chunk ${i} crc`);
      expect(t.error?.message).toMatch(new RegExp(`chunk CRC 0x[0-9a-f]{8} is not the 0x[0-9a-f]{8} the end marker lists for chunk ${i}: a chunk of another trace`));
      expect(t.rows).toEqual(ROWS.slice(0, i * CHUNK));
    }
  });

  it("catches a footer whose counts lie (with valid CRCs and digest)", () => {
    const cases: Array<[(r: Record<string, unknown>) => Record<string, unknown>, RegExp]> = [
      [(r) => ({ ...r, chunks: 9 }), /footer\.chunkCrcs.*must list one CRC-32 per chunk \(9\)/],
      [(r) => ({ ...r, chunks: 9, chunkCrcs: [...(r.chunkCrcs as number[]), 0] }), /chunk 8 of 9 is missing \(the end marker follows/],
      [(r) => ({ ...r, chunks: 7, chunkCrcs: (r.chunkCrcs as number[]).slice(1) }), /says it is chunk 7, but the end marker counts 7 chunks/],
      [(r) => ({ ...r, chunkCrcs: (r.chunkCrcs as number[]).map((c, i) => (i === 5 ? (c ^ 1) >>> 0 : c)) }), /field 'chunk 5 crc': chunk CRC 0x[0-9a-f]{8} is not the 0x[0-9a-f]{8} the end marker lists/],
      [(r) => ({ ...r, accesses: 401 }), /end marker counts 8 chunks and 401 accesses but the file holds 8 and 400/],
      [(r) => ({ ...r, sha256: "0".repeat(64) }), /SHA-256 is [0-9a-f]{64} but the end marker records 0{64}/],
      [(r) => ({ ...r, sha256: "nope" }), /footer\.sha256.*64 hex digits/],
    ];
    for (const [edit, re] of cases) {
      const r = readThrough(put(reseal(frames(), { footer: edit })));
      expect(r.error?.message).toMatch(re);
    }
  });

  it("rejects rows of a thread the header does not declare, naming the chunk, the access and the thread", () => {
    const rows = lackeyLikeRows(400, 14).map((r, i) => ({ ...r, tid: i < 230 ? 1 : 3 }));
    const f = splitFrames(write(rows));
    const only12 = { processes: [{ ...HEADER.layout!.processes[0]!, threads: [{ tid: 1 }, { tid: 2 }] }] };
    const bytes = reseal(f, { header: (h) => ({ ...h, layout: only12, threads: [1, 2] }) });
    const path = put(bytes);
    const r = readThrough(path);
    expect(r.error?.message).toContain(`${path}, byte offset ${chunkOffset(splitFrames(bytes), 4)}, field 'chunk 4 tid': access 30 of chunk 4 (access 230 of the trace) belongs to thread 3, which the trace does not declare (its threads: 1, 2)`);
    expect(r.rows).toEqual(rows.slice(0, 200));
    // and the same through traceInfo (what `trace info` and replay read with)
    expect(() => traceInfo(path)).toThrow(/field 'chunk 4 tid'/);
  });

  it("rejects undeclared threads of a trace whose thread list is in the footer (layout inferred)", () => {
    const { layout: _l, ...noLayout } = HEADER;
    const rows = lackeyLikeRows(300, 15).map((r, i) => ({ ...r, addr: r.addr % 2 ** 40, tid: i % 100 < 50 ? 4 : 6 }));
    const f = splitFrames(write(rows, noLayout));
    const r = readThrough(put(reseal(f, {
      footer: (x) => {
        const layout = x.layout as { processes: Array<{ threads: Array<{ tid: number }> }> };
        layout.processes[0]!.threads = [{ tid: 4 }];
        return { ...x, layout, threads: [4] };
      },
    })));
    expect(r.error?.location.field).toBe("chunk 1 tid");
    expect(r.error?.message).toMatch(/access 0 of chunk 1 \(access 50 of the trace\) belongs to thread 6/);
    expect(r.rows).toEqual(rows.slice(0, 50));
  });

  it("rejects thread lists naming threads outside the layout, or twice, and unknown VMA kinds, at open", () => {
    const cases: Array<[(h: Record<string, unknown>) => Record<string, unknown>, string, RegExp]> = [
      [(h) => ({ ...h, threads: [1, 99] }), "header.threads[1]", /thread 99 is not a thread of any process of the layout/],
      [(h) => ({ ...h, threads: [1, 2, 1] }), "header.threads[2]", /thread 1 is listed twice/],
      [(h) => {
        const layout = structuredClone(HEADER.layout!) as unknown as { processes: Array<{ vmas: Array<Record<string, unknown>> }> };
        layout.processes[0]!.vmas[0]!.kind = "bogus";
        return { ...h, layout };
      }, "header.layout.processes[0].vmas[0].kind", /kind must be one of text, data, heap, mmap, stack, got 'bogus'/],
    ];
    for (const [edit, field, re] of cases) {
      const e = openError(put(reseal(frames(), { header: edit })));
      expect(e?.location.field).toBe(field);
      expect(e?.location.offset).toBe(16);
      expect(e?.message).toMatch(re);
    }
    const { layout: _l, ...noLayout } = HEADER;
    const f = splitFrames(write(lackeyLikeRows(100, 16).map((r) => ({ ...r, addr: r.addr % 2 ** 40 })), noLayout));
    const e = openError(put(reseal(f, {
      footer: (x) => {
        const layout = x.layout as { processes: Array<{ vmas: Array<Record<string, unknown>> }> };
        layout.processes[0]!.vmas[1]!.kind = 7;
        return { ...x, layout };
      },
    })));
    expect(e?.location.field).toBe("footer.layout.processes[0].vmas[1].kind");
  });

  it("the writer refuses rows of undeclared threads and VMA kinds it does not know, leaving no file", () => {
    const path = join(dir, "undeclared.dst");
    const w = TraceWriter.create(path, HEADER, { chunkSize: 8 });
    expect(() => w.write(batchOf([{ addr: 0, size: 4, kind: 0, tid: 1, gap: 0 }, { addr: 8, size: 4, kind: 0, tid: 99, gap: 0 }]))).toThrow(SimError);
    expect(() => readFileSync(path)).toThrow();
    const layout = structuredClone(HEADER.layout!);
    (layout.processes[0]!.vmas[0] as { kind: string }).kind = "heap2";
    expect(() => TraceWriter.create(path, { ...HEADER, layout })).toThrow(/field 'header\.layout\.processes\[0\]\.vmas\[0\]\.kind'/);
  });

  it("lists every chunk: sequence numbers in order, offsets and sizes that tile the file, access counts that add up", () => {
    const path = put(GOOD);
    const info = traceInfo(path);
    const f = frames();
    expect(info.chunkList.map((c) => c.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(info.chunkList.map((c) => c.offset)).toEqual(f.chunks.map((_, i) => chunkOffset(f, i)));
    expect(info.chunkList.map((c) => c.bytes)).toEqual(f.chunks.map((c) => c.length));
    expect(info.chunkList.map((c) => c.accesses)).toEqual([50, 50, 50, 50, 50, 50, 50, 50]);
    expect(info.header.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(info.header.formatVersion).toBe("2.0");
  });
});
