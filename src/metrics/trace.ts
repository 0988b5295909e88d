// OpenTelemetry: what timebound announces becomes span events on the span active where it
// happened (a retry, a breaker's refusal, a deadline that fired), so a trace shows why a call
// took the time it took.
import type * as OtelApi from "@opentelemetry/api";
import { invalidType, readOptions } from "../core/internal.js";
import { loadPeer } from "./peer.js";
import { field, type Listener, subscribeAll } from "./subscriptions.js";

/** Options of {@link traceTimebound}. */
export interface TraceTimeboundOptions {
  /** The `@opentelemetry/api` module to use (an application's own copy). Default: loaded from timebound's folder. */
  readonly api?: typeof OtelApi;
}

/** A running tracer bridge: {@link traceTimebound}. */
export interface TimeboundTracing {
  /** Unsubscribes; later calls do nothing. */
  stop(): void;
  /** Same as {@link TimeboundTracing.stop}, for `using`. */
  [Symbol.dispose](): void;
}

const FN = "traceTimebound";

/** The channels bridged, with the prefix of their span events' names. */
const CHANNELS: Readonly<Record<string, string>> = {
  "timebound:resilience:pipeline": "timebound.pipeline",
  "timebound:resilience:timeout": "timebound.timeout",
  "timebound:resilience:retry": "timebound.retry",
  "timebound:resilience:circuit-breaker": "timebound.circuit-breaker",
  "timebound:resilience:circuit-breaker:call": "timebound.circuit-breaker",
  "timebound:resilience:bulkhead": "timebound.bulkhead",
  "timebound:resilience:fallback": "timebound.fallback",
  "timebound:resilience:hedge": "timebound.hedge",
  "timebound:resilience:rate-limit": "timebound.rate-limit",
  "timebound:resilience:adaptive-concurrency": "timebound.adaptive-concurrency",
  "timebound:resilience:adaptive-throttle": "timebound.adaptive-throttle",
  "timebound:deadline:fired": "timebound.deadline",
  "timebound:pg:cancel": "timebound.pg",
  "timebound:redis:late-reply": "timebound.redis",
};

/** Events of the channels that carry no `event` field. */
const FIXED_EVENT: Readonly<Record<string, string>> = {
  "timebound:deadline:fired": "fired",
  "timebound:pg:cancel": "cancel",
  "timebound:redis:late-reply": "late-reply",
};

/**
 * Bridges timebound's events to OpenTelemetry: each policy event (a retry, a give-up, a
 * breaker's state change or refusal, a hedge, a fallback, a per-call timeout, a pipeline call's
 * end), each deadline that fires, each PostgreSQL statement stopped and each late Redis reply
 * becomes an event on the span active where it happened (`trace.getActiveSpan()`), named
 * `timebound.<source>.<event>` (`timebound.retry.retry`, `timebound.circuit-breaker.rejected`,
 * `timebound.deadline.fired`), with attributes `timebound.policy`, `timebound.event`,
 * `timebound.context` (the context's name), `timebound.error.type` (the error's code, else its
 * name) and each number, string or boolean detail of the event as `timebound.<detail>`
 * (`timebound.attempt`, `timebound.delayMs`, `timebound.reason`...). Events with no active,
 * recording span are dropped. It creates no spans: your instrumentation does.
 *
 * `@opentelemetry/api` is an optional peer dependency, loaded here: without it this throws a
 * `MissingPeerDependencyError` that says what to install.
 *
 * @example
 * ```ts
 * import { traceTimebound } from "timebound/metrics";
 * const tracing = traceTimebound();
 * // ... at shutdown:
 * tracing.stop();
 * ```
 */
export function traceTimebound(options?: TraceTimeboundOptions): TimeboundTracing {
  const o = readOptions(options, FN, ["api"]);
  const api = o.raw("api") ?? loadPeer<typeof OtelApi>(FN, "@opentelemetry/api");
  if (typeof api?.trace?.getActiveSpan !== "function") {
    throw invalidType(`${FN}: options.api must be the @opentelemetry/api module`);
  }
  const trace = api.trace;
  const listeners: Record<string, Listener> = {};
  for (const [channel, prefix] of Object.entries(CHANNELS)) {
    const fixed = FIXED_EVENT[channel];
    listeners[channel] = (m) => {
      const span = trace.getActiveSpan();
      if (span === undefined || !span.isRecording()) return;
      const event = fixed ?? field(m, "event");
      if (typeof event !== "string") return;
      span.addEvent(`${prefix}.${event}`, attributesOf(m, event));
    };
  }
  let unsubscribe: (() => void) | undefined = subscribeAll(listeners);
  const stop = (): void => {
    unsubscribe?.();
    unsubscribe = undefined;
  };
  return { stop, [Symbol.dispose]: stop };
}

function attributesOf(message: unknown, event: string): OtelApi.Attributes {
  const attributes: OtelApi.Attributes = { "timebound.event": event };
  if (typeof message !== "object" || message === null) return attributes;
  for (const [key, value] of Object.entries(message)) {
    if (key === "event") continue;
    if (key === "context") {
      const name = field(value, "name");
      if (typeof name === "string") attributes["timebound.context"] = name;
    } else if (key === "error" || key === "failure") {
      const type = field(value, "code") ?? field(value, "name");
      if (typeof type === "string") attributes[`timebound.${key}.type`] = type;
    } else if (typeof value === "string" || typeof value === "boolean") {
      attributes[`timebound.${key}`] = value;
    } else if (typeof value === "number" && Number.isFinite(value)) {
      attributes[`timebound.${key}`] = value;
    }
  }
  return attributes;
}
