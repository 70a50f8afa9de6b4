// The Lackey --trace-mem parser on hand-written logs: every line kind, banner and blank lines,
// chunk boundaries at every byte position, a missing final newline, malformed lines (with the
// exact line and column in the error) and addresses above 2^32; plus the streaming file source.
// The oracle is an independent, string-based parser written here (split lines, regex, BigInt).

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { AccessBatch, AccessKind } from "../../hw/batch.ts";
import { InputError } from "../../sim/errors.ts";
import { LackeyParser, openLackeySource } from "../../workloads/lackey.ts";

interface Row {
  addr: number;
  size: number;
  kind: number;
  tid: number;
  gap: number;
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Feeds `text` to a parser cut into the given chunks; returns the rows and the parser. */
function parse(text: string | Uint8Array, cuts: number[] = [], opts: { batchSize?: number; tid?: number; file?: string } = {}): { rows: Row[]; parser: LackeyParser; batches: AccessBatch[] } {
  const bytes = typeof text === "string" ? enc(text) : text;
  const rows: Row[] = [];
  const batches: AccessBatch[] = [];
  const parser = new LackeyParser((b) => {
    batches.push(b);
    for (let i = 0; i < b.length; i++) rows.push({ addr: b.addr[i]!, size: b.size[i]!, kind: b.kind[i]!, tid: b.tid[i]!, gap: b.gap[i]! });
  }, opts);
  let prev = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    parser.feed(bytes.subarray(prev, c));
    prev = c;
  }
  parser.feed(bytes.subarray(prev));
  parser.end();
  return { rows, parser, batches };
}

/** Independent oracle: split into lines, match each with a regex, addresses through BigInt. */
function oracle(text: string, tid = 1): Row[] {
  const kinds: Record<string, number> = { "I ": AccessKind.IFETCH, " L": AccessKind.READ, " S": AccessKind.WRITE, " M": AccessKind.MODIFY };
  const out: Row[] = [];
  for (const line of text.split("\n")) {
    const l = line.replace(/\r$/, "");
    if (l.trim() === "" || l.startsWith("==")) continue;
    const m = /^(I | [LSM]) ([0-9a-fA-F]+),([0-9]+)$/.exec(l);
    if (!m) throw new Error(`oracle: bad line ${JSON.stringify(l)}`);
    out.push({ addr: Number(BigInt(`0x${m[2]}`)), size: Number(m[3]), kind: kinds[m[1]!]!, tid, gap: 0 });
  }
  return out;
}

function errorOf(fn: () => unknown, what = "input"): InputError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error(`expected an InputError for ${what}`);
}

const SAMPLE = [
  "==4711== Lackey, an example Valgrind tool",
  "==4711== Command: ./prog",
  "==4711== ",
  "I  0401ab70,3",
  " S 1fff000758,8",
  "I  0401ab73,5",
  " L 1fff000750,8",
  "",
  " M 04033e06,1",
  "I  0010a2f0,15",
  " L 04a6ae03,32",
  " S ffffffffff,255",
  "==4711== ",
  "==4711== Counted 1 call to main()",
  "",
].join("\n");

