// A retry budget (Finagle's RetryBudget, Envoy's retry_budget): retries may add at most a share
// of the traffic, plus a small floor so that a quiet client can still retry. Without it, a sick
// upstream gets maxAttempts times the load exactly when it can least take it.
import { now } from "../core/index.js";
import { readOptions } from "../core/internal.js";

/** Options of {@link retryBudget}. */
export interface RetryBudgetOptions {
  /** Retries allowed as a percentage of requests in the window. Default 20; 0 to 1,000. */
  readonly percent?: number;
  /** Retries allowed per second whatever the traffic (the floor). Default 10; 0 to 1,000,000. */
  readonly minPerSecond?: number;
  /** How far back requests and retries count. Default 10,000 ms; 100 to 3,600,000. */
  readonly windowMs?: number;
  /** The clock, in ms (default: timebound's monotonic `now()`); for simulations and tests. */
  readonly clock?: () => number;
}

/** The window is kept as this many buckets: it slides in steps of windowMs / BUCKETS. */
const BUCKETS = 10;

/**
 * A retry budget shared by every call of the policies that hold it (one per upstream, say):
 * over the last `windowMs`, retries may number at most `percent`% of the requests recorded plus
 * `minPerSecond` per second of the window. {@link retry} records each call with
 * {@link RetryBudget.recordRequest} and asks {@link RetryBudget.tryWithdraw} before each retry;
 * hedging asks it before each extra request. Any object with `tryWithdraw(): boolean` can stand
 * in for it.
 *
 * @example
 * ```ts
 * const budget = retryBudget({ percent: 10, minPerSecond: 5 });
 * const users = retry({ maxAttempts: 3, budget });
 * const orders = retry({ maxAttempts: 3, budget }); // the same upstream, the same budget
 * ```
 */
export class RetryBudget {
  /** Its `percent` option: retries earned per 100 requests recorded. */
  readonly percent: number;
  /** Its `minPerSecond` option: retries allowed per second whatever the requests. */
  readonly minPerSecond: number;
  /** Its `windowMs` option: how far back requests and retries count. */
  readonly windowMs: number;
  readonly #clock: () => number;
  readonly #bucketMs: number;
  /** Per bucket: which window step it holds, and its counts. */
  readonly #step = new Float64Array(BUCKETS).fill(-1);
  readonly #requests = new Float64Array(BUCKETS);
  readonly #retries = new Float64Array(BUCKETS);

  /** Prefer {@link retryBudget}; the options are checked the same way. */
  constructor(options?: RetryBudgetOptions) {
    const o = readOptions(options, "retryBudget", ["percent", "minPerSecond", "windowMs", "clock"]);
    this.percent = o.number("percent", 20, { min: 0, max: 1_000 });
    this.minPerSecond = o.number("minPerSecond", 10, { min: 0, max: 1_000_000 });
    this.windowMs = o.ms("windowMs", 10_000, { min: 100, max: 3_600_000 });
    this.#clock = o.function("clock", now);
    this.#bucketMs = this.windowMs / BUCKETS;
  }

  /** Counts one request (a call, not a retry): it earns `percent`/100 of a retry. */
  recordRequest(): void {
    this.#requests[this.#slot()]! += 1;
  }

  /** Takes one retry from the budget if there is one; false when the budget is spent. */
  tryWithdraw(): boolean {
    const slot = this.#slot();
    if (this.available() < 1) return false;
    this.#retries[slot]! += 1;
    return true;
  }

  /** Retries the budget would allow right now (may be fractional; a retry needs 1). */
  available(): number {
    const current = Math.floor(this.#clock() / this.#bucketMs);
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < BUCKETS; i++) {
      if (current - this.#step[i]! < BUCKETS) {
        requests += this.#requests[i]!;
        retries += this.#retries[i]!;
      }
    }
    const floor = (this.minPerSecond * this.windowMs) / 1000;
    return floor + (requests * this.percent) / 100 - retries;
  }

  /** The bucket of the current step, emptied if it held an older one. */
  #slot(): number {
    const step = Math.floor(this.#clock() / this.#bucketMs);
    const slot = step % BUCKETS;
    if (this.#step[slot] !== step) {
      this.#step[slot] = step;
      this.#requests[slot] = 0;
      this.#retries[slot] = 0;
    }
    return slot;
  }
}

/**
 * Makes a {@link RetryBudget}. Finagle's defaults: 20% of requests plus 10 retries a second,
 * over 10 s.
 *
 * @example
 * ```ts
 * const policy = retry({ maxAttempts: 4, budget: retryBudget({ percent: 20, minPerSecond: 10 }) });
 * ```
 */
export function retryBudget(options?: RetryBudgetOptions): RetryBudget {
  return new RetryBudget(options);
}
