// Time and size units: parsing, validation and damo-style printing.

import { describe, expect, it } from "vitest";
import { MS, SEC, US, checkTime, formatDuration, parseDuration } from "../../sim/time.ts";
import { GiB, KiB, MiB, formatSize, isPowerOfTwo, parseSize } from "../../sim/units.ts";
import { InputError } from "../../sim/errors.ts";

describe("durations", () => {
  it("parses units and bare numbers", () => {
    expect(parseDuration("5ms")).toBe(5 * MS);
    expect(parseDuration("1.5s")).toBe(1.5 * SEC);
    expect(parseDuration("100us")).toBe(100 * US);
    expect(parseDuration("250 ns")).toBe(250);
    expect(parseDuration("2m")).toBe(120 * SEC);
    expect(parseDuration("7", "ms")).toBe(7 * MS);
  });
  it("rejects garbage, unknown units and sub-nanosecond values, naming the field", () => {
    expect(() => parseDuration("fast")).toThrow(InputError);
    expect(() => parseDuration("5 fortnights", "ns", "--aggr")).toThrow(/field '--aggr'.*unknown time unit/);
    expect(() => parseDuration("0.5ns")).toThrow(/whole number/);
  });
  it("prints like damo", () => {
    expect(formatDuration(5 * MS)).toBe("5 ms");
    expect(formatDuration(1500 * MS)).toBe("1.500 s");
    expect(formatDuration(125 * SEC)).toBe("2 m 5.000 s");
    expect(formatDuration(3725 * SEC)).toBe("1 h 2 m 5.000 s");
  });
  it("checkTime accepts the whole range and nothing else", () => {
    expect(checkTime(0)).toBe(0);
    expect(checkTime(2 ** 53 - 1)).toBe(2 ** 53 - 1);
    expect(() => checkTime(2 ** 53)).toThrow(/limit/);
  });
});

describe("sizes", () => {
  it("parses binary, decimal and hex sizes", () => {
    expect(parseSize("4096")).toBe(4096);
    expect(parseSize("4KiB")).toBe(4 * KiB);
    expect(parseSize("4k")).toBe(4 * KiB);
    expect(parseSize("1.5GiB")).toBe(1.5 * GiB);
    expect(parseSize("10MB")).toBe(10_000_000);
    expect(parseSize("0x1000")).toBe(4096);
    expect(() => parseSize("1.5B")).toThrow(/whole number/);
    expect(() => parseSize("12 parsecs", "nodes[0].capacity")).toThrow(/field 'nodes\[0\].capacity'/);
  });
  it("prints like damo", () => {
    expect(formatSize(100)).toBe("100 B");
    expect(formatSize(8 * KiB)).toBe("8.000 KiB");
    expect(formatSize(1.366 * GiB)).toBe("1.366 GiB");
    expect(formatSize(3 * MiB)).toBe("3.000 MiB");
  });
  it("isPowerOfTwo", () => {
    expect([1, 2, 64, 2 ** 40].every(isPowerOfTwo)).toBe(true);
    expect([0, 3, 96, -4, 2.5].some(isPowerOfTwo)).toBe(false);
  });
});
