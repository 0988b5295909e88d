// Every command's arguments go through node:util's parseArgs; this turns its errors into the
// CLI's usage errors, with the command's name and its list of options, in one wording.
import { type ParseArgsConfig, parseArgs } from "node:util";
import { UsageError } from "./usage-error.js";

/** @internal A command's options, as parseArgs takes them. */
export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/** @internal What parseArgs found: option values (strings, booleans, or lists of strings). */
export type ParsedValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/**
 * @internal Parses `args` of `timebound <command>` against `options` (no positionals unless
 * `positionals` is true); throws {@link UsageError} naming the option and listing the known ones.
 */
export function parseCommandArgs(
  command: string,
  args: readonly string[],
  options: OptionSpec,
  positionals = false,
): { values: ParsedValues; positionals: string[] } {
  const known = Object.keys(options)
    .map((name) => `--${name}`)
    .join(", ");
  try {
    const parsed = parseArgs({
      args: [...args],
      options,
      strict: true,
      allowPositionals: positionals,
    });
    return { values: parsed.values, positionals: parsed.positionals };
  } catch (err) {
    const code = (err as { code?: string }).code;
    const message = (err as Error).message;
    const option = /'(-[^' ]+)/.exec(message)?.[1];
    switch (code) {
      case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
        throw new UsageError(`unknown option "${option ?? message}"; options: ${known}`, command);
      case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
        throw new UsageError(
          /does not take an argument/.test(message)
            ? `${option ?? "an option"} takes no value`
            : /ambiguous/.test(message)
              ? `${option ?? "an option"} needs a value; one that starts with "-" is written ${option ?? "--option"}=<value>`
              : `${option ?? "an option"} needs a value`,
          command,
        );
      case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL": {
        const arg = /'([^']*)'/.exec(message)?.[1] ?? message;
        throw new UsageError(`unexpected argument "${arg}"`, command);
      }
      default:
        throw err;
    }
  }
}
