// Adaptive concurrency: a bulkhead whose size follows the dependency's latency, the second half
// of what Sentinel does for the seed's gateway. When calls queue up somewhere downstream their
// round-trip time rises before anything fails; the limit comes down with it, so the excess is
// refused here at once instead of waiting there until it times out.
import { type Context, now } from "../core/index.js";
import {
  checkContext,
  checkFunction,
  defineErrorClass,
  outOfRange,
  readOptions,
} from "../core/internal.js";
import { resilienceChannels } from "./events.js";
import { Gradient2, type LimitAlgorithm, Vegas } from "./limit-algorithms.js";
import { type CallOutcome, isOverloadError, isOverloadResponse } from "./classify.js";
import { PermitQueue, waitInLine } from "./permit-queue.js";
import type { Policy, PolicyOptions, Work } from "./policy.js";

/** Options of {@link adaptiveConcurrency}. */
export interface AdaptiveConcurrencyOptions extends PolicyOptions {
  /**
   * How the limit follows latency: `"gradient2"` (default; Netflix's Gradient2Limit, robust to
   * noisy latency) or `"vegas"` (VegasLimit, from the lowest RTT seen; reacts faster).
   */
  readonly algorithm?: "gradient2" | "vegas";
  /** The limit to start from: an integer from 1 to 100,000; default 20. */
  readonly initialLimit?: number;
  /**
   * The limit never goes below this: an integer from 1 to 100,000. Default 20 for gradient2
   * (Netflix's; at most the given `maxLimit` and `initialLimit`), 1 for vegas.
   */
  readonly minLimit?: number;
  /** The limit never goes above this: an integer from 1 to 100,000; default 200. */
  readonly maxLimit?: number;
  /**
   * Calls that may wait for the limit to let them in: an integer from 0 to 1,000,000. Default
   * 0: a call over the limit is rejected at once (shedding, the algorithms' intent).
   */
  readonly maxQueue?: number;
  /**
   * Whether a call's outcome is a drop (a sign of overload that lowers the limit under Vegas).
   * Default: it failed with an overload or unavailability error (connection refused or reset,
   * 429/502/503/504, gRPC UNAVAILABLE or RESOURCE_EXHAUSTED, a timeout other than the
   * caller's) or resolved with a response of such a status. Other failures are ignored (a
   * 404's RTT says nothing about load), as is a call whose caller's context ended first.
   */
  readonly isDropped?: (outcome: CallOutcome) => boolean;
  /** The clock RTTs are measured on, in milliseconds (for tests). Default: timebound's monotonic `now()`. */
  readonly clock?: () => number;
}

/**
 * A call reached an {@link adaptiveConcurrency} policy at its current limit (with its queue
 * full, if it has one); nothing was started. The dependency's latency says it is saturated:
 * shed the call (503) or fall back; do not retry at once.
 *
 * @example
 * ```ts
 * import { adaptiveConcurrency, ConcurrencyLimitError } from "timebound/resilience";
 * const limiter = adaptiveConcurrency({ name: "orders" });
 * try {
 *   await limiter.execute(ctx, (ctx) => fetch("http://127.0.0.1:8080/orders", { signal: ctx.signal }));
 * } catch (err) {
 *   if (!(err instanceof ConcurrencyLimitError)) throw err;
 *   console.warn(`shed at limit ${err.limit}`);
 * }
 * ```
 */
export class ConcurrencyLimitError extends Error {
  /** `"TIMEBOUND_ERR_CONCURRENCY_LIMIT"`. */
  declare readonly code: "TIMEBOUND_ERR_CONCURRENCY_LIMIT";

  constructor(
    /** The policy's name. */
    readonly policy: string,
    /** The limit in force when the call was refused. */
    readonly limit: number,
    /** Calls in flight then. */
    readonly inflight: number,
    /** The policy's `maxQueue`. */
    readonly maxQueue: number,
  ) {
    const queue = maxQueue === 0 ? "no queue" : `its ${maxQueue} queue places taken`;
    super(
      `adaptive concurrency "${policy}" is at its limit of ${limit} calls ` +
        `(${inflight} in flight, ${queue}); the call was rejected without starting`,
    );
  }
}
defineErrorClass(ConcurrencyLimitError, "ConcurrencyLimitError", {
  kind: "timebound.ConcurrencyLimitError",
  code: "TIMEBOUND_ERR_CONCURRENCY_LIMIT",
});

/** An {@link adaptiveConcurrency} policy, with its limit and load right now. */
export interface AdaptiveConcurrency extends Policy {
  /** The algorithm it runs. */
  readonly algorithm: "gradient2" | "vegas";
  /** Calls allowed in flight now (the estimate, rounded down, within [minLimit, maxLimit]). */
  readonly limit: number;
  /** Calls in flight now. */
  readonly inflight: number;
  /** Calls waiting now. */
  readonly queued: number;
}

