// Prometheus metrics for what timebound announces on its diagnostics channels: the policies'
// decisions, deadlines that fired, statements stopped, replies that came late. Nothing is
// measured while no collector runs (publishers check hasSubscribers first).
import type * as PromClient from "prom-client";
import { checkString, invalidType, outOfRange, readOptions } from "../core/internal.js";
import { ContextLabels } from "./context-label.js";
import { loadPeer } from "./peer.js";
import { field, type Listener, num, subscribeAll, text } from "./subscriptions.js";

/** Options of {@link collectTimeboundMetrics}. */
export interface TimeboundMetricsOptions {
  /** The registry the metrics are registered in. Default: prom-client's global `register`. */
  readonly registry?: PromClient.Registry;
  /** Prepended to every metric name; letters, digits, `_` and `:`. Default `"timebound_"`. */
  readonly prefix?: string;
  /**
   * The context names `deadline_exceeded_total` keeps as its `context` label; other names count
   * as `"other"`, unnamed contexts as `"unnamed"`. Default: the first `maxContextNames` distinct
   * names seen, then `"other"`.
   */
  readonly contextNames?: readonly string[];
  /** Without `contextNames`: how many distinct names are kept (1 to 1,000). Default 20. */
  readonly maxContextNames?: number;
  /** Bucket bounds of the call-duration histogram, in seconds. Default 5 ms to 10 s. */
  readonly buckets?: readonly number[];
  /** The prom-client module to use (an application's own copy). Default: loaded from timebound's folder. */
  readonly client?: typeof PromClient;
  /**
   * Whether to count every call of pipelines and circuit breakers (`resilience_calls_total` and
   * `resilience_call_duration_seconds`). Default true. `false` leaves those two series out and
   * the per-call channels (pipelines', breakers') unheard, so that nothing is published per
   * call: for a caller that counts its own requests (the gateway does, per route). A breaker
   * made before the collector then shows its state from its first change or refusal.
   */
  readonly calls?: boolean;
}

/** A running collector: {@link collectTimeboundMetrics}. */
export interface TimeboundMetrics {
  /** The metrics by name without the prefix (`"resilience_calls_total"`...), for tests and dashboards. */
  readonly metrics: ReadonlyMap<string, PromClient.Metric>;
  /** Unsubscribes and removes the metrics from the registry; later calls do nothing. */
  stop(): void;
  /** Same as {@link TimeboundMetrics.stop}, for `using`. */
  [Symbol.dispose](): void;
}

const FN = "collectTimeboundMetrics";
const KNOWN = [
  "registry",
  "prefix",
  "contextNames",
  "maxContextNames",
  "buckets",
  "client",
  "calls",
] as const;
const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** `circuit_breaker_state`'s value per state. */
const BREAKER_STATES: Readonly<Record<string, number>> = {
  closed: 0,
  "half-open": 1,
  open: 2,
  isolated: 3,
};
/** The policies that refuse calls, by channel, and the `kind` label of their rejections. */
const REFUSING = {
  "timebound:resilience:circuit-breaker": "circuit-breaker",
  "timebound:resilience:bulkhead": "bulkhead",
  "timebound:resilience:rate-limit": "rate-limit",
  "timebound:resilience:adaptive-concurrency": "adaptive-concurrency",
  "timebound:resilience:adaptive-throttle": "adaptive-throttle",
} as const;