describe("LackeyParser", () => {
  it("maps every line kind to a row and skips banner and blank lines", () => {
    const { rows, parser } = parse(SAMPLE);
    expect(rows).toEqual([
      { addr: 0x0401ab70, size: 3, kind: AccessKind.IFETCH, tid: 1, gap: 0 },
      { addr: 0x1fff000758, size: 8, kind: AccessKind.WRITE, tid: 1, gap: 0 },
      { addr: 0x0401ab73, size: 5, kind: AccessKind.IFETCH, tid: 1, gap: 0 },
      { addr: 0x1fff000750, size: 8, kind: AccessKind.READ, tid: 1, gap: 0 },
      { addr: 0x04033e06, size: 1, kind: AccessKind.MODIFY, tid: 1, gap: 0 },
      { addr: 0x0010a2f0, size: 15, kind: AccessKind.IFETCH, tid: 1, gap: 0 },
      { addr: 0x04a6ae03, size: 32, kind: AccessKind.READ, tid: 1, gap: 0 },
      { addr: 0xffffffffff, size: 255, kind: AccessKind.WRITE, tid: 1, gap: 0 },
    ]);
    expect(parser.lines).toBe(14); // the trailing "" makes the final newline
    expect(parser.records).toBe(8);
    expect(rows).toEqual(oracle(SAMPLE));
  });

  it("gives every row the tid option and gap 0", () => {
    const { rows } = parse("I  1000,4\n L 2000,8\n", [], { tid: 77 });
    expect(rows.map((r) => [r.tid, r.gap])).toEqual([[77, 0], [77, 0]]);
  });

  it("parses addresses above 2^32 exactly (up to 2^53)", () => {
    const cases = ["1fff000758", "100000000", "7ffffffff000", "1fffffffffffff", "00000000000000000000abc", "DEADBEEFcafe"];
    const text = cases.map((a) => ` L ${a},1`).join("\n");
    const { rows } = parse(text);
    expect(rows.map((r) => r.addr)).toEqual(cases.map((a) => Number(BigInt(`0x${a}`))));
    expect(rows[3]!.addr).toBe(2 ** 53 - 1);
  });

  it("gives the same rows wherever a chunk boundary falls, one cut or two", () => {
    const expected = oracle(SAMPLE);
    const n = enc(SAMPLE).length;
    for (let c = 0; c <= n; c++) expect(parse(SAMPLE, [c]).rows).toEqual(expected);
    for (let c = 0; c <= n; c += 3) for (let d = c; d <= n; d += 5) expect(parse(SAMPLE, [c, d]).rows).toEqual(expected);
  });

  it("parses byte-at-a-time feeding and empty chunks", () => {
    const bytes = enc(SAMPLE);
    const cuts: number[] = [];
    for (let i = 0; i <= bytes.length; i++) cuts.push(i, i); // every position, twice: empty chunks too
    expect(parse(bytes, cuts).rows).toEqual(oracle(SAMPLE));
  });

  it("parses a final line without a trailing newline, and CRLF line ends", () => {
    expect(parse("I  10,2\n L 20,4").rows.map((r) => [r.addr, r.size])).toEqual([[0x10, 2], [0x20, 4]]);
    expect(parse("I  10,2\n L 20,4", [13]).rows.map((r) => [r.addr, r.size])).toEqual([[0x10, 2], [0x20, 4]]);
    const crlf = "==1== hi\r\nI  10,2\r\n\r\n S 20,4\r\n";
    const { rows, parser } = parse(crlf);
    expect(rows.map((r) => [r.kind, r.addr, r.size])).toEqual([[AccessKind.IFETCH, 0x10, 2], [AccessKind.WRITE, 0x20, 4]]);
    expect(parser.lines).toBe(4);
  });

  it("skips whitespace-only lines and an empty input", () => {
    expect(parse("   \n\t\nI  1,1\n  \n").rows.length).toBe(1);
    const empty = parse("");
    expect(empty.rows).toEqual([]);
    expect(empty.parser.lines).toBe(0);
    expect(empty.batches).toEqual([]);
  });

  it("reuses one batch of batchSize rows and flushes the rest at end()", () => {
    const text = Array.from({ length: 10 }, (_, i) => `I  ${(0x1000 + i).toString(16)},1`).join("\n");
    const lengths: number[] = [];
    const seen = new Set<AccessBatch>();
    const parser = new LackeyParser((b) => {
      lengths.push(b.length);
      seen.add(b);
    }, { batchSize: 4 });
    parser.feed(enc(text));
    expect(lengths).toEqual([4, 4]); // the last two rows and the partial last line wait for end()
    expect(parser.records).toBe(9);
    parser.end();
    expect(lengths).toEqual([4, 4, 2]);
    expect(seen.size).toBe(1);
    expect(parser.records).toBe(10);
    expect(parser.lines).toBe(10);
  });

  const malformed: Array<[string, number, number, RegExp]> = [
    // [input, line, column, message]
    ["I  10,2\nX  10,2\n", 2, 1, /at the start of the line/],
    ["I  10,2\nI 10,2\n", 2, 3, /two spaces after 'I'/],
    ["Ix 10,2\n", 1, 2, /two spaces after 'I'/],
    [" X 10,2\n", 1, 2, /'L', 'S' or 'M'/],
    [" L10,2\n", 1, 3, /space after the access letter/],
    [" L  10,2\n", 1, 4, /hexadecimal address/],
    [" L 10g0,2\n", 1, 6, /',' after the address/],
    [" L 10,\n", 1, 7, /decimal size/],
    [" L 10,x\n", 1, 7, /decimal size/],
    [" L 10,8 \n", 1, 8, /after the size/],
    [" L 10,8,1\n", 1, 8, /after the size/],
    [" L 10,256\n", 1, 7, /larger than 255/],
    [" L 10,99999999999999999999\n", 1, 7, /larger than 255/],
    [" L 10,0\n", 1, 7, /at least 1/],
    [" L 20000000000000,1\n", 1, 4, /below 2\^53/],
    [" L 1fffffffffffff,2\n", 1, 4, /address \+ size is above 2\^53/],
    ["=x\n", 1, 1, /at the start of the line/],
    ["==1== ok\n\nI  1,1\n  L 1,1\n", 4, 2, /'L', 'S' or 'M'/],
  ];

  it("reports malformed lines with the file, line and column, wherever the chunks are cut", () => {
    for (const [text, line, column, msg] of malformed) {
      const n = enc(text).length;
      for (let c = 0; c <= n; c++) {
        const e = errorOf(() => parse(text, [c], { file: "t.lk" }), `${JSON.stringify(text)} cut at ${c}`);
        expect(e.location, `${JSON.stringify(text)} cut at ${c}`).toEqual({ file: "t.lk", line, column });
        expect(e.detail).toMatch(msg);
        expect(e.message.startsWith(`t.lk:${line}:${column}: `)).toBe(true);
      }
    }
  });

  it("matches the oracle on random logs cut into random chunks", () => {
    const lineArb = fc.oneof(
      fc.record({
        kind: fc.constantFrom("I ", " L", " S", " M"),
        addr: fc.bigInt({ min: 0n, max: 2n ** 52n }),
        pad: fc.integer({ min: 0, max: 16 }),
        size: fc.integer({ min: 1, max: 255 }),
      }).map(({ kind, addr, pad, size }) => `${kind} ${addr.toString(16).padStart(pad, "0")},${size}`),
      fc.constantFrom("", "==123== ", "==123== Counted 1 call to main()", "   "),
    );
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 60 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 8 }), fc.integer({ min: 1, max: 9 }), (lines, finalNl, cutSeeds, batchSize) => {
        const text = lines.join("\n") + (finalNl ? "\n" : "");
        const n = enc(text).length;
        const cuts = cutSeeds.map((s) => (n === 0 ? 0 : s % (n + 1)));
        const { rows, parser } = parse(text, cuts, { batchSize });
        expect(rows).toEqual(oracle(text));
        expect(parser.records).toBe(rows.length);
      }),
      { numRuns: 300 },
    );
  });
});

