// `damon-sim workloads`: lists the built-in workload generators and the shipped configs.

import type { CommandSpec } from "../args.ts";
import type { Command } from "../command.ts";
import { listWorkloads } from "../../workloads/registry.ts";

const spec: CommandSpec = {
  name: "workloads",
  summary: "List the built-in workload generators and the masim configs and JSON specs shipped in workloads/configs/.",
  usage: "",
  positionals: { min: 0, max: 0 },
  options: {},
};

export const command: Command = {
  spec,
  async run() {
    const all = listWorkloads();
    const width = Math.max(...all.map((w) => w.name.length)) + 2;
    for (const w of all) process.stdout.write(`${w.name.padEnd(width)}${w.kind.padEnd(14)}${w.description}\n`);
    return 0;
  },
};
