// NUMA hit/miss monitoring with data attributes: for every node n that has CPUs, two probes count
// samples where a report from one of n's CPUs credited the region and the sampled page is on n
// ("local<n>") or on another node ("remote<n>"). From the hits, each region's accesses split into
// local and remote shares; the truth comes from a channel that counts every access by the node of
// the CPU making it, compared with the node of the page. First-match filter semantics build the
// conjunctions: [from node n CPUs? else reject] then [page on n? allow | reject].

import type { Machine } from "../hw/machine.ts";
import { TruthChannel } from "../hw/truth-channel.ts";
import type { DamonContext, Snapshot } from "./context.ts";
import type { Probe } from "./probes.ts";

/** The nodes that have CPUs, and each one's CPUs. */
export function cpuNodes(m: Machine): Array<{ node: number; cpus: Set<number> }> {
  const out = new Map<number, Set<number>>();
  m.config.cpus.forEach((c, i) => {
    if (!out.has(c.node)) out.set(c.node, new Set());
    out.get(c.node)!.add(i);
  });
  return [...out.entries()].sort((a, b) => a[0] - b[0]).map(([node, cpus]) => ({ node, cpus }));
}

/** local<n> / remote<n> probes for every node with CPUs (2 probes per such node). */
export function numaProbes(m: Machine): Probe[] {
  const probes: Probe[] = [];
  for (const { node, cpus } of cpuNodes(m)) {
    probes.push({ name: `local${node}`, weight: 0, filters: [{ type: "cpus", matching: false, allow: false, cpus }, { type: "node", node, matching: true, allow: true }] });
    probes.push({ name: `remote${node}`, weight: 0, filters: [{ type: "cpus", matching: false, allow: false, cpus }, { type: "node", node, matching: true, allow: false }] });
  }
  return probes;
}

export interface NumaRegionRow {
  start: number;
  end: number;
  /** Estimated fractions of the region's accessed samples that were local / remote (null: none). */
  estLocal: number | null;
  /** True shares of the region's accesses made from the page's own node / from other nodes. */
  trueLocal: number | null;
  accesses: number;
  /** Bytes of the region's accessed pages backed by each node. */
  bytesByNode: number[];
}

export interface NumaSnapshot {
  t: number;
  targetId: number;
  regions: NumaRegionRow[];
}

/** Records, per aggregation, the estimated and true local/remote split of every region. */
export class NumaRecorder {
  readonly channel: TruthChannel;
  readonly snapshots: NumaSnapshot[] = [];
  private readonly nodes: number;

  constructor(private readonly m: Machine, private readonly ctx: DamonContext, subWindowNs: number) {
    this.nodes = m.config.nodes.length;
    this.channel = new TruthChannel(m, {}, subWindowNs, true).attach();
    ctx.onAggregation((_c, snaps) => this.record(snaps));
  }

  private record(snaps: Snapshot[]): void {
    const m = this.m, ch = this.channel, N = this.nodes;
    const probes = this.ctx.probes;
    for (const s of snaps) {
      const target = this.ctx.targets[s.targetId]!;
      const space = target.pid === null ? undefined : m.spaceOf(target.pid);
      // truth pages of this target, sorted by address
      const pages: Array<[number, number, number, number, number]> = []; // addr, bytes, local, total, node
      for (let i = 0; i < ch.touchedCount; i++) {
        const p = ch.touched[i]!;
        if ((space && m.ptes.asid[p] !== space.asid) || !m.present(p)) continue; // a page paged out since has no node
        const addr = target.pid === null ? m.ptes.frame[p]! * 4096 : m.ptes.vpn[p]! * 4096;
        const node = m.nodeOfPte(p);
        let total = 0;
        for (let n = 0; n < N; n++) total += ch.byNode[p * N + n]!;
        pages.push([addr, m.ptes.bytes(p), ch.byNode[p * N + node]!, total, node]);
      }
      pages.sort((a, b) => a[0] - b[0]);
      let q0 = 0;
      const rows: NumaRegionRow[] = s.regions.map((r) => {
        let local = 0, total = 0;
        const bytesByNode = new Array<number>(N).fill(0);
        while (q0 < pages.length && pages[q0]![0] + pages[q0]![1] <= r.start) q0++;
        for (let q = q0; q < pages.length && pages[q]![0] < r.end; q++) {
          local += pages[q]![2];
          total += pages[q]![3];
          bytesByNode[pages[q]![4]]! += pages[q]![1];
        }
        let estL = 0, estR = 0;
        probes.forEach((p, i) => {
          if (p.name.startsWith("local")) estL += r.probeHits[i]!;
          else if (p.name.startsWith("remote")) estR += r.probeHits[i]!;
        });
        return { start: r.start, end: r.end, estLocal: estL + estR > 0 ? estL / (estL + estR) : null, trueLocal: total > 0 ? local / total : null, accesses: total, bytesByNode };
      });
      this.snapshots.push({ t: s.endNs, targetId: s.targetId, regions: rows });
    }
    ch.closeWindow(this.ctx.sampleNs); // the next window is counted with the (possibly re-tuned) interval
  }
}