describe("openLackeySource", () => {
  const dir = mkdtempSync(join(tmpdir(), "lackey-test-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("streams a file as AccessBatches of the caller's capacity, whatever the read size", () => {
    const lines: string[] = ["==9== banner"];
    for (let i = 0; i < 5000; i++) lines.push(i % 3 === 0 ? `I  ${(0x400000 + 4 * i).toString(16)},4` : `${i % 3 === 1 ? " L" : " S"} ${(0x1fff000000 + 8 * i).toString(16)},8`);
    const text = lines.join("\n");
    const path = join(dir, "t.lk");
    writeFileSync(path, text);
    const expected = oracle(text, 5);
    for (const [chunkSize, batchSize, outCap] of [[1 << 20, 4096, 4096], [7, 3, 5], [100, 17, 1], [4096, 1000, 333]] as const) {
      const src = openLackeySource(path, { chunkSize, batchSize, tid: 5 });
      const out = new AccessBatch(outCap);
      const rows: Row[] = [];
      let n: number;
      while ((n = src.next(out)) > 0) {
        expect(n).toBe(out.length);
        expect(n).toBeLessThanOrEqual(outCap);
        for (let i = 0; i < n; i++) rows.push({ addr: out.addr[i]!, size: out.size[i]!, kind: out.kind[i]!, tid: out.tid[i]!, gap: out.gap[i]! });
      }
      expect(src.next(out)).toBe(0);
      src.close();
      expect(rows).toEqual(expected);
    }
  });

  it("names the file, line and column of a bad line, and a missing file", () => {
    const path = join(dir, "bad.lk");
    writeFileSync(path, "I  10,2\n".repeat(1000) + " Q 10,2\n");
    const src = openLackeySource(path, { chunkSize: 64 });
    const e = errorOf(() => {
      const out = new AccessBatch(100);
      while (src.next(out) > 0);
    });
    expect(e.location).toEqual({ file: path, line: 1001, column: 2 });
    const missing = errorOf(() => openLackeySource(join(dir, "nope.lk")));
    expect(missing.location.file).toBe(join(dir, "nope.lk"));
  });
});
