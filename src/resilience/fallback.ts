// The last tier: when the protected call fails anyway, answer with something else (a default, a
// degraded answer) instead of the error.
import type { Context } from "../core/index.js";
import { checkContext, checkFunction, readOptions } from "../core/internal.js";
import { resilienceChannels } from "./events.js";
import type { Policy, PolicyOptions, Work } from "./policy.js";
import { STAGE, type Stage, stageFor } from "./stage.js";

/** Computes a fallback answer from the error that made it necessary. */
export type FallbackFn<R> = (error: unknown, ctx: Context) => R | PromiseLike<R>;

/** Options of {@link fallback}. */
export interface FallbackOptions extends PolicyOptions {
  /**
   * Which errors the fallback answers. Default: every error. Never asked once the caller's
   * context has ended: there is nobody left to answer, and the call rejects with that context's
   * error.
   */
  readonly on?: (error: unknown) => boolean;
}

/**
 * A fallback policy: see {@link fallback}.
 *
 * @example
 * ```ts
 * const empty: FallbackPolicy<string[]> = fallback<string[]>([]);
 * console.log(empty.name); // "fallback"
 * ```
 */
export class FallbackPolicy<R> implements Policy {
  readonly name: string;
  readonly #answer: FallbackFn<R>;
  readonly #on: ((error: unknown) => boolean) | undefined;

  /** Prefer {@link fallback}; the arguments are checked the same way. */
  constructor(valueOrFn: R | FallbackFn<R>, options?: FallbackOptions) {
    const o = readOptions(options, "fallback", ["on", "name"]);
    this.name = o.string("name", "fallback");
    this.#on = o.function("on", undefined);
    this.#answer = typeof valueOrFn === "function" ? (valueOrFn as FallbackFn<R>) : () => valueOrFn;
  }

  /**
   * Runs `work`; if it fails with an error `on` accepts while the caller's context is live,
   * answers with the fallback instead. The fallback's type should be the work's: it stands in
   * for the work's result.
   */
  execute<T>(ctx: Context, work: Work<T>): Promise<T> {
    let pending: T | PromiseLike<T>;
    try {
      checkContext(ctx, `${this.name}.execute`);
      checkFunction(work, `${this.name}.execute`, "work");
    } catch (bad) {
      return Promise.reject(bad);
    }
    try {
      pending = work(ctx);
    } catch (error) {
      return this.#recover(ctx, error);
    }
    return Promise.resolve(pending).then(undefined, (error: unknown) =>
      this.#recover<T>(ctx, error),
    );
  }

  /** @internal Its steps in a fused pipeline: those of {@link FallbackPolicy.execute}. */
  readonly [STAGE]: Stage = stageFor(FallbackPolicy, {
    enter: (ctx) => ctx,
    fulfilled: (_ctx, value) => value,
    rejected: (ctx, error) => this.#recover(ctx, error),
  });

  async #recover<T>(ctx: Context, error: unknown): Promise<T> {
    const ended = ctx.err;
    if (ended !== undefined) throw ended;
    if (this.#on !== undefined && !this.#on(error)) throw error;
    if (resilienceChannels.fallback.hasSubscribers) {
      resilienceChannels.fallback.publish({
        policy: this.name,
        event: "fallback",
        context: ctx,
        error,
      });
    }
    return (await this.#answer(error, ctx)) as unknown as T;
  }
}

/**
 * Answers a failed call with a fallback: `valueOrFn` itself, or what `valueOrFn(error, ctx)`
 * returns (to answer with a function, return it from a function). Errors `on` refuses pass
 * through; once the caller's context has ended the call rejects with that context's error (no
 * fallback answers a caller who has left). A fallback function that throws rejects the call with
 * its error.
 *
 * Events on `timebound:resilience:fallback`: `"fallback"`, with `error` (what it answered for).
 *
 * @example
 * ```ts
 * import { BrokenCircuitError, RetriesExhaustedError, fallback } from "timebound/resilience";
 * const quote = fallback((err) => ({ price: undefined, degraded: true, reason: String(err) }), {
 *   on: (err) => err instanceof BrokenCircuitError || err instanceof RetriesExhaustedError,
 * });
 * ```
 */
export function fallback<R>(
  valueOrFn: R | FallbackFn<R>,
  options?: FallbackOptions,
): FallbackPolicy<R> {
  return new FallbackPolicy(valueOrFn, options);
}
