// A route of the configuration made ready to serve: its upstream cluster and the policies that
// run each request's attempts, built from timebound/resilience and nothing re-implemented.
// Compiled once per configuration (a reload compiles a new set; requests in flight keep theirs).
//
// Order, outermost first (docs/gateway.md): fallback, then the stale cache, then the fallback's
// reserve (the work ends FALLBACK_RESERVE_MS before the deadline), then retry (idempotent
// methods only, unless the route says otherwise), then the circuit breaker (it sees each
// attempt), then the per-attempt timeout. The route's total deadline is the request's context.
import { type Context, createKey } from "timebound";
import {
  type Backoff,
  type CircuitBreakerPolicy,
  type Policy,
  type RateLimit,
  adaptiveConcurrency,
  bulkhead,
  circuitBreaker,
  hedge,
  rateLimit,
  constantBackoff,
  decorrelatedJitterBackoff,
  exponentialBackoff,
  fallback,
  pipeline,
  retry,
  retryBudget,
  staleCache,
  timeout,
} from "timebound/resilience";
import type { RouteConfig } from "../config/types.js";
import type { Cluster } from "../upstream/cluster.js";
import { type BufferedAnswer, type RouteAnswer, UpstreamStatusError } from "../upstream/answers.js";

/** Time kept back from the request's deadline for a route's fallback to answer in. */
export const FALLBACK_RESERVE_MS = 5;

/** The request's cache key (method and path), for the stale cache. */
export const REQUEST_KEY = createKey<string>("timebound-gateway.request");
/** The client's key (address or a header's value), for the rate limit. */
export const CLIENT_KEY = createKey<string>("timebound-gateway.client");

/** A route ready to serve. */
export interface CompiledRoute {
  readonly config: RouteConfig;
  /** The upstream of a proxy route (undefined for an aggregation route). */
  readonly cluster: Cluster | undefined;
  /**
   * The policies for methods that may be retried (GET, HEAD, PUT, DELETE, OPTIONS); a rate
   * limit of this instance's own comes first, so that the pipeline runs it fused with the rest.
   */
  readonly idempotent: Policy;
  /** The policies for the others (POST, PATCH): no retry unless the route allows it. */
  readonly other: Policy;
  /** Whether answers are buffered (the stale cache keeps whole answers). */
  readonly buffers: boolean;
  /**
   * The route's rate limit per client (checked before anything else), if any: this instance's
   * token bucket, which is also what a shared limit falls back on when Redis cannot decide.
   */
  readonly rateLimit: RateLimit | undefined;
  /** The route's circuit breaker, if any (its state is a metric). */
  readonly breaker: CircuitBreakerPolicy | undefined;
  /**
   * The route's static fallback answer, if any: also what a request gets when its deadline ended
   * the work before the fallback policy could answer (a timer fired late, past the reserve).
   */
  readonly fallbackAnswer: BufferedAnswer | undefined;
}

/**
 * No policy at all: the work, under the request's context. Its promise as it is: resolving a new
 * promise with it would cost another promise and two more microtask turns.
 */
const DIRECT: Policy = {
  name: "direct",
  execute: <T>(ctx: Context, work: (ctx: Context) => T | PromiseLike<T>): Promise<T> => {
    try {
      return Promise.resolve(work(ctx));
    } catch (error) {
      return Promise.reject(error);
    }
  },
};

function compose(policies: Policy[]): Policy {
  if (policies.length === 0) return DIRECT;
  return policies.length === 1 ? policies[0]! : pipeline(...policies);
}

const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"]);

/** Whether a request with `method` may be attempted again. */
export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

function backoffOf(options: unknown): Backoff | undefined {
  if (options === undefined) return undefined;
  const { type = "exponential", ...rest } = options as { type?: string } & Record<string, unknown>;
  if (type === "exponential") return exponentialBackoff(rest);
  if (type === "decorrelated") return decorrelatedJitterBackoff(rest);
  if (type === "constant") return constantBackoff((rest as { delayMs?: number }).delayMs ?? 100);
  throw new TypeError(
    `backoff.type must be "exponential", "decorrelated" or "constant", got ${JSON.stringify(type)}`,
  );
}

function staticAnswer(config: RouteConfig): BufferedAnswer | undefined {
  const r = config.fallback?.response;
  if (r === undefined) return undefined;
  return {
    kind: "buffered",
    status: r.status,
    headers: { ...r.headers, "content-type": r.contentType },
    body: Buffer.from(r.body),
    servedAs: "fallback",
  };
}

