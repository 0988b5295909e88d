import { defineErrorClass, hasKind, kindsOf } from "./error-brand.js";
import type { Explanation } from "./explain.js";

/**
 * Base class of the two errors a context ends with. Check `instanceof Canceled` /
 * `instanceof DeadlineExceeded` (which works across the ESM and CJS copies too), the guards
 * {@link isCanceled} / {@link isDeadlineExceeded}, or the web platform's names
 * (`err.name === "AbortError"` / `"TimeoutError"`): all work.
 *
 * `cause` is set only when the context was ended with an explicit cause (`cancel(cause)`,
 * `withTimeoutCause`, an adopted signal's reason), as Go's `context.Cause` would report it.
 *
 * The message carries the story (which context ended, which ancestor ended it, when, why). The
 * error is made when first read, its message and explanation when they are first read (a cancel
 * that aborts a thousand signals writes no sentence nobody reads), and it has no stack frames
 * unless tracking is on ({@link setTracking}), because capturing one costs more than the
 * context itself. Its fields are getters on the prototype, so logging the error prints its
 * stack (the message) and not the explanation's structure again.
 *
 * @example
 * ```ts
 * try {
 *   await sleep(ctx, 1000);
 * } catch (err) {
 *   if (err instanceof ContextError) console.warn(`${err.name} (ended by ${err.origin})`, err.cause);
 *   throw err;
 * }
 * ```
 */
export class ContextError extends Error {
  #explanation: Explanation | (() => Explanation);

  /** `explanation` may be a function that builds it: it is called once, when first needed. */
  constructor(explanation: Explanation | (() => Explanation), cause?: unknown) {
    super(undefined, cause === undefined ? undefined : { cause });
    this.#explanation = explanation;
  }

  /** The facts as structured data; see {@link explain}. */
  get explanation(): Explanation {
    const e = this.#explanation;
    return typeof e === "function" ? (this.#explanation = e()) : e;
  }

  /** The explanation's sentence; assigning replaces it, as for any Error. */
  override get message(): string {
    return this.explanation.message;
  }

  /** Replaces the message, as assigning `message` does on any Error. */
  override set message(value: string) {
    Object.defineProperty(this, "message", { value, writable: true, configurable: true });
  }

  /** Name of the context this error belongs to, if it was named. */
  get context(): string | undefined {
    return this.explanation.context.name;
  }

  /** Label of the context where the end started: this one, or the ancestor that ended it. */
  get origin(): string {
    const e = this.explanation;
    return e.origin?.context.label ?? e.context.label;
  }

  /** How late the deadline timer fired (0 unless a deadline fired after the event loop was busy). */
  get lateByMs(): number {
    return this.explanation.lateByMs ?? 0;
  }

  /**
   * Where the context where the end started (this one, or the ancestor that ended it) was
   * created, as `file:line:column`, while tracking is on ({@link setTracking}); kept out of the
   * message, which may reach a client.
   */
  get originSite(): string | undefined {
    const e = this.explanation;
    return (e.origin?.context ?? e.context).site;
  }
}

/**
 * The context was canceled (Go's `context.Canceled`). Its `name` is `"AbortError"` and its
 * `code` is `"ABORT_ERR"`, like the errors Node's own APIs reject with on abort.
 *
 * @example
 * ```ts
 * try {
 *   await sleep(ctx, 1000);
 * } catch (err) {
 *   if (!(err instanceof Canceled)) throw err; // canceled: stop quietly
 * }
 * ```
 */
export class Canceled extends ContextError {
  /** `"ABORT_ERR"`, as on the errors of Node's APIs that abort. */
  declare readonly code: "ABORT_ERR";
}

/**
 * The context's deadline passed (Go's `context.DeadlineExceeded`). Its `name` is
 * `"TimeoutError"`, as for `AbortSignal.timeout()`.
 *
 * @example
 * ```ts
 * try {
 *   await sleep(ctx, 5_000);
 * } catch (err) {
 *   if (err instanceof DeadlineExceeded) log.warn(err.message); // which deadline, how late
 *   throw err;
 * }
 * ```
 */
export class DeadlineExceeded extends ContextError {
  /** `"TIMEBOUND_ERR_DEADLINE_EXCEEDED"`. */
  declare readonly code: "TIMEBOUND_ERR_DEADLINE_EXCEEDED";
}

defineErrorClass(ContextError, "ContextError", {
  kind: "timebound.ContextError",
  code: "TIMEBOUND_ERR_CONTEXT_ENDED",
});
// "ABORT_ERR", not TIMEBOUND_ERR_...: the code of Node's own AbortError, so code that handles
// Node's aborts handles a canceled context too. The one exception to the naming of codes.
defineErrorClass(Canceled, "AbortError", { kind: "timebound.Canceled", code: "ABORT_ERR" });
defineErrorClass(DeadlineExceeded, "TimeoutError", {
  kind: "timebound.DeadlineExceeded",
  code: "TIMEBOUND_ERR_DEADLINE_EXCEEDED",
});

/**
 * Whether `err` is {@link Canceled}: a canceled context's error, from this copy of timebound or
 * another (the ESM and CJS builds). Never throws.
 *
 * @example
 * ```ts
 * async function serve(ctx: Context): Promise<void> {
 *   try {
 *     await work(ctx);
 *   } catch (err) {
 *     if (isCanceled(err)) return; // the caller went away: nothing to answer
 *     throw err;
 *   }
 * }
 * ```
 */
export function isCanceled(err: unknown): err is Canceled {
  return hasKind(err, "timebound.Canceled");
}

/**
 * Whether `err` is {@link DeadlineExceeded}, from any copy of timebound. Never throws.
 *
 * @example
 * ```ts
 * work(ctx).catch((err: unknown) => {
 *   if (isDeadlineExceeded(err)) res.writeHead(504).end("deadline exceeded");
 * });
 * ```
 */
export function isDeadlineExceeded(err: unknown): err is DeadlineExceeded {
  return hasKind(err, "timebound.DeadlineExceeded");
}

/** One of timebound's errors, as {@link isTimeboundError} narrows it. */
export interface TimeboundError extends Error {
  /** Its stable code, listed in the error catalogue (docs/errors.md). */
  readonly code: string;
}

/**
 * Whether `err` is one of timebound's errors (any class, any copy): then its `code` is stable and
 * listed in the error catalogue (docs/errors.md). Never throws.
 *
 * @example
 * ```ts
 * work(ctx).catch((err: unknown) => {
 *   if (isTimeboundError(err)) log.warn(`failed: ${err.code}`); // "TIMEBOUND_ERR_DEADLINE_EXCEEDED"
 * });
 * ```
 */
export function isTimeboundError(err: unknown): err is TimeboundError {
  return kindsOf(err) !== undefined;
}
