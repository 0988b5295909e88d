// The gateway's metrics, in Prometheus form (prom-client): requests, latency and time left, by
// route; the gateway's own answers and upstream targets; and what the route's policies did
// (breaker state, retries and budget exhaustion, hedges, fallbacks, timeouts), from
// timebound/metrics' collector over the timebound:* channels, labelled by policy name (each
// route's policies are named after the route: "/pay breaker", "/pay retry").
import * as promClient from "prom-client";
import { Counter, Gauge, Registry } from "prom-client";
import { type TimeboundMetrics, collectTimeboundMetrics } from "timebound/metrics";
import type { RequestRecord } from "../gateway.js";
import type { FallbackReason } from "../limit/shared-rate-limit.js";
import { LocalCounter, LocalHistogram } from "./local-series.js";

/** What the gateway tells its metrics about itself between requests. */
export interface MetricsSource {
  /** Requests in flight. */
  inflight(): number;
  /** Each upstream target's state. */
  targetStates(): readonly {
    upstream: string;
    target: string;
    available: boolean;
    ejections: number;
  }[];
}

/** How a request ended when the gateway did not refuse it (the rest count as rejections). */
const SERVED: ReadonlySet<string> = new Set(["answered", "client-closed", "fallback", "stale"]);

/** What the gateway counts from its own records, besides requests. */
interface AnswerMetrics {
  record(r: RequestRecord): void;
  rateLimitFallback(route: string, reason: FallbackReason): void;
}

function registerAnswerMetrics(registry: Registry, source: MetricsSource): AnswerMetrics {
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
      if (!SERVED.has(r.reason)) rejections.inc({ route, reason: r.reason });
      if (r.missing !== undefined)
        for (const m of r.missing) missingParts.inc({ route, part: m.part, reason: m.reason });
    },
    rateLimitFallback(route, reason) {
      limitFallbacks.inc({ route, reason });
    },
  };
}

/** Request counters and latency of one gateway, and its policy metrics, on `registry`. */
export class GatewayMetrics {
  readonly registry: Registry;
  // Touched by every request: kept off prom-client's per-call label lookup (local-series.ts).
  readonly #requests: LocalCounter;
  readonly #duration: LocalHistogram;
  readonly #timeLeft: LocalHistogram;
  readonly #reloads: Counter<"result">;
  readonly #answers: AnswerMetrics;
  readonly #policies: TimeboundMetrics;

  constructor(registry = new Registry(), source: MetricsSource) {
    this.registry = registry;
    this.#requests = new LocalCounter(
      "timebound_gateway_requests_total",
      "Requests answered, by route, upstream, status and how they ended",
      ["route", "upstream", "status", "reason"],
    ).register(registry);
    this.#duration = new LocalHistogram(
      "timebound_gateway_request_duration_seconds",
      "Time from the request's arrival to the end of its answer",
      "route",
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    ).register(registry);
    this.#timeLeft = new LocalHistogram(
      "timebound_gateway_time_left_seconds",
      "Time left of the request's deadline when its answer went out (negative: that late)",
      "route",
      [-1, -0.1, -0.02, -0.005, 0, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
    ).register(registry);
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
    this.#answers = registerAnswerMetrics(registry, source);
    // The same prom-client as the gateway's own metrics, so one registry renders them all; no
    // per-call series (the gateway counts and times its requests per route itself), which keeps
    // a histogram observation per policy off every request.
    this.#policies = collectTimeboundMetrics({ registry, client: promClient, calls: false });
  }

  /** Counts one request (the gateway's `onRequest`). */
  record(r: RequestRecord): void {
    const route = r.route ?? "";
    this.#requests.inc([route, r.upstream ?? "", String(r.status), r.reason]);
    this.#duration.observe(route, r.durationMs / 1000);
    if (r.timeLeftMs !== undefined) this.#timeLeft.observe(route, r.timeLeftMs / 1000);
    this.#answers.record(r);
  }

  /** Counts a shared rate-limit decision taken locally. */
  rateLimitFallback(route: string, reason: FallbackReason): void {
    this.#answers.rateLimitFallback(route, reason);
  }

  reload(result: "applied" | "refused"): void {
    this.#reloads.inc({ result });
  }

  /** Stops the policy collector (its channel subscriptions are process-wide). */
  stop(): void {
    this.#policies.stop();
  }
}
