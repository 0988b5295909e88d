// How long retry waits before each new attempt. Jitter spreads the retries of many callers that
// failed together, so that they do not come back together (AWS Architecture Blog, "Exponential
// Backoff And Jitter", 2015).
import { checkMs, readOptions } from "../core/internal.js";

/**
 * A backoff: the wait in ms before retry number `retry` (1 for the first retry), given the wait
 * before the previous one (0 before the first). Return a finite number ≥ 0. Any function of
 * this shape is a custom backoff.
 *
 * @example
 * ```ts
 * const linear: Backoff = (retry) => 50 * retry;
 * const policy = retry({ maxAttempts: 4, backoff: linear });
 * ```
 */
export type Backoff = (retry: number, previousDelayMs: number) => number;

/** Options of {@link exponentialBackoff}. */
export interface ExponentialBackoffOptions {
  /** The first retry's base wait. Default 100 ms; 0 to 3,600,000. */
  readonly initialMs?: number;
  /** The longest base wait. Default 10,000 ms; `initialMs` to 86,400,000. */
  readonly maxMs?: number;
  /** Growth per retry. Default 2; 1 to 100. */
  readonly factor?: number;
  /**
   * `"full"` (default): a uniformly random wait between 0 and the base, which spreads retries
   * best; `"none"`: exactly the base (initialMs, initialMs·factor, ...).
   */
  readonly jitter?: "full" | "none";
}

const MAX_INITIAL_MS = 3_600_000;
const MAX_WAIT_MS = 86_400_000;

/**
 * Exponential backoff: base wait `min(maxMs, initialMs · factor^(retry−1))`, with full jitter by
 * default (a random wait in [0, base)).
 *
 * @example
 * ```ts
 * // The seed's retry: 2 retries, exponential from 100 ms, transient errors only.
 * const policy = retry({ maxAttempts: 3, backoff: exponentialBackoff({ initialMs: 100, jitter: "none" }) });
 * ```
 */
export function exponentialBackoff(options?: ExponentialBackoffOptions): Backoff {
  const o = readOptions(options, "exponentialBackoff", ["initialMs", "maxMs", "factor", "jitter"]);
  const initialMs = o.ms("initialMs", 100, { min: 0, max: MAX_INITIAL_MS });
  const maxMs = o.ms("maxMs", Math.max(10_000, initialMs), { min: initialMs, max: MAX_WAIT_MS });
  const factor = o.number("factor", 2, { min: 1, max: 100 });
  const jitter = o.oneOf("jitter", "full", ["full", "none"] as const);
  return (retry) => {
    const base = Math.min(maxMs, initialMs * factor ** (retry - 1));
    return jitter === "full" ? Math.random() * base : base;
  };
}

/** Options of {@link decorrelatedJitterBackoff}. */
export interface DecorrelatedJitterOptions {
  /** The shortest wait, and the first retry's. Default 100 ms; 1 to 3,600,000. */
  readonly initialMs?: number;
  /** The longest wait. Default 10,000 ms; `initialMs` to 86,400,000. */
  readonly maxMs?: number;
}

/**
 * "Decorrelated jitter": each wait is random between `initialMs` and three times the previous
 * wait, capped at `maxMs`. It grows like an exponential but never falls back to 0, and each
 * caller's sequence wanders on its own.
 *
 * @example
 * ```ts
 * const policy = retry({ maxAttempts: 5, backoff: decorrelatedJitterBackoff({ initialMs: 50 }) });
 * ```
 */
export function decorrelatedJitterBackoff(options?: DecorrelatedJitterOptions): Backoff {
  const o = readOptions(options, "decorrelatedJitterBackoff", ["initialMs", "maxMs"]);
  const initialMs = o.ms("initialMs", 100, { min: 1, max: MAX_INITIAL_MS });
  const maxMs = o.ms("maxMs", Math.max(10_000, initialMs), { min: initialMs, max: MAX_WAIT_MS });
  return (_retry, previousDelayMs) => {
    const upper = Math.max(initialMs, previousDelayMs * 3);
    return Math.min(maxMs, initialMs + Math.random() * (upper - initialMs));
  };
}

/**
 * The same wait before every retry.
 *
 * @example
 * ```ts
 * const policy = retry({ maxAttempts: 3, backoff: constantBackoff(250) });
 * ```
 */
export function constantBackoff(delayMs: number): Backoff {
  const ms = checkMs(delayMs, "constantBackoff", "delayMs", { min: 0, max: MAX_WAIT_MS });
  return () => ms;
}
