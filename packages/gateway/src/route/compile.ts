// A route of the configuration made ready to serve: its upstream cluster and the policy that
// runs each request's attempts. Compiled once per configuration (a reload compiles a new set;
// requests in flight keep the set they started with).
import { type Context, withTimeout } from "timebound";
import type { RouteConfig } from "../config/types.js";
import type { Cluster } from "../upstream/cluster.js";

/** Runs the attempts of one request: the route's resilience pipeline. */
export type RoutePolicy = <T>(ctx: Context, attempt: (ctx: Context) => Promise<T>) => Promise<T>;

/** A route ready to serve. */
export interface CompiledRoute {
  readonly config: RouteConfig;
  /** The upstream of a proxy route (undefined for an aggregation route). */
  readonly cluster: Cluster | undefined;
  readonly policy: RoutePolicy;
}

function attemptTimeout(config: RouteConfig): RoutePolicy {
  const ms = config.attemptTimeoutMs;
  if (ms === undefined) return (ctx, attempt) => attempt(ctx);
  return async (ctx, attempt) => {
    using child = withTimeout(ctx, ms, { name: `${config.name} attempt` });
    return await attempt(child);
  };
}

/** Compiles one route against the upstream clusters of its configuration. */
export function compileRoute(
  config: RouteConfig,
  clusters: ReadonlyMap<string, Cluster>,
): CompiledRoute {
  return {
    config,
    cluster: config.upstream === undefined ? undefined : clusters.get(config.upstream),
    policy: attemptTimeout(config),
  };
}
