import {
  type CancelableContext,
  type Context,
  type ContextOptions,
  CANCELED,
  DEADLINE,
  Kind,
  LIVE,
  newCancelContext,
} from "./context.js";
import { followSignal } from "./foreign.js";
import { background } from "./derive.js";
import { describeValue } from "./describe.js";
import { invalidType } from "./validate.js";

/** Options for {@link fromSignal}. */
export interface FromSignalOptions extends ContextOptions {
  /** Parent whose deadline, cancellation and values the context also takes. Default: background. */
  readonly parent?: Context;
}

/**
 * Adopts an AbortSignal: a context that ends when `signal` aborts (with `Canceled`, or
 * `DeadlineExceeded` when the reason is a `TimeoutError` such as `AbortSignal.timeout`'s), with
 * the signal's `reason` as its cause. Its listener on `signal` is removed as soon as the context
 * ends for any reason, so adopting one long-lived signal many times leaks nothing, as long as
 * each adopted context is canceled (use `using`).
 *
 * @example
 * ```ts
 * // A fetch-style handler (Hono, Next.js route handlers...): the request's signal aborts when
 * // the client goes away.
 * export async function GET(request: Request): Promise<Response> {
 *   using ctx = fromSignal(request.signal, { name: "GET /report" });
 *   return Response.json(await work(ctx));
 * }
 * ```
 */
export function fromSignal(signal: AbortSignal, options?: FromSignalOptions): CancelableContext {
  if (!(signal instanceof AbortSignal)) {
    throw invalidType(`fromSignal: signal must be an AbortSignal, got ${describeValue(signal)}`);
  }
  const parent = options?.parent === undefined ? background() : options.parent;
  const ctx = newCancelContext(
    parent,
    "fromSignal",
    Kind.Signal,
    Infinity,
    undefined,
    options,
    undefined,
    FROM_SIGNAL_OPTIONS,
  );
  if (ctx._state !== LIVE) return ctx;
  // A TimeoutError reason (AbortSignal.timeout's) is a deadline; anything else a cancel.
  followSignal(ctx, signal, () => {
    const reason: unknown = signal.reason;
    const timedOut = (reason as { name?: unknown } | undefined)?.name === "TimeoutError";
    return [timedOut ? DEADLINE : CANCELED, reason];
  });
  return ctx;
}

const FROM_SIGNAL_OPTIONS: readonly string[] = ["name", "parent"];
