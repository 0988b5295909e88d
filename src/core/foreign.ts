// Contexts that timebound did not make (a user's wrapper, a test double, a context of the other
// ESM/CJS copy): adopted as parents the way Go's propagateCancel adopts a foreign Context, by
// following their signal and taking their deadline. A slow path, off the one for our own.
import {
  CANCELED,
  CancelContext,
  type Context,
  DEADLINE,
  DerivedContext,
  Kind,
  LIVE,
  type Link,
  type State,
  endContext,
  link,
} from "./context.js";
import { isDeadlineExceeded } from "./errors.js";

/**
 * @internal Whether `value` is a context that timebound did not make but that implements
 * {@link Context} (a user's wrapper, a test double, a context of the other ESM/CJS copy): it can
 * be a parent, as Go's `propagateCancel` adopts a foreign `Context`.
 */
export function isForeignContext(value: unknown): value is Context {
  if (typeof value !== "object" || value === null) return false;
  if (value instanceof CancelContext || value instanceof DerivedContext) return false;
  const v = value as Partial<Record<keyof Context, unknown>>;
  return (
    typeof v.value === "function" &&
    typeof v.remaining === "function" &&
    typeof v.throwIfDone === "function" &&
    "err" in v &&
    "deadline" in v &&
    typeof (v.signal as AbortSignal | undefined)?.addEventListener === "function"
  );
}

/** @internal For an object that looks like a context but is not one: what it lacks to be adopted. */
export function missingNote(value: unknown): string {
  if (typeof value !== "object" || value === null || !("signal" in value || "deadline" in value)) {
    return "";
  }
  const v = value as Record<string, unknown>;
  const missing = [
    ...["value", "remaining", "throwIfDone"]
      .filter((m) => typeof v[m] !== "function")
      .map((m) => `${m}()`),
    ...["err", "deadline"].filter((p) => !(p in v)),
    ...(typeof (v.signal as AbortSignal | undefined)?.addEventListener === "function"
      ? []
      : ["signal"]),
  ];
  return ` (it looks like a context but has no ${missing.join(", ")}: a Context timebound did not make is adopted as a parent when it implements the whole Context interface)`;
}

/** @internal A foreign context's deadline, as a number of monotonic ms or Infinity. */
export function foreignDeadline(foreign: Context): number {
  const d = foreign.deadline;
  return typeof d === "number" && !Number.isNaN(d) ? d : Infinity;
}

/**
 * @internal Ends `ctx` when the foreign context above it ends (its signal aborts), with its error's kind
 * and its cause; the listener goes when `ctx` ends first. A foreign context that has ended
 * already ends `ctx` now.
 */
export function followForeign(ctx: CancelContext, foreign: Context): void {
  const endOf = (): [State, unknown] => {
    const err = foreign.err;
    const state = isDeadlineExceeded(err) || err?.name === "TimeoutError" ? DEADLINE : CANCELED;
    return [state, foreign.cause];
  };
  followSignal(ctx, foreign.signal, endOf);
}

/**
 * @internal Ends `ctx` when `signal` aborts, with the state and cause `endOf` gives; removes its
 * listener as soon as `ctx` ends for any reason, so a long-lived signal followed many times
 * keeps nothing.
 */
export function followSignal(
  ctx: CancelContext,
  signal: AbortSignal,
  endOf: () => [State, unknown],
): void {
  const follower = new SignalFollower(ctx, signal, endOf);
  if (signal.aborted) {
    follower.handleEvent();
    return;
  }
  link(ctx, follower);
  signal.addEventListener("abort", follower, { once: true });
}

/**
 * @internal Whether `node` is a follower made for one wait (see watch.ts) that nothing waits on
 * any more: all it holds is its link to the signal it follows.
 */
export function isIdleFollower(node: CancelContext): boolean {
  const head = node._head;
  return node._kind === Kind.Follower && head instanceof SignalFollower && head._next === null;
}

/** Listens on a signal while the context it follows lives. */
class SignalFollower implements Link {
  /** @internal */
  _prev: Link | null = null;
  /** @internal */
  _next: Link | null = null;
  /** @internal */
  _owner: CancelContext | null = null;
  constructor(
    readonly ctx: CancelContext,
    readonly signal: AbortSignal,
    readonly endOf: () => [State, unknown],
  ) {}

  handleEvent(): void {
    if (this.ctx._state !== LIVE) return;
    const [state, cause] = this.endOf();
    endContext(this.ctx, state, cause, this.ctx, 0);
  }

  /** @internal */
  _ended(): void {
    this.signal.removeEventListener("abort", this);
  }
}