/** Compiles one route; an option a policy refuses throws, naming the route and the option. */
export function compileRoute(
  config: RouteConfig,
  clusters: ReadonlyMap<string, Cluster>,
): CompiledRoute {
  const name = config.name;
  const where = `routes[${config.index}] (${name})`;
  try {
    const outer: Policy[] = [];
    const inner: Policy[] = [];
    const answer = staticAnswer(config);
    // The caller's own end (the client left) is never answered: there is nobody to answer.
    if (answer !== undefined)
      outer.push(fallback<RouteAnswer>(answer, { name: `${name} fallback` }));
    const staleMaxAgeMs = config.fallback?.staleMaxAgeMs;
    if (staleMaxAgeMs !== undefined) {
      outer.push(
        staleCache({
          name: `${name} stale`,
          maxAgeMs: staleMaxAgeMs,
          key: (ctx: Context) => ctx.value(REQUEST_KEY) ?? "",
          mark: (value, info) => ({
            ...(value as BufferedAnswer),
            servedAs: "stale",
            ageMs: info.ageMs,
          }),
        }),
      );
    }
    // Under a fallback the work ends a little before the request's deadline, so that the
    // fallback answers by the deadline (the seed's "timeout, then fallback") instead of a 504
    // after it: the fallback never answers once the request's own context has ended.
    if (answer !== undefined || staleMaxAgeMs !== undefined) {
      outer.push(
        timeout((ctx) => Math.max(0, ctx.remaining() - FALLBACK_RESERVE_MS), {
          name: `${name} fallback reserve`,
        }),
      );
    }
    // Admission (bulkhead, adaptive concurrency) holds a slot for the whole request, retries
    // included, and its rejection still gets the fallback.
    if (config.bulkhead !== undefined) {
      const options = config.bulkhead as { maxConcurrent: number; maxQueue?: number };
      outer.push(bulkhead({ ...options, name: `${name} bulkhead` }));
    }
    if (config.adaptiveConcurrency !== undefined) {
      outer.push(
        adaptiveConcurrency({ ...config.adaptiveConcurrency, name: `${name} concurrency` }),
      );
    }
    const retrying: Policy[] = [];
    const { backoff, budget, ...retryRest } = (config.retry ?? {}) as {
      backoff?: unknown;
      budget?: Record<string, unknown>;
    };
    // One budget per route, shared by its retries and its hedges.
    const shared = budget === undefined ? undefined : retryBudget(budget);
    if (config.retry !== undefined) {
      retrying.push(
        retry({
          ...retryRest,
          name: `${name} retry`,
          ...(backoff === undefined ? {} : { backoff: backoffOf(backoff) }),
          ...(shared === undefined ? {} : { budget: shared }),
        }),
      );
    }
    if (config.hedge !== undefined) {
      retrying.push(
        hedge({
          ...config.hedge,
          name: `${name} hedge`,
          ...(shared === undefined ? {} : { budget: shared }),
        }),
      );
    }
    let breaker: CircuitBreakerPolicy | undefined;
    if (config.circuitBreaker !== undefined) {
      inner.push(
        (breaker = circuitBreaker({
          ...config.circuitBreaker,
          name: `${name} breaker`,
          // A 4xx is the client's; only the upstream's own failures count.
          isFailure: (err) => !(err instanceof UpstreamStatusError) || err.status >= 500,
        })),
      );
    }
    if (config.attemptTimeoutMs !== undefined) {
      inner.push(timeout(config.attemptTimeoutMs, { name: `${name} attempt` }));
    }
    const limit = config.rateLimit;
    const limiter =
      limit === undefined
        ? undefined
        : rateLimit({
            name: `${name} rate limit`,
            ratePerSecond: limit.ratePerSecond,
            burst: limit.burst,
            key: (ctx: Context) => ctx.value(CLIENT_KEY) ?? "",
          });
    // A shared limit decides before the pipeline, through Redis (gateway.ts).
    const admit = limiter === undefined || limit!.shared ? [] : [limiter];
    const withRetry = [...admit, ...outer, ...retrying, ...inner];
    return {
      config,
      cluster: config.upstream === undefined ? undefined : clusters.get(config.upstream),
      idempotent: compose(withRetry),
      other: config.retryNonIdempotent
        ? compose(withRetry)
        : compose([...admit, ...outer, ...inner]),
      buffers: staleMaxAgeMs !== undefined,
      rateLimit: limiter,
      breaker,
      fallbackAnswer: answer,
    };
  } catch (err) {
    throw new TypeError(`${where}: ${(err as Error).message}`, { cause: err });
  }
}
