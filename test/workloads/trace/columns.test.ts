// The column codec alone: encode -> decode must give back the very rows (property tests over
// every kind, sizes 0..255, addresses anywhere in [0, 2^53), tids over int32, gaps 0..2^32-1),
// bad rows are refused, and inconsistent streams are reported, never decoded into rows.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { AccessBatch } from "../../../hw/batch.ts";
import { SimError } from "../../../sim/errors.ts";
import { ColumnDecoder, ColumnEncoder } from "../../../workloads/trace/columns.ts";
import { ByteSink, ByteSource } from "../../../workloads/trace/varint.ts";
import { MAX_ADDR, batchOf, lackeyLikeRows, randomRows, rowsOf, type Row } from "./helpers.ts";

function roundTrip(rows: Row[]): Row[] {
  const enc = new ColumnEncoder();
  const b = batchOf(rows);
  enc.encode(b, 0, rows.length);
  const streams = enc.streams.map((s) => s.bytes().slice());
  const out = new AccessBatch(Math.max(1, rows.length));
  expect(new ColumnDecoder().decode(streams, rows.length, out)).toBeNull();
  return rowsOf(out);
}

const addrArb = fc.oneof(
  fc.integer({ min: 0, max: MAX_ADDR }),
  fc.integer({ min: MAX_ADDR - 1000, max: MAX_ADDR }),
  fc.integer({ min: 0, max: 1000 }),
  fc.constantFrom(0, 1, 2 ** 31, 2 ** 32, 2 ** 47, 2 ** 52, 2 ** 52 - 1, 2 ** 52 + 1, MAX_ADDR),
);
const rowArb: fc.Arbitrary<Row> = fc.record({
  addr: addrArb,
  size: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 1, 62, 63, 64, 255)),
  kind: fc.integer({ min: 0, max: 3 }),
  tid: fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.constantFrom(1, 2, -(2 ** 31), 2 ** 31 - 1)),
  gap: fc.oneof(fc.constantFrom(0, 2 ** 32 - 1, 1), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
});
/** Rows with runs: each generated row is repeated 1..5 times with the same tid and gap. */
const runsArb = fc.array(fc.tuple(rowArb, fc.integer({ min: 1, max: 5 }), addrArb), { maxLength: 200 }).map((xs) =>
  xs.flatMap(([r, k, a2]) => Array.from({ length: k }, (_, j) => ({ ...r, addr: j % 2 === 0 ? r.addr : a2 }))),
);

describe("varints", () => {
  it("round-trip every magnitude up to 2^53 - 1", () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: MAX_ADDR }), fc.integer({ min: 0, max: 300 }), fc.constantFrom(127, 128, 2 ** 28 - 1, 2 ** 28, 2 ** 35, MAX_ADDR))), (xs) => {
      const s = new ByteSink(16);
      for (const x of xs) s.uvarint(x);
      const src = new ByteSource(s.bytes());
      for (const x of xs) expect(src.uvarint()).toBe(x);
      expect(src.atEnd).toBe(true);
    }), { numRuns: 300 });
  });

  it("use the LEB128 byte layout (hand-computed)", () => {
    const s = new ByteSink();
    s.uvarint(300);
    s.uvarint(2 ** 28);
    expect([...s.bytes()]).toEqual([0xac, 0x02, 0x80, 0x80, 0x80, 0x80, 0x01]);
  });

  it("flag over-long encodings and reads past the end", () => {
    expect(new ByteSource(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)).uvarint()).toBe(Infinity);
    const src = new ByteSource(Uint8Array.of(0x80));
    src.uvarint();
    expect(src.overrun).toBe(true);
  });
});

