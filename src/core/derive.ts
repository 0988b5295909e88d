import { now } from "./clock.js";
import {
  type CancelableContext,
  type Context,
  type ContextOptions,
  DerivedContext,
  Key,
  Kind,
  asParent,
  nameFrom,
  newCancelContext,
  newDerivedContext,
} from "./context.js";
import { describeValue } from "./describe.js";
import { checkMs, invalidType, outOfRange } from "./validate.js";

const backgroundContext = new DerivedContext(
  undefined,
  "background",
  null,
  null,
  undefined,
  undefined,
  "background",
);
const todoContext = new DerivedContext(undefined, "todo", null, null, undefined, undefined, "todo");

/**
 * The root of every context tree: never ends, has no deadline and no values (Go's
 * `context.Background()`). Start one per request or job from it.
 *
 * @example
 * ```ts
 * using ctx = withTimeout(background(), 5_000, { name: "job" });
 * ```
 */
export function background(): Context {
  return backgroundContext;
}

/**
 * Like {@link background}, for code that has not decided yet which context to use (Go's
 * `context.TODO()`): it reads as a marker that diagnostics and reviews can search for.
 *
 * @example
 * ```ts
 * await sleep(todo(), 100); // TODO: take the caller's context
 * ```
 */
export function todo(): Context {
  return todoContext;
}

/**
 * A child of `parent` that ends when `cancel()` is called or when `parent` ends.
 *
 * @example
 * ```ts
 * using ctx = withCancel(parent, { name: "worker" });
 * process.once("SIGTERM", () => ctx.cancel(new Error("SIGTERM: draining")));
 * ```
 */
export function withCancel(parent: Context, options?: ContextOptions): CancelableContext {
  return newCancelContext(parent, "withCancel", Kind.Cancel, Infinity, undefined, options);
}

/**
 * Go's `WithCancelCause`. Every cancellable context in timebound already takes a cause
 * (`ctx.cancel(cause)`), so this is {@link withCancel} under the name Go readers look for.
 *
 * @example
 * ```ts
 * const ctx = withCancelCause(parent);
 * ctx.cancel(new Error("client went away"));
 * cause(ctx); // Error: client went away
 * ```
 */
export function withCancelCause(parent: Context, options?: ContextOptions): CancelableContext {
  return newCancelContext(
    parent,
    "withCancelCause",
    Kind.CancelCause,
    Infinity,
    undefined,
    options,
  );
}

/**
 * A child of `parent` that ends `timeoutMs` milliseconds from now with `DeadlineExceeded`, or
 * earlier if canceled or if `parent` ends. Only a timeout that ends before the parent's deadline
 * arms a timer. `timeoutMs <= 0` gives a context that has already expired (as in Go);
 * `Infinity` gives one with no deadline of its own; NaN or a non-number throws.
 *
 * @example
 * ```ts
 * using ctx = withTimeout(parent, 500, { name: "inventory" });
 * const stock = await fetch(`http://inventory/stock/${sku}`, { signal: ctx.signal });
 * ```
 */
export function withTimeout(
  parent: Context,
  timeoutMs: number,
  options?: ContextOptions,
): CancelableContext {
  return timeoutContext("withTimeout", Kind.Timeout, parent, timeoutMs, undefined, options);
}

/**
 * {@link withTimeout} whose `cause` is `timeoutCause` when its own deadline ends it.
 *
 * @example
 * ```ts
 * using ctx = withTimeoutCause(parent, 200, new Error("inventory SLO is 200 ms"));
 * ```
 */
export function withTimeoutCause(
  parent: Context,
  timeoutMs: number,
  timeoutCause: unknown,
  options?: ContextOptions,
): CancelableContext {
  return timeoutContext(
    "withTimeoutCause",
    Kind.TimeoutCause,
    parent,
    timeoutMs,
    timeoutCause,
    options,
  );
}

/**
 * A child of `parent` that ends at `deadline`: monotonic ms ({@link now}) or a `Date`
 * (converted to monotonic time once, now). A deadline in the past gives an expired context. A
 * number that looks like `Date.now()` (within a year of it) is refused with a RangeError saying
 * what to pass: it is a wall-clock time, and as a monotonic one it would be decades away.
 *
 * @example
 * ```ts
 * using ctx = withDeadline(parent, now() + 1000);
 * ```
 */
export function withDeadline(
  parent: Context,
  deadline: number | Date,
  options?: ContextOptions,
): CancelableContext {
  const d = checkDeadline(deadline, "withDeadline");
  return newCancelContext(parent, "withDeadline", Kind.Deadline, d, undefined, options);
}

