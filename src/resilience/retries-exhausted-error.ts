import { defineErrorClass, describeValue } from "../core/internal.js";

/**
 * Why {@link retry} stopped retrying a failing call:
 * - `"attempts"`: `maxAttempts` attempts were made;
 * - `"budget"`: the retry budget had no retry left (the upstream fails for many callers);
 * - `"deadline"`: the caller's remaining time could not hold the next backoff plus
 *   `minAttemptMs` (or the wait `Retry-After` asked for).
 */
export type RetryStopReason = "attempts" | "budget" | "deadline";

const REASONS: Record<RetryStopReason, string> = {
  attempts: "attempts used up",
  budget: "retry budget exhausted",
  deadline: "the caller's remaining time cannot hold another attempt",
};

/**
 * The error of a call that {@link retry} gave up on while its errors were still retryable: it
 * says how many attempts were made and why retrying stopped; `cause` is the last attempt's
 * error. (An error retry must not retry passes through unchanged; a call whose caller's context
 * ended rejects with that context's error.)
 *
 * @example
 * ```ts
 * const policy = retry({ maxAttempts: 3, budget: retryBudget() });
 * try {
 *   await policy.execute(ctx, (ctx) => fetchOne(ctx));
 * } catch (err) {
 *   if (err instanceof RetriesExhaustedError && err.reason === "budget") log.warn("upstream failing broadly");
 *   throw err;
 * }
 * ```
 */
export class RetriesExhaustedError extends Error {
  /** `"TIMEBOUND_ERR_RETRIES_EXHAUSTED"`. */
  declare readonly code: "TIMEBOUND_ERR_RETRIES_EXHAUSTED";
  /** The last attempt's error. */
  declare readonly cause: unknown;

  constructor(
    /** The retry policy's name. */
    readonly policy: string,
    /** Attempts made, the first included. */
    readonly attempts: number,
    /** Why it stopped. */
    readonly reason: RetryStopReason,
    lastError: unknown,
    /** With reason "deadline": the caller's time left when retry gave up, in ms. */
    readonly remainingMs?: number,
  ) {
    const left =
      reason === "deadline" && remainingMs !== undefined
        ? ` (${Math.round(remainingMs)} ms left)`
        : "";
    super(
      `${policy}: gave up after ${attempts} attempt${attempts === 1 ? "" : "s"}: ` +
        `${REASONS[reason]}${left}; last error: ${describeValue(lastError)}`,
      { cause: lastError },
    );
  }
}

defineErrorClass(RetriesExhaustedError, "RetriesExhaustedError", {
  kind: "timebound.RetriesExhaustedError",
  code: "TIMEBOUND_ERR_RETRIES_EXHAUSTED",
});
