// JSON workload specs: processes with their memory regions and threads, each thread running
// phases of access patterns over simulated time. parseWorkloadSpec() checks everything and names
// the offending field ("threads[1].phases[0].pattern"); the result is a Workload whose layout is
// built like a Linux x86-64 process (small regions from the brk heap, large ones mmap'ed top-down
// with guard gaps, pthread stacks mmap'ed too). See workloads/configs/example-spec.json.
//
// {
//   "name": "kv-store",                 workload name (default: the file name); seeds its streams
//   "description": "free text",
//   "processes": [ {                    or put the process fields at the top level (one process,
//                                       named after the workload)
//     "pid": 1000,                      default 1000 * (index + 1)
//     "name": "kvd",                    process name
//     "memcg": 1,                       memory cgroup id of its pages
//     "policy": { "mode": "interleave", "nodes": [0, 1] },   local | bind | interleave | preferred
//     "textSize": "2MiB", "stackSize": "132KiB",
//     "threadStackSize": "8MiB",        pthread stacks of threads 2..n (0: none)
//     "regions": [ {
//       "name": "table", "size": "256MiB",
//       "area": "mmap",                 heap | mmap (default: heap below 128 KiB, like malloc)
//       "backing": "anon",              anon | file (then "file": "<id>", "fileOffset": 0)
//       "shared": false,                MAP_SHARED (file-backed)
//       "memcg": 2, "policy": {...}, "hugepages": true
//     } ],
//     "threads": [ {
//       "tid": 1000,                    default pid + index
//       "cpus": [0, 1],                 CPU affinity (default: any CPU)
//       "repeat": 1,                    times to run the phases, or "forever"
//       "duration": "2s",               the thread ends after this much simulated time
//       "phases": [ { "name": "load", "duration": "500ms", "pattern": { "type": "sequential",
//                     "region": "table" } }, ... ]
//                                       the last phase may omit its duration (runs until the end);
//                                       or "pattern": {...} instead of "phases" for one phase
//     } ]
//   } ]
// }
// Durations are strings with a unit ("250ms", "1.5s") or numbers of milliseconds; sizes are byte
// counts or strings ("64MiB", "10MB"). Pattern fields are listed in workloads/patterns.ts.

import { basename, extname } from "node:path";
import type { Workload } from "../hw/program.ts";
import { buildProcess, type AreaRequest, type NumaMode, type NumaPolicySpec, type ProcessSpec, type ThreadSpec } from "../hw/layout.ts";
import { InputError } from "../sim/errors.ts";
import { KiB } from "../sim/units.ts";
import { PhasedProgram } from "./generators/phased.ts";
import { PTHREAD_STACK_SIZE, ThreadedWorkload, threadStackAreas, type ThreadPlan } from "./generators/multi-thread.ts";
import { Fields, fieldPath } from "./json-fields.ts";
import { parseJsonText } from "../sim/json-text.ts";
import { readInputText } from "../sim/input-text.ts";
import { createPattern, parsePattern, type PatternSpec } from "./patterns.ts";
import type { Target } from "./pattern.ts";

/** glibc malloc serves requests of this size and more with mmap (M_MMAP_THRESHOLD default). */
export const MMAP_THRESHOLD = 128 * KiB;

export interface PhaseSpec {
  name: string;
  /** ns; Infinity when open-ended (last phase only). */
  duration: number;
  pattern: PatternSpec;
}

export interface ThreadSpecParsed {
  tid: number;
  pid: number;
  cpus?: number[];
  repeat: number;
  /** Stop after this many ns (Infinity: never). */
  duration: number;
  phases: PhaseSpec[];
}

export interface ParsedWorkloadSpec {
  name: string;
  description: string;
  processes: ProcessSpec[];
  /** Per pid: region name -> address range. */
  regions: Map<number, Map<string, Target>>;
  threads: ThreadSpecParsed[];
}

const NUMA_MODES: readonly NumaMode[] = ["local", "bind", "interleave", "preferred"];

function parsePolicy(f: Fields, key: string): NumaPolicySpec | undefined {
  if (!f.has(key)) return undefined;
  const p = Fields.of(f.raw(key), f.at(key));
  const mode = p.oneOf("mode", NUMA_MODES);
  const nodes = p.has("nodes") ? p.intList("nodes", 1) : undefined;
  if (mode !== "local" && nodes === undefined) p.fail("nodes", `policy '${mode}' needs a non-empty node list`);
  p.done();
  return nodes ? { mode, nodes } : { mode };
}

function optMemcg(f: Fields): number | undefined {
  return f.optNum("memcg", { integer: true, min: 0 });
}

interface ProcessParse {
  process: ProcessSpec;
  regions: Map<string, Target>;
  threads: ThreadSpecParsed[];
}

