// How a pipeline runs a call: the policies that offer a stage (stage.ts) step in one after
// another in the same turn, the work runs inside them, and one reaction steps them out, innermost
// first. A policy without a stage, or one that declines, runs through its own `execute`, with the
// layers inside it fused again as its work.
import type { Context } from "../core/index.js";
import { checkContext } from "../core/internal.js";
import type { Policy, Work } from "./policy.js";
import type { Frame, Stage } from "./stage.js";

/** Slots a layer takes in a call's frame: the context it was given, and two for its stage. */
const SLOTS = 3;

/**
 * Runs `work` through `policies[from..]` (their stages in `stages`, undefined where a policy has
 * none), outermost first: what `policies[from].execute(ctx, (ctx) => policies[from + 1]...)`
 * does, with one promise for the run of stages instead of one per policy.
 */
export function runFused<T>(
  policies: readonly Policy[],
  stages: readonly (Stage | undefined)[],
  from: number,
  ctx: Context,
  work: Work<T>,
): Promise<T> {
  if (from > 0) {
    // A policy outside passed this context: checked as the policy's own execute would.
    try {
      checkContext(ctx, `${policies[from]!.name}.execute`);
    } catch (bad) {
      return Promise.reject(bad);
    }
  }
  const n = policies.length;
  if (stages[from] === undefined) {
    try {
      return Promise.resolve(policies[from]!.execute(ctx, innerWork(policies, stages, from, work)));
    } catch (error) {
      return Promise.reject(error); // a policy of the user's that threw instead of rejecting
    }
  }
  const call = new FusedCall(policies, stages, from, work);
  let i = from;
  let inner = ctx;
  let pending: T | PromiseLike<T>;
  try {
    for (; i < n; i++) {
      const stage = stages[i];
      if (stage === undefined) break;
      call.enter(i, inner);
      const next = stage.enter(inner, call, i);
      if (next === undefined) break; // declined: this policy runs through execute
      inner = next;
    }
    pending =
      i === n ? work(inner) : policies[i]!.execute(inner, innerWork(policies, stages, i, work));
  } catch (error) {
    pending = Promise.reject(error); // a stage refused the call, or the work threw
  }
  const last = i - 1;
  return Promise.resolve(pending).then(
    (value) => call.unwind(last, true, value) as T,
    (error: unknown) => call.unwind(last, false, error) as T,
  );
}

/** The layers inside layer `i`, with `work`, as one work. */
function innerWork<T>(
  policies: readonly Policy[],
  stages: readonly (Stage | undefined)[],
  i: number,
  work: Work<T>,
): Work<T> {
  if (i === policies.length - 1) return work;
  return (ctx) => runFused(policies, stages, i + 1, ctx, work);
}

/** One call's frame: per layer entered, its context and what its stage kept. */
class FusedCall<T> implements Frame {
  /** Made at its full size: an array grown by stores would copy itself, then waste the rest. */
  readonly #slots: unknown[];

  constructor(
    readonly policies: readonly Policy[],
    readonly stages: readonly (Stage | undefined)[],
    readonly from: number,
    readonly work: Work<T>,
  ) {
    this.#slots = new Array<unknown>((policies.length - from) * SLOTS);
  }

  enter(i: number, ctx: Context): void {
    this.#slots[(i - this.from) * SLOTS] = ctx;
  }

  keep(i: number, x: unknown, y?: unknown): void {
    const at = (i - this.from) * SLOTS;
    this.#slots[at + 1] = x;
    this.#slots[at + 2] = y;
  }

  x(i: number): unknown {
    return this.#slots[(i - this.from) * SLOTS + 1];
  }

  y(i: number): unknown {
    return this.#slots[(i - this.from) * SLOTS + 2];
  }

  inner(i: number): Work<unknown> {
    return innerWork(this.policies, this.stages, i, this.work);
  }

  /**
   * Steps out of layers `last` down to `from` with the outcome of what ran inside them; a layer
   * that answers with a promise takes the call over, and the layers outside it wait for it.
   * Returns the call's value, or a promise of it; throws its error.
   */
  unwind(last: number, ok: boolean, outcome: unknown): unknown {
    for (let i = last; i >= this.from; i--) {
      const stage = this.stages[i]!;
      const ctx = this.#slots[(i - this.from) * SLOTS] as Context;
      try {
        outcome = ok
          ? stage.fulfilled(ctx, outcome, this, i)
          : stage.rejected(ctx, outcome, this, i);
        ok = true;
      } catch (error) {
        outcome = error;
        ok = false;
        continue;
      }
      // A promise is a layer taking over: a settled value is never one (a promise's value is
      // never a promise).
      if (outcome instanceof Promise) {
        const outer = i - 1;
        if (outer < this.from) return outcome;
        return outcome.then(
          (value: unknown) => this.unwind(outer, true, value),
          (error: unknown) => this.unwind(outer, false, error),
        );
      }
    }
    if (ok) return outcome;
    throw outcome;
  }
}