/**
 * Starts a prom-client collector for timebound's events. It subscribes to the
 * `timebound:*` diagnostics channels and keeps these metrics (names after the prefix, default
 * `timebound_`; docs/metrics.md has the full table):
 * - `resilience_calls_total` and `resilience_call_duration_seconds` {policy, outcome}: each call
 *   of a pipeline (outcome `success`, `failure`, `canceled`) and each call a circuit breaker
 *   let through (`success`, `failure`, `ignored`);
 * - `circuit_breaker_state` {policy} (0 closed, 1 half-open, 2 open, 3 isolated) and
 *   `circuit_breaker_transitions_total` {policy, from, to};
 * - `retries_total` {policy} and `retry_give_ups_total` {policy, reason}: `reason="budget"` is
 *   budget exhaustion;
 * - `rejections_total` {policy, kind}: calls refused by a breaker, bulkhead, rate limit,
 *   adaptive concurrency or adaptive throttle;
 * - `hedges_total` {policy}, `hedges_skipped_total` {policy, reason}, `hedged_calls_total`
 *   {policy, winner};
 * - `fallbacks_total` {policy, kind}, `timeouts_total` {policy, event}, `concurrency_limit` {policy};
 * - `deadline_exceeded_total` {context}: deadlines that fired, by context name (bounded: see
 *   `contextNames`);
 * - `pg_cancels_total` {outcome} and `redis_late_replies_total` {outcome}.
 *
 * Labels take their values from policy names (set in code, so bounded) and fixed sets; the one
 * label fed by runtime data, `context`, is bounded by `contextNames`/`maxContextNames`.
 * prom-client is an optional peer dependency, loaded here: without it this throws a
 * `MissingPeerDependencyError` that says what to install. Bad options throw a TypeError or
 * RangeError naming the option.
 *
 * @example
 * ```ts
 * import { Registry } from "prom-client";
 * import { collectTimeboundMetrics } from "timebound/metrics";
 * const registry = new Registry();
 * const metrics = collectTimeboundMetrics({ registry, contextNames: ["checkout", "search"] });
 * // serve `await registry.metrics()` on /metrics; at shutdown:
 * metrics.stop();
 * ```
 */
export function collectTimeboundMetrics(options?: TimeboundMetricsOptions): TimeboundMetrics {
  const o = readOptions(options, FN, KNOWN);
  const prefix = o.string("prefix", "timebound_", true);
  if (!/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix)) {
    throw invalidType(
      `${FN}: options.prefix must be letters, digits, "_" and ":" not starting with a digit, got "${prefix}"`,
    );
  }
  const contextNames = checkNames(o.raw("contextNames"));
  const maxContextNames = o.number("maxContextNames", 20, { min: 1, max: 1_000, integer: true });
  const buckets = checkBuckets(o.raw("buckets"));
  const client = o.raw("client") ?? loadPeer<typeof PromClient>(FN, "prom-client");
  if (typeof client?.Counter !== "function" || typeof client.Histogram !== "function") {
    throw invalidType(`${FN}: options.client must be the prom-client module`);
  }
  const registry = o.raw("registry") ?? client.register;
  if (typeof registry?.registerMetric !== "function") {
    throw invalidType(`${FN}: options.registry must be a prom-client Registry`);
  }
  const calls = o.boolean("calls", true);
  return new Collector(
    client,
    registry,
    prefix,
    new ContextLabels(contextNames, maxContextNames),
    buckets,
    calls,
  );
}

function checkNames(value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) {
    throw invalidType(`${FN}: options.contextNames must be an array of strings`);
  }
  return value.map((name, i) => checkString(name, FN, `options.contextNames[${i}]`));
}

function checkBuckets(value: unknown): number[] {
  if (value === undefined) return DEFAULT_BUCKETS;
  if (!Array.isArray(value) || value.length === 0) {
    throw invalidType(`${FN}: options.buckets must be a non-empty array of seconds`);
  }
  value.forEach((b, i) => {
    if (typeof b !== "number" || !(b > 0) || !Number.isFinite(b) || (i > 0 && b <= value[i - 1])) {
      throw outOfRange(
        `${FN}: options.buckets must be finite numbers of seconds > 0 in increasing order, got ${String(b)} at ${i}`,
      );
    }
  });
  return [...(value as number[])];
}

class Collector implements TimeboundMetrics {
  readonly metrics = new Map<string, PromClient.Metric>();
  readonly #registry: PromClient.Registry;
  readonly #prefix: string;
  #unsubscribe: (() => void) | undefined;

