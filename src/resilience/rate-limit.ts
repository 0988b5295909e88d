// Rate limiting with a token bucket, per key if asked (per user, per tenant, per route): the
// first half of what Sentinel does for the seed's gateway. A call beyond the rate is refused at
// once, with the time after which a token will be there, rather than queued: a caller with a
// deadline decides itself whether waiting is worth it.
import { type Context, now } from "../core/index.js";
import {
  checkContext,
  checkFunction,
  checkNumber,
  defineErrorClass,
  describeValue,
  invalidType,
  readOptions,
} from "../core/internal.js";
import { resilienceChannels } from "./events.js";
import type { Policy, PolicyOptions, Work } from "./policy.js";
import { STAGE, type Stage, stageFor } from "./stage.js";

/** Options of {@link rateLimit}. */
export interface RateLimitOptions extends PolicyOptions {
  /** Tokens added per second (calls allowed per second, sustained): 0.001 to 1,000,000,000. Required. */
  readonly ratePerSecond: number;
  /**
   * Tokens the bucket holds (calls allowed in a burst after a quiet spell): an integer from 1 to
   * 1,000,000,000. Default: `ratePerSecond` rounded up, at least 1 (one second's worth).
   */
  readonly burst?: number;
  /**
   * The key of a call (a user, a tenant): each key gets its own bucket. Default: none, one
   * bucket for every call.
   */
  readonly key?: (ctx: Context) => string;
  /**
   * Buckets kept at most, with `key`: an integer from 1 to 10,000,000. Default 10,000. Beyond
   * it a bucket not used lately is dropped (the least recently used, near enough: see
   * {@link rateLimit}); such a key starts again with a full bucket,
   * as a bucket left alone long enough would be.
   */
  readonly maxKeys?: number;
  /** The clock, in milliseconds (for tests). Default: timebound's monotonic `now()`. */
  readonly clock?: () => number;
}

/**
 * A call exceeded a {@link rateLimit}'s rate; nothing was started. `retryAfterMs` says when the
 * next token will be there: answer 429 with `Retry-After`, or wait that long if the deadline
 * allows, or shed the call.
 *
 * @example
 * ```ts
 * import { rateLimit, RateLimitedError } from "timebound/resilience";
 * const limit = rateLimit({ ratePerSecond: 100 });
 * try {
 *   await limit.execute(ctx, (ctx) => fetch("http://127.0.0.1:8080/", { signal: ctx.signal }));
 * } catch (err) {
 *   if (!(err instanceof RateLimitedError)) throw err;
 *   res.setHeader("Retry-After", Math.ceil(err.retryAfterMs / 1000));
 *   res.statusCode = 429;
 * }
 * ```
 */
export class RateLimitedError extends Error {
  /** `"TIMEBOUND_ERR_RATE_LIMITED"`. */
  declare readonly code: "TIMEBOUND_ERR_RATE_LIMITED";

  constructor(
    /** The policy's name. */
    readonly policy: string,
    /** The call's key, or undefined without a `key` option. */
    readonly key: string | undefined,
    /** Milliseconds until a token is there for this key. */
    readonly retryAfterMs: number,
    /** The policy's `ratePerSecond`. */
    readonly ratePerSecond: number,
    /** The policy's `burst`. */
    readonly burst: number,
  ) {
    const who = key === undefined ? "" : ` for key ${JSON.stringify(key)}`;
    super(
      `rate limit "${policy}" (${ratePerSecond}/s, burst ${burst}) exceeded${who}; ` +
        `a token is available in ${Math.ceil(retryAfterMs)} ms`,
    );
  }
}
defineErrorClass(RateLimitedError, "RateLimitedError", {
  kind: "timebound.RateLimitedError",
  code: "TIMEBOUND_ERR_RATE_LIMITED",
});

/** A {@link rateLimit} policy. */
export interface RateLimit extends Policy {
  /** Tokens in the bucket of `key` (the only bucket without a `key` option) right now. */
  tokens(key?: string): number;
  /** Buckets kept right now (1 without a `key` option). */
  readonly keys: number;
}

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date. */
  at: number;
  /** Used since eviction last passed it (its second chance; see `#evictOne`). */
  used: boolean;
}

const KNOWN = ["ratePerSecond", "burst", "key", "maxKeys", "name", "clock"] as const;

class RateLimitPolicy implements RateLimit {
  readonly #single: Bucket;
  readonly #buckets = new Map<string, Bucket>();
  readonly #perMs: number;

  constructor(
    readonly name: string,
    readonly ratePerSecond: number,
    readonly burst: number,
    readonly key: ((ctx: Context) => string) | undefined,
    readonly maxKeys: number,
    readonly clock: () => number,
  ) {
    this.#perMs = ratePerSecond / 1000;
    this.#single = { tokens: burst, at: clock(), used: false };
  }

  get keys(): number {
    return this.key === undefined ? 1 : this.#buckets.size;
  }

  tokens(key?: string): number {
    const bucket = key === undefined ? this.#single : this.#buckets.get(key);
    if (bucket === undefined) return this.burst;
    this.#refill(bucket, this.clock());
    return bucket.tokens;
  }

