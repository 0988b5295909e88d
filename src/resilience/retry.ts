// Retry that knows the deadline: an attempt or a backoff sleep the caller's time left cannot
// hold is never started, a retry budget keeps retries from multiplying the load on a sick
// upstream, and only failures another attempt may not meet are retried.
import { type Context } from "../core/index.js";
import {
  checkContext,
  checkFunction,
  describeValue,
  invalidType,
  readOptions,
} from "../core/internal.js";
import { sleep } from "../sync/index.js";
import { type Backoff, exponentialBackoff } from "./backoff.js";
import { discard } from "./discard.js";
import { resilienceChannels } from "./events.js";
import type { Policy, PolicyOptions, Work } from "./policy.js";
import { STAGE, type Stage, stageFor } from "./stage.js";
import { RetriesExhaustedError, type RetryStopReason } from "./retries-exhausted-error.js";
import { isTransientError, isTransientResult } from "./classify.js";
import { retryAfterMs } from "./transient.js";

/** What retry needs of a budget: {@link RetryBudget} or anything with the same two methods. */
export interface RetryBudgetLike {
  /** Called once per call (not per retry); optional for budgets that count requests elsewhere. */
  recordRequest?(): void;
  /** Takes one retry from the budget; false refuses the retry. */
  tryWithdraw(): boolean;
}

/** Options of {@link retry}. */
export interface RetryOptions extends PolicyOptions {
  /** Attempts in all, the first included. Default 3; 1 to 100. */
  readonly maxAttempts?: number;
  /** The wait before each retry. Default `exponentialBackoff()` (100 ms base, full jitter). */
  readonly backoff?: Backoff;
  /**
   * Whether an attempt's error is worth another attempt. Default {@link isTransientError}:
   * connection resets and refusals, 429/502/503/504, an attempt's own `DeadlineExceeded`. Not
   * asked once the caller's context has ended: then the call rejects with that context's error.
   */
  readonly retryOn?: (error: unknown, attempt: number) => boolean;
  /**
   * Whether an attempt's result is worth another attempt. Default {@link isTransientResult}: a
   * Response-like `{ status, headers }` with status 429, 502, 503 or 504. A result retried is
   * discarded (a Response's body is canceled, freeing its connection); after the last attempt it
   * is returned as it is.
   */
  readonly retryOnResult?: (value: unknown, attempt: number) => boolean;
  /** A retry budget shared across calls ({@link retryBudget}). Default: none. */
  readonly budget?: RetryBudgetLike;
  /**
   * The least time an attempt needs: a retry starts only if the caller's time left exceeds the
   * backoff plus this. Default 0 ms; 0 to 3,600,000. The first attempt always starts.
   */
  readonly minAttemptMs?: number;
  /** Whether to wait at least what a `Retry-After` header asks (seconds or HTTP date). Default true. */
  readonly honorRetryAfter?: boolean;
}

const KNOWN: readonly (keyof RetryOptions)[] = [
  "maxAttempts",
  "backoff",
  "retryOn",
  "retryOnResult",
  "budget",
  "minAttemptMs",
  "honorRetryAfter",
  "name",
];

/** The decision after a failed attempt: wait this long and retry, or stop for a reason. */
type Next = number | RetryStopReason;

/**
 * A retry policy: see {@link retry}. Its `execute` runs the work, retrying as its options say.
 *
 * @example
 * ```ts
 * const policy: RetryPolicy = retry({ maxAttempts: 3, minAttemptMs: 50 });
 * console.log(policy.maxAttempts, policy.minAttemptMs); // 3 50
 * ```
 */
export class RetryPolicy implements Policy {
  readonly name: string;
  /** Its `maxAttempts` option (the first attempt included). */
  readonly maxAttempts: number;
  /** Its `minAttemptMs` option. */
  readonly minAttemptMs: number;
  readonly #backoff: Backoff;
  readonly #retryOn: (error: unknown, attempt: number) => boolean;
  readonly #retryOnResult: (value: unknown, attempt: number) => boolean;
  readonly #budget: RetryBudgetLike | undefined;
  readonly #honorRetryAfter: boolean;

