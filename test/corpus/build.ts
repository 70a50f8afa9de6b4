// Rebuilds damon-sim's own regression corpus (test/corpus/) and blesses its expectations:
//
//   node cli/run-ts.mjs test/corpus/build.ts [--traces-only | --bless-only]
//
//   1. compiles test/fixtures/c/{sort,list,stride}.c with `gcc -O1 -g` in a temporary folder;
//   2. runs each under `valgrind --tool=lackey --trace-mem=yes` (program output to a pipe, the log
//      to fd 3, a minimal fixed environment) and imports the log into its case folder with
//      `damon-sim import lackey` (the binaries and logs are thrown away; only the .dst is kept);
//   3. records recorded-mt-fault-tids-paddr/source.json into trace.dst with `damon-sim record`;
//   4. runs `damon-sim check --bless test/corpus`, which rewrites every expected.json and lists
//      what changed.
//
// Needs gcc and valgrind (steps 1-2). The Lackey traces depend on the compiler, glibc and Valgrind
// versions, so rebuilding them elsewhere gives different .dst files and expectations: the
// committed .dst files ARE the corpus. Rebuild only to change it, and commit the traces together
// with the expected.json files. After a deliberate semantic change of the simulator, run with
// --bless-only (or `damon-sim check --bless test/corpus`) and review the listed changes.

import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");
const CORPUS = resolve(ROOT, "test/corpus");
const FIXTURES = resolve(ROOT, "test/fixtures/c");
const CLI = resolve(ROOT, "cli/damon-sim.mjs");

/** Lackey-recorded C programs: case folder, program, its arguments, trace file. */
const LACKEY: Array<{ dir: string; program: string; args: string[]; trace: string; stdout: RegExp }> = [
  { dir: "lackey-sort-pte-cachegrind", program: "sort", args: ["5000"], trace: "sort.dst", stdout: /^sorted 5000 numbers/ },
  { dir: "lackey-list-fault-writes", program: "list", args: ["3000", "4", "24"], trace: "list.dst", stdout: /^list: 3000 nodes x 4 walks/ },
  { dir: "lackey-stride-ibs-probes", program: "stride", args: ["64"], trace: "stride.dst", stdout: /./ },
];

/** Traces recorded from JSON specs on the nominal clock. */
const RECORDED: Array<{ dir: string; source: string; trace: string; duration: string; seed: string }> = [
  { dir: "recorded-mt-fault-tids-paddr", source: "source.json", trace: "trace.dst", duration: "40ms", seed: "1" },
];

function run(cmd: string, args: string[], o: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, ...o });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited with ${r.status}:\n${String(r.stderr ?? "")}`);
  return String(r.stdout ?? "");
}

const kib = (path: string): string => `${(statSync(path).size / 1024).toFixed(1)} KiB`;

function buildLackeyTraces(): void {
  const tmp = mkdtempSync(join(tmpdir(), "damon-sim-corpus-"));
  try {
    for (const p of LACKEY) {
      const exe = join(tmp, p.program);
      run("gcc", ["-O1", "-g", "-o", exe, join(FIXTURES, `${p.program}.c`)]);
      const log = join(tmp, `${p.program}.lk`);
      const fd = openSync(log, "w");
      let out: string;
      try {
        out = run("valgrind", ["--tool=lackey", "--trace-mem=yes", "--log-fd=3", exe, ...p.args], { stdio: ["ignore", "pipe", "pipe", fd], env: { PATH: "/usr/bin:/bin", LANG: "C", LC_ALL: "C" }, cwd: tmp });
      } finally {
        closeSync(fd);
      }
      if (!p.stdout.test(out)) throw new Error(`${p.program}: unexpected output '${out.trim()}'`);
      const dst = join(CORPUS, p.dir, p.trace);
      run(process.execPath, [CLI, "import", "lackey", log, "-o", dst, "--name", p.program]);
      process.stdout.write(`${p.dir}/${p.trace}: ${kib(dst)} (lackey ${p.program} ${p.args.join(" ")})\n`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function buildRecordedTraces(): void {
  for (const r of RECORDED) {
    const dst = join(CORPUS, r.dir, r.trace);
    // paths relative to the repository: the trace header records the source as given
    const rel = (f: string): string => relative(ROOT, join(CORPUS, r.dir, f));
    run(process.execPath, [CLI, "record", rel(r.source), "-o", rel(r.trace), "--duration", r.duration, "--seed", r.seed], { cwd: ROOT });
    process.stdout.write(`${r.dir}/${r.trace}: ${kib(dst)} (recorded ${r.source}, ${r.duration}, seed ${r.seed})\n`);
  }
}

const flags = new Set(process.argv.slice(2));
for (const f of flags) if (f !== "--traces-only" && f !== "--bless-only") throw new Error(`unknown option ${f} (--traces-only, --bless-only)`);
if (!flags.has("--bless-only")) {
  buildLackeyTraces();
  buildRecordedTraces();
}
if (!flags.has("--traces-only")) {
  const r = spawnSync(process.execPath, [CLI, "check", "--bless", CORPUS], { stdio: "inherit", cwd: ROOT });
  process.exitCode = r.status ?? 1;
}
