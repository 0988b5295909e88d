import { runDiagnose } from "../diagnostics/diagnose.js";
import type { Command } from "./command.js";
import { DIAGNOSE_USAGE, parseDiagnoseArgs } from "./diagnose-args.js";
import type { CliIO } from "./io.js";

/**
 * @internal `timebound diagnose [--out dir] [thresholds] -- node app.js`: runs the program with tracking on,
 * prints the findings and where the report folder is, and exits with the program's exit code.
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
    const parsed = parseDiagnoseArgs(args);
    if (parsed.help) {
      io.stdout.write(DIAGNOSE_USAGE);
      return 0;
    }
    // The program owns stdout while it runs; our summary follows it, after it exits.
    const result = await runDiagnose({
      command: parsed.command,
      ...(parsed.out === undefined ? {} : { out: parsed.out }),
      ...(parsed.env === undefined ? {} : { env: parsed.env }),
      stdout: io.stdout,
    });
    return result.exitCode;
  },
};
