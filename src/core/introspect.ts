// What tests, diagnostics and tools may read about the core's state, and nothing more: the
// counters and the read-only snapshot of a context, never its fields.
import { type Context, armedTimerCount, dependentCount } from "./context.js";
import { describeValue } from "./describe.js";
import { type ContextSnapshot, type ContextState, snapshotOf, stateOf } from "./snapshot.js";
import { invalidType } from "./validate.js";

export {
  SNAPSHOT_VERSION,
  type ContextKind,
  type ContextSnapshot,
  type ContextState,
} from "./snapshot.js";
export type { CreationSite } from "./site.js";

/**
 * Counters of the core right now: `armedTimers` is the deadline and keep-alive timers armed for
 * live contexts (0 once every context with a deadline has ended).
 *
 * @example
 * ```ts
 * const before = coreStats().armedTimers;
 * withTimeout(background(), 1_000).cancel();
 * coreStats().armedTimers === before; // true: a canceled context keeps no timer
 * ```
 */
export function coreStats(): { readonly armedTimers: number } {
  return { armedTimers: armedTimerCount() };
}

/**
 * How many dependents (child contexts and internal waiters: a sleep, a channel receive, an
 * adapter call) are linked under `ctx` right now; 0 for a context that cannot end by itself.
 *
 * @example
 * ```ts
 * const parent = withCancel(background());
 * const child = withCancel(parent);
 * dependents(parent); // 1
 * child.cancel();
 * dependents(parent); // 0: a child detaches when it ends
 * ```
 */
export function dependents(ctx: Context): number {
  return dependentCount(ctx);
}

/**
 * A read-only snapshot of `ctx`: how it was made, its state, times, deadline, cause, the
 * context where its end started, and its creation stack when those are recorded. Works on a
 * context of any copy of timebound in the process (the ESM and CJS builds); its `version` says
 * which shape it has.
 *
 * @example
 * ```ts
 * const s = inspect(ctx);
 * if (s.state !== "live") console.log(`${s.kind} ended after ${s.endedAt! - s.createdAt!} ms`);
 * ```
 */
export function inspect(ctx: Context): ContextSnapshot {
  const snapshot = snapshotOf(ctx);
  if (snapshot === undefined) {
    throw invalidType(`inspect: ctx must be a Context of timebound's, got ${describeValue(ctx)}`);
  }
  return snapshot;
}

/**
 * The state of `value` if it is a context of any copy of timebound ("live", "canceled",
 * "deadline-exceeded"), else undefined: {@link inspect}'s `state`, allocating nothing.
 *
 * @example
 * ```ts
 * if (contextState(current()) !== "live") console.warn("working for a context that has ended");
 * ```
 */
export function contextState(value: unknown): ContextState | undefined {
  return stateOf(value);
}

/** The snapshot of `value` if it is a context of any copy of timebound, else undefined. */
export function tryInspect(value: unknown): ContextSnapshot | undefined {
  return snapshotOf(value);
}
