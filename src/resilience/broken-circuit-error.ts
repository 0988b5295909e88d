import { defineErrorClass, formatMs } from "../core/internal.js";

/** The states of a circuit breaker that refuse calls. */
export type RefusingState = "open" | "half-open" | "isolated";

/** What {@link BrokenCircuitError} reports about the breaker that refused a call. */
export interface BrokenCircuitDetails {
  /** The breaker's name. */
  readonly policy: string;
  /** The state that refuses. */
  readonly state: RefusingState;
  /** Wall-clock time the breaker entered `state`. */
  readonly since: Date;
  /** Wall-clock time calls may go through again (open: half-open begins); undefined if unknown. */
  readonly until: Date | undefined;
  /** Failure rate (%) that opened the breaker, if a rate opened it. */
  readonly failureRate?: number;
  /** Slow-call rate (%) that opened the breaker, if a rate opened it. */
  readonly slowCallRate?: number;
  /** Calls the rates were measured over. */
  readonly calls?: number;
}

/**
 * The error a circuit breaker rejects a call with, at once and without running it: the breaker
 * is open (the upstream failed or was slow too often), half-open with all its trial calls in
 * flight, or isolated by hand. It says since when and until when.
 *
 * @example
 * ```ts
 * const breaker = circuitBreaker({ name: "payments" });
 * async function pay(ctx: Context): Promise<unknown> {
 *   try {
 *     return await breaker.execute(ctx, (ctx) => fetchOne(ctx, "/pay"));
 *   } catch (err) {
 *     if (err instanceof BrokenCircuitError) return { queued: true, retryAt: err.until };
 *     throw err;
 *   }
 * }
 * ```
 */
export class BrokenCircuitError extends Error {
  /** `"TIMEBOUND_ERR_BROKEN_CIRCUIT"`. */
  declare readonly code: "TIMEBOUND_ERR_BROKEN_CIRCUIT";
  /** The breaker's name. */
  readonly policy: string;
  /** Why it refuses: "open", "half-open" (its trial calls are all taken) or "isolated". */
  readonly state: RefusingState;
  /** Wall-clock time the breaker entered `state`. */
  readonly since: Date;
  /** Wall-clock time calls may go through again; undefined when isolated or half-open. */
  readonly until: Date | undefined;
  /** Milliseconds until `until` (0 if it has passed); undefined when `until` is. */
  readonly retryAfterMs: number | undefined;

  constructor(details: BrokenCircuitDetails) {
    super(message(details));
    this.policy = details.policy;
    this.state = details.state;
    this.since = details.since;
    this.until = details.until;
    this.retryAfterMs =
      details.until === undefined ? undefined : Math.max(0, details.until.getTime() - Date.now());
  }
}

defineErrorClass(BrokenCircuitError, "BrokenCircuitError", {
  kind: "timebound.BrokenCircuitError",
  code: "TIMEBOUND_ERR_BROKEN_CIRCUIT",
});

function message(d: BrokenCircuitDetails): string {
  const since = d.since.toISOString();
  const name = `circuit breaker "${d.policy}"`;
  if (d.state === "isolated") {
    return `${name} is isolated since ${since}: calls are refused until reset()`;
  }
  if (d.state === "half-open") {
    return `${name} is half-open since ${since} and all its trial calls are in flight: calls are refused until they decide`;
  }
  const why =
    d.calls === undefined
      ? ""
      : ` (failure rate ${pct(d.failureRate)}, slow-call rate ${pct(d.slowCallRate)} over ${d.calls} call${d.calls === 1 ? "" : "s"})`;
  const until =
    d.until === undefined
      ? ""
      : ` until ${d.until.toISOString()} (in ${formatMs(Math.max(0, d.until.getTime() - Date.now()))})`;
  return `${name} is open since ${since}${why}: calls are refused${until}`;
}

function pct(rate: number | undefined): string {
  return rate === undefined ? "?" : `${Math.round(rate * 10) / 10}%`;
}