function parseRegion(v: unknown, path: string, seen: Set<string>): { area: "heap" | "mmap"; req: AreaRequest } {
  const f = Fields.of(v, path);
  const name = f.str("name");
  if (name === "" || name.startsWith("[")) f.fail("name", `region names must be non-empty and not start with '[' (reserved for [heap], [stack]...), got '${name}'`);
  if (seen.has(name)) f.fail("name", `duplicate region name '${name}'`);
  seen.add(name);
  const size = f.size("size", undefined, 1);
  const backing = f.oneOf("backing", ["anon", "file"] as const, "anon");
  const area = f.oneOf("area", ["heap", "mmap"] as const, size < MMAP_THRESHOLD && backing === "anon" ? "heap" : "mmap");
  const req: AreaRequest = { name, size, backing };
  if (backing === "file") {
    if (area === "heap") f.fail("area", "a file-backed region must be mmap'ed, not in the heap");
    const id = f.str("file");
    const offset = f.size("fileOffset", 0);
    if (offset % 4096 !== 0) f.fail("fileOffset", `must be page aligned (4096), got ${offset}`);
    req.file = { id, offset };
  } else {
    for (const k of ["file", "fileOffset"]) if (f.has(k)) f.fail(k, "only file-backed regions (\"backing\": \"file\") take a file");
  }
  if (f.bool("shared", false)) req.shared = true;
  const memcg = optMemcg(f);
  if (memcg !== undefined) req.memcg = memcg;
  const policy = parsePolicy(f, "policy");
  if (policy) req.policy = policy;
  if (f.bool("hugepages", false)) req.hugepages = true;
  f.done();
  return { area, req };
}

function parseThread(v: unknown, path: string, pid: number, index: number, regions: Map<string, Target>, pids: Set<number>, tids: Set<number>): ThreadSpecParsed {
  const f = Fields.of(v, path);
  const tid = f.num("tid", pid + index, { integer: true, min: 1 });
  if (tids.has(tid) || (tid !== pid && pids.has(tid))) f.fail("tid", `duplicate thread id ${tid} (pids and tids share one number space)`);
  tids.add(tid);
  const cpus = f.has("cpus") ? f.intList("cpus", 1) : undefined;
  let repeat = 1;
  if (f.has("repeat")) {
    const r = f.raw("repeat");
    if (r === "forever") repeat = Infinity;
    else repeat = f.num("repeat", 1, { integer: true, min: 1 });
  }
  const duration = f.has("duration") ? f.duration("duration") : Infinity;
  if (f.has("phases") === f.has("pattern")) f.fail(f.has("phases") ? "pattern" : "phases", "give either 'phases' or 'pattern' (one open-ended phase), not both or neither");
  let phases: PhaseSpec[];
  if (f.has("pattern")) {
    phases = [{ name: "main", duration: Infinity, pattern: parsePattern(f.raw("pattern"), f.at("pattern"), regions) }];
  } else {
    const list = f.array("phases", 1);
    phases = list.map((p, i) => {
      const pf = Fields.of(p, fieldPath(f.at("phases"), i));
      const name = pf.str("name", `phase${i}`);
      const last = i === list.length - 1;
      if (!pf.has("duration") && !last) pf.fail("duration", "is required (only the last phase may run until the thread ends)");
      const d = pf.has("duration") ? pf.duration("duration") : Infinity;
      const pattern = parsePattern(pf.raw("pattern"), pf.at("pattern"), regions);
      pf.done();
      return { name, duration: d, pattern };
    });
  }
  const cycle = phases.reduce((a, p) => a + p.duration, 0);
  if (cycle === 0) f.fail("phases", "the phases last 0 ns in total");
  if (repeat > 1 && cycle === Infinity) f.fail("repeat", "repeating needs every phase to have a duration");
  f.done();
  return { tid, pid, ...(cpus ? { cpus } : {}), repeat, duration, phases };
}

function parseProcess(f: Fields, index: number, pids: Set<number>, tids: Set<number>, defaultName: string): ProcessParse {
  const pid = f.num("pid", 1000 * (index + 1), { integer: true, min: 1 });
  if (pids.has(pid) || tids.has(pid)) f.fail("pid", `duplicate process id ${pid} (pids and tids share one number space)`);
  pids.add(pid);
  const name = f.str("name", defaultName);
  const memcg = optMemcg(f);
  const policy = parsePolicy(f, "policy");
  const textSize = f.size("textSize", 64 * KiB, 1);
  const stackSize = f.size("stackSize", 132 * KiB, 4096);
  const threadStackSize = f.size("threadStackSize", PTHREAD_STACK_SIZE);
  const seen = new Set<string>();
  const heap: AreaRequest[] = [];
  const mmap: AreaRequest[] = [];
  const declared: AreaRequest[] = [];
  f.array("regions", 1).forEach((r, i) => {
    const { area, req } = parseRegion(r, fieldPath(f.at("regions"), i), seen);
    (area === "heap" ? heap : mmap).push(req);
    declared.push(req);
  });
  // Thread ids come before patterns so stacks can be laid out; patterns need region addresses.
  const rawThreads = f.array("threads", 1);
  const threadTids = rawThreads.map((t, i) => {
    const tf = Fields.of(t, fieldPath(f.at("threads"), i));
    return tf.has("tid") ? tf.num("tid", undefined, { integer: true, min: 1 }) : pid + i;
  });
  const built = buildProcess({
    pid,
    name,
    textSize,
    stackSize,
    heap,
    mmap: [...mmap, ...threadStackAreas(threadTids, threadStackSize)],
    ...(memcg !== undefined ? { memcg } : {}),
    ...(policy ? { policy } : {}),
  });
  const regions = new Map<string, Target>();
  for (const r of declared) regions.set(r.name, { base: built.areas.get(r.name)!.start, size: r.size });
  const threads = rawThreads.map((t, i) => parseThread(t, fieldPath(f.at("threads"), i), pid, i, regions, pids, tids));
  const threadSpecs: ThreadSpec[] = threads.map((t) => (t.cpus ? { tid: t.tid, cpus: t.cpus } : { tid: t.tid }));
  const process: ProcessSpec = { ...built.process, threads: threadSpecs };
  f.done();
  return { process, regions, threads };
}

