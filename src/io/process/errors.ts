import { ContextError, type Explanation } from "../../core/index.js";
import { defineErrorClass } from "../../core/internal.js";

/**
 * What an `exec` or `execFile` had read from the child when it was stopped.
 *
 * @example
 * ```ts
 * function tail(output: PartialOutput): string {
 *   return output.stderr.slice(-500);
 * }
 * ```
 */
export interface PartialOutput {
  /** What the child wrote to stdout, decoded (`encoding`, default utf8). */
  readonly stdout: string;
  /** What the child wrote to stderr, decoded likewise. */
  readonly stderr: string;
}

/**
 * How {@link exec} and {@link execFile} reject when their context ends: a `Canceled` or
 * `DeadlineExceeded` with the class, message, explanation and cause of `ctx.err`, which also
 * carries the output read so far. It is a copy, not `ctx.err` itself: that one object is shared
 * by everything under the context, and each command has its own output.
 *
 * @example
 * ```ts
 * try {
 *   await exec(ctx, "./slow-report.sh");
 * } catch (err) {
 *   if (isExecContextError(err)) log.warn(err.message, { stdout: err.stdout });
 *   throw err;
 * }
 * ```
 */
export type ExecContextError = ContextError & PartialOutput;

/**
 * Whether `err` is the context error an {@link exec} or {@link execFile} rejected with, output
 * attached (`instanceof DeadlineExceeded` alone does not give TypeScript the output's type).
 *
 * @example
 * ```ts
 * const err = await exec(ctx, "make").then(() => undefined, (e: unknown) => e);
 * if (isExecContextError(err)) process.stderr.write(err.stderr);
 * ```
 */
export function isExecContextError(err: unknown): err is ExecContextError {
  return (
    err instanceof ContextError &&
    typeof (err as Partial<PartialOutput>).stdout === "string" &&
    typeof (err as Partial<PartialOutput>).stderr === "string"
  );
}

/** @internal A copy of the context's error `err` that carries `output`. */
export function withOutput(err: ContextError, output: PartialOutput): ExecContextError {
  const ContextErrorClass = err.constructor as new (
    explanation: Explanation,
    cause?: unknown,
  ) => ContextError;
  // Like the original, no stack capture: the message says what happened, and it costs.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let copy: ContextError;
  try {
    copy = new ContextErrorClass(
      err.explanation,
      Object.hasOwn(err, "cause") ? err.cause : undefined,
    );
  } finally {
    Error.stackTraceLimit = limit;
  }
  copy.stack = err.stack;
  return Object.assign(copy, { stdout: output.stdout, stderr: output.stderr });
}

/**
 * An `exec` or `execFile` child wrote more than `maxBuffer` bytes to one stream: its process
 * group was stopped, and the output up to the limit is kept. Its `code` is
 * `"TIMEBOUND_ERR_OUTPUT_LIMIT"`; {@link OutputLimitError.nodeCode} is the code of Node's own
 * error for the same case. It is a RangeError, as Node's is; `instanceof OutputLimitError`
 * works across the ESM and CJS copies of timebound.
 *
 * @example
 * ```ts
 * try {
 *   await exec(ctx, "yes", { maxBuffer: 1024 });
 * } catch (err) {
 *   if (err instanceof OutputLimitError) console.log(err.stream, err.stdout.length); // stdout 1024
 * }
 * ```
 */
export class OutputLimitError extends RangeError implements PartialOutput {
  /** `"TIMEBOUND_ERR_OUTPUT_LIMIT"`. */
  declare readonly code: "TIMEBOUND_ERR_OUTPUT_LIMIT";

  /** The error for `stream` going past `maxBuffer`, with the output kept. */
  constructor(
    /** The stream that went past the limit. */
    readonly stream: "stdout" | "stderr",
    /** The limit, in bytes (the `maxBuffer` option). */
    readonly maxBuffer: number,
    /** What was kept of stdout: at most `maxBuffer` bytes, decoded. */
    readonly stdout: string,
    /** What was kept of stderr: at most `maxBuffer` bytes, decoded. */
    readonly stderr: string,
  ) {
    super(`${stream} went past maxBuffer (${maxBuffer} bytes): the process group was stopped`);
  }

  /**
   * `"ERR_CHILD_PROCESS_STDIO_MAXBUFFER"`: the `code` of Node's own error for the same case
   * (which this error's `code` was before timebound gave its errors codes of their own).
   */
  get nodeCode(): "ERR_CHILD_PROCESS_STDIO_MAXBUFFER" {
    return "ERR_CHILD_PROCESS_STDIO_MAXBUFFER";
  }
}

defineErrorClass(OutputLimitError, "OutputLimitError", {
  kind: "timebound.OutputLimitError",
  code: "TIMEBOUND_ERR_OUTPUT_LIMIT",
});
