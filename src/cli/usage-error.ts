import { defineErrorClass } from "../core/internal.js";

/**
 * @internal A mistake in how the CLI was called (unknown command, bad option value). The CLI prints
 * the message and a pointer to the help, and exits with code 2, as command-line tools do.
 *
 * @example
 * ```ts
 * throw new UsageError('unknown option "--fast"', "lab"); // timebound lab: unknown option "--fast"
 * ```
 */
export class UsageError extends Error {
  /** `"TIMEBOUND_ERR_USAGE"`. */
  declare readonly code: "TIMEBOUND_ERR_USAGE";

  constructor(
    message: string,
    /** The command whose usage was wrong (`lab`), or undefined for the top level. */
    readonly command?: string,
  ) {
    super(message);
  }
}

defineErrorClass(UsageError, "UsageError", {
  kind: "timebound.UsageError",
  code: "TIMEBOUND_ERR_USAGE",
});
