// A budget: a timeout whose maker may give it more time later, up to its parent's deadline. Go's
// deadlines never move; timebound/fanout needs one that does, to hand the time a finished call
// did not use to the calls still running ("drift compensation", the seed's 3.2).
import { now } from "./clock.js";
import {
  CancelContext,
  type CancelableContext,
  type Context,
  type ContextOptions,
  Kind,
  moveDeadlineLater,
  newCancelContext,
} from "./context.js";
import { describeValue } from "./describe.js";
import { checkMs, invalidType } from "./validate.js";

/**
 * @internal A child of `parent` that ends `timeoutMs` from now, like `withTimeout`, and whose
 * deadline its maker may move later with {@link moveDeadline}. Only the code that made it should
 * move it: the work under it sees an ordinary context.
 *
 * @example
 * ```ts
 * const call = withBudget(parent, 80, { name: "users" });
 * moveDeadline(call, call.deadline! + 20); // 20 ms more, never past parent's deadline
 * ```
 */
export function withBudget(
  parent: Context,
  timeoutMs: number,
  options?: ContextOptions,
): CancelableContext {
  const t = now();
  const ms = checkMs(timeoutMs, "withBudget", "timeoutMs", { min: -Infinity, max: Infinity });
  return newCancelContext(
    parent,
    "withBudget",
    Kind.Budget,
    t + Math.max(0, ms),
    undefined,
    options,
    t,
  );
}

/**
 * @internal Moves the deadline of a budget context made by {@link withBudget} to `deadline`
 * (monotonic ms, {@link now}), if that is later than its own; never past its parent's deadline
 * (the deadline is clamped there). Returns its effective deadline afterwards. A context that has
 * ended stays ended; a deadline earlier than its own is ignored (a budget only grows).
 *
 * Everything under it follows: a sleep or a fetch waiting on it, and descendants made before
 * the move that set no deadline of their own (or a later one) now end at the new deadline; a
 * descendant whose own deadline lies between the old and the new one ends at its own.
 *
 * What already left the process does not follow: an adapter that sent the deadline downstream
 * before the move (a `timebound-timeout`/`grpc-timeout` header, PostgreSQL's
 * `statement_timeout`, a Redis blocking command's timeout argument) keeps the earlier one on the
 * other side, so that work may still end at the old time there. Move before such calls start,
 * or accept that the extra time only helps the work in this process.
 *
 * @example
 * ```ts
 * const call = withBudget(parent, 50);
 * const child = withTimeout(call, 1_000); // follows call's 50 ms
 * moveDeadline(call, now() + 80);
 * child.deadline === call.deadline; // true: the child follows the move
 * ```
 */
export function moveDeadline(ctx: Context, deadline: number): number {
  if (!(ctx instanceof CancelContext) || ctx._kind !== Kind.Budget) {
    throw invalidType(
      `moveDeadline: ctx must be a budget context made by withBudget(), got ${describeValue(ctx)}`,
    );
  }
  const to = checkMs(deadline, "moveDeadline", "deadline", {
    min: -Infinity,
    max: Infinity,
    infinity: true,
  });
  return moveDeadlineLater(ctx, to);
}

/** @internal Whether `ctx` is a budget context (made by {@link withBudget}) of this copy. */
export function isBudget(ctx: unknown): boolean {
  return ctx instanceof CancelContext && ctx._kind === Kind.Budget;
}
