import {
  type CancelContext,
  type CancelableContext,
  type Context,
  type ContextOptions,
  Kind,
  CANCELED,
  DEADLINE,
  LIVE,
  endContext,
  link,
  newCancelContext,
} from "./context.js";
import { describeValue } from "./explain.js";
import { background } from "./derive.js";
import { Watcher } from "./watch.js";

/** Options for {@link fromSignal}. */
export interface FromSignalOptions extends ContextOptions {
  /** Parent whose deadline, cancellation and values the context also takes. Default: background. */
  readonly parent?: Context;
}

/** Listens on the signal while the context lives; removes its listener when the context ends. */
class SignalBridge extends Watcher {
  constructor(
    readonly signal: AbortSignal,
    readonly ctx: CancelContext,
  ) {
    super();
  }

  handleEvent(): void {
    const reason: unknown = this.signal.reason;
    const timedOut = (reason as { name?: unknown } | undefined)?.name === "TimeoutError";
    if (this.ctx._state === LIVE) {
      endContext(this.ctx, timedOut ? DEADLINE : CANCELED, reason, this.ctx, 0);
    }
  }

  _ended(): void {
    this.signal.removeEventListener("abort", this);
  }
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
    throw new TypeError(`fromSignal: signal must be an AbortSignal, got ${describeValue(signal)}`);
  }
  const parent = options?.parent === undefined ? background() : options.parent;
  const ctx = newCancelContext(parent, "fromSignal", Kind.Signal, Infinity, undefined, options);
  if (ctx._state !== LIVE) return ctx;
  if (signal.aborted) {
    new SignalBridge(signal, ctx).handleEvent();
    return ctx;
  }
  const bridge = new SignalBridge(signal, ctx);
  link(ctx, bridge);
  signal.addEventListener("abort", bridge, { once: true });
  return ctx;
}
