import { type Context, withTimeout } from "../../core/index.js";
import type { CallOptions } from "@grpc/grpc-js";
import { type ContextCallOptions, withDeadline } from "./call-options.js";
import { msUntil, sentDeadline } from "./deadline.js";

/**
 * An outgoing call's context and the grpc-js options that carry it.
 *
 * @internal
 */
export interface BoundCall {
  /**
   * What the call runs under: the caller's context, or a child of it that ends at an earlier
   * `options.deadline`, so that this deadline too ends the call with `DeadlineExceeded` and an
   * explanation that names it.
   */
  readonly ctx: Context;
  /** The caller's options with the call's context attached and its deadline as grpc-js takes it. */
  readonly options: ContextCallOptions;
  /**
   * Ends the child made for `options.deadline`, undefined without one. Call it once the call's
   * outcome has reached the caller: ending the child before that would end the call as Canceled.
   */
  readonly release: (() => void) | undefined;
}

/**
 * Binds an outgoing call to `ctx`. An `options.deadline` earlier than the context's (by 1 ms or
 * more: the two clocks read the same deadline a fraction of a millisecond apart) becomes a child
 * context named after it; `label` says which call it belongs to ("unary(getStock)").
 *
 * @internal
 */
export function bindCall(ctx: Context, options: CallOptions, label: string): BoundCall {
  const ownMs = msUntil(options.deadline);
  if (!(ownMs < ctx.remaining() - 1)) {
    return { ctx, options: withDeadline(ctx, options, sentDeadline(ctx)), release: undefined };
  }
  const child = withTimeout(ctx, Math.max(0, ownMs), { name: `options.deadline of ${label}` });
  return {
    ctx: child,
    options: withDeadline(child, options, sentDeadline(child)),
    release: () => child.cancel(),
  };
}
