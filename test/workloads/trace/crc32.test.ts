// CRC-32 against an independent implementation: the CRC zlib writes in every gzip trailer.

import { describe, expect, it } from "vitest";
import { gzipSync } from "node:zlib";
import { crc32 } from "../../../workloads/trace/crc32.ts";
import { RngRoot } from "../../../sim/rng.ts";

describe("crc32", () => {
  it("matches zlib's CRC-32 for every length 0..100 and some large ones", () => {
    const r = new RngRoot(1).stream("crc");
    for (const n of [...Array.from({ length: 101 }, (_, i) => i), 4095, 65537]) {
      const b = Uint8Array.from({ length: n }, () => r.int(256));
      const gz = gzipSync(b);
      expect(crc32(b)).toBe(gz.readUInt32LE(gz.length - 8));
    }
  });

  it("matches the standard check value", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });

  it("continues across ranges", () => {
    const b = new TextEncoder().encode("The quick brown fox jumps over the lazy dog");
    for (let cut = 0; cut <= b.length; cut++) expect(crc32(b, cut, b.length, crc32(b, 0, cut))).toBe(0x414fa339);
  });
});
