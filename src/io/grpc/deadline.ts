import type { Context } from "../../core/index.js";
import { describeValue, invalidType } from "../../core/internal.js";
import { type Deadline, type ServiceError, status } from "@grpc/grpc-js";

/**
 * How far grpc-js's deadline timer may run ahead of the context's. grpc-js counts its deadline
 * in wall-clock time (`Date.now()`) and arms its own timer when the call starts, from a loop clock
 * that may be stale by however long the current task has run; the context's timer counts
 * monotonic time and re-arms when it fires early. So grpc-js can report DEADLINE_EXCEEDED a
 * little before the context ends. Within this many ms of the context's deadline, that report is
 * the context's deadline, seen first by grpc-js.
 *
 * @internal
 */
export const DEADLINE_SKEW_MS = 50;

/**
 * The longest time left a call sends as its `grpc-timeout`: 24 days. A grpc-js server reads the
 * header into a 32-bit integer of milliseconds (`(value * unit) | 0` in server-interceptors.ts),
 * so anything above 2^31-1 ms (24.8 days) wraps: negative, and every call fails at once with
 * DEADLINE_EXCEEDED, or a small positive number (2^40 ms arrives as about 12 s). grpc-js's client
 * also sends whole seconds past 10^8 ms, rounded up; the cap leaves room for that and for a clock
 * step. A call with more time left than this sends no deadline: the context still ends it (the
 * helpers and {@link contextInterceptor} cancel it, which the server sees), and grpc-js's client
 * would not time a deadline that far out anyway.
 *
 * @internal
 */
export const MAX_SENT_TIMEOUT_MS = 24 * 24 * 60 * 60 * 1000;

/**
 * grpc-js's `Deadline` is a `Date` or wall-clock ms since the epoch, `Infinity` for none. The
 * context's deadline is monotonic; it crosses over as time remaining, read now.
 *
 * @internal
 */
export function wallClockMs(deadline: Deadline): number {
  return deadline instanceof Date ? deadline.getTime() : deadline;
}

/**
 * Checks a `deadline` call option: a valid Date, a number of wall-clock ms, or undefined.
 *
 * @internal
 */
export function checkDeadlineOption(deadline: unknown, fn: string): void {
  if (deadline === undefined) return;
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  if (typeof ms !== "number" || Number.isNaN(ms)) {
    throw invalidType(
      `${fn}: options.deadline must be a valid Date or wall-clock ms (a number), got ` +
        describeValue(deadline),
    );
  }
}

/**
 * The grpc-js `deadline` option for a call bounded by `ctx` and by `explicit` (from the caller's
 * options), whichever is earlier, in wall-clock ms; undefined when there is none, or when it is
 * more than {@link MAX_SENT_TIMEOUT_MS} away.
 *
 * @internal
 */
export function sentDeadline(ctx: Context, explicit?: Deadline): number | undefined {
  const left = Math.min(ctx.remaining(), msUntil(explicit));
  return left > MAX_SENT_TIMEOUT_MS ? undefined : Date.now() + left;
}

/**
 * Milliseconds from now until a grpc-js deadline (Infinity for none, negative when past).
 *
 * @internal
 */
export function msUntil(deadline: Deadline | undefined): number {
  return deadline === undefined ? Infinity : wallClockMs(deadline) - Date.now();
}

/**
 * True for a DEADLINE_EXCEEDED that is the context's own deadline reported a moment before the
 * context itself ended ({@link DEADLINE_SKEW_MS}). The caller should then wait for the context
 * (it ends within moments), so that it rejects with `ctx.err` rather than with grpc-js's error.
 *
 * @internal
 */
export function isContextDeadline(err: unknown, ctx: Context): boolean {
  return (
    (err as Partial<ServiceError> | null)?.code === status.DEADLINE_EXCEEDED &&
    ctx.err === undefined &&
    ctx.remaining() <= DEADLINE_SKEW_MS
  );
}
