// NUMA memory policy: the nodes a new page of a VMA may come from, in the order an allocation tries
// them (mempolicy modes local, bind, preferred and interleave; nearer nodes first by the config's
// distance table, lower ids on ties). Demand paging, swap-in and direct reclaim follow this order.

import type { MachineConfig } from "./config.ts";
import type { Vma } from "./process.ts";

/** Candidate nodes, in order, for page `vpn` of `vma` first touched by a CPU of node `cpuNode`. */
export function policyNodes(config: MachineConfig, vma: Vma, vpn: number, cpuNode: number): number[] {
  const p = vma.policy;
  const all = config.nodes.map((n) => n.id);
  const byDistance = (from: number, set: number[]): number[] =>
    [...set].sort((a, b) => config.distance[from]![a]! - config.distance[from]![b]! || a - b);
  switch (p.mode) {
    case "local":
      return byDistance(cpuNode, all);
    case "bind":
      return byDistance(cpuNode, p.nodes!.filter((n) => n < all.length));
    case "preferred":
      return byDistance(p.nodes![0]!, all);
    case "interleave": {
      const nodes = p.nodes!.filter((n) => n < all.length);
      const idx = vma.pageOffset(vpn) % nodes.length;
      return [...nodes.slice(idx), ...nodes.slice(0, idx)];
    }
  }
}