  constructor(
    client: typeof PromClient,
    registry: PromClient.Registry,
    prefix: string,
    contexts: ContextLabels,
    buckets: number[],
    countCalls: boolean,
  ) {
    this.#registry = registry;
    this.#prefix = prefix;
    const registers = [registry];
    const counter = (name: string, help: string, labelNames: string[]) => {
      const metric = new client.Counter({ name: prefix + name, help, labelNames, registers });
      this.metrics.set(name, metric);
      return metric;
    };
    const gauge = (name: string, help: string, labelNames: string[]) => {
      const metric = new client.Gauge({ name: prefix + name, help, labelNames, registers });
      this.metrics.set(name, metric);
      return metric;
    };
    const calls = countCalls
      ? counter("resilience_calls_total", "Calls of pipelines and circuit breakers, by outcome", [
          "policy",
          "outcome",
        ])
      : undefined;
    const duration = countCalls
      ? new client.Histogram({
          name: prefix + "resilience_call_duration_seconds",
          help: "Duration of calls of pipelines and circuit breakers, by outcome",
          labelNames: ["policy", "outcome"],
          buckets,
          registers,
        })
      : undefined;
    if (duration !== undefined) this.metrics.set("resilience_call_duration_seconds", duration);
    // Each call carries its breaker's state: kept in a map (one set per call) and handed to the
    // gauge when it is scraped, rather than a label lookup in prom-client on every call.
    const breakerStates = new Map<string, number>();
    const breakerState = new client.Gauge({
      name: prefix + "circuit_breaker_state",
      help: "Circuit breaker state: 0 closed, 1 half-open, 2 open, 3 isolated",
      labelNames: ["policy"],
      registers,
      collect() {
        for (const [policy, value] of breakerStates) this.set({ policy }, value);
      },
    });
    this.metrics.set("circuit_breaker_state", breakerState);
    const transitions = counter(
      "circuit_breaker_transitions_total",
      "Circuit breaker state changes",
      ["policy", "from", "to"],
    );
    const retries = counter("retries_total", "Retries started (attempts after the first)", [
      "policy",
    ]);
    const giveUps = counter(
      "retry_give_ups_total",
      "Calls retry stopped retrying, by reason (budget: the retry budget was exhausted)",
      ["policy", "reason"],
    );
    const rejections = counter(
      "rejections_total",
      "Calls refused without running, by the kind of policy",
      ["policy", "kind"],
    );
    const hedges = counter("hedges_total", "Hedged (extra) attempts started", ["policy"]);
    const hedgesSkipped = counter("hedges_skipped_total", "Hedges due but not started, by reason", [
      "policy",
      "reason",
    ]);
    const hedged = counter(
      "hedged_calls_total",
      "Calls that hedged, by which attempt answered (first, hedge, none)",
      ["policy", "winner"],
    );
    const fallbacks = counter(
      "fallbacks_total",
      "Calls answered by a fallback or stale cache (kind fallback, stale), or a stale miss",
      ["policy", "kind"],
    );
    const timeouts = counter(
      "timeouts_total",
      "Per-call timeouts that fired, and calls abandoned",
      ["policy", "event"],
    );
    const limit = gauge(
      "concurrency_limit",
      "The current limit of an adaptive concurrency policy",
      ["policy"],
    );
    const deadlines = counter(
      "deadline_exceeded_total",
      "Context deadlines that fired, by context name (bounded)",
      ["context"],
    );
    const pgCancels = counter(
      "pg_cancels_total",
      "PostgreSQL statements stopped by a context, by outcome",
      ["outcome"],
    );
    const lateReplies = counter(
      "redis_late_replies_total",
      "Redis replies that arrived after their caller left, by outcome",
      ["outcome"],
    );

    const call = (m: unknown): void => {
      if (calls === undefined || duration === undefined) return;
      const labels = { policy: text(m, "policy"), outcome: text(m, "outcome") };
      calls.inc(labels);
      const ms = num(m, "durationMs");
      if (ms !== undefined) duration.observe(labels, ms / 1000);
    };
    const rejected = (channel: keyof typeof REFUSING) => (m: unknown) => {
      if (field(m, "event") === "rejected")
        rejections.inc({ policy: text(m, "policy"), kind: REFUSING[channel] });
    };
    const breaker = rejected("timebound:resilience:circuit-breaker");
    const bulkhead = rejected("timebound:resilience:bulkhead");
    const rateLimit = rejected("timebound:resilience:rate-limit");
    const concurrencyRejected = rejected("timebound:resilience:adaptive-concurrency");
    const listeners: Record<string, Listener> = {
      // Pipelines announce nothing else: without call counts, their channel stays unheard.
      ...(countCalls
        ? {
            "timebound:resilience:pipeline": (m: unknown) => {
              if (field(m, "event") === "call") call(m);
            },
          }
        : {}),
      // Calls are on a channel of their own, heard only for the per-call series: without
      // them, a breaker's state comes from its creation and its changes.
      ...(countCalls
        ? {
            "timebound:resilience:circuit-breaker:call": (m: unknown) => {
              call(m);
              setState(breakerStates, text(m, "policy"), field(m, "state"));
            },
          }
        : {}),
      "timebound:resilience:circuit-breaker": (m) => {
        const event = field(m, "event");
        const policy = text(m, "policy");
        if (event === "created") {
          setState(breakerStates, policy, field(m, "state"));
        } else if (event === "state-change") {
          transitions.inc({ policy, from: text(m, "from"), to: text(m, "to") });
          setState(breakerStates, policy, field(m, "to"));
        } else {
          if (event === "rejected") setState(breakerStates, policy, field(m, "state"));
          breaker(m);
        }
      },
      "timebound:resilience:retry": (m) => {
        const event = field(m, "event");
        if (event === "retry") retries.inc({ policy: text(m, "policy") });
        else if (event === "give-up")
          giveUps.inc({ policy: text(m, "policy"), reason: text(m, "reason") });
      },
      "timebound:resilience:bulkhead": bulkhead,
      "timebound:resilience:rate-limit": rateLimit,
      "timebound:resilience:adaptive-throttle": rejected("timebound:resilience:adaptive-throttle"),
      "timebound:resilience:adaptive-concurrency": (m) => {
        if (field(m, "event") === "limit-changed") {
          const to = num(m, "to");
          if (to !== undefined) limit.set({ policy: text(m, "policy") }, to);
        } else concurrencyRejected(m);
      },
      "timebound:resilience:hedge": (m) => {
        const policy = text(m, "policy");
        const event = field(m, "event");
        if (event === "hedge") hedges.inc({ policy });
        else if (event === "skipped") hedgesSkipped.inc({ policy, reason: text(m, "reason") });
        else if (event === "won")
          hedged.inc({ policy, winner: num(m, "attempt") === 1 ? "first" : "hedge" });
        else if (event === "failed") hedged.inc({ policy, winner: "none" });
      },
      "timebound:resilience:fallback": (m) => {
        fallbacks.inc({ policy: text(m, "policy"), kind: text(m, "event") });
      },
      "timebound:resilience:timeout": (m) => {
        const event = field(m, "event");
        if (event === "timeout" || event === "abandoned")
          timeouts.inc({ policy: text(m, "policy"), event });
      },
      "timebound:deadline:fired": (m) => {
        deadlines.inc({ context: contexts.label(field(field(m, "context"), "name")) });
      },
      "timebound:pg:cancel": (m) => {
        pgCancels.inc({ outcome: text(m, "outcome") });
      },
      "timebound:redis:late-reply": (m) => {
        lateReplies.inc({ outcome: text(m, "outcome") });
      },
    };
    this.#unsubscribe = subscribeAll(listeners);
  }

  stop(): void {
    const unsubscribe = this.#unsubscribe;
    if (unsubscribe === undefined) return;
    this.#unsubscribe = undefined;
    unsubscribe();
    for (const name of this.metrics.keys()) this.#registry.removeSingleMetric(this.#prefix + name);
  }

  [Symbol.dispose](): void {
    this.stop();
  }
}

function setState(states: Map<string, number>, policy: string, state: unknown): void {
  const value = typeof state === "string" ? BREAKER_STATES[state] : undefined;
  if (value !== undefined) states.set(policy, value);
}
