// Policies compose by nesting: each runs the next one as its work. The order is the design:
// pipeline(fallback, retry, breaker, timeout) is fallback(retry(breaker(timeout(work)))), run
// fused (fused.ts) so that a call costs one promise, not one per policy.
import { type Context, now } from "../core/index.js";
import { checkContext, checkFunction, describeValue, invalidType } from "../core/internal.js";
import { resilienceChannels } from "./events.js";
import { runFused } from "./fused.js";
import type { Policy, Work } from "./policy.js";
import { type Stage, stageOf } from "./stage.js";

/**
 * A pipeline of policies: see {@link pipeline}.
 *
 * @example
 * ```ts
 * const policy: PipelinePolicy = pipeline(retry({ maxAttempts: 2 }), timeout(200));
 * console.log(policy.name, policy.policies.length); // "pipeline(retry, timeout)" 2
 * ```
 */
export class PipelinePolicy implements Policy {
  readonly name: string;
  /** The policies, outermost first. */
  readonly policies: readonly Policy[];
  /** Each policy's stage, where it offers one: those run fused (fused.ts). */
  readonly #stages: readonly (Stage | undefined)[];

  /** Prefer {@link pipeline}; the policies are checked the same way. */
  constructor(policies: readonly Policy[]) {
    if (policies.length === 0) {
      throw invalidType("pipeline: give at least one policy, outermost first");
    }
    policies.forEach((p, i) => {
      const policy = p as Partial<Policy> | null;
      if (typeof policy !== "object" || policy === null || typeof policy.execute !== "function") {
        throw invalidType(
          `pipeline: policy ${i + 1} must be a policy (an object with execute(ctx, work)), got ${describeValue(p)}`,
        );
      }
    });
    this.policies = Object.freeze([...policies]);
    this.#stages = Object.freeze(this.policies.map(stageOf));
    this.name = `pipeline(${this.policies.map((p) => p.name).join(", ")})`;
  }

  /** Runs `work` through every policy, the first outermost. */
  execute<T>(ctx: Context, work: Work<T>): Promise<T> {
    try {
      checkContext(ctx, "pipeline.execute");
      checkFunction(work, "pipeline.execute", "work");
    } catch (bad) {
      return Promise.reject(bad);
    }
    if (!resilienceChannels.pipeline.hasSubscribers) {
      return runFused(this.policies, this.#stages, 0, ctx, work);
    }
    return this.#observed(ctx, work);
  }

  /** Runs the call and announces how it ended, with its duration (for metrics and traces). */
  async #observed<T>(ctx: Context, work: Work<T>): Promise<T> {
    const started = now();
    try {
      const value = await runFused(this.policies, this.#stages, 0, ctx, work);
      this.#announce(ctx, started, "success", undefined);
      return value;
    } catch (error) {
      this.#announce(ctx, started, ctx.err === undefined ? "failure" : "canceled", error);
      throw error;
    }
  }

  #announce(ctx: Context, started: number, outcome: string, error: unknown): void {
    const channel = resilienceChannels.pipeline;
    if (!channel.hasSubscribers) return;
    const durationMs = now() - started;
    channel.publish({ policy: this.name, event: "call", context: ctx, outcome, durationMs, error });
  }
}

/**
 * Composes policies into one, outermost first: `pipeline(a, b, c).execute(ctx, work)` is
 * `a.execute(ctx, (ctx) => b.execute(ctx, (ctx) => c.execute(ctx, work)))`. Each policy gets
 * the context the one outside it passes (a timeout passes its child), so every layer obeys the
 * deadline. A policy sees what the policies inside it produce, once per time it runs them.
 * The built-in policies run fused, around one promise per call rather than one per policy; a
 * call ends exactly as the nested form says (docs/resilience.md, "Order").
 *
 * The order decides the semantics. The usual one, `pipeline(fallback, retry, circuitBreaker,
 * timeout)`:
 * - the timeout is innermost, so it bounds each attempt, and retry sees an attempt's own timeout
 *   as a transient failure (the caller's deadline still bounds everything);
 * - the breaker is inside retry, so it sees (and counts) each attempt, and when it opens, retry
 *   stops at once: a `BrokenCircuitError` is not transient;
 * - the fallback is outermost, so it answers for whatever is left: an open breaker, retries
 *   exhausted, a non-retryable error.
 *
 * Events on `timebound:resilience:pipeline` ({@link resilienceChannels}.pipeline): `"call"`
 * once per call, with `outcome` (`"success"`; `"failure"`; `"canceled"` when the caller's
 * context ended first), `durationMs` and `error`. A fallback's answer counts as a success (its
 * own event says it answered). Timed only while the channel has subscribers.
 *
 * With the breaker outside retry (`pipeline(fallback, circuitBreaker, retry, timeout)`, the
 * order of the seed and of cockatiel's `wrap`), the breaker counts one outcome per call after
 * its retries: it opens later, on calls that failed every attempt.
 *
 * @example
 * ```ts
 * import { background, withTimeout } from "timebound";
 * import { circuitBreaker, exponentialBackoff, fallback, pipeline, retry, timeout } from "timebound/resilience";
 * const policy = pipeline(
 *   fallback({ status: 503, body: "try later" }),
 *   retry({ maxAttempts: 3, backoff: exponentialBackoff({ initialMs: 100 }) }),
 *   circuitBreaker({ failureRateThreshold: 50, slowCallDurationMs: 600, halfOpenPermits: 10 }),
 *   timeout(800),
 * );
 * using ctx = withTimeout(background(), 2_000);
 * const answer = await policy.execute(ctx, async (ctx) => {
 *   const res = await fetch("http://127.0.0.1:8080/", { signal: ctx.signal });
 *   return { status: res.status, body: await res.text() };
 * });
 * ```
 */
export function pipeline(...policies: Policy[]): PipelinePolicy {
  return new PipelinePolicy(policies);
}