const KNOWN = [
  "algorithm",
  "initialLimit",
  "minLimit",
  "maxLimit",
  "maxQueue",
  "isDropped",
  "clock",
  "name",
] as const;
const LIMIT = { min: 1, max: 100_000, integer: true } as const;

function droppedByDefault(outcome: CallOutcome): boolean {
  return outcome.ok ? isOverloadResponse(outcome.value) : isOverloadError(outcome.error);
}

class AdaptiveConcurrencyPolicy implements AdaptiveConcurrency {
  readonly #permits: PermitQueue;
  readonly #isDropped: (outcome: CallOutcome) => boolean;
  readonly #limiter: LimitAlgorithm;
  readonly #clock: () => number;

  constructor(
    readonly name: string,
    readonly algorithm: "gradient2" | "vegas",
    readonly maxQueue: number,
    isDropped: (outcome: CallOutcome) => boolean,
    limiter: LimitAlgorithm,
    clock: () => number,
  ) {
    this.#isDropped = isDropped;
    this.#clock = clock;
    this.#limiter = limiter;
    this.#permits = new PermitQueue(Math.floor(limiter.estimate), "adaptive-concurrency");
  }

  get limit(): number {
    return this.#permits.limit;
  }

  get inflight(): number {
    return this.#permits.inflight;
  }

  get queued(): number {
    return this.#permits.queued;
  }

  async execute<T>(ctx: Context, work: Work<T>): Promise<T> {
    checkContext(ctx, "adaptiveConcurrency.execute");
    checkFunction(work, "adaptiveConcurrency.execute", "work");
    ctx.throwIfDone();
    const permits = this.#permits;
    if (!permits.tryTake()) await this.#wait(ctx);
    let released = false;
    try {
      ctx.throwIfDone(); // let in as the context ended: start nothing doomed
      const inflight = permits.inflight;
      const start = this.#clock();
      let value: T;
      try {
        value = await work(ctx);
      } catch (error) {
        released = true;
        this.#sample(ctx, start, inflight, { ok: false, error });
        throw error;
      }
      released = true;
      this.#sample(ctx, start, inflight, { ok: true, value });
      return value;
    } finally {
      if (!released) permits.release();
    }
  }

  #wait(ctx: Context): Promise<void> {
    const permits = this.#permits;
    const channel = resilienceChannels.adaptiveConcurrency;
    return waitInLine(permits, ctx, this.maxQueue, channel, this.name, () => {
      if (channel.hasSubscribers) {
        channel.publish({
          policy: this.name,
          event: "rejected",
          context: ctx,
          limit: permits.limit,
          inflight: permits.inflight,
          queued: permits.queued,
        });
      }
      return new ConcurrencyLimitError(this.name, permits.limit, permits.inflight, this.maxQueue);
    });
  }

  /** Returns the call's permit, after feeding its sample to the algorithm (moving the limit). */
  #sample(ctx: Context, start: number, inflight: number, outcome: CallOutcome): void {
    const permits = this.#permits;
    try {
      if (ctx.err !== undefined) return; // the caller gave up: its RTT says nothing
      let dropped: boolean;
      try {
        dropped = this.#isDropped(outcome) === true;
      } catch {
        dropped = false; // a classifier that throws must not turn the call's outcome into its error
      }
      if (!outcome.ok && !dropped) return; // a failure that is not about load: ignored
      const rttMs = Math.max(this.#clock() - start, 0.001);
      const from = permits.limit;
      const to = Math.floor(this.#limiter.update(rttMs, inflight, dropped));
      if (to === from) return;
      const channel = resilienceChannels.adaptiveConcurrency;
      if (channel.hasSubscribers) {
        channel.publish({ policy: this.name, event: "limit-changed", from, to, rttMs, inflight });
      }
      permits.limit = to; // may let waiters in: after the event, so they follow it in order
    } finally {
      permits.release();
    }
  }
}

