// `damon-sim primitives [NAME] [--json]`: lists the access check primitives from the registry
// (damon/primitives/), each with what it does, the probe evidence it gives and every --param it
// takes (type, unit, default and where the default comes from).

import type { CommandSpec } from "../args.ts";
import type { Command } from "../command.ts";
import { didYouMean, UsageError } from "../../sim/errors.ts";
import { isPrimitiveName, PRIMITIVE_DEFS, PRIMITIVES, primitivesHelp } from "../../damon/primitives/index.ts";

const spec: CommandSpec = {
  name: "primitives",
  summary: "List the access check primitives and the parameters each takes (--param PRIMITIVE.KEY=VALUE).",
  usage: "[NAME] [options]",
  positionals: { min: 0, max: 1 },
  options: {
    json: { type: "boolean", description: "print JSON" },
  },
};

export const command: Command = {
  spec,
  async run(args) {
    const name = args.positionals[0];
    if (name !== undefined && !isPrimitiveName(name)) throw new UsageError(`primitives: unknown primitive '${name}'${didYouMean(name, PRIMITIVES)} (known: ${PRIMITIVES.join(", ")})`);
    if (args.values.json === true) {
      const defs = PRIMITIVE_DEFS.filter((d) => name === undefined || d.name === name).map((d) => ({ name: d.name, summary: d.summary, reports: d.reports, sample: d.sample, evidence: d.evidence, params: d.params }));
      process.stdout.write(JSON.stringify(defs, null, 2) + "\n");
      return 0;
    }
    process.stdout.write(primitivesHelp(name) + "\n");
    return 0;
  },
};
