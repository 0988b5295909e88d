// A fallback that serves the last good answer for the same key, if it is recent enough: a
// price list from 20 s ago usually beats an error. Stale answers are marked so the caller knows.
import { type Context, now } from "../core/index.js";
import {
  checkContext,
  checkFunction,
  invalidType,
  describeValue,
  readOptions,
} from "../core/internal.js";
import { resilienceChannels } from "./events.js";
import type { Policy, PolicyOptions, Work } from "./policy.js";

/** What the caller can learn about an answer served stale. */
export interface StaleInfo {
  /** The cache's name. */
  readonly policy: string;
  /** The key it was stored under. */
  readonly key: string;
  /** Its age when served, in ms. */
  readonly ageMs: number;
  /** The error the fresh call failed with. */
  readonly error: unknown;
}

/** Options of {@link staleCache}. */
export interface StaleCacheOptions extends PolicyOptions {
  /** The oldest answer it serves. Default 60,000 ms; 1 to 86,400,000. */
  readonly maxAgeMs?: number;
  /** The key of a call, from its context (the user, the product...). Default: one key for all. */
  readonly key?: (ctx: Context) => string;
  /** Which errors it answers. Default: every error (never once the caller's context ended). */
  readonly on?: (error: unknown) => boolean;
  /** Keys it keeps; the least recently stored goes first. Default 1,000; 1 to 10,000,000. */
  readonly maxEntries?: number;
  /**
   * Makes the answer served stale, e.g. `(value) => ({ ...value, stale: true })`. Default: the
   * stored value itself, registered so that {@link isStale} and {@link staleInfo} recognise it
   * (objects only: a primitive cannot be marked, so pass `mark` for those).
   */
  readonly mark?: (value: unknown, info: StaleInfo) => unknown;
  /** The clock, in ms (default: timebound's monotonic `now()`); for tests. */
  readonly clock?: () => number;
}

interface Entry {
  readonly value: unknown;
  readonly storedAt: number;
}

/** Answers served stale (objects), and what is known about them. */
const served = new WeakMap<object, StaleInfo>();

/**
 * Whether `value` is an answer a {@link staleCache} served stale (an object it registered).
 *
 * @example
 * ```ts
 * const policy = staleCache({ maxAgeMs: 30_000 });
 * const prices = await policy.execute(ctx, (ctx) => fetchOne(ctx, "/prices"));
 * if (isStale(prices)) res.setHeader("warning", '110 - "Response is Stale"');
 * ```
 */
export function isStale(value: unknown): boolean {
  return typeof value === "object" && value !== null && served.has(value);
}

/**
 * What is known about an answer a {@link staleCache} served stale (its age, the error it stood
 * in for), or undefined for a fresh answer.
 *
 * @example
 * ```ts
 * const prices = await staleCache().execute(ctx, (ctx) => fetchOne(ctx, "/prices"));
 * const info = staleInfo(prices);
 * if (info !== undefined) log.warn(`served prices ${info.ageMs} ms old`, info.error);
 * ```
 */
export function staleInfo(value: unknown): StaleInfo | undefined {
  return typeof value === "object" && value !== null ? served.get(value) : undefined;
}

const ONE_KEY = (): string => "";

/**
 * A stale-cache policy: see {@link staleCache}.
 *
 * @example
 * ```ts
 * const prices: StaleCachePolicy = staleCache({ maxAgeMs: 30_000 });
 * console.log(prices.maxAgeMs, prices.maxEntries);
 * ```
 */
export class StaleCachePolicy implements Policy {
  readonly name: string;
  /** Its `maxAgeMs` option. */
  readonly maxAgeMs: number;
  /** Its `maxEntries` option. */
  readonly maxEntries: number;
  readonly #key: (ctx: Context) => string;
  readonly #on: ((error: unknown) => boolean) | undefined;
  readonly #mark: ((value: unknown, info: StaleInfo) => unknown) | undefined;
  readonly #clock: () => number;
  /** Insertion order is storage order: the first key is the least recently stored. */
  readonly #entries = new Map<string, Entry>();

