// Client-side adaptive throttling (Google, "Site Reliability Engineering", chapter 21,
// "Handling Overload"): when the backend accepts a smaller and smaller share of what this
// client sends, the client drops part of its traffic itself, before it costs the backend
// anything, with a probability that follows the backend's recent answers.
import { type Context, now } from "../core/index.js";
import { checkContext, checkFunction, defineErrorClass, readOptions } from "../core/internal.js";
import { resilienceChannels } from "./events.js";
import { type CallOutcome, isOverloadError, isOverloadResponse } from "./classify.js";
import type { Policy, PolicyOptions, Work } from "./policy.js";

/** Options of {@link adaptiveThrottle}. */
export interface AdaptiveThrottleOptions extends PolicyOptions {
  /**
   * The multiplier K of the formula: the client sends up to K times what the backend accepts.
   * A number from 1 to 100; default 2 (the book's). Lower throttles sooner, higher later.
   */
  readonly k?: number;
  /** How far back requests and accepts are counted, in ms: 1,000 to 3,600,000; default 120,000. */
  readonly windowMs?: number;
  /**
   * Whether the backend accepted a call. Default: it settled without an overload or
   * unavailability error (connection refused or reset, 429/502/503/504 as an error's `status`
   * or a response's, gRPC UNAVAILABLE or RESOURCE_EXHAUSTED, a timeout, another policy's
   * refusal), and did not resolve with a response of such a status. A call whose caller's
   * context ended first is not counted at all.
   */
  readonly isAccepted?: (outcome: CallOutcome) => boolean;
  /** The clock, in milliseconds (for tests). Default: timebound's monotonic `now()`. */
  readonly clock?: () => number;
  /** A random number in [0, 1) (for tests). Default: `Math.random`. */
  readonly random?: () => number;
}

/**
 * An {@link adaptiveThrottle} dropped the call locally, because the backend has been accepting
 * too small a share of this client's calls; nothing was sent. Treat it as the backend's own
 * overload answer: fall back or fail fast, and do not retry at once.
 *
 * @example
 * ```ts
 * import { adaptiveThrottle, ThrottledError } from "timebound/resilience";
 * const throttle = adaptiveThrottle({ name: "profile" });
 * const profile = await throttle
 *   .execute(ctx, (ctx) => fetch("http://127.0.0.1:8080/profile", { signal: ctx.signal }))
 *   .catch((err: unknown) => {
 *     if (err instanceof ThrottledError) return undefined; // dropped locally: render without it
 *     throw err;
 *   });
 * ```
 */
export class ThrottledError extends Error {
  /** `"TIMEBOUND_ERR_THROTTLED"`. */
  declare readonly code: "TIMEBOUND_ERR_THROTTLED";

  constructor(
    /** The policy's name. */
    readonly policy: string,
    /** The rejection probability when the call was dropped. */
    readonly probability: number,
    /** Requests counted in the window (this one not included). */
    readonly requests: number,
    /** Of those, the ones the backend accepted. */
    readonly accepts: number,
    /** The policy's K. */
    readonly k: number,
    /** The policy's window. */
    readonly windowMs: number,
  ) {
    super(
      `adaptive throttle "${policy}" dropped the call locally (rejection probability ` +
        `${probability.toFixed(3)}): the backend accepted ${accepts} of ${requests} requests ` +
        `in the last ${windowMs.toLocaleString("en-US")} ms (K=${k})`,
    );
  }
}
defineErrorClass(ThrottledError, "ThrottledError", {
  kind: "timebound.ThrottledError",
  code: "TIMEBOUND_ERR_THROTTLED",
});

/** An {@link adaptiveThrottle} policy, with its counts and probability right now. */
export interface AdaptiveThrottle extends Policy {
  /** Requests counted in the window (local rejections included). */
  readonly requests: number;
  /** Requests the backend accepted in the window. */
  readonly accepts: number;
  /** The rejection probability a call would meet now: max(0, (requests − K·accepts) / (requests + 1)). */
  readonly probability: number;
}

/** Buckets of the sliding window: it slides by a sixtieth of its length. */
const BUCKETS = 60;
const KNOWN = ["k", "windowMs", "isAccepted", "clock", "random", "name"] as const;

function acceptedByDefault(outcome: CallOutcome): boolean {
  return outcome.ok ? !isOverloadResponse(outcome.value) : !isOverloadError(outcome.error);
}

class AdaptiveThrottlePolicy implements AdaptiveThrottle {
  readonly #bucketMs: number;
  /** Per bucket (time slot modulo BUCKETS): its requests, its accepts. */
  readonly #requests = new Float64Array(BUCKETS);
  readonly #accepts = new Float64Array(BUCKETS);
  #totalRequests = 0;
  #totalAccepts = 0;
  /** The newest time slot seen; slots older than it by BUCKETS or more have been cleared. */
  #latest = -Infinity;

  constructor(
    readonly name: string,
    readonly k: number,
    readonly windowMs: number,
    readonly isAccepted: (outcome: CallOutcome) => boolean,
    readonly clock: () => number,
    readonly random: () => number,
  ) {
    this.#bucketMs = windowMs / BUCKETS;
  }

  get requests(): number {
    this.#advance(this.clock());
    return this.#totalRequests;
  }

  get accepts(): number {
    this.#advance(this.clock());
    return this.#totalAccepts;
  }

  get probability(): number {
    this.#advance(this.clock());
    return this.#probability();
  }

