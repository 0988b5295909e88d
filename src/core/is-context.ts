import { CancelContext, type Context, DerivedContext } from "./context.js";

/**
 * True if `value` is a context made by this copy of timebound.
 *
 * @example
 * ```ts
 * function deadlineOf(arg: unknown): number | undefined {
 *   if (!isContext(arg)) throw new TypeError("deadlineOf: expected a Context");
 *   return arg.deadline;
 * }
 * ```
 */
export function isContext(value: unknown): value is Context {
  return value instanceof CancelContext || value instanceof DerivedContext;
}
