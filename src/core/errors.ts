import type { Explanation } from "./explain.js";

/**
 * Base class of the two errors a context ends with. Check `instanceof Canceled` /
 * `instanceof DeadlineExceeded`, or the web platform's names (`err.name === "AbortError"` /
 * `"TimeoutError"`): both work.
 *
 * `cause` is set only when the context was ended with an explicit cause (`cancel(cause)`,
 * `withTimeoutCause`, an adopted signal's reason), as Go's `context.Cause` would report it.
 *
 * The message carries the story (which context ended, which ancestor ended it, when, why); the
 * error is made when first read and has no stack frames unless tracking is on
 * ({@link setTracking}), because capturing one costs more than the context itself.
 */
export class ContextError extends Error {
  /** Name of the context this error belongs to, if it was named. */
  readonly context: string | undefined;
  /** Label of the context where the end started: this one, or the ancestor that ended it. */
  readonly origin: string;
  /** How late the deadline timer fired (0 unless a deadline fired after the event loop was busy). */
  readonly lateByMs: number;
  /** The same facts as structured data; see {@link explain}. */
  readonly explanation: Explanation;

  constructor(explanation: Explanation, cause?: unknown) {
    super(explanation.message, cause === undefined ? undefined : { cause });
    this.context = explanation.context.name;
    this.origin = explanation.origin?.context.label ?? explanation.context.label;
    this.lateByMs = explanation.lateByMs ?? 0;
    this.explanation = explanation;
  }
}

/**
 * The context was canceled (Go's `context.Canceled`). Its `name` is `"AbortError"` and its
 * `code` is `"ABORT_ERR"`, like the errors Node's own APIs reject with on abort.
 *
 * @example
 * ```ts
 * try { await sleep(ctx, 1000); } catch (err) { if (err instanceof Canceled) return; throw err; }
 * ```
 */
export class Canceled extends ContextError {
  declare readonly code: "ABORT_ERR";
}

/**
 * The context's deadline passed (Go's `context.DeadlineExceeded`). Its `name` is
 * `"TimeoutError"`, as for `AbortSignal.timeout()`.
 *
 * @example
 * ```ts
 * if (err instanceof DeadlineExceeded) log.warn(err.message); // says which deadline, and how late
 * ```
 */
export class DeadlineExceeded extends ContextError {
  declare readonly code: "TIMEBOUND_DEADLINE_EXCEEDED";
}

// On the prototype, not as instance fields: V8 formats the stack header while the constructor
// runs, before instance fields exist, and it should read "AbortError: ...".
defineShared(ContextError, "ContextError", "TIMEBOUND_CONTEXT_ENDED");
defineShared(Canceled, "AbortError", "ABORT_ERR");
defineShared(DeadlineExceeded, "TimeoutError", "TIMEBOUND_DEADLINE_EXCEEDED");

function defineShared(cls: { prototype: object }, name: string, code: string): void {
  Object.defineProperty(cls.prototype, "name", { value: name, writable: true, configurable: true });
  Object.defineProperty(cls.prototype, "code", { value: code, writable: true, configurable: true });
}
