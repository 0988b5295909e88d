// Every policy announces what it decides on one diagnostics channel per kind of policy, so that
// metrics (timebound/metrics), logs and tests subscribe by name. Messages are built only while a
// channel has subscribers: an unobserved policy pays one property read per event.
import * as diagnosticsChannel from "node:diagnostics_channel";
import type { Context } from "../core/index.js";

/**
 * The channels of `timebound/resilience`, one per kind of policy. Each message is a
 * {@link ResilienceEvent} whose `event` says what happened; the policy's doc lists its events.
 *
 * @example
 * ```ts
 * import { subscribe } from "node:diagnostics_channel";
 * import type { ResilienceEvent } from "timebound/resilience";
 * subscribe("timebound:resilience:circuit-breaker", (m) => {
 *   const e = m as ResilienceEvent;
 *   if (e.event === "state-change") console.warn(`${e.policy}: ${String(e.from)} -> ${String(e.to)}`);
 * });
 * ```
 */
export const resilienceChannels = {
  /** Events of `timeout` policies. */
  timeout: diagnosticsChannel.channel("timebound:resilience:timeout"),
  /** Events of `retry` policies. */
  retry: diagnosticsChannel.channel("timebound:resilience:retry"),
  /** Events of circuit breakers: their state, their refusals, their creation. */
  circuitBreaker: diagnosticsChannel.channel("timebound:resilience:circuit-breaker"),
  /**
   * One `"call"` event per call a circuit breaker let through. A channel of its own: who
   * listens for a breaker's state changes (metrics) does not make every call publish a message.
   */
  circuitBreakerCall: diagnosticsChannel.channel("timebound:resilience:circuit-breaker:call"),
  /** Events of bulkheads. */
  bulkhead: diagnosticsChannel.channel("timebound:resilience:bulkhead"),
  /** Events of `fallback` and `staleCache` policies. */
  fallback: diagnosticsChannel.channel("timebound:resilience:fallback"),
  /** Events of `hedge` policies. */
  hedge: diagnosticsChannel.channel("timebound:resilience:hedge"),
  /** Events of rate limits. */
  rateLimit: diagnosticsChannel.channel("timebound:resilience:rate-limit"),
  /** Events of adaptive concurrency policies. */
  adaptiveConcurrency: diagnosticsChannel.channel("timebound:resilience:adaptive-concurrency"),
  /** Events of adaptive throttles. */
  adaptiveThrottle: diagnosticsChannel.channel("timebound:resilience:adaptive-throttle"),
  /** Events of pipelines (one `"call"` event per call). */
  pipeline: diagnosticsChannel.channel("timebound:resilience:pipeline"),
} as const;

/** What a policy announces: which policy, what happened, under which context, plus details. */
export interface ResilienceEvent {
  /** The policy's name (its `name` option, or its kind). */
  readonly policy: string;
  /** The event, e.g. "attempt", "retry", "give-up", "state-change", "rejected", "fallback". */
  readonly event: string;
  /** The caller's context, when the event belongs to a call (absent for timer-driven events). */
  readonly context?: Context;
  /** Event details (`attempt`, `delayMs`, `from`, `to`, `error`, `durationMs`...). */
  readonly [detail: string]: unknown;
}
