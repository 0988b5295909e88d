// The read-only view of a context that everything outside the cancel tree reads (explanations,
// diagnostics) instead of the tree's private fields. Reached through a registry symbol, so that a
// context of another copy of timebound (the ESM and CJS builds) can be read too.
import type { Context } from "./context.js";
import type { CreationSite } from "./site.js";

/** The version of {@link ContextSnapshot} this copy writes; a reader checks it. */
export const SNAPSHOT_VERSION = 1;

/** The method a context answers {@link ContextSnapshot} with, under this registry symbol. */
export const SNAPSHOT = Symbol.for("timebound.context.snapshot");

/** How a context was made, as messages and diagnostics name it. */
export type ContextKind =
  | "withCancel"
  | "withCancelCause"
  | "withTimeout"
  | "withTimeoutCause"
  | "withDeadline"
  | "withDeadlineCause"
  | "fromSignal"
  | "withBudget"
  | "background"
  | "todo"
  | "withValue"
  | "withoutCancel";

/** The state of a context. */
export type ContextState = "live" | "canceled" | "deadline-exceeded";

/**
 * What a context is and has done, read in one go: the facts explanations and diagnostics are
 * built from. Times are monotonic milliseconds (`now()`). Plain data but for `origin` and
 * `site`, which are references (to a context, to an unformatted stack).
 */
export interface ContextSnapshot {
  /** {@link SNAPSHOT_VERSION} of the copy of timebound that wrote it. */
  readonly version: number;
  readonly kind: ContextKind;
  readonly name: string | undefined;
  /** Whether it can end by itself (a cancel, a deadline, a signal), not only through its parent. */
  readonly cancelable: boolean;
  readonly state: ContextState;
  /** Creation time; undefined for contexts that cannot end by themselves. */
  readonly createdAt: number | undefined;
  /** Its own deadline, undefined without one. */
  readonly ownDeadline: number | undefined;
  /** Its effective deadline (its own or an ancestor's, whichever is earlier), or undefined. */
  readonly deadline: number | undefined;
  /** When it ended, or undefined while live. */
  readonly endedAt: number | undefined;
  /** How late the deadline that ended it was seen (the event loop was busy); 0 otherwise. */
  readonly lateByMs: number;
  /** Whether it ended with an explicit cause (`cancel(cause)`, `withTimeoutCause`, a signal's reason). */
  readonly hasCause: boolean;
  readonly cause: unknown;
  /** The context where its end started (itself, or the ancestor that ended it); undefined while live. */
  readonly origin: Context | undefined;
  /** The nearest ancestor-or-self that can end it, or undefined if nothing can. */
  readonly node: Context | undefined;
  /** Its creation stack, captured while creation sites are recorded (unformatted until read). */
  readonly site: CreationSite | undefined;
}

/**
 * The method a context answers its {@link ContextState} with, allocating nothing: for readers
 * that only need to know whether it has ended, often (diagnostics, at every timer created).
 */
export const STATE = Symbol.for("timebound.context.state");

/** A context of some copy of timebound: one that answers {@link SNAPSHOT}. */
export interface Snapshotable {
  [SNAPSHOT](): ContextSnapshot;
  [STATE](): ContextState;
}

/** The state of `ctx`, or undefined if it is not a context of any copy of timebound. */
export function stateOf(ctx: unknown): ContextState | undefined {
  if (typeof ctx !== "object" || ctx === null) return undefined;
  const method = (ctx as Partial<Snapshotable>)[STATE];
  return typeof method === "function" ? method.call(ctx) : undefined;
}

/** The snapshot of `ctx`, or undefined if it is not a context of any copy of timebound. */
export function snapshotOf(ctx: unknown): ContextSnapshot | undefined {
  if (typeof ctx !== "object" || ctx === null) return undefined;
  const method = (ctx as Partial<Snapshotable>)[SNAPSHOT];
  return typeof method === "function" ? method.call(ctx) : undefined;
}