  /** Prefer {@link retry}; the options are checked the same way. */
  constructor(options?: RetryOptions) {
    const o = readOptions(options, "retry", KNOWN);
    this.name = o.string("name", "retry");
    this.maxAttempts = o.number("maxAttempts", 3, { min: 1, max: 100, integer: true });
    this.#backoff = o.function("backoff", undefined) ?? exponentialBackoff();
    this.#retryOn = o.function("retryOn", undefined) ?? isTransientError;
    this.#retryOnResult = o.function("retryOnResult", undefined) ?? isTransientResult;
    this.minAttemptMs = o.ms("minAttemptMs", 0, { min: 0, max: 3_600_000 });
    this.#honorRetryAfter = o.boolean("honorRetryAfter", true);
    const budget = o.raw("budget") as
      { tryWithdraw?: unknown; recordRequest?: unknown } | undefined;
    if (budget !== undefined && typeof budget?.tryWithdraw !== "function") {
      throw invalidType(
        `retry: options.budget must be a RetryBudget (an object with tryWithdraw()), got ${describeValue(budget)}`,
      );
    }
    if (budget?.recordRequest !== undefined && typeof budget.recordRequest !== "function") {
      throw invalidType(
        `retry: options.budget.recordRequest must be a function, got ${describeValue(budget.recordRequest)}`,
      );
    }
    this.#budget = budget as RetryBudgetLike | undefined;
  }

  /** Runs `work`, retrying it as the options say; never past the caller's deadline. */
  execute<T>(ctx: Context, work: Work<T>): Promise<T> {
    try {
      checkContext(ctx, `${this.name}.execute`);
      checkFunction(work, `${this.name}.execute`, "work");
    } catch (bad) {
      return Promise.reject(bad);
    }
    this.#budget?.recordRequest?.();
    // The first attempt outside an async function: on the success path of every call, then()
    // allocates a fraction of what an async function's suspended frame does.
    let pending: T | PromiseLike<T>;
    try {
      pending = work(ctx);
    } catch (error) {
      return this.#retry(ctx, work, 1, error, true);
    }
    return Promise.resolve(pending).then(
      (value) => (this.#retryOnResult(value, 1) ? this.#retry(ctx, work, 1, value, false) : value),
      (error: unknown) => this.#retry(ctx, work, 1, error, true),
    );
  }

  /**
   * @internal Its steps in a fused pipeline: those of {@link RetryPolicy.execute}. After a
   * failed first attempt, the attempts left run through its own code, the layers inside it as
   * their work.
   */
  readonly [STAGE]: Stage = stageFor(RetryPolicy, {
    enter: (ctx) => {
      this.#budget?.recordRequest?.();
      return ctx;
    },
    fulfilled: (ctx, value, frame, i) =>
      this.#retryOnResult(value, 1) ? this.#retry(ctx, frame.inner(i), 1, value, false) : value,
    rejected: (ctx, error, frame, i) => this.#retry(ctx, frame.inner(i), 1, error, true),
  });

  /** After attempt number `attempt` failed (`threw`: with an error, else a transient result). */
  async #retry<T>(
    ctx: Context,
    work: Work<T>,
    attempt: number,
    failure: unknown,
    threw: boolean,
  ): Promise<T> {
    let previousDelay = 0;
    for (;;) {
      if (threw) {
        const ended = ctx.err;
        if (ended !== undefined) throw ended; // the caller's end, never a reason to retry
        if (!this.#retryOn(failure, attempt)) {
          this.#giveUp(ctx, attempt, "not-retryable", failure);
          throw failure;
        }
      }
      let next = this.#next(ctx, attempt, previousDelay, failure);
      if (typeof next === "number") {
        this.#announceRetry(ctx, attempt, next, failure);
        previousDelay = next;
        try {
          if (next > 0) await sleep(ctx, next);
        } catch (ended) {
          if (!threw) discard(failure);
          throw ended; // the caller's context ended during the wait
        }
        // A timer that fired late (a busy event loop) may wake the wait past what the decision
        // assumed: check again before starting the attempt.
        if (ctx.remaining() > this.minAttemptMs) {
          if (!threw) discard(failure);
          attempt++;
          try {
            const value = await work(ctx);
            if (!this.#retryOnResult(value, attempt)) return value;
            failure = value;
            threw = false;
          } catch (error) {
            failure = error;
            threw = true;
          }
          continue;
        }
        const ended = ctx.err;
        if (ended !== undefined) {
          if (!threw) discard(failure);
          throw ended;
        }
        next = "deadline";
      }
      this.#giveUp(ctx, attempt, next, failure);
      if (!threw) return failure as T; // the caller reads the answer as it came
      throw new RetriesExhaustedError(this.name, attempt, next, failure, ctx.remaining());
    }
  }

  /** After failed attempt number `attempt`: how long to wait before the next, or why to stop. */
  #next(ctx: Context, attempt: number, previousDelay: number, failure: unknown): Next {
    if (attempt >= this.maxAttempts) return "attempts";
    let delay = this.#backoff(attempt, previousDelay);
    if (typeof delay !== "number" || !(delay >= 0) || delay === Infinity) {
      throw invalidType(
        `${this.name}: options.backoff must return a finite number of milliseconds >= 0, got ${describeValue(delay)}`,
      );
    }
    if (this.#honorRetryAfter) {
      const asked = retryAfterMs(failure);
      if (asked !== undefined && asked > delay) delay = asked;
    }
    // Strictly more than the wait plus the least an attempt needs: an attempt that would start
    // at the deadline could only fail.
    if (!(ctx.remaining() > delay + this.minAttemptMs)) return "deadline";
    if (this.#budget !== undefined && !this.#budget.tryWithdraw()) return "budget";
    return delay;
  }

  #announceRetry(ctx: Context, attempt: number, delayMs: number, failure: unknown): void {
    if (!resilienceChannels.retry.hasSubscribers) return;
    resilienceChannels.retry.publish({
      policy: this.name,
      event: "retry",
      context: ctx,
      attempt,
      delayMs,
      failure,
    });
  }