  async execute<T>(ctx: Context, work: Work<T>): Promise<T> {
    checkContext(ctx, "adaptiveThrottle.execute");
    checkFunction(work, "adaptiveThrottle.execute", "work");
    ctx.throwIfDone();
    this.#advance(this.clock());
    const p = this.#probability();
    if (p > 0 && this.random() < p) this.#reject(ctx, p);
    let value: T;
    try {
      value = await work(ctx);
    } catch (error) {
      this.#settled(ctx, { ok: false, error });
      throw error;
    }
    this.#settled(ctx, { ok: true, value });
    return value;
  }

  #reject(ctx: Context, p: number): never {
    const requests = this.#totalRequests;
    const accepts = this.#totalAccepts;
    this.#count(this.clock(), false); // a dropped request is a request (the book's rule)
    const channel = resilienceChannels.adaptiveThrottle;
    if (channel.hasSubscribers) {
      channel.publish({
        policy: this.name,
        event: "rejected",
        context: ctx,
        probability: p,
        requests,
        accepts,
      });
    }
    throw new ThrottledError(this.name, p, requests, accepts, this.k, this.windowMs);
  }

  #settled(ctx: Context, outcome: CallOutcome): void {
    if (ctx.err !== undefined) return; // the caller gave up: nothing learnt about the backend
    let accepted: boolean;
    try {
      accepted = this.isAccepted(outcome);
    } catch {
      accepted = true; // a classifier that throws must not turn the call's outcome into its error
    }
    this.#count(this.clock(), accepted === true);
  }

  #probability(): number {
    const requests = this.#totalRequests;
    return Math.max(0, (requests - this.k * this.#totalAccepts) / (requests + 1));
  }

  #count(t: number, accepted: boolean): void {
    const i = this.#advance(t);
    this.#requests[i]!++;
    this.#totalRequests++;
    if (accepted) {
      this.#accepts[i]!++;
      this.#totalAccepts++;
    }
  }

  /** Clears the buckets that slid out of the window by `t`; returns the bucket of `t`. */
  #advance(t: number): number {
    const slot = Math.floor(t / this.#bucketMs);
    if (slot > this.#latest) {
      // Clear every bucket whose slot is now out of the window, at most all of them once.
      const from = Math.max(this.#latest + 1, slot - BUCKETS + 1);
      for (let s = from; s <= slot; s++) this.#clear(((s % BUCKETS) + BUCKETS) % BUCKETS);
      this.#latest = slot;
    }
    // A clock that went back (a test's) counts into the newest bucket.
    const current = Math.min(slot, this.#latest);
    return ((current % BUCKETS) + BUCKETS) % BUCKETS;
  }

  #clear(i: number): void {
    this.#totalRequests -= this.#requests[i]!;
    this.#totalAccepts -= this.#accepts[i]!;
    this.#requests[i] = 0;
    this.#accepts[i] = 0;
  }
}

/**
 * Client-side adaptive throttling, from the Google SRE book ("Handling Overload"): over a
 * sliding window (default 2 minutes) the policy counts the requests this client made
 * (`requests`, including those it dropped itself) and those the backend accepted (`accepts`),
 * and drops each new call locally, before sending it, with probability
 *
 *     max(0, (requests − K·accepts) / (requests + 1))
 *
 * (K default 2). While the backend accepts at least 1 in K calls nothing is dropped; as it
 * rejects more, the client sends less, yet always enough for the counts to follow the
 * backend's recovery. A dropped call rejects with {@link ThrottledError}. What "accepted"
 * means is `isAccepted`'s call (default: no overload or unavailability error, see
 * {@link AdaptiveThrottleOptions.isAccepted}); a call whose own caller gave up is not counted.
 *
 * Events on `timebound:resilience:adaptive-throttle` ({@link resilienceChannels}.adaptiveThrottle):
 * - `"rejected"`: a call was dropped; `policy`, `context`, `probability`, `requests`,
 *   `accepts` (the counts it was decided on).
 *
 * Options: `k` (default 2, 1 to 100), `windowMs` (default 120,000, 1,000 to 3,600,000),
 * `isAccepted`, `clock`, `random`, `name` (default `"adaptive-throttle"`); a bad or unknown
 * option throws a TypeError or RangeError naming it.
 *
 * @example
 * ```ts
 * import { adaptiveThrottle, ThrottledError } from "timebound/resilience";
 * const throttle = adaptiveThrottle({
 *   name: "search",
 *   // fetch resolves with a 503: count it as not accepted
 *   isAccepted: (o) => (o.ok ? (o.value as Response).status !== 503 : false),
 * });
 * try {
 *   const res = await throttle.execute(ctx, (ctx) => fetch("http://127.0.0.1:8080/q", { signal: ctx.signal }));
 *   console.log(res.status);
 * } catch (err) {
 *   if (err instanceof ThrottledError) console.warn(err.message); // dropped locally: fall back
 *   else throw err;
 * }
 * ```
 */
export function adaptiveThrottle(options?: AdaptiveThrottleOptions): AdaptiveThrottle {
  const o = readOptions(options, "adaptiveThrottle", [...KNOWN]);
  const k = o.number("k", 2, { min: 1, max: 100 });
  const windowMs = o.ms("windowMs", 120_000, { min: 1_000, max: 3_600_000 });
  const isAccepted = o.function("isAccepted", acceptedByDefault);
  const clock = o.function("clock", now);
  const random = o.function("random", Math.random);
  const name = o.string("name", "adaptive-throttle");
  return new AdaptiveThrottlePolicy(name, k, windowMs, isAccepted, clock, random);
}
