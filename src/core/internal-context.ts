// The two operations on a context that other layers may perform beyond its public API.
import { CancelContext, type Context, asParent, expireFromWire } from "./context.js";

/**
 * Checks a context argument of `fn`: a context of this copy of timebound, or one derived from a
 * context it did not make (withValue over a wrapper). A foreign context itself is refused with a
 * message that says to derive one first (`withCancel(ctx)`); anything else names what it got.
 */
export function checkContext(ctx: unknown, fn: string, what = "ctx"): asserts ctx is Context {
  asParent(ctx, fn, what, false);
}

/**
 * Ends `ctx` as its deadline or a cancel seen on the wire says (a gRPC call whose deadline
 * passed, a call the client canceled), if it is a live cancellable context of this copy; does
 * nothing otherwise. For adapters that learn of an end before the context's own timer does.
 */
export function expire(
  ctx: Context,
  state: "canceled" | "deadline-exceeded",
  cause?: unknown,
): void {
  if (ctx instanceof CancelContext) expireFromWire(ctx, state, cause);
}