  #giveUp(
    ctx: Context,
    attempts: number,
    reason: RetryStopReason | "not-retryable",
    failure: unknown,
  ): void {
    if (!resilienceChannels.retry.hasSubscribers) return;
    resilienceChannels.retry.publish({
      policy: this.name,
      event: "give-up",
      context: ctx,
      attempts,
      reason,
      failure,
    });
  }
}

/**
 * Retries failed calls, knowing the caller's deadline. After a failed attempt it retries only if
 * the failure is transient (`retryOn`, `retryOnResult`), attempts are left (`maxAttempts`), the
 * budget allows (`budget`), and the caller's time left exceeds the backoff plus `minAttemptMs`;
 * it waits the backoff (at least what `Retry-After` asks) on the caller's context, so a cancel
 * stops the wait at once.
 *
 * How a call ends:
 * - a result (also a transient one after the last attempt, as it came);
 * - the caller's context's error (`Canceled`/`DeadlineExceeded`) once that context has ended;
 * - an error `retryOn` refuses, unchanged;
 * - otherwise {@link RetriesExhaustedError} (code `TIMEBOUND_ERR_RETRIES_EXHAUSTED`): attempts
 *   made, `reason` ("attempts", "budget" or "deadline") and the last error as `cause`.
 *
 * Events on `timebound:resilience:retry` ({@link ResilienceEvent}):
 * - `"retry"`: `attempt` (the attempt that failed, from 1), `delayMs` (the wait before the next),
 *   `failure` (its error or transient result);
 * - `"give-up"`: `attempts`, `reason` ("attempts", "budget", "deadline" or "not-retryable"),
 *   `failure` (the last error or result).
 *
 * @example
 * ```ts
 * import { background, withTimeout } from "timebound";
 * import { retry, retryBudget, exponentialBackoff } from "timebound/resilience";
 * const policy = retry({
 *   maxAttempts: 3,
 *   backoff: exponentialBackoff({ initialMs: 100 }),
 *   budget: retryBudget({ percent: 20 }),
 *   minAttemptMs: 50,
 * });
 * using ctx = withTimeout(background(), 1_000);
 * const res = await policy.execute(ctx, (ctx) => fetch("http://127.0.0.1:8080/", { signal: ctx.signal }));
 * ```
 */
export function retry(options?: RetryOptions): RetryPolicy {
  return new RetryPolicy(options);
}
