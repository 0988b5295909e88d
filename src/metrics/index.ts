/**
 * Metrics and traces for what timebound announces on its diagnostics channels: a prom-client
 * collector ({@link collectTimeboundMetrics}) for the resilience policies, the core's deadlines
 * and the adapters' events, and an OpenTelemetry bridge ({@link traceTimebound}) that turns the
 * same events into span events. prom-client and `@opentelemetry/api` are optional peer
 * dependencies, loaded only when one of these starts.
 *
 * @example
 * ```ts
 * import { Registry } from "prom-client";
 * import { collectTimeboundMetrics, traceTimebound } from "timebound/metrics";
 * const registry = new Registry();
 * const metrics = collectTimeboundMetrics({ registry, contextNames: ["checkout"] });
 * const tracing = traceTimebound();
 * // serve `await registry.metrics()` on /metrics; at shutdown:
 * metrics.stop();
 * tracing.stop();
 * ```
 *
 * @module
 */
export {
  collectTimeboundMetrics,
  type TimeboundMetrics,
  type TimeboundMetricsOptions,
} from "./collector.js";
export { traceTimebound, type TimeboundTracing, type TraceTimeboundOptions } from "./trace.js";
export { MissingPeerDependencyError } from "./peer.js";
