/**
 * A mistake in how the CLI was called (unknown command, bad option value). The CLI prints the
 * message and a pointer to the help, and exits with code 2, as command-line tools do.
 */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose usage was wrong (`lab`), or undefined for the top level. */
    readonly command?: string,
  ) {
    super(message);
    this.name = "UsageError";
  }
}
