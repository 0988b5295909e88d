// The simulated service graph of the fan-out scenario: five dependencies played by one
// fault-injecting upstream (a route each), what changes partway through, and the fixed numbers
// each strategy is configured with. Latencies are not scaled by --scale: they are what the
// deadline is measured against. They are longer than a real service's so that the event-loop lag
// of a busy shared machine (tens of ms) does not decide the outcome.
import type { FaultConfig, FaultProfile } from "../testing/fault-upstream-profile.js";

/** @internal One dependency of the front service. */
export interface Dependency {
  readonly name: string;
  /** The upstream's path prefix for it. */
  readonly path: string;
  /** A required part missing fails the request; an optional one only makes it less complete. */
  readonly optional: boolean;
  /** Variant 1's fixed timeout, as a config file would hold it (about its P99 at rest). */
  readonly staticTimeoutMs: number;
  /** Variant 3's weight (importance) in the budget rule. */
  readonly weight: number;
}

/** @internal The front service's deadline for one request: all five calls fit in it. */
export const FAN_OUT_DEADLINE_MS = 500;

/** @internal The graph: three required dependencies, two optional ones. */
export const DEPENDENCIES: readonly Dependency[] = [
  { name: "users", path: "/users", optional: false, staticTimeoutMs: 200, weight: 1 },
  { name: "orders", path: "/orders", optional: false, staticTimeoutMs: 200, weight: 1 },
  { name: "prices", path: "/prices", optional: false, staticTimeoutMs: 200, weight: 1 },
  { name: "ads", path: "/ads", optional: true, staticTimeoutMs: 300, weight: 0.5 },
  {
    name: "recommendations",
    path: "/recommendations",
    optional: true,
    staticTimeoutMs: 300,
    weight: 0.5,
  },
];

const USERS: FaultProfile = { latency: { type: "lognormal", medianMs: 30, sigma: 0.5 } };
const PRICES: FaultProfile = { latency: { type: "pareto", minMs: 16, alpha: 2.5, maxMs: 2_000 } };
const ADS: FaultProfile = {
  latency: { type: "pareto", minMs: 30, alpha: 1.5, maxMs: 5_000 },
  hangRate: 0.03,
};
const RECOMMENDATIONS: FaultProfile = {
  latency: { type: "lognormal", medianMs: 80, sigma: 0.8 },
  errorRate: 0.05,
};

/** `orders` at rest: P99 about 200 ms. */
const ORDERS_AT_REST: FaultProfile = {
  latency: { type: "lognormal", medianMs: 50, sigma: 0.6 },
};

/**
 * `orders` after the change: slower, and slower again with every request in flight (latency ×
 * (1 + inFlight / 5)): at the lab's rate its median goes from 50 to about 120 ms and about a
 * quarter of its calls pass the static timeout; most stay under the deadline.
 */
const ORDERS_UNDER_LOAD: FaultProfile = {
  latency: { type: "lognormal", medianMs: 80, sigma: 0.6 },
  capacity: 5,
};

/** The strategies' path prefixes: each calls a copy of the graph of its own. */
const PREFIXES = ["/static", "/whole", "/dynamic"] as const;

function graph(orders: FaultProfile, seed: number): FaultConfig {
  const profiles: Record<string, FaultProfile> = {
    "/users": USERS,
    "/orders": orders,
    "/prices": PRICES,
    "/ads": ADS,
    "/recommendations": RECOMMENDATIONS,
  };
  const routes: Record<string, FaultProfile> = {};
  for (const prefix of PREFIXES) {
    for (const [path, profile] of Object.entries(profiles)) routes[`${prefix}${path}`] = profile;
  }
  return { seed, routes };
}

/** @internal The upstream's configuration for the first half of a run. */
export function graphAtRest(seed: number): FaultConfig {
  return graph(ORDERS_AT_REST, seed);
}

/** @internal The configuration from the middle of a run on: `orders` slows down under load. */
export function graphUnderLoad(seed: number): FaultConfig {
  return graph(ORDERS_UNDER_LOAD, seed);
}
