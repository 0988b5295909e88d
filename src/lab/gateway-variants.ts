// The gateway scenario's three configurations, as YAML a user would write: a plain proxy, the
// seed's payment route (section 3.3), and the same route with what timebound adds.

/** @internal The seed's route deadline ("timeout ≤ 800 ms"). */
export const SEED_TIMEOUT_MS = 800;

/** @internal One way to configure the gateway's route. */
export interface GatewayVariant {
  readonly key: "plain" | "seed" | "timebound";
  readonly label: string;
  /** The route's options (YAML flow mappings, one per line), for a breaker open `openMs`. */
  route(openMs: number): string;
}

const FALLBACK = 'fallback: { status: 200, json: { status: "queued" } }';

/** @internal The variants, in the table's order. */
export const GATEWAY_VARIANTS: readonly GatewayVariant[] = [
  {
    key: "plain",
    label: "plain proxy",
    // The gateway's default deadline (30 s): a proxy with no policy of its own.
    route: () => "",
  },
  {
    key: "seed",
    label: "the seed's route",
    route: (openMs) =>
      [
        `timeoutMs: ${SEED_TIMEOUT_MS}`,
        "retry: { maxAttempts: 3, backoff: { type: exponential, initialMs: 100 } }",
        `circuitBreaker: { failureRateThreshold: 50, slowCallDurationMs: 600, halfOpenPermits: 10, openDurationMs: ${openMs} }`,
        FALLBACK,
      ].join("\n"),
  },
  {
    key: "timebound",
    label: "timebound's best",
    route: (openMs) =>
      [
        `timeoutMs: ${SEED_TIMEOUT_MS}`,
        // Each attempt gets at most half the deadline: a hung one leaves time for another.
        `attemptTimeoutMs: ${SEED_TIMEOUT_MS / 2}`,
        "retry: { maxAttempts: 3, minAttemptMs: 50, backoff: { type: exponential, initialMs: 100 }, budget: { percent: 10 } }",
        'hedge: { delayMs: "p95", maxHedges: 1, minAttemptMs: 50 }',
        "adaptiveConcurrency: { initialLimit: 40, maxLimit: 200 }",
        `circuitBreaker: { failureRateThreshold: 50, slowCallDurationMs: 600, halfOpenPermits: 10, openDurationMs: ${openMs} }`,
        `fallback: { staleMaxAgeMs: 60000, status: 200, json: { status: "queued" } }`,
      ].join("\n"),
  },
];

/** @internal The gateway's whole configuration for `variant` in front of `upstreamUrl`. */
export function gatewayYaml(variant: GatewayVariant, upstreamUrl: string, openMs: number): string {
  const route = variant.route(openMs);
  const options = route === "" ? "" : "\n" + route.replace(/^/gm, "    ");
  return [
    "listen: { host: 127.0.0.1, port: 0 }",
    "admin: { host: 127.0.0.1, port: 0 }",
    "shutdown: { drainMs: 200 }",
    `upstreams: { fault: { targets: ["${upstreamUrl}"], connections: 256 } }`,
    "routes:",
    `  - path: /items/*\n    upstream: fault${options}`,
    "",
  ].join("\n");
}
