import type { CliIO } from "./io.js";

/** @internal A CLI command: `timebound <name> [args]`. */
export interface Command {
  readonly name: string;
  /** One line for the command list in the help. */
  readonly summary: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(args: readonly string[], io: CliIO): Promise<number>;
}
