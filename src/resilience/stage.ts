// A policy's synchronous steps before and after what it runs, so that a pipeline can run
// consecutive policies around one promise. Nested, every policy of a pipeline costs each call a
// promise, a reaction (a microtask turn) and a closure; for the gateway's seven layers that was
// about 1.8 KB and 0.3 µs a request (docs/benchmarks.md). Fused, the policies' steps run
// one after another in the same turn, and a call costs one promise whatever the pipeline's length.
//
// Only the common path is fused. A step that cannot go on synchronously (a bulkhead with no free
// slot, a timeout that abandons its work, diagnostics listening for operations) declines, and
// the pipeline runs that policy through its own `execute`; a policy that recovers or tries again
// (fallback, retry) hands the rest of the call to its own code, as a promise.
import type { Context } from "../core/index.js";
import type { Policy, Work } from "./policy.js";

/** @internal The key of a policy's {@link Stage}: a policy without one runs nested. */
export const STAGE: unique symbol = Symbol("timebound.resilience.stage");

/**
 * @internal One call through a fused pipeline, as its layers see it: the layer's index `i`
 * keys what its entry kept for its exit.
 */
export interface Frame {
  /** Keeps `x` and `y` for layer `i`'s exit. */
  keep(i: number, x: unknown, y?: unknown): void;
  /** What layer `i` kept first. */
  x(i: number): unknown;
  /** What layer `i` kept second. */
  y(i: number): unknown;
  /** The layers inside layer `i`, with the work, as one work: for a policy that runs them again. */
  inner(i: number): Work<unknown>;
}

/**
 * @internal A policy's steps, each given the context the policy was given (`ctx`) and its place
 * in the frame. Each step does what the policy's `execute` does at that point, nothing more:
 * a fused pipeline ends every call exactly as the nested one does (test/resilience/pipeline-fused.test.ts).
 */
export interface Stage {
  /**
   * The `execute` these steps stand for, compared and never called: a policy whose `execute` is
   * another (a subclass that overrides it, an instance given its own) runs through that, nested.
   */
  readonly execute: unknown;
  /**
   * Before the layers inside: returns the context to pass them, or undefined to decline (the
   * pipeline then runs this policy through `execute`, having kept nothing). A throw refuses the
   * call (an open breaker): the layers outside see it as this layer's rejection.
   */
  enter(ctx: Context, frame: Frame, i: number): Context | undefined;
  /**
   * The layers inside fulfilled with `value`: returns this layer's value, or a promise when it
   * takes the rest of the call over (a retry of a result worth retrying). A throw rejects.
   */
  fulfilled(ctx: Context, value: unknown, frame: Frame, i: number): unknown;
  /**
   * The layers inside rejected with `error`: throws to pass a rejection on, or returns a value
   * or a promise (a fallback's answer, a retry's further attempts).
   */
  rejected(ctx: Context, error: unknown, frame: Frame, i: number): unknown;
}

/** @internal A policy that offers its steps. */
export interface Staged {
  readonly [STAGE]: Stage;
}

/**
 * @internal The stage of the policies of class `cls`: `steps`, standing for the `execute` that
 * `cls` defines.
 */
export function stageFor(
  cls: abstract new (...args: never[]) => Policy,
  steps: Omit<Stage, "execute">,
): Stage {
  return { execute: Reflect.get(cls.prototype as object, "execute"), ...steps };
}

/** @internal The stage of `policy`, if it offers one for the `execute` it has. */
export function stageOf(policy: Policy): Stage | undefined {
  const stage = (policy as Partial<Staged>)[STAGE];
  return stage !== undefined && stage.execute === Reflect.get(policy, "execute")
    ? stage
    : undefined;
}
