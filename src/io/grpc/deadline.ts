import { type Deadline, type ServiceError, status } from "@grpc/grpc-js";
import type { Context } from "../../core/context.js";

/**
 * How far grpc-js's deadline timer may run ahead of the context's. grpc-js counts its deadline
 * in wall-clock time (`Date.now()`) and arms its own timer when the call starts, from a loop clock
 * that may be stale by however long the current task has run; the context's timer counts
 * monotonic time and re-arms when it fires early. So grpc-js can report DEADLINE_EXCEEDED a
 * little before the context ends. Within this many ms of the context's deadline, that report is
 * the context's deadline, seen first by grpc-js.
 */
export const DEADLINE_SKEW_MS = 50;

/** The deadline an outgoing call gets, and whether it is the context's or the caller's own. */
export interface CallDeadline {
  /** grpc-js `Deadline` in wall-clock ms, or undefined for none. */
  readonly deadline: number | undefined;
  /** True when the context's deadline is the one in force (not an earlier `options.deadline`). */
  readonly fromContext: boolean;
}

/**
 * grpc-js's `Deadline` is a `Date` or wall-clock ms since the epoch, `Infinity` for none. The
 * context's deadline is monotonic; it crosses over as time remaining, read now.
 */
export function wallClockMs(deadline: Deadline): number {
  return deadline instanceof Date ? deadline.getTime() : deadline;
}

/** The earlier of the context's deadline and an explicit one from the call options. */
export function callDeadline(ctx: Context, explicit: Deadline | undefined): CallDeadline {
  const remaining = ctx.remaining();
  const fromCtx = remaining === Infinity ? Infinity : Date.now() + remaining;
  const given = explicit === undefined ? Infinity : wallClockMs(explicit);
  const earliest = Math.min(fromCtx, given);
  return {
    deadline: earliest === Infinity ? undefined : earliest,
    fromContext: fromCtx !== Infinity && fromCtx <= given,
  };
}

/**
 * True for a DEADLINE_EXCEEDED that is the context's own deadline reported a moment before the
 * context itself ended ({@link DEADLINE_SKEW_MS}). The caller should then wait for the context,
 * so that it rejects with `ctx.err` rather than with grpc-js's error.
 */
export function isContextDeadline(err: unknown, ctx: Context, sent: CallDeadline): boolean {
  return (
    sent.fromContext &&
    (err as Partial<ServiceError> | null)?.code === status.DEADLINE_EXCEEDED &&
    ctx.err === undefined &&
    ctx.remaining() <= DEADLINE_SKEW_MS
  );
}