/**
 * A concurrency limit that follows measured latency, after Netflix's concurrency-limits
 * (https://github.com/Netflix/concurrency-limits): calls over the limit are rejected at once
 * with {@link ConcurrencyLimitError} (or wait, up to `maxQueue` of them, first in first out,
 * leaving the line the moment their context ends). Each call that settles gives a sample (its
 * round-trip time from start to settle, the calls in flight when it started, whether it was a
 * drop) and the limit moves:
 *
 * - `"gradient2"` (Gradient2Limit): gradient = max(0.5, min(1, longRtt / rtt)) with longRtt an
 *   exponential average over 600 samples; newLimit = limit × gradient + 4, smoothed as
 *   limit × 0.8 + newLimit × 0.2. Latency above its long-run average shrinks the limit (by at
 *   most half per step); steady latency lets it grow by up to 4 × 0.2 per call.
 * - `"vegas"` (VegasLimit): queue = ceil(limit × (1 − minRtt / rtt)); with alpha = 3·log10(limit)
 *   and beta = 6·log10(limit), grows by beta while queue ≤ log10(limit), by log10(limit) while
 *   queue < alpha, shrinks by log10(limit) when queue > beta or on a drop.
 *
 * Both leave the limit alone while the service is app-limited (fewer than half the limit in
 * flight). The limit stays within [minLimit, maxLimit]. A permit is returned however the work
 * settles, synchronous throws included; work that ignores its context keeps its permit until
 * it settles.
 *
 * Events on `timebound:resilience:adaptive-concurrency`
 * ({@link resilienceChannels}.adaptiveConcurrency), each with `policy` and `event`:
 * - `"limit-changed"`: `from`, `to` (the limit), `rttMs` and `inflight` of the sample that moved it.
 * - `"rejected"`: `context`, `limit`, `inflight`, `queued`.
 * - `"queued"`, `"dequeued"`, `"left-queue"`: as the bulkhead's (`queued`; `waitedMs`;
 *   `waitedMs` and `error`).
 *
 * Options: `algorithm` (default `"gradient2"`), `initialLimit` (default 20), `minLimit`
 * (default 20 for gradient2, as Netflix's, 1 for vegas), `maxLimit` (default 200), all integers from 1 to 100,000 with min ≤ initial ≤
 * max; `maxQueue` (default 0), `isDropped`, `clock`, `name` (default `"adaptive-concurrency"`). A bad
 * or unknown option throws a TypeError or RangeError naming it.
 *
 * @example
 * ```ts
 * import { adaptiveConcurrency, ConcurrencyLimitError } from "timebound/resilience";
 * const inventory = adaptiveConcurrency({ algorithm: "vegas", initialLimit: 10, maxLimit: 100 });
 * try {
 *   await inventory.execute(ctx, (ctx) => fetch("http://127.0.0.1:8080/stock", { signal: ctx.signal }));
 * } catch (err) {
 *   if (err instanceof ConcurrencyLimitError) console.warn(err.message); // shed: answer 503
 *   else throw err;
 * }
 * console.log(`limit ${inventory.limit}, in flight ${inventory.inflight}`);
 * ```
 */
export function adaptiveConcurrency(options?: AdaptiveConcurrencyOptions): AdaptiveConcurrency {
  const fn = "adaptiveConcurrency";
  const o = readOptions(options, fn, [...KNOWN]);
  const algorithm = o.oneOf("algorithm", "gradient2", ["gradient2", "vegas"] as const);
  // Gradient2's floor defaults to Netflix's 20: from 1 the limit collapses during an outage and
  // refuses fresh answers for long after it (measured in the three-tier lab). Vegas keeps 1.
  // The default never exceeds a given maxLimit or initialLimit.
  const given = (key: "maxLimit" | "initialLimit"): number => {
    const v = o.raw(key);
    return typeof v === "number" ? v : Infinity;
  };
  const floor =
    algorithm === "gradient2" ? Math.min(20, given("maxLimit"), given("initialLimit")) : 1;
  const minLimit = o.number("minLimit", Math.max(1, floor), LIMIT);
  const maxLimit = o.number("maxLimit", Math.max(200, minLimit), LIMIT);
  if (maxLimit < minLimit) {
    throw outOfRange(
      `${fn}: options.maxLimit (${maxLimit}) must not be below options.minLimit (${minLimit})`,
    );
  }
  const initialLimit = o.number("initialLimit", Math.min(Math.max(20, minLimit), maxLimit), LIMIT);
  if (initialLimit < minLimit || initialLimit > maxLimit) {
    throw outOfRange(
      `${fn}: options.initialLimit must be within options.minLimit and options.maxLimit ` +
        `(${minLimit} to ${maxLimit}), got ${initialLimit}`,
    );
  }
  const maxQueue = o.number("maxQueue", 0, { min: 0, max: 1_000_000, integer: true });
  const isDropped = o.function("isDropped", droppedByDefault);
  const clock = o.function("clock", now);
  const name = o.string("name", "adaptive-concurrency");
  const limiter =
    algorithm === "vegas"
      ? new Vegas(initialLimit, minLimit, maxLimit)
      : new Gradient2(initialLimit, minLimit, maxLimit);
  return new AdaptiveConcurrencyPolicy(name, algorithm, maxQueue, isDropped, limiter, clock);
}