/**
 * {@link withDeadline} whose `cause` is `deadlineCause` when its own deadline ends it.
 *
 * @example
 * ```ts
 * const windowCloses = new Date("2030-01-01T06:00:00Z");
 * using ctx = withDeadlineCause(parent, windowCloses, new Error("batch window closed"));
 * ```
 */
export function withDeadlineCause(
  parent: Context,
  deadline: number | Date,
  deadlineCause: unknown,
  options?: ContextOptions,
): CancelableContext {
  const d = checkDeadline(deadline, "withDeadlineCause");
  return newCancelContext(
    parent,
    "withDeadlineCause",
    Kind.DeadlineCause,
    d,
    deadlineCause,
    options,
  );
}

/**
 * Makes a typed key for {@link withValue}. Keys compare by identity, so two keys with the same
 * name never collide.
 *
 * @example
 * ```ts
 * export const UserKey = createKey<User>("user");
 * const ctx = withValue(parent, UserKey, user);
 * ctx.value(UserKey); // User | undefined
 * ```
 */
export function createKey<T>(name: string): Key<T> {
  if (typeof name !== "string") {
    throw invalidType(`createKey: name must be a string, got ${describeValue(name)}`);
  }
  return new Key<T>(name);
}

/**
 * A child of `parent` that carries `value` under `key`, and ends exactly when `parent` does.
 *
 * @example
 * ```ts
 * const RequestIdKey = createKey<string>("requestId");
 * const ctx = withValue(parent, RequestIdKey, String(req.headers["x-request-id"]));
 * ```
 */
export function withValue<T>(parent: Context, key: Key<T>, value: T): Context {
  const p = asParent(parent, "withValue");
  if (!(key instanceof Key)) {
    throw invalidType(`withValue: key must come from createKey(), got ${describeValue(key)}`);
  }
  return newDerivedContext(p, undefined, "withValue", key, value);
}

/**
 * A child that keeps `parent`'s values but not its cancellation or deadline (Go's
 * `WithoutCancel`): for work that must outlive the request, such as an audit write.
 *
 * @example
 * ```ts
 * void audit.write(withTimeout(withoutCancel(ctx), 5_000), entry);
 * ```
 */
export function withoutCancel(parent: Context, options?: ContextOptions): Context {
  const p = asParent(parent, "withoutCancel");
  const name = nameFrom(options, "withoutCancel");
  return newDerivedContext(p, name, "withoutCancel", undefined, undefined, true);
}

/**
 * Go's `context.Cause(ctx)`: why `ctx` ended, `undefined` while it is live.
 *
 * @example
 * ```ts
 * using ctx = withCancel(parent);
 * ctx.cancel(new Error("shutdown"));
 * cause(ctx); // Error: shutdown   (ctx.err is Canceled)
 * ```
 */
export function cause(ctx: Context): unknown {
  return asParent(ctx, "cause", "ctx").cause;
}

function timeoutContext(
  fn: string,
  kind: Kind,
  parent: Context,
  timeoutMs: number,
  timeoutCause: unknown,
  options: ContextOptions | undefined,
): CancelableContext {
  const t = now();
  const deadline = t + Math.max(0, checkMs(timeoutMs, fn, "timeoutMs", ANY_MS));
  return newCancelContext(parent, fn, kind, deadline, timeoutCause, options, t);
}

/** Any number of ms: zero or less is already expired (as in Go), Infinity is none. */
const ANY_MS = { min: -Infinity, max: Infinity, infinity: true } as const;

/**
 * A number this close to `Date.now()` is a wall-clock time, not a monotonic one: `now()` counts
 * from process start, and would reach it only after decades of uptime. Go users write
 * `time.Now().Add(d)`; in JavaScript that becomes `Date.now() + d`, which would silently give a
 * deadline 57 years away.
 */
const WALL_CLOCK_WINDOW_MS = 366 * 24 * 3600 * 1000;

function checkDeadline(deadline: unknown, fn: string): number {
  if (deadline instanceof Date) {
    const wall = deadline.getTime();
    if (Number.isNaN(wall)) throw outOfRange(`${fn}: deadline is an invalid Date`);
    return now() + (wall - Date.now());
  }
  const d = checkMs(deadline, fn, "deadline", ANY_MS);
  if (Math.abs(d - Date.now()) < WALL_CLOCK_WINDOW_MS) {
    throw outOfRange(
      `${fn}: deadline ${d} looks like a wall-clock time (Date.now() + ms), but deadlines are` +
        ` monotonic: pass now() + ms (now() from timebound), or a Date for a wall-clock deadline`,
    );
  }
  return d;
}
