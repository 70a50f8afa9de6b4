// The queue's wire format (cli/jobs/wire.ts) gives back what a worker thread would: a value through
// toWire/fromWire equals its structuredClone, NaN, -0, undefined fields and nesting included (JSON
// would not: it is checked to differ on the same values).

import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { fromWire, toWire } from "../../cli/jobs/wire.ts";

const special = fc.constantFrom(Number.NaN, -0, Infinity, -Infinity, undefined, null);
const leaf = fc.oneof(fc.double(), fc.integer(), fc.string(), fc.boolean(), special);
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: "small" }, leaf, fc.array(tie("node")), fc.dictionary(fc.string(), tie("node"))),
})).node;

describe("wire format", () => {
  test.prop([value])("round-trips as structured clone does", (v) => {
    expect(fromWire(toWire(v))).toStrictEqual(structuredClone(v));
  });

  it("keeps what JSON loses: a NaN cell, a -0, an undefined field", () => {
    const v = { heat: [0.5, Number.NaN], z: -0, gone: undefined };
    const back = fromWire<typeof v>(toWire(v));
    expect(Number.isNaN(back.heat[1])).toBe(true);
    expect(Object.is(back.z, -0)).toBe(true);
    expect(Object.hasOwn(back, "gone")).toBe(true);
    const json = JSON.parse(JSON.stringify(v)) as Record<string, unknown>;
    expect((json.heat as unknown[])[1]).toBeNull();
    expect(Object.hasOwn(json, "gone")).toBe(false);
  });
});
