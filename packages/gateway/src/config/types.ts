// The gateway's configuration after validation: what gateway.schema.json describes, with every
// default filled in, so the rest of the gateway never guesses.

/** Where a server listens. */
export interface ListenConfig {
  readonly host: string;
  readonly port: number;
}

/** Limits that protect the gateway from its clients. */
export interface LimitsConfig {
  /** Largest request head (request line and headers), in bytes. */
  readonly maxHeaderBytes: number;
  /** Largest request body, in bytes, unless a route sets its own. */
  readonly maxBodyBytes: number;
  /** Time a client has to send its complete request head (slowloris). */
  readonly headersTimeoutMs: number;
  /** Time a keep-alive connection may sit idle between requests. */
  readonly idleTimeoutMs: number;
}

/** How the incoming deadline is read. */
export interface DeadlineConfig {
  /** Request headers that may carry the caller's time left; the earliest deadline wins. */
  readonly headers: readonly string[];
}

/** A pool of targets that serve the same thing. */
export interface UpstreamConfig {
  readonly name: string;
  /** Origins (`http://host:port`), one per target. */
  readonly targets: readonly string[];
  readonly balance: "round-robin" | "least-request";
  /** Connections kept per target. */
  readonly connections: number;
  /** How long an idle connection to a target stays open (the target's Keep-Alive hint is capped by it). */
  readonly idleTimeoutMs: number;
  /** The upstream speaks gRPC: the time left also goes in `grpc-timeout`. */
  readonly grpc: boolean;
  /** Passive outlier detection: a target that fails this often leaves the rotation for a while. */
  readonly outlier: OutlierConfig | undefined;
  /** Active health checks, off unless configured. */
  readonly healthCheck: HealthCheckConfig | undefined;
}

export interface OutlierConfig {
  readonly consecutiveFailures: number;
  readonly ejectMs: number;
}

export interface HealthCheckConfig {
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** A static answer the gateway gives itself. */
export interface StaticResponseConfig {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The body: `json` serialised, or `body` as is. */
  readonly body: string;
  readonly contentType: string;
}

export interface FallbackConfig {
  /** Serve the last good response for the same method and path, if younger than this. */
  readonly staleMaxAgeMs: number | undefined;
  /** Otherwise (or when nothing is cached), this answer. */
  readonly response: StaticResponseConfig | undefined;
}

export interface RateLimitConfig {
  readonly ratePerSecond: number;
  readonly burst: number;
  /** What a client is: its address, or the value of a header. */
  readonly key: { readonly kind: "ip" } | { readonly kind: "header"; readonly name: string };
  /** Share the limit across gateway instances through Redis (`redis.url`). */
  readonly shared: boolean;
}

/** One part of an aggregation route. */
export interface AggregatePartConfig {
  readonly name: string;
  readonly upstream: string;
  readonly path: string;
  readonly required: boolean;
  readonly weight: number;
}

export interface RouteConfig {
  /** Index in the file's `routes` list, for messages. */
  readonly index: number;
  readonly name: string;
  readonly path: string;
  readonly methods: readonly string[] | undefined;
  readonly host: string | undefined;
  readonly upstream: string | undefined;
  readonly rewrite: { readonly stripPrefix?: string; readonly addPrefix?: string } | undefined;
  /** The route's total deadline (and the most a caller's deadline header may ask for). */
  readonly timeoutMs: number;
  readonly attemptTimeoutMs: number | undefined;
  /** Policy options, passed to timebound/resilience as written (it checks them). */
  readonly retry: Readonly<Record<string, unknown>> | undefined;
  /** Retry non-idempotent methods too. */
  readonly retryNonIdempotent: boolean;
  readonly circuitBreaker: Readonly<Record<string, unknown>> | undefined;
  readonly bulkhead: Readonly<Record<string, unknown>> | undefined;
  readonly adaptiveConcurrency: Readonly<Record<string, unknown>> | undefined;
  readonly hedge: Readonly<Record<string, unknown>> | undefined;
  readonly fallback: FallbackConfig | undefined;
  readonly rateLimit: RateLimitConfig | undefined;
  readonly maxBodyBytes: number;
  readonly aggregate: readonly AggregatePartConfig[] | undefined;
  /** WebSocket upgrades passed through, each closed after `maxLifetimeMs`; off when undefined. */
  readonly websocket: { readonly maxLifetimeMs: number } | undefined;
  /** The Host sent upstream: the target's authority, or the client's. */
  readonly hostHeader: "upstream" | "preserve";
}

/** Redis, for rate limits shared across gateway instances. */
export interface RedisConfig {
  readonly url: string;
  /** Prefix of every key the gateway writes. */
  readonly keyPrefix: string;
  /** The most a decision may take from a request's deadline. */
  readonly timeoutMs: number;
}

export interface GatewayConfig {
  readonly listen: ListenConfig;
  readonly admin: ListenConfig | undefined;
  readonly limits: LimitsConfig;
  readonly deadline: DeadlineConfig;
  readonly shutdown: { readonly drainMs: number };
  readonly redis: RedisConfig | undefined;
  readonly upstreams: ReadonlyMap<string, UpstreamConfig>;
  readonly routes: readonly RouteConfig[];
}
