import { basename } from "node:path";
import { defineErrorClass } from "../core/internal.js";

/**
 * The program given to `runDiagnose` could not be started (not found, not executable).
 * `code` is `"TIMEBOUND_ERR_PROGRAM_START"`; `cause` is the spawn error.
 *
 * @example
 * ```ts
 * await runDiagnose({ command: ["nosuchcmd"], out: "r" }).catch((e) => console.error(e.message));
 * // could not start "nosuchcmd": no such file or directory (ENOENT)
 * ```
 */
export class ProgramStartError extends Error {
  /** `"TIMEBOUND_ERR_PROGRAM_START"`. */
  declare readonly code: "TIMEBOUND_ERR_PROGRAM_START";

  /** The error for `program`, whose spawn failed with `cause`. */
  constructor(
    /** The program that could not be started, as given. */
    readonly program: string,
    cause: NodeJS.ErrnoException,
  ) {
    const why =
      cause.code === "ENOENT"
        ? "no such file or directory (ENOENT): is it installed and on PATH?"
        : cause.code === "EACCES"
          ? "permission denied (EACCES): is it executable?"
          : cause.message;
    super(`could not start ${JSON.stringify(basename(program))}: ${why}`, { cause });
  }
}

defineErrorClass(ProgramStartError, "ProgramStartError", {
  kind: "timebound.ProgramStartError",
  code: "TIMEBOUND_ERR_PROGRAM_START",
});
