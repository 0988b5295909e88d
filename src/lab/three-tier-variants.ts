// The four ways the three-tier service calls its upstream: no protection, a timeout alone, the
// seed's three tiers as it configures them (section 3.3), and timebound's best. Each variant is
// made fresh for a run: policies are stateful (breaker window, latency samples, retry budget).
import { withTimeout } from "../core/index.js";
import {
  BrokenCircuitError,
  adaptiveConcurrency,
  circuitBreaker,
  exponentialBackoff,
  fallback,
  hedge,
  isTransientError,
  pipeline,
  retry,
  retryBudget,
  staleCache,
  timeout,
} from "../resilience/index.js";
import { type Answer, type Handler, ItemKey } from "./three-tier-service.js";

/** @internal One way of calling the upstream, and whether it can answer from a fallback. */
export interface Variant {
  readonly key: "none" | "timeout" | "seed" | "timebound";
  readonly label: string;
  /** Whether a fallback may answer (the only variants whose fallback share may exceed 0). */
  readonly hasFallback: boolean;
  /** A handler with fresh policies; `openMs` is the breaker's open duration. */
  make(openMs: number): Handler;
}

/** The seed's per-call timeout, slow-call threshold and first backoff (section 3.3). */
export const SEED_TIMEOUT_MS = 800;
const SEED_SLOW_MS = 600;
const SEED_BACKOFF_MS = 100;
/**
 * @internal How long the seed's three attempts take when each one times out: 800 ms each, with
 * 100 and 200 ms of backoff between them. An outage shorter than this lets its last attempt reach
 * the upstream after the outage.
 */
export const SEED_ATTEMPTS_MS = 3 * SEED_TIMEOUT_MS + SEED_BACKOFF_MS + 2 * SEED_BACKOFF_MS;
/** The request budget timebound's variant gives each request: an SLO below the client's patience. */
export const REQUEST_BUDGET_MS = 1_000;

/** What the service answers when neither the upstream nor the cache can. */
const DEFAULT_ANSWER: Answer = { body: "default\n", fallback: true };

/** A local cache of the last good answer per item, served marked as a fallback. */
function localCache(): ReturnType<typeof staleCache> {
  return staleCache({
    maxAgeMs: 60_000,
    key: (ctx) => ctx.value(ItemKey) ?? "none",
    mark: (value) => ({ ...(value as Answer), fallback: true }),
  });
}

/** @internal The variants, in the order they run and are shown. */
export const VARIANTS: readonly Variant[] = [
  {
    key: "none",
    label: "no protection",
    hasFallback: false,
    // Waits as long as the upstream takes, even after the client has gone.
    make: () => (request, call) => call(request, { ignoreContext: true }),
  },
  {
    key: "timeout",
    label: `timeout only (${SEED_TIMEOUT_MS} ms)`,
    hasFallback: false,
    make: () => {
      const policy = timeout(SEED_TIMEOUT_MS);
      return (request, call) => policy.execute(request, call);
    },
  },
  {
    key: "seed",
    label: "the seed's three tiers",
    hasFallback: true,
    make: (openMs) => {
      // Section 3.3 as written: breaker outside retry (its order), per-call timeout innermost.
      const policy = pipeline(
        fallback(DEFAULT_ANSWER),
        localCache(),
        circuitBreaker({
          failureRateThreshold: 50,
          slowCallDurationMs: SEED_SLOW_MS,
          halfOpenPermits: 10,
          openDurationMs: openMs,
        }),
        retry({
          maxAttempts: 3,
          backoff: exponentialBackoff({ initialMs: SEED_BACKOFF_MS, jitter: "none" }),
        }),
        timeout(SEED_TIMEOUT_MS),
      );
      return (request, call) => policy.execute(request, call);
    },
  },
  {
    key: "timebound",
    label: "timebound's best",
    hasFallback: true,
    make: (openMs) => {
      // One budget for retries and hedges: together at most 10% more calls (plus a small floor).
      const budget = retryBudget({ percent: 10, minPerSecond: 5 });
      const policy = pipeline(
        fallback(DEFAULT_ANSWER),
        localCache(),
        adaptiveConcurrency({
          initialLimit: 40,
          minLimit: 20,
          maxLimit: 200,
          // The upstream's own slowness and refusals, not the breaker's: while the breaker is
          // open every call is refused at once, and the limit would shrink to its floor.
          isDropped: (o) =>
            !o.ok && !(o.error instanceof BrokenCircuitError) && isTransientError(o.error),
        }),
        retry({
          maxAttempts: 3,
          backoff: exponentialBackoff({ initialMs: 25, maxMs: 200 }),
          budget,
          minAttemptMs: 50,
        }),
        circuitBreaker({
          failureRateThreshold: 50,
          slowCallDurationMs: SEED_SLOW_MS,
          halfOpenPermits: 10,
          minimumCalls: 20,
          window: { type: "count", size: 50 },
          openDurationMs: openMs,
        }),
        hedge({ delayMs: "p95", maxHedges: 1, budget }),
        // Each attempt gets at most half of what is left, so a retry still fits.
        timeout((ctx) => Math.max(1, Math.min(SEED_TIMEOUT_MS, ctx.remaining() / 2))),
      );
      return async (request, call) => {
        // The request's own deadline: the fallback must answer before the client gives up.
        using ctx = withTimeout(request, REQUEST_BUDGET_MS, { name: "three-tier request budget" });
        return await policy.execute(ctx, call); // await: `using` ends ctx when this returns
      };
    },
  },
];
