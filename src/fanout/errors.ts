// The errors of timebound/fanout: a batch that could not give what its mode promised, the cause
// the calls a batch no longer needs are canceled with, and an HTTP answer that is not a success.
import { defineErrorClass } from "../core/internal.js";

/** How one call of a batch ended, as {@link BatchFailedError} and the batch's result report it. */
export type CallStatus = "fulfilled" | "rejected" | "timed-out" | "canceled" | "not-started";

/** A part of a batch that has no value, and why. */
export interface MissingPart {
  /** The call's key: its index in a tuple, its property name in a record. */
  readonly key: string | number;
  /** The dependency it called (its `dependency` option, else its key). */
  readonly dependency: string;
  /** Whether the batch could do without it (`optional: true`). */
  readonly optional: boolean;
  /** Why it has no value. */
  readonly status: Exclude<CallStatus, "fulfilled">;
  /** What it failed with: its error, its context's error, or undefined if it never started. */
  readonly reason: unknown;
  /** One line for people: "timed out after its 80 ms budget", "failed: ECONNREFUSED". */
  readonly message: string;
}

/**
 * A batch could not give what its mode promises: in mode `all` a required call failed, timed out
 * or was canceled on its own; in mode `any` every call failed; in mode `quorum(n)` too many
 * failed for `n` to succeed. (When the caller's context or the batch's own `timeoutMs` ends the
 * batch, it rejects with that context's error instead.) `cause` is the failure that decided,
 * `missing` every part without a value.
 *
 * @example
 * ```ts
 * try {
 *   await work(ctx); // a batch
 * } catch (err) {
 *   if (err instanceof BatchFailedError) log.warn(err.message, err.missing.map((m) => m.key));
 *   throw err;
 * }
 * ```
 */
export class BatchFailedError extends Error {
  /** `"TIMEBOUND_ERR_BATCH_FAILED"`. */
  declare readonly code: "TIMEBOUND_ERR_BATCH_FAILED";
  constructor(
    message: string,
    /** The batch's name. */
    readonly batch: string,
    /** The batch's mode: "all", "any" or "quorum(n)". */
    readonly mode: string,
    /** Every part without a value, in input order. */
    readonly missing: readonly MissingPart[],
    cause: unknown,
  ) {
    super(message, { cause });
  }
}
defineErrorClass(BatchFailedError, "BatchFailedError", {
  kind: "timebound.BatchFailedError",
  code: "TIMEBOUND_ERR_BATCH_FAILED",
});

/**
 * The cause the calls a batch no longer needs are canceled with: another call succeeded first
 * (mode `any`), the quorum was reached or became out of reach, or a required call failed (mode
 * `all`: then the cause is that call's error itself, as with errgroup). Their context's error is
 * `Canceled`; this is its `cause`.
 *
 * @example
 * ```ts
 * async function lookUpAll(ctx: Context): Promise<void> {
 *   await work(ctx).catch((err: unknown) => {
 *     if (cause(ctx) instanceof CallNotNeededError) return; // the batch has its answer
 *     throw err;
 *   });
 * }
 * ```
 */
export class CallNotNeededError extends Error {
  /** `"TIMEBOUND_ERR_CALL_NOT_NEEDED"`. */
  declare readonly code: "TIMEBOUND_ERR_CALL_NOT_NEEDED";
}
defineErrorClass(CallNotNeededError, "CallNotNeededError", {
  kind: "timebound.CallNotNeededError",
  code: "TIMEBOUND_ERR_CALL_NOT_NEEDED",
});

/**
 * A {@link fanoutFetch} request answered with a status outside 200-299: that part is missing,
 * with this as its reason.
 *
 * @example
 * ```ts
 * declare const missing: readonly MissingPart[]; // a fanoutFetch result's
 * const part = missing.find((m) => m.reason instanceof UpstreamStatusError);
 * ```
 */
export class UpstreamStatusError extends Error {
  /** `"TIMEBOUND_ERR_UPSTREAM_STATUS"`. */
  declare readonly code: "TIMEBOUND_ERR_UPSTREAM_STATUS";
  constructor(
    /** The HTTP status received. */
    readonly status: number,
    /** The URL requested. */
    readonly url: string,
  ) {
    super(`${url} answered HTTP ${status}`);
  }
}
defineErrorClass(UpstreamStatusError, "UpstreamStatusError", {
  kind: "timebound.UpstreamStatusError",
  code: "TIMEBOUND_ERR_UPSTREAM_STATUS",
});

/** A stackless cause, built once per decision: the message says all a stack would. */
export function notNeeded(message: string): CallNotNeededError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new CallNotNeededError(message);
  } finally {
    Error.stackTraceLimit = limit;
  }
}
