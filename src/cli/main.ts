import type { Command } from "./command.js";
import { diagnoseCommand } from "./diagnose.js";
import { gatewayCommand } from "./gateway.js";
import { usage } from "./help.js";
import type { CliIO } from "./io.js";
import { labCommand } from "./lab.js";
import { UsageError } from "./usage-error.js";

/** @internal The launcher builds its IO with this. */
export { processIO } from "./io.js";

const helpCommand: Command = {
  name: "help",
  summary: "show this help, or a command's (timebound help lab)",
  run(args, io) {
    const topic = args[0];
    if (topic === undefined) {
      io.stdout.write(usage(commands, io.version));
      return Promise.resolve(0);
    }
    return findCommand(topic).run(["--help"], io);
  },
};

/** Every command, in the order the help lists them. */
const commands: readonly Command[] = [labCommand, diagnoseCommand, gatewayCommand, helpCommand];

function findCommand(name: string): Command {
  const found = commands.find((c) => c.name === name);
  if (found !== undefined) return found;
  const names = commands.map((c) => c.name).join(", ");
  throw new UsageError(
    name.startsWith("-")
      ? `unknown option "${name}"; options: --version, --help`
      : `unknown command "${name}"; commands: ${names}`,
  );
}

/**
 * @internal Runs the CLI with `argv` (the arguments after `timebound`) and resolves to the exit
 * code: 0 on success, 2 for a usage mistake (unknown command, bad option value), 1 for a failure.
 * It never calls `process.exit`, so tests can call it and the launcher decides.
 *
 * @example
 * ```ts
 * process.exitCode = await main(process.argv.slice(2), processIO(version));
 * ```
 */
export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  const [first, ...rest] = argv;
  const command = commands.some((c) => c.name === first) ? first : undefined;
  try {
    if (first === "--version" || first === "-v") {
      io.stdout.write(`${io.version}\n`);
      return 0;
    }
    if (first === undefined || first === "--help" || first === "-h") {
      return await helpCommand.run([], io);
    }
    return await findCommand(first).run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      const who = err.command === undefined ? "timebound" : `timebound ${err.command}`;
      io.stderr.write(`${who}: ${err.message}\nRun "${who} --help" for usage.\n`);
      return 2;
    }
    // An error with one of timebound's codes is a failure the message explains (a program that
    // could not start); anything else is a bug, and its stack helps whoever reports it.
    const explained =
      err instanceof Error && String((err as { code?: unknown }).code).startsWith("TIMEBOUND_");
    const text =
      err instanceof Error ? (explained ? err.message : (err.stack ?? err.message)) : String(err);
    io.stderr.write(`timebound${command === undefined ? "" : ` ${command}`}: ${text}\n`);
    return 1;
  }
}