  /** Prefer {@link staleCache}; the options are checked the same way. */
  constructor(options?: StaleCacheOptions) {
    const o = readOptions(options, "staleCache", [
      "maxAgeMs",
      "key",
      "on",
      "maxEntries",
      "mark",
      "clock",
      "name",
    ]);
    this.name = o.string("name", "stale-cache");
    this.maxAgeMs = o.ms("maxAgeMs", 60_000, { min: 1, max: 86_400_000 });
    this.maxEntries = o.number("maxEntries", 1_000, { min: 1, max: 10_000_000, integer: true });
    this.#key = o.function("key", ONE_KEY);
    this.#on = o.function("on", undefined);
    this.#mark = o.function("mark", undefined);
    this.#clock = o.function("clock", now);
  }

  /** Keys stored right now (fresh or not). */
  get size(): number {
    return this.#entries.size;
  }

  /** Runs `work`; stores a good answer, or serves the last one within `maxAgeMs` on failure. */
  async execute<T>(ctx: Context, work: Work<T>): Promise<T> {
    checkContext(ctx, `${this.name}.execute`);
    checkFunction(work, `${this.name}.execute`, "work");
    const key = this.#key(ctx);
    if (typeof key !== "string") {
      throw invalidType(
        `${this.name}: options.key must return a string, got ${describeValue(key)}`,
      );
    }
    let value: T;
    try {
      value = await work(ctx);
    } catch (error) {
      const ended = ctx.err;
      if (ended !== undefined) throw ended;
      if (this.#on !== undefined && !this.#on(error)) throw error;
      return this.#serveStale(ctx, key, error) as T;
    }
    this.#store(key, value);
    return value;
  }

  #store(key: string, value: unknown): void {
    const entries = this.#entries;
    entries.delete(key); // re-inserted last: the most recently stored
    entries.set(key, { value, storedAt: this.#clock() });
    if (typeof value === "object" && value !== null) served.delete(value);
    if (entries.size > this.maxEntries) entries.delete(entries.keys().next().value!);
  }

  #serveStale(ctx: Context, key: string, error: unknown): unknown {
    const entry = this.#entries.get(key);
    const ageMs = entry === undefined ? Infinity : this.#clock() - entry.storedAt;
    const hit = entry !== undefined && ageMs <= this.maxAgeMs;
    if (entry !== undefined && !hit) this.#entries.delete(key); // too old to ever serve
    if (resilienceChannels.fallback.hasSubscribers) {
      resilienceChannels.fallback.publish({
        policy: this.name,
        event: hit ? "stale" : "stale-miss",
        context: ctx,
        key,
        ageMs: hit ? ageMs : undefined,
        error,
      });
    }
    if (!hit) throw error;
    const info: StaleInfo = { policy: this.name, key, ageMs, error };
    if (this.#mark !== undefined) return this.#mark(entry.value, info);
    if (typeof entry.value === "object" && entry.value !== null) served.set(entry.value, info);
    return entry.value;
  }
}

/**
 * A fallback that serves the last good answer stored under the call's key (`key(ctx)`), if it
 * is at most `maxAgeMs` old, when the call fails with an error `on` accepts; without one, the
 * error passes through. Once the caller's context has ended the call rejects with that
 * context's error.
 *
 * How the caller sees "stale": an object served stale is recognised by {@link isStale} and
 * described by {@link staleInfo} (age, key, the error it stood in for) until it is stored fresh
 * again; with `mark`, the caller gets whatever `mark(value, info)` makes (a copy with
 * `stale: true`, say), which works for primitives too. Every stale answer is also announced.
 *
 * Events on `timebound:resilience:fallback`: `"stale"` (served: `key`, `ageMs`, `error`) and
 * `"stale-miss"` (nothing recent enough: `key`, `error`).
 *
 * @example
 * ```ts
 * import { createKey, withValue } from "timebound";
 * import { pipeline, staleCache, isStale, circuitBreaker, timeout } from "timebound/resilience";
 * const ProductKey = createKey<string>("product");
 * const policy = pipeline(
 *   staleCache({ maxAgeMs: 30_000, key: (ctx) => ctx.value(ProductKey) ?? "" }),
 *   circuitBreaker({ failureRateThreshold: 50 }),
 *   timeout(300),
 * );
 * const price = await policy.execute(withValue(ctx, ProductKey, sku), (ctx) => fetchOne(ctx, sku));
 * if (isStale(price)) console.warn("served a stale price");
 * ```
 */
export function staleCache(options?: StaleCacheOptions): StaleCachePolicy {
  return new StaleCachePolicy(options);
}
