// Ground truth for data attributes: at each aggregation, for every probe and region, the exact
// bytes that have the attribute (every mapped page of the region is checked against the probe's
// filters, with the machine's own knowledge: the page's backing, memcg and node; "accessed" style
// attributes use the window's ground truth: a page counts as PTE-/fault-/perf-/IBS-/hint-accessed
// when it was accessed at all, and as written when it was written), next to DAMON's estimate
// (hits / samples per aggregation x region size), so estimates can be scored.

import type { Machine } from "../hw/machine.ts";
import { nrSamplesPerAggr } from "./attrs.ts";
import type { DamonContext, Snapshot } from "./context.ts";
import { cpuSetsOf, probePasses, type SampleEvidence } from "./probes.ts";

export interface AttributeWindow {
  t: number;
  /** Per probe: DAMON's estimated bytes and the exact bytes with the attribute, summed over regions. */
  probes: Array<{ name: string; estimated: number; truth: number }>;
}

const ALL_REPORTS = 0xff;

export class AttributeScorer {
  readonly windows: AttributeWindow[] = [];

  constructor(private readonly m: Machine, private readonly ctx: DamonContext) {
    // runs before the accuracy tracker (if any) closes the truth window: register it first
    ctx.onAggregation((_c, snaps) => this.score(snaps));
  }

  private score(snaps: Snapshot[]): void {
    const m = this.m, probes = this.ctx.probes;
    if (probes.length === 0) return;
    const samples = nrSamplesPerAggr(this.ctx.attrs);
    const sets = cpuSetsOf(probes);
    const est = probes.map(() => 0), truth = probes.map(() => 0);
    const t = m.truth;
    const e: SampleEvidence = { present: true, anon: false, memcg: 0, node: 0, pteYoung: false, reportedBy: 0, written: false, cpuSets: 0 };
    for (const s of snaps) {
      for (const r of s.regions) for (let i = 0; i < probes.length; i++) est[i]! += (Math.min(r.probeHits[i]!, samples) / samples) * (r.end - r.start);
      const target = this.ctx.targets[s.targetId]!;
      // mapped pages of the target, sorted by address
      const pages: Array<[number, number, number]> = []; // addr, bytes, pte
      if (target.pid !== null) {
        const space = m.spaceOf(target.pid);
        space?.pageTable.forEach((_k, p) => {
          if (m.present(p)) pages.push([m.ptes.vpn[p]! * 4096, m.ptes.bytes(p), p]);
        });
      } else {
        for (let p = 0; p < m.ptes.size; p++) if (m.present(p)) pages.push([m.ptes.frame[p]! * 4096, m.ptes.bytes(p), p]);
      }
      pages.sort((a, b) => a[0] - b[0]);
      let q0 = 0;
      for (const r of s.regions) {
        while (q0 < pages.length && pages[q0]![0] + pages[q0]![1] <= r.start) q0++;
        for (let q = q0; q < pages.length && pages[q]![0] < r.end; q++) {
          const [addr, bytes, p] = pages[q]!;
          const vma = m.vmas[m.ptes.vma[p]!]!;
          const accessed = t !== null && t.pageReads(p) + t.pageWrites(p) > 0;
          e.anon = vma.anon;
          e.memcg = vma.memcg;
          e.node = m.nodeOfPte(p);
          e.pteYoung = accessed;
          e.reportedBy = accessed ? ALL_REPORTS : 0;
          e.written = t !== null && t.pageWrites(p) > 0;
          e.cpuSets = accessed ? (1 << sets.length) - 1 : 0;
          const b = Math.min(r.end, addr + bytes) - Math.max(r.start, addr);
          for (let i = 0; i < probes.length; i++) if (probePasses(probes[i]!, e, sets)) truth[i]! += b;
        }
      }
    }
    this.windows.push({ t: snaps[0]?.endNs ?? this.ctx.now, probes: probes.map((p, i) => ({ name: p.name, estimated: est[i]!, truth: truth[i]! })) });
  }

  /** Mean relative error of the estimated bytes per probe (windows after `skip`). */
  summary(skip = 0): Array<{ name: string; meanEstimated: number; meanTruth: number; relativeError: number | null }> {
    const ws = this.windows.slice(skip);
    return this.ctx.probes.map((p, i) => {
      const e = ws.reduce((a, w) => a + w.probes[i]!.estimated, 0) / Math.max(1, ws.length);
      const tr = ws.reduce((a, w) => a + w.probes[i]!.truth, 0) / Math.max(1, ws.length);
      return { name: p.name, meanEstimated: e, meanTruth: tr, relativeError: tr > 0 ? Math.abs(e - tr) / tr : null };
    });
  }
}
