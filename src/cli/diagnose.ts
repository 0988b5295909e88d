import {
  DIAGNOSE_USAGE,
  type DiagnoseArgs,
  parseDiagnoseArgs,
  runDiagnose,
} from "../diagnostics/diagnose.js";
import type { Command } from "./command.js";
import type { CliIO } from "./io.js";
import { UsageError } from "./usage-error.js";

/** Parses `timebound diagnose` arguments; throws {@link UsageError} naming the mistake. */
export function parseDiagnoseCommandArgs(args: readonly string[]): DiagnoseArgs {
  try {
    return parseDiagnoseArgs(args);
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(err.message, "diagnose");
    throw err;
  }
}

/**
 * `timebound diagnose [--out dir] -- node app.js`: runs the program with tracking on, prints
 * the findings and where the report folder is, and exits with the program's exit code.
 *
 * @example
 * ```sh
 * timebound diagnose --out report -- node server.js
 * ```
 */
export const diagnoseCommand: Command = {
  name: "diagnose",
  summary: "run a program with tracking on and write its leak report (-- node app.js)",
  async run(args: readonly string[], io: CliIO): Promise<number> {
    const parsed = parseDiagnoseCommandArgs(args);
    if (parsed.help) {
      io.stdout.write(DIAGNOSE_USAGE);
      return 0;
    }
    // The program owns stdout while it runs; our summary follows it, after it exits.
    const result = await runDiagnose({
      command: parsed.command,
      ...(parsed.out === undefined ? {} : { out: parsed.out }),
      stdout: io.stdout,
    });
    return result.exitCode;
  },
};
