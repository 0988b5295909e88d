// The gateway's own request metrics, in Prometheus form (prom-client). Policy and core metrics
// (breakers, retries, budgets, deadlines) come from timebound/metrics on the same registry.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { RequestRecord } from "../gateway.js";

/** Request counters and latency of one gateway, on `registry`. */
export class GatewayMetrics {
  readonly registry: Registry;
  readonly #requests: Counter<"route" | "upstream" | "status" | "reason">;
  readonly #duration: Histogram<"route">;
  readonly #timeLeft: Histogram<"route">;
  readonly #reloads: Counter<"result">;

  constructor(registry = new Registry(), inflight: () => number) {
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
        this.set(inflight());
      },
    });
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
  }

  reload(result: "applied" | "refused"): void {
    this.#reloads.inc({ result });
  }
}
