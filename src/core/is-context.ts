import { CancelContext, type Context, DerivedContext } from "./context.js";

/**
 * True if `value` is a context made by this copy of timebound.
 *
 * @example
 * ```ts
 * if (!isContext(arg)) throw new TypeError("expected a Context first");
 * ```
 */
export function isContext(value: unknown): value is Context {
  return value instanceof CancelContext || value instanceof DerivedContext;
}