describe("column codec", () => {
  it("round-trips arbitrary rows, including extreme addresses, sizes, tids and gaps", () => {
    fc.assert(fc.property(fc.array(rowArb, { maxLength: 300 }), (rows) => {
      expect(roundTrip(rows)).toEqual(rows);
    }), { numRuns: 300 });
  });

  it("round-trips rows with runs of equal tids, gaps and addresses", () => {
    fc.assert(fc.property(runsArb, (rows) => {
      expect(roundTrip(rows)).toEqual(rows);
    }), { numRuns: 200 });
  });

  it("round-trips Lackey-like and seeded random traces", () => {
    for (const rows of [lackeyLikeRows(20_000, 1), randomRows(20_000, 2, true)]) expect(roundTrip(rows)).toEqual(rows);
  });

  it("encodes a sub-range of a batch", () => {
    const rows = randomRows(500, 3, true);
    const enc = new ColumnEncoder();
    enc.encode(batchOf(rows), 100, 250);
    const out = new AccessBatch(250);
    expect(new ColumnDecoder().decode(enc.streams.map((s) => s.bytes().slice()), 250, out)).toBeNull();
    expect(rowsOf(out)).toEqual(rows.slice(100, 350));
  });

  it("makes sequential fetches and per-instruction strides cheap (hand-counted bytes)", () => {
    // 1000 iterations of a 50-instruction loop; the 11th instruction loads a[i], 8 bytes apart.
    const rows: Row[] = [];
    for (let it = 0; it < 1000; it++) {
      for (let j = 0; j < 50; j++) {
        rows.push({ addr: 0x400000 + 4 * j, size: 4, kind: 2, tid: 1, gap: 0 });
        if (j === 10) rows.push({ addr: 0x10000000 + 8 * it, size: 8, kind: 0, tid: 1, gap: 0 });
      }
    }
    const enc = new ColumnEncoder();
    enc.encode(batchOf(rows), 0, rows.length);
    const [ops, sizes, iaddr, daddr, tid, gap] = enc.streams.map((s) => s.pos);
    expect(ops).toBe(51_000);
    expect(sizes).toBe(0);
    // first fetch: zigzag(0x400000) = 2^23, 4 bytes; 49 sequential fetches an iteration, 1 byte
    // each; 999 backward jumps of -200, zigzag 399, 2 bytes each
    expect(iaddr).toBe(4 + 1000 * 49 + 999 * 2);
    // first load: no table hit, delta 0x10000000 from 0, zigzag 2^29, 5 bytes; then the same pc
    // predicts the previous address: delta 8, zigzag 16, 1 byte
    expect(daddr).toBe(5 + 999);
    // one run each: token (1 byte) + run length 50998 (3 bytes)
    expect(tid).toBe(4);
    expect(gap).toBe(4);
    expect(roundTrip(rows)).toEqual(rows);
  });

  it("refuses rows a trace cannot hold", () => {
    const enc = new ColumnEncoder();
    for (const bad of [{ addr: -1 }, { addr: 2 ** 53 }, { addr: 1.5 }, { addr: Number.NaN }, { kind: 4 }]) {
      const row = { addr: 0, size: 1, kind: 0, tid: 1, gap: 0, ...bad };
      expect(() => enc.encode(batchOf([row]), 0, 1)).toThrow(SimError);
    }
  });

  it("reports inconsistent streams instead of returning rows", () => {
    const rows = lackeyLikeRows(2000, 4);
    const enc = new ColumnEncoder();
    enc.encode(batchOf(rows), 0, rows.length);
    const good = enc.streams.map((s) => s.bytes().slice());
    const out = new AccessBatch(rows.length);
    const dec = new ColumnDecoder();
    const names = ["ops", "sizes", "iaddr", "daddr", "tid", "gap"];
    for (let s = 0; s < good.length; s++) {
      if (good[s]!.length === 0) continue;
      // one byte short, one byte extra
      for (const variant of [good[s]!.subarray(0, good[s]!.length - 1), Uint8Array.from([...good[s]!, 0])]) {
        const streams = good.slice();
        streams[s] = variant;
        expect(dec.decode(streams, rows.length, out)).toBe(names[s]);
      }
    }
    expect(dec.decode(good, rows.length + 1, new AccessBatch(rows.length + 1))).toBe("ops");
    expect(dec.decode(good, rows.length, out)).toBeNull();
  });
});
