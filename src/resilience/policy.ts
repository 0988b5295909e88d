// The one contract every resilience policy keeps, so that policies compose into a pipeline and
// the gateway can build them from configuration.
import type { Context } from "../core/index.js";

/**
 * The work a policy runs: it gets the context it must obey (the caller's, or a child the policy
 * made, such as a per-attempt timeout) and returns a value or a promise of one.
 */
export type Work<T> = (ctx: Context) => T | PromiseLike<T>;

/**
 * A resilience policy: a stateful value, shared across calls and safe under concurrent use,
 * that runs work under a context. Every policy knows the caller's deadline: it never starts
 * what the time left cannot hold, and never answers later than that deadline because of itself.
 *
 * `execute` always returns a promise; a bad argument rejects it (never a synchronous throw), and
 * a synchronous throw of `work` becomes a rejection.
 *
 * @example
 * ```ts
 * import { background, withTimeout } from "timebound";
 * import { pipeline, retry, timeout } from "timebound/resilience";
 * const policy = pipeline(retry({ maxAttempts: 3 }), timeout(200));
 * using ctx = withTimeout(background(), 1000);
 * const body = await policy.execute(ctx, async (ctx) => {
 *   const res = await fetch("http://127.0.0.1:8080/", { signal: ctx.signal });
 *   return res.text();
 * });
 * ```
 */
export interface Policy {
  /** The policy's name in events, metrics and error messages ("payments-breaker"). */
  readonly name: string;
  /** Runs `work` under `ctx` with this policy's protection. */
  execute<T>(ctx: Context, work: Work<T>): Promise<T>;
}

/** Options every policy accepts. */
export interface PolicyOptions {
  /**
   * The name events, metrics and errors use for this policy. Default: the policy's kind
   * ("retry", "circuit-breaker", ...).
   */
  readonly name?: string;
}
