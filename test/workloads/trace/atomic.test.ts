// Atomic trace writing: nothing appears under the final name until close() succeeds; abort(),
// errors, an uncaught exception and SIGINT leave neither the final file nor the temporary one.

import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { TraceWriter } from "../../../workloads/trace/writer.ts";
import { AtomicFile } from "../../../workloads/trace/atomic-file.ts";
import { HEADER, batchOf, randomRows, tempDir } from "./helpers.ts";

const ROOT = resolve(import.meta.dirname, "../../..");

describe("atomic trace writing", () => {
  it("an aborted writer leaves no final file and no temporary file", () => {
    const dir = tempDir();
    const path = join(dir, "a.dst");
    const w = TraceWriter.create(path, HEADER, { chunkSize: 16 });
    w.write(batchOf(randomRows(100, 1)));
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir).length).toBe(1); // the temporary file, hidden, in the same directory
    expect(readdirSync(dir)[0]).toMatch(/^\.a\.dst\.tmp-/);
    w.abort();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("abort keeps an existing file; close replaces it", () => {
    const dir = tempDir();
    const path = join(dir, "b.dst");
    writeFileSync(path, "old");
    const w = TraceWriter.create(path, HEADER);
    w.write(batchOf(randomRows(10, 2)));
    w.abort();
    expect(readFileSync(path, "utf8")).toBe("old");
    const w2 = TraceWriter.create(path, HEADER);
    w2.write(batchOf(randomRows(10, 2)));
    w2.close();
    expect(readFileSync(path).subarray(1, 4).toString()).toBe("DST");
    expect(readdirSync(dir)).toEqual(["b.dst"]);
  });

  it("an inference failure at close leaves nothing", () => {
    const dir = tempDir();
    const { layout: _l, ...noLayout } = HEADER;
    const w = TraceWriter.create(join(dir, "c.dst"), noLayout);
    expect(() => w.close()).toThrow(/c\.dst: the trace has no accesses/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("an unwritable target is an InputError naming it", () => {
    expect(() => AtomicFile.create("/nonexistent-dir/x.dst")).toThrow(/\/nonexistent-dir\/x\.dst: cannot create output file/);
  });

  for (const how of ["SIGINT", "uncaught exception"] as const) {
    it(`${how} while writing removes the temporary file`, async () => {
      const dir = tempDir();
      const script = join(dir, "child.mts"); // .mts: an ES module wherever it lives
      writeFileSync(script, `
        import { TraceWriter } from ${JSON.stringify(join(ROOT, "workloads/trace/writer.ts"))};
        import { AccessBatch } from ${JSON.stringify(join(ROOT, "hw/batch.ts"))};
        const w = TraceWriter.create(${JSON.stringify(join(dir, "out.dst"))}, { source: "x", tool: { name: "t", version: "0" }, layout: { processes: [{ pid: 1, name: "p", vmas: [{ start: 0, end: 4096, name: "v", kind: "heap", backing: "anon" }], threads: [{ tid: 1 }] }] } }, { chunkSize: 8 });
        const b = new AccessBatch(100);
        for (let i = 0; i < 100; i++) b.push(i * 8, 8, 0, 1, 0);
        w.write(b);
        process.stdout.write("ready\\n");
        ${how === "SIGINT" ? "setInterval(() => {}, 1000);" : "setTimeout(() => { throw new Error('boom'); }, 10);"}
      `);
      const child = spawn(process.execPath, [join(ROOT, "cli/run-ts.mjs"), script], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on("exit", (code, signal) => res({ code, signal })));
      await new Promise<void>((res, rej) => {
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          if (out.includes("ready")) res();
        });
        // "close" comes after the child's output is read ("exit" may come before it): only a
        // child that never said "ready" failed to start writing
        child.on("close", () => {
          if (!out.includes("ready")) rej(new Error(`child exited before writing: ${err}`));
        });
      });
      expect(readdirSync(dir).some((f) => f.startsWith(".out.dst.tmp-"))).toBe(true);
      if (how === "SIGINT") child.kill("SIGINT");
      const { code, signal } = await exited;
      if (how === "SIGINT") expect(signal).toBe("SIGINT");
      else expect(code).not.toBe(0);
      expect(readdirSync(dir)).toEqual(["child.mts"]);
    }, 30_000);
  }
});
