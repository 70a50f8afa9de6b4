// `damon-sim machines [NAME|FILE.json]`: lists the built-in machines, or prints one as JSON (a
// JSON file path is validated and printed back, so users can check their own configs).

import { existsSync } from "node:fs";
import type { CommandSpec } from "../args.ts";
import type { Command } from "../command.ts";
import { UsageError } from "../../sim/errors.ts";
import { formatSize } from "../../sim/units.ts";
import { loadMachineConfig } from "../../hw/config.ts";
import { preset, presetNames } from "../../hw/presets.ts";

const spec: CommandSpec = {
  name: "machines",
  summary: "List the built-in machines, or print one (or a JSON machine file, validated) as JSON.",
  usage: "[NAME|FILE.json]",
  positionals: { min: 0, max: 1 },
  options: {},
};

export const command: Command = {
  spec,
  async run(args) {
    const name = args.positionals[0];
    if (name === undefined) {
      const width = Math.max(...presetNames().map((n) => n.length));
      for (const n of presetNames()) {
        const c = preset(n)!;
        const mem = c.nodes.map((x) => `${formatSize(x.capacity)} ${x.kind}`).join(" + ");
        process.stdout.write(`${n.padEnd(width)} ${String(c.cpus.length).padStart(3)} CPUs  ${c.nodes.length} node(s): ${mem}  ${c.description ?? ""}\n`);
      }
      return 0;
    }
    const c = preset(name) ?? (existsSync(name) ? loadMachineConfig(name) : undefined);
    if (c === undefined) throw new UsageError(`machines: no built-in machine '${name}' (known: ${presetNames().join(", ")}) and no such file`);
    process.stdout.write(JSON.stringify(c, null, 2) + "\n");
    return 0;
  },
};
