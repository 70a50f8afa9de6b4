// DAMON's sample filters for access reports (damon.md 3.6): by CPU (a cpumask in the cgroup
// cpuset list format, e.g. "0-3,5-7,9"), by thread id, or by write. A filter "matches" when its
// predicate equals `matching`. The intended semantics (default): the first matching filter decides
// (pass = allow); when none matches, the report passes only if the last filter rejects (the
// opposite of its allow); no filters pass everything. The damon/next RFC code ("next-quirk"): a
// report is dropped as soon as a matching filter rejects, otherwise it is dropped iff the last
// filter is a reject filter, so a lone allow filter rejects nothing.
// A report without a CPU or a thread (a CXL CHMU hotlist entry: NO_CPU, NO_TID) is a CPU in no
// cpumask and a thread in no list: the cpumask and threads predicates are false for it, so such a
// filter matches it exactly when `matching` is N, as damon.md 3.6 defines matching by membership
// (the kernel has no "unknown"). An allow-list ({cpumask, matching Y, allow Y}) therefore rejects
// it and a deny-list ({cpumask, matching Y, allow N}) passes it; a write filter sees its isWrite.

import { InputError } from "../../sim/errors.ts";

export type FilterType = "cpumask" | "threads" | "write";
export type FilterSemantics = "intended" | "next-quirk";

export interface SampleFilter {
  type: FilterType;
  matching: boolean;
  allow: boolean;
  /** cpumask: CPUs in the mask. */
  cpus?: ReadonlySet<number>;
  /** threads: thread ids. */
  tids?: ReadonlySet<number>;
}

/** Parses a cpulist ("0-3,5-7,9"; also "" for none) as the kernel's cpulist parser does. */
export function parseCpuList(text: string, field = "cpumask", maxCpu = 4096): Set<number> {
  const out = new Set<number>();
  const t = text.trim();
  if (t === "") return out;
  let col = 1;
  for (const part of t.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*(?::\s*(\d+)\s*\/\s*(\d+)\s*)?)?$/.exec(part);
    if (!m) throw new InputError(`bad cpulist item '${part}' at column ${col} of '${text}' (expected N, N-M or N-M:used/group)`, { field });
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    if (b < a) throw new InputError(`bad cpulist range '${part}': ${b} < ${a}`, { field });
    if (b >= maxCpu) throw new InputError(`CPU ${b} in '${text}' is beyond the limit of ${maxCpu} CPUs`, { field });
    const used = m[3] !== undefined ? Number(m[3]) : 1;
    const group = m[4] !== undefined ? Number(m[4]) : 1;
    if (group === 0 || used > group) throw new InputError(`bad cpulist stride '${part}'`, { field });
    for (let c = a; c <= b; c++) if ((c - a) % group < used) out.add(c);
    col += part.length + 1;
  }
  return out;
}

/** Prints a CPU set back in list form ("0-3,5-7,9"). */
export function formatCpuList(cpus: Iterable<number>): string {
  const s = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j]! + 1) j++;
    parts.push(j === i ? `${s[i]}` : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

export function parseTidList(text: string, field = "tids"): Set<number> {
  const out = new Set<number>();
  for (const p of text.split(",").map((x) => x.trim()).filter((x) => x !== "")) {
    if (!/^\d+$/.test(p)) throw new InputError(`bad thread id '${p}' in '${text}'`, { field });
    out.add(Number(p));
  }
  return out;
}

function predicate(f: SampleFilter, cpu: number, tid: number, isWrite: boolean): boolean {
  switch (f.type) {
    case "cpumask":
      return f.cpus?.has(cpu) ?? false;
    case "threads":
      return f.tids?.has(tid) ?? false;
    case "write":
      return isWrite;
  }
}

/** Whether a report from (cpu, tid, isWrite) passes the filters. */
export function passesFilters(filters: readonly SampleFilter[], cpu: number, tid: number, isWrite: boolean, semantics: FilterSemantics = "intended"): boolean {
  if (filters.length === 0) return true;
  if (semantics === "intended") {
    for (const f of filters) if (predicate(f, cpu, tid, isWrite) === f.matching) return f.allow;
    return !filters[filters.length - 1]!.allow;
  }
  for (const f of filters) if (predicate(f, cpu, tid, isWrite) === f.matching && !f.allow) return false;
  return filters[filters.length - 1]!.allow;
}
