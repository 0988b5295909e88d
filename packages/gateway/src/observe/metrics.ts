// The gateway's metrics, in Prometheus form (prom-client): requests, latency and time left, and
// what the route's policies did. Policy metrics are counted here from what the gateway itself
// sees (each request's attempts and how it ended, the breakers' `state`), in one place
// (`registerPolicyMetrics`), so that switching to timebound/metrics' collector over the
// timebound:* channels, once it lands, replaces that one call.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { RequestRecord } from "../gateway.js";
import type { FallbackReason } from "../limit/shared-rate-limit.js";
import type { CircuitState } from "timebound/resilience";

/** What the gateway tells its metrics about itself between requests. */
export interface MetricsSource {
  /** Requests in flight. */
  inflight(): number;
  /** Each route's breaker state. */
  breakerStates(): readonly { route: string; state: CircuitState }[];
  /** Each upstream target's state. */
  targetStates(): readonly {
    upstream: string;
    target: string;
    available: boolean;
    ejections: number;
  }[];
}

const BREAKER_STATES: readonly CircuitState[] = ["closed", "open", "half-open", "isolated"];

/** The policy metrics, counted from the gateway's own records (see the file's comment). */
interface PolicyMetrics {
  record(r: RequestRecord): void;
  rateLimitFallback(route: string, reason: FallbackReason): void;
}

function registerPolicyMetrics(registry: Registry, source: MetricsSource): PolicyMetrics {
  const retries = new Counter({
    name: "timebound_gateway_retries_total",
    help: "Upstream attempts beyond each request's first (retries and hedges), by route",
    labelNames: ["route"],
    registers: [registry],
  });
  const fallbacks = new Counter({
    name: "timebound_gateway_fallbacks_total",
    help: "Answers served by a fallback instead of the upstream, by route and kind (static, stale)",
    labelNames: ["route", "kind"],
    registers: [registry],
  });
  const rejections = new Counter({
    name: "timebound_gateway_rejections_total",
    help: "Answers the gateway made itself, by route and reason (rate-limited, circuit-open, overloaded, deadline-exceeded, ...)",
    labelNames: ["route", "reason"],
    registers: [registry],
  });
  const missingParts = new Counter({
    name: "timebound_gateway_aggregate_missing_parts_total",
    help: "Parts of aggregation routes that had no value, by route, part and reason",
    labelNames: ["route", "part", "reason"],
    registers: [registry],
  });
  const limitFallbacks = new Counter({
    name: "timebound_gateway_rate_limit_fallbacks_total",
    help: "Shared rate-limit decisions taken by the local limit because Redis could not decide, by route and reason (timeout, unavailable, error)",
    labelNames: ["route", "reason"],
    registers: [registry],
  });
  new Gauge({
    name: "timebound_gateway_circuit_breaker_state",
    help: "Each route's circuit breaker: 1 for its current state, 0 for the others",
    labelNames: ["route", "state"],
    registers: [registry],
    collect() {
      this.reset();
      for (const b of source.breakerStates()) {
        for (const state of BREAKER_STATES)
          this.set({ route: b.route, state }, b.state === state ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: "timebound_gateway_upstream_target_available",
    help: "1 when an upstream target is in rotation, 0 when ejected or failing its health check",
    labelNames: ["upstream", "target"],
    registers: [registry],
    collect() {
      this.reset();
      for (const t of source.targetStates()) {
        this.set({ upstream: t.upstream, target: t.target }, t.available ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: "timebound_gateway_upstream_ejections",
    help: "Times outlier detection ejected each upstream target (current configuration)",
    labelNames: ["upstream", "target"],
    registers: [registry],
    collect() {
      this.reset();
      for (const t of source.targetStates()) {
        this.set({ upstream: t.upstream, target: t.target }, t.ejections);
      }
    },
  });
  return {
    record(r) {
      const route = r.route ?? "";
      if (r.attempts > 1) retries.inc({ route }, r.attempts - 1);
      if (r.reason === "fallback") fallbacks.inc({ route, kind: "static" });
      else if (r.reason === "stale") fallbacks.inc({ route, kind: "stale" });
      else if (r.reason !== "answered" && r.reason !== "client-closed") {
        rejections.inc({ route, reason: r.reason });
      }
      for (const m of r.missing ?? []) missingParts.inc({ route, part: m.part, reason: m.reason });
    },
    rateLimitFallback(route, reason) {
      limitFallbacks.inc({ route, reason });
    },
  };
}

/** Request counters and latency of one gateway, and its policy metrics, on `registry`. */
export class GatewayMetrics {
  readonly registry: Registry;
  readonly #requests: Counter<"route" | "upstream" | "status" | "reason">;
  readonly #duration: Histogram<"route">;
  readonly #timeLeft: Histogram<"route">;
  readonly #reloads: Counter<"result">;
  readonly #policies: PolicyMetrics;

  constructor(registry = new Registry(), source: MetricsSource) {
    this.registry = registry;
    this.#requests = new Counter({
      name: "timebound_gateway_requests_total",
      help: "Requests answered, by route, upstream, status and how they ended",
      labelNames: ["route", "upstream", "status", "reason"],
      registers: [registry],
    });
    this.#duration = new Histogram({
      name: "timebound_gateway_request_duration_seconds",
      help: "Time from the request's arrival to the end of its answer",
      labelNames: ["route"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.#timeLeft = new Histogram({
      name: "timebound_gateway_time_left_seconds",
      help: "Time left of the request's deadline when its answer went out",
      labelNames: ["route"],
      buckets: [0, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers: [registry],
    });
    this.#reloads = new Counter({
      name: "timebound_gateway_config_reloads_total",
      help: "Configuration reloads, by result (applied, refused)",
      labelNames: ["result"],
      registers: [registry],
    });
    new Gauge({
      name: "timebound_gateway_inflight_requests",
      help: "Requests in flight",
      registers: [registry],
      collect() {
        this.set(source.inflight());
      },
    });
    this.#policies = registerPolicyMetrics(registry, source);
  }

  /** Counts one request (the gateway's `onRequest`). */
  record(r: RequestRecord): void {
    const route = r.route ?? "";
    this.#requests.inc({
      route,
      upstream: r.upstream ?? "",
      status: String(r.status),
      reason: r.reason,
    });
    this.#duration.observe({ route }, r.durationMs / 1000);
    if (r.timeLeftMs !== undefined)
      this.#timeLeft.observe({ route }, Math.max(0, r.timeLeftMs) / 1000);
    this.#policies.record(r);
  }

  /** Counts a shared rate-limit decision taken locally. */
  rateLimitFallback(route: string, reason: FallbackReason): void {
    this.#policies.rateLimitFallback(route, reason);
  }

  reload(result: "applied" | "refused"): void {
    this.#reloads.inc({ result });
  }
}