  // Not an async function: an admitted call's promise is the work's own, with no extra await.
  execute<T>(ctx: Context, work: Work<T>): Promise<T> {
    try {
      checkContext(ctx, "rateLimit.execute");
      checkFunction(work, "rateLimit.execute", "work");
      this.#admit(ctx);
      return Promise.resolve(work(ctx));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** @internal Its steps in a fused pipeline: those of {@link RateLimitPolicy.execute}. */
  readonly [STAGE]: Stage = stageFor(RateLimitPolicy, {
    enter: (ctx) => {
      this.#admit(ctx);
      return ctx;
    },
    fulfilled: (_ctx, value) => value,
    rejected: (_ctx, error) => {
      throw error;
    },
  });

  /** Takes a token for the call, or throws RateLimitedError (or the context's error). */
  #admit(ctx: Context): void {
    ctx.throwIfDone();
    const key = this.key === undefined ? undefined : this.#keyOf(ctx);
    const bucket = key === undefined ? this.#single : this.#bucketOf(key);
    this.#refill(bucket, this.clock());
    if (bucket.tokens < 1) {
      const retryAfterMs = (1 - bucket.tokens) / this.#perMs;
      const channel = resilienceChannels.rateLimit;
      if (channel.hasSubscribers) {
        channel.publish({
          policy: this.name,
          event: "rejected",
          context: ctx,
          key,
          retryAfterMs,
        });
      }
      throw new RateLimitedError(this.name, key, retryAfterMs, this.ratePerSecond, this.burst);
    }
    bucket.tokens -= 1;
  }

  #keyOf(ctx: Context): string {
    const key = this.key!(ctx);
    if (typeof key !== "string") {
      throw invalidType(
        `rateLimit "${this.name}": options.key must return a string, got ${describeValue(key)}`,
      );
    }
    return key;
  }

  /**
   * The bucket of `key`, made full if new. A hit only marks the bucket used: moving it to the
   * recent end of the map (exact LRU) would cost a delete and an insert on every call.
   */
  #bucketOf(key: string): Bucket {
    const buckets = this.#buckets;
    let bucket = buckets.get(key);
    if (bucket !== undefined) {
      bucket.used = true;
      return bucket;
    }
    bucket = { tokens: this.burst, at: this.clock(), used: false };
    if (buckets.size >= this.maxKeys) this.#evictOne();
    buckets.set(key, bucket);
    return bucket;
  }

  /**
   * Drops the oldest bucket not used since eviction last passed it (CLOCK, second chance): a
   * used one loses its mark and goes to the recent end. Each pass clears a mark a hit set, so
   * eviction costs O(1) per call, amortised.
   */
  #evictOne(): void {
    const buckets = this.#buckets;
    for (const [key, bucket] of buckets) {
      if (bucket.used) {
        bucket.used = false;
        buckets.delete(key);
        buckets.set(key, bucket); // visited again by this loop if every bucket was used
        continue;
      }
      buckets.delete(key);
      const channel = resilienceChannels.rateLimit;
      if (channel.hasSubscribers) {
        channel.publish({ policy: this.name, event: "key-evicted", key });
      }
      return;
    }
  }

  #refill(bucket: Bucket, t: number): void {
    if (t <= bucket.at) return; // a clock that stands still (or a test's that goes back) adds nothing
    bucket.tokens = Math.min(this.burst, bucket.tokens + (t - bucket.at) * this.#perMs);
    bucket.at = t;
  }
}

/**
 * A token-bucket rate limit: the bucket holds up to `burst` tokens and gains `ratePerSecond`
 * of them a second; each call takes one, and a call that finds none is rejected at once with
 * {@link RateLimitedError}, whose `retryAfterMs` says when the next token comes. Nothing is
 * queued. With `key`, each key has its own bucket, at most `maxKeys` of them: beyond that,
 * the oldest bucket not used since the last eviction passed it goes (CLOCK, the second-chance
 * approximation of least recently used, which costs a flag write per call where exact LRU
 * costs a map delete and insert). Tokens are taken when the call starts and never given back:
 * the limit is on calls made, not on calls that succeeded.
 *
 * Events on `timebound:resilience:rate-limit` ({@link resilienceChannels}.rateLimit), each with
 * `policy` and `event`:
 * - `"rejected"`: a call found no token; `context`, `key` (undefined without the option),
 *   `retryAfterMs`.
 * - `"key-evicted"`: a bucket was dropped to keep `maxKeys`; `key`.
 *
 * Options: `ratePerSecond` (required, 0.001 to 1,000,000,000), `burst` (default
 * `ceil(ratePerSecond)`, at least 1), `key`, `maxKeys` (default 10,000), `clock`, `name`
 * (default `"rate-limit"`); a bad or unknown option throws a TypeError or RangeError naming it.
 *
 * @example
 * ```ts
 * import { createKey } from "timebound";
 * import { rateLimit, RateLimitedError } from "timebound/resilience";
 * const Tenant = createKey<string>("tenant");
 * const perTenant = rateLimit({
 *   ratePerSecond: 50,
 *   burst: 100,
 *   key: (ctx) => ctx.value(Tenant) ?? "anonymous",
 * });
 * try {
 *   await perTenant.execute(ctx, (ctx) => fetch("http://127.0.0.1:8080/", { signal: ctx.signal }));
 * } catch (err) {
 *   if (err instanceof RateLimitedError) console.warn(`429, Retry-After ${err.retryAfterMs} ms`);
 *   else throw err;
 * }
 * ```
 */
export function rateLimit(options: RateLimitOptions): RateLimit {
  const o = readOptions(options, "rateLimit", [...KNOWN]);
  const ratePerSecond = checkNumber(o.raw("ratePerSecond"), "rateLimit", "options.ratePerSecond", {
    min: 0.001,
    max: 1e9,
  });
  const burst = o.number("burst", Math.max(1, Math.ceil(ratePerSecond)), {
    min: 1,
    max: 1e9,
    integer: true,
  });
  const key = o.function<((ctx: Context) => string) | undefined>("key", undefined);
  const maxKeys = o.number("maxKeys", 10_000, { min: 1, max: 10_000_000, integer: true });
  const clock = o.function("clock", now);
  const name = o.string("name", "rate-limit");
  return new RateLimitPolicy(name, ratePerSecond, burst, key, maxKeys, clock);
}
