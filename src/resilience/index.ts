/**
 * Resilience policies that know the deadline: timeout, retry (with a retry budget), circuit
 * breaker, fallback and stale cache, composed into one pipeline. Every policy is a value shared
 * across calls, `policy.execute(ctx, (ctx) => work)`; none answers later than the caller's
 * deadline because of itself, and each announces its decisions on a `timebound:resilience:*`
 * diagnostics channel.
 *
 * @example
 * ```ts
 * import { background, withTimeout } from "timebound";
 * import { circuitBreaker, exponentialBackoff, fallback, pipeline, retry, retryBudget, timeout } from "timebound/resilience";
 *
 * // The seed's three tiers: timeout 800 ms; breaker at 50% errors or slow calls over 600 ms,
 * // 10 trial calls; 2 retries from 100 ms on transient errors only; then a default answer.
 * const payments = pipeline(
 *   fallback({ status: "queued" }),
 *   retry({ maxAttempts: 3, backoff: exponentialBackoff({ initialMs: 100 }), budget: retryBudget() }),
 *   circuitBreaker({ failureRateThreshold: 50, slowCallDurationMs: 600, halfOpenPermits: 10 }),
 *   timeout(800),
 * );
 * using ctx = withTimeout(background(), 3_000, { name: "checkout" });
 * const result = await payments.execute(ctx, async (ctx) => {
 *   const res = await fetch("http://127.0.0.1:8080/pay", { method: "POST", signal: ctx.signal });
 *   return (await res.json()) as { status: string };
 * });
 * ```
 *
 * @module
 */
export type { Policy, PolicyOptions, Work } from "./policy.js";
export { resilienceChannels, type ResilienceEvent } from "./events.js";
export { timeout, TimeoutPolicy, type TimeoutMs, type TimeoutOptions } from "./timeout.js";
export { retry, RetryPolicy, type RetryBudgetLike, type RetryOptions } from "./retry.js";
export { RetriesExhaustedError, type RetryStopReason } from "./retries-exhausted-error.js";
export {
  constantBackoff,
  decorrelatedJitterBackoff,
  exponentialBackoff,
  type Backoff,
  type DecorrelatedJitterOptions,
  type ExponentialBackoffOptions,
} from "./backoff.js";
export { retryBudget, RetryBudget, type RetryBudgetOptions } from "./retry-budget.js";
export { isTransientError, isTransientResult } from "./classify.js";
export { retryAfterMs } from "./transient.js";
export {
  circuitBreaker,
  CircuitBreakerPolicy,
  type CircuitBreakerOptions,
  type CircuitRates,
  type CircuitState,
  type CircuitWindow,
} from "./circuit-breaker.js";
export {
  BrokenCircuitError,
  type BrokenCircuitDetails,
  type RefusingState,
} from "./broken-circuit-error.js";
export { fallback, FallbackPolicy, type FallbackFn, type FallbackOptions } from "./fallback.js";
export {
  isStale,
  staleCache,
  StaleCachePolicy,
  staleInfo,
  type StaleCacheOptions,
  type StaleInfo,
} from "./stale-cache.js";
export { pipeline, PipelinePolicy } from "./pipeline.js";
export {
  bulkhead,
  BulkheadRejectedError,
  type Bulkhead,
  type BulkheadOptions,
} from "./bulkhead.js";
export {
  rateLimit,
  RateLimitedError,
  type RateLimit,
  type RateLimitOptions,
} from "./rate-limit.js";
export { hedge, type Hedge, type HedgeBudget, type HedgeOptions } from "./hedge.js";
export {
  adaptiveConcurrency,
  ConcurrencyLimitError,
  type AdaptiveConcurrency,
  type AdaptiveConcurrencyOptions,
} from "./adaptive-concurrency.js";
export {
  adaptiveThrottle,
  ThrottledError,
  type AdaptiveThrottle,
  type AdaptiveThrottleOptions,
} from "./adaptive-throttle.js";
export type { CallOutcome } from "./classify.js";
