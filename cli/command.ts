// The shape of a damon-sim subcommand: its declared options and what it does.

import type { CommandSpec, ParsedArgs } from "./args.ts";

export interface Command {
  spec: CommandSpec;
  /** Runs the command; resolves to the process exit status. */
  run(args: ParsedArgs): Promise<number>;
}
