import { type Context, asParent } from "../core/context.js";

/** Throws a TypeError naming `fn` unless `ctx` is a timebound context. */
export function checkContext(ctx: unknown, fn: string): asserts ctx is Context {
  asParent(ctx, fn, "ctx");
}