const PROCESS_KEYS = ["pid", "memcg", "policy", "textSize", "stackSize", "threadStackSize", "regions", "threads"];

/** Checks a parsed JSON document; `file` (if any) is named in errors. */
export function parseWorkloadSpec(json: unknown, options: { file?: string; name?: string } = {}): ParsedWorkloadSpec {
  try {
    const top = Fields.of(json, "");
    const fallback = (options.name ?? (options.file ? basename(options.file, extname(options.file)) : "spec")).replace(/[^A-Za-z0-9_.:+-]/g, "_") || "spec";
    const name = top.str("name", fallback);
    if (!/^[A-Za-z0-9_.:+-]+$/.test(name)) top.fail("name", `must be letters, digits and _ . : + - only, got '${name}'`);
    const description = top.str("description", "");
    const pids = new Set<number>();
    const tids = new Set<number>();
    const parsed: ProcessParse[] = [];
    if (top.has("processes")) {
      for (const k of PROCESS_KEYS) if (top.has(k)) top.fail(k, "with 'processes', process fields belong inside each process");
      top.array("processes", 1).forEach((p, i) => {
        const pf = Fields.of(p, fieldPath("processes", i));
        parsed.push(parseProcess(pf, i, pids, tids, `${name}${i}`));
      });
    } else {
      // One process, its fields at the top level (the workload's own name is the process name).
      const pf = new Fields(Object.fromEntries(Object.entries(top.obj).filter(([k]) => PROCESS_KEYS.includes(k))), "");
      for (const k of PROCESS_KEYS) top.raw(k);
      parsed.push(parseProcess(pf, 0, pids, tids, name));
    }
    top.done();
    return {
      name,
      description,
      processes: parsed.map((p) => p.process),
      regions: new Map(parsed.map((p) => [p.process.pid, p.regions])),
      threads: parsed.flatMap((p) => p.threads),
    };
  } catch (e) {
    if (e instanceof InputError && options.file !== undefined) throw e.within({ file: options.file });
    throw e;
  }
}

/** A Workload running a parsed spec; `duration` (ns) caps every thread's own duration. */
export function specWorkload(spec: ParsedWorkloadSpec, options: { duration?: number } = {}): Workload {
  const cap = options.duration ?? Infinity;
  const plans: ThreadPlan[] = spec.threads.map((t) => ({
    tid: t.tid,
    build: (ctx) =>
      new PhasedProgram(
        t.tid,
        t.phases.map((p) => ({ name: p.name, duration: p.duration, pattern: createPattern(p.pattern, ctx) })),
        { repeat: t.repeat, stopAfter: Math.min(t.duration, cap) },
      ),
  }));
  return new ThreadedWorkload(spec.name, { processes: spec.processes }, plans);
}

/**
 * Simulated ns until every thread of the spec has ended by itself (its duration, or its phases
 * run `repeat` times), each capped at `cap` ns; Infinity when a thread never ends (an open-ended
 * phase, "forever", no duration). Threads start at time 0.
 */
export function specLengthNs(spec: ParsedWorkloadSpec, cap = Infinity): number {
  let end = 0;
  for (const t of spec.threads) {
    const cycle = t.phases.reduce((a, p) => a + p.duration, 0);
    const own = cycle === Infinity || t.repeat === Infinity ? Infinity : t.repeat * cycle;
    end = Math.max(end, Math.min(t.duration, cap, own));
  }
  return end;
}

/** Reads and checks a JSON workload spec file. */
export function readWorkloadSpec(path: string): ParsedWorkloadSpec {
  return parseWorkloadSpec(parseJsonText(readInputText(path, "workload spec"), path), { file: path });
}

/** Reads, checks and builds a JSON workload spec file. */
export function loadWorkloadSpec(path: string, options: { duration?: number } = {}): Workload {
  return specWorkload(readWorkloadSpec(path), options);
}
