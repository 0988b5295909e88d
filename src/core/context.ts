import { now } from "./clock.js";
import { Canceled, type ContextError, DeadlineExceeded } from "./errors.js";
import {
  type Announced,
  type ContextEndedMessage,
  announceEnd as announceOpEnd,
  channels,
} from "./events.js";
import {
  type ContextInfo,
  type EndReason,
  type Explanation,
  describeValue,
  formatExplanation,
} from "./explain.js";
import { TIMER_SLACK_MS, startTimer } from "./timer.js";
import { type CreationSite, captureSite, siteLocation, tracking } from "./tracking.js";

/**
 * A deadline, a cancellation signal and request-scoped values that flow down a tree of calls,
 * as Go's `context.Context`. Contexts are immutable from below: a callee derives a child
 * (`withTimeout(ctx, 500)`) and can end only that child.
 *
 * @example
 * ```ts
 * async function getUser(ctx: Context, id: string) {
 *   using child = withTimeout(ctx, 200, { name: "users" });
 *   return fetch(`http://users/${id}`, { signal: child.signal });
 * }
 * ```
 */
export interface Context {
  /** The name given at creation, used in errors and diagnostics. */
  readonly name: string | undefined;
  /** The parent this context was derived from; `undefined` for `background()`. */
  readonly parent: Context | undefined;
  /** `undefined` while live; then `Canceled` or `DeadlineExceeded` (Go's `Err()`). */
  readonly err: ContextError | undefined;
  /**
   * Why it ended (Go's `context.Cause`): the value given to `cancel(cause)` here or in the
   * ancestor that ended it, the cause of `withTimeoutCause`, or `err` when none was given.
   */
  readonly cause: unknown;
  /** Effective deadline in monotonic ms ({@link now}), or `undefined` if it has none. */
  readonly deadline: number | undefined;
  /** Milliseconds left before the deadline: `Infinity` without one, 0 once ended. */
  remaining(): number;
  /** An AbortSignal aborted with `err` when the context ends. Made on first read. */
  readonly signal: AbortSignal;
  /** A promise that resolves when the context ends (never rejects). Made on first read. */
  readonly done: Promise<void>;
  /** The value stored under `key` by this context or the nearest ancestor that has one. */
  value<T>(key: Key<T>): T | undefined;
  /** Throws `err` if the context has ended: a cheap check for loops that do CPU work. */
  throwIfDone(): void;
}

/**
 * A context its holder can end. `cancel()` is idempotent and synchronous: when it returns,
 * this context and every descendant are done, their timers cleared, their signals aborted.
 * `[Symbol.dispose]` cancels, so `using ctx = withTimeout(parent, 500)` is Go's `defer cancel()`.
 */
export interface CancelableContext extends Context, Disposable {
  /** Ends this context and its descendants with `Canceled`; `cause` is kept if it is the first end. */
  cancel(cause?: unknown): void;
}

/**
 * A typed key for {@link withValue}; make one with {@link createKey}. Keys compare by identity:
 * the name is only for people.
 *
 * @example
 * ```ts
 * const TraceIdKey: Key<string> = createKey("traceId");
 * const traceId = ctx.value(TraceIdKey); // string | undefined
 * ```
 */
export class Key<T> {
  /** @internal phantom field that carries `T`. */
  declare readonly _type: T;
  /** Use {@link createKey}, which checks `name`. */
  constructor(
    /** The name given to {@link createKey}, shown by `toString()`. */
    readonly name: string,
  ) {}
  /** `Key(name)`. */
  toString(): string {
    return `Key(${this.name})`;
  }
}

/** Options accepted by every context constructor. */
export interface ContextOptions {
  /** Shown in error messages, `explain()` and diagnostics. */
  readonly name?: string;
}

/** A dependent of a cancellable context: a child context or an internal waiter. */
export interface Link {
  _prev: Link | null;
  _next: Link | null;
  _owner: CancelContext | null;
  /** Called once, synchronously, when `owner` ends. Must not run user code synchronously. */
  _ended(owner: CancelContext): void;
}

const LIVE = 0;
const CANCELED = 1;
const DEADLINE = 2;
type State = typeof LIVE | typeof CANCELED | typeof DEADLINE;

/** How a cancellable context was made; picks its label when it has no name. */
export const Kind = { Cancel: 0, Timeout: 1, Deadline: 2, Signal: 3 } as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

const KIND_LABEL = ["withCancel", "withTimeout", "withDeadline", "fromSignal"] as const;

let armedTimers = 0;
let neverSignal: AbortSignal | undefined;
const neverDone: Promise<void> = new Promise<void>(() => {});

/** The cancellable context: a node in the tree of things that end together. */
export class CancelContext implements CancelableContext, Link {
  _prev: Link | null = null;
  _next: Link | null = null;
  _owner: CancelContext | null = null;
  _head: Link | null = null;
  readonly _node: CancelContext = this;
  _state: State = LIVE;
  _cause: unknown = undefined;
  _origin: CancelContext | null = null;
  // -0, not 0: V8 then stores these as doubles from the start, instead of migrating every
  // context to a new layout when the first performance.now() value is written (mass cancel).
  _endedAt = -0;
  _lateBy = -0;
  _deadline: number;
  _timer: ReturnType<typeof setTimeout> | undefined = undefined;
  _err: ContextError | undefined = undefined;
  _ac: AbortController | undefined = undefined;
  _done: Promise<void> | undefined = undefined;
  _resolve: (() => void) | undefined = undefined;
  _site: CreationSite | undefined = undefined;
  _keepAlive = false;
  _keepTimer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(
    readonly parent: Context | undefined,
    readonly name: string | undefined,
    readonly _kind: Kind,
    readonly _createdAt: number,
    readonly _ownDeadline: number,
    readonly _deadlineCause: unknown,
  ) {
    this._deadline = _ownDeadline;
  }

  get err(): ContextError | undefined {
    if (this._state === LIVE && !expireIfDue(this)) return undefined;
    return (this._err ??= makeError(this));
  }

  get cause(): unknown {
    if (this._state === LIVE && !expireIfDue(this)) return undefined;
    return this._cause !== undefined ? this._cause : this.err;
  }

  get deadline(): number | undefined {
    return this._deadline === Infinity ? undefined : this._deadline;
  }

  remaining(): number {
    if (this._state !== LIVE) return 0;
    return this._deadline === Infinity ? Infinity : Math.max(0, this._deadline - now());
  }

  get signal(): AbortSignal {
    if (this._ac === undefined) {
      this._ac = new AbortController();
      const err = this.err;
      if (err !== undefined) this._ac.abort(err);
    }
    return this._ac.signal;
  }

  get done(): Promise<void> {
    if (this._done === undefined) {
      const ended = this.err !== undefined;
      this._done = new Promise<void>((resolve) => {
        if (ended) resolve();
        else this._resolve = resolve;
      });
      keepAliveUntilDone(this);
    }
    return this._done;
  }

  value<T>(key: Key<T>): T | undefined {
    return lookup(this.parent, key);
  }

  throwIfDone(): void {
    const err = this.err;
    if (err !== undefined) throw err;
  }

  cancel(cause?: unknown): void {
    if (this._state === LIVE) end(this, CANCELED, cause, this, 0);
  }

  [Symbol.dispose](): void {
    this.cancel();
  }

  _ended(owner: CancelContext): void {
    this._state = owner._state;
    this._cause = owner._cause;
    this._origin = owner._origin;
    this._endedAt = owner._endedAt;
    this._lateBy = owner._lateBy;
    if (this._timer !== undefined || this._keepAlive) disarm(this);
  }

  _explain(): Explanation {
    return describe(this);
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `Context<${this._describeShort()}>`;
  }

  _describeShort(): string {
    const state = this._state === LIVE ? "live" : this._state === CANCELED ? "canceled" : "expired";
    const timeout =
      this._ownDeadline === Infinity
        ? ""
        : ` ${Math.round(this._ownDeadline - this._createdAt)} ms`;
    return `${labelOf(this)}${timeout} ${state}`;
  }
}

/** A context that cannot be canceled itself: `background()`, `withValue`, `withoutCancel`. */
export class DerivedContext implements Context {
  constructor(
    readonly parent: Context | undefined,
    readonly name: string | undefined,
    /** Nearest cancellable ancestor, or null when nothing above can end this context. */
    readonly _node: CancelContext | null,
    readonly _key: Key<unknown> | undefined,
    readonly _val: unknown,
  ) {}

  get err(): ContextError | undefined {
    return this._node === null ? undefined : this._node.err;
  }

  get cause(): unknown {
    return this._node === null ? undefined : this._node.cause;
  }

  get deadline(): number | undefined {
    return this._node === null ? undefined : this._node.deadline;
  }

  remaining(): number {
    return this._node === null ? Infinity : this._node.remaining();
  }

  get signal(): AbortSignal {
    return this._node === null ? (neverSignal ??= new AbortController().signal) : this._node.signal;
  }

  get done(): Promise<void> {
    return this._node === null ? neverDone : this._node.done;
  }

  value<T>(key: Key<T>): T | undefined {
    return lookup(this, key);
  }

  throwIfDone(): void {
    this._node?.throwIfDone();
  }

  _explain(): Explanation {
    if (this._node !== null) return this._node._explain();
    const info: ContextInfo = {
      name: this.name,
      label: this.name ?? "context",
      createdAt: 0,
      timeoutMs: undefined,
      site: undefined,
    };
    return liveExplanation(info, undefined, undefined);
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    const base = this._node === null ? "" : ` under ${this._node._describeShort()}`;
    const what = this._key !== undefined ? `value ${this._key.name}` : (this.name ?? "context");
    return `Context<${what}${base}>`;
  }
}

function lookup<T>(start: Context | undefined, key: Key<T>): T | undefined {
  for (let c = start; c !== undefined; c = c.parent) {
    if (c instanceof DerivedContext && c._key === key) return c._val as T;
  }
  return undefined;
}

/** Validates a parent argument and returns it typed for internal use. */
export function asParent(
  parent: unknown,
  fn: string,
  what = "parent",
): CancelContext | DerivedContext {
  if (parent instanceof CancelContext || parent instanceof DerivedContext) return parent;
  const foreign =
    typeof parent === "object" && parent !== null && "signal" in parent && "deadline" in parent;
  throw new TypeError(
    `${fn}: ${what} must be a timebound Context, got ${describeValue(parent)}` +
      (foreign
        ? " (a context from another copy of timebound: are the ESM and CJS builds both loaded?" +
          " Adopt it with fromSignal(ctx.signal))"
        : ""),
  );
}

/** Creates a cancellable child of `parent`, linked so that it ends when the parent does. */
export function newCancelContext(
  parentArg: unknown,
  fn: string,
  kind: Kind,
  ownDeadline: number,
  deadlineCause: unknown,
  options: ContextOptions | undefined,
  createdAt: number = now(),
): CancelContext {
  const parent = asParent(parentArg, fn);
  const name = nameFrom(options, fn);
  const ctx = new CancelContext(parent, name, kind, createdAt, ownDeadline, deadlineCause);
  if (tracking.enabled) ctx._site = captureSite(newCancelContext);
  const pnode = parent._node;
  const parentDeadline = pnode === null ? Infinity : pnode._deadline;
  if (ownDeadline >= parentDeadline) ctx._deadline = parentDeadline;
  if (channels.created.hasSubscribers) {
    channels.created.publish({ context: ctx, parent });
    if (ctx._state !== LIVE) return ctx; // a subscriber canceled it: link and arm nothing
  }

  if (pnode !== null) {
    // A parent whose deadline passed while the loop was busy has ended, timer or not.
    if (pnode._state !== LIVE || (parentDeadline <= createdAt && expireIfDue(pnode))) {
      ctx._ended(pnode);
      ctx._endedAt = createdAt;
      announceEnd(ctx);
      return ctx;
    }
    link(pnode, ctx);
  }
  if (ownDeadline < parentDeadline) {
    if (ownDeadline <= createdAt) end(ctx, DEADLINE, deadlineCause, ctx, 0);
    else arm(ctx, ownDeadline - createdAt);
  }
  return ctx;
}

/** Adds `child` to `owner`'s dependents. The caller checks that `owner` is live. */
export function link(owner: CancelContext, child: Link): void {
  child._owner = owner;
  const head = owner._head;
  child._next = head;
  if (head !== null) head._prev = child;
  owner._head = child;
}

/** Removes `child` from its owner's dependents, if it is still there. */
export function unlink(child: Link): void {
  const owner = child._owner;
  if (owner === null) return;
  const prev = child._prev;
  const next = child._next;
  if (prev === null) owner._head = next;
  else prev._next = next;
  if (next !== null) next._prev = prev;
  child._prev = child._next = child._owner = null;
}

// Deadline timers do not keep the process alive (as with AbortSignal.timeout): a deadline is a
// bound on work, not work. Waiting on a context (reading `done`, a sleep, a channel operation)
// is waiting, though, so it refs the timers that can end the context, its own and its
// ancestors', until the context ends.
function arm(ctx: CancelContext, delay: number): void {
  ctx._timer = startTimer(onDeadline, delay, ctx);
  if (!ctx._keepAlive) ctx._timer.unref();
  armedTimers++;
}

export function keepAliveUntilDone(ctx: CancelContext): void {
  if (ctx._keepAlive || ctx._state !== LIVE) return;
  ctx._keepAlive = true;
  if (ctx._timer !== undefined) {
    ctx._timer.ref(); // its own deadline is the earliest: this timer ends it
  } else if (ctx._deadline !== Infinity) {
    // An ancestor's unref'd timer will end it; hold the loop open until then, from here, so
    // that the ancestor's timer is not ref'd for the ancestor's whole life.
    ctx._keepTimer = startTimer(onKeepAlive, ctx._deadline - now(), ctx);
    armedTimers++;
  }
}

function onKeepAlive(ctx: CancelContext): void {
  ctx._keepTimer = undefined;
  armedTimers--;
  // Due: end it here rather than wait for the ancestor's timer. Not due: the wait was longer
  // than one timer can hold, or the timer fired within its slack; wait for the rest.
  if (ctx._state === LIVE && !expireIfDue(ctx)) {
    ctx._keepTimer = startTimer(onKeepAlive, ctx._deadline - now(), ctx);
    armedTimers++;
  }
}

function disarm(ctx: CancelContext): void {
  if (ctx._timer !== undefined) {
    clearTimeout(ctx._timer);
    ctx._timer = undefined;
    armedTimers--;
  }
  if (ctx._keepTimer !== undefined) {
    clearTimeout(ctx._keepTimer);
    ctx._keepTimer = undefined;
    armedTimers--;
  }
}

function onDeadline(ctx: CancelContext): void {
  ctx._timer = undefined;
  armedTimers--;
  if (ctx._state !== LIVE) return;
  const t = now();
  // Fired within the timer's slack: on time. Earlier: a wait longer than one timer can hold.
  if (t + TIMER_SLACK_MS < ctx._ownDeadline) arm(ctx, ctx._ownDeadline - t);
  else expire(ctx, t);
}

/**
 * A deadline passed is a deadline passed, whatever the event loop is doing: when a live
 * context is read after its effective deadline (a CPU loop calling `throwIfDone()` never lets
 * the timer run), the context that set that deadline ends here and now, with how late it was
 * seen, exactly as if its timer had fired. Returns whether `ctx` has ended.
 */
function expireIfDue(ctx: CancelContext): boolean {
  const deadline = ctx._deadline;
  if (deadline === Infinity) return false;
  const t = now();
  if (t < deadline) return false;
  let owner = ctx; // the ancestor that set this deadline (and armed its timer)
  while (owner._owner !== null && owner._owner._deadline === deadline) owner = owner._owner;
  expire(owner, t);
  return true;
}

function expire(ctx: CancelContext, t: number): void {
  const lateBy = Math.max(0, t - ctx._ownDeadline);
  end(ctx, DEADLINE, ctx._deadlineCause, ctx, lateBy, t);
  if (channels.deadlineFired.hasSubscribers) {
    channels.deadlineFired.publish({ context: ctx, deadline: ctx._ownDeadline, lateByMs: lateBy });
  }
}

/**
 * Ends `root` and every descendant, then notifies. Two phases, so no listener (abort events run
 * user code synchronously) ever sees a half-ended tree. Iterative: trees may be deep. Every
 * descendant is ended and notified whatever throws on the way: a failure is rethrown
 * asynchronously afterwards, as an abort listener's would be.
 */
function end(
  root: CancelContext,
  state: State,
  cause: unknown,
  origin: CancelContext,
  lateBy: number,
  at: number = now(),
): void {
  unlink(root);
  root._state = state;
  root._cause = cause;
  root._origin = origin;
  root._endedAt = at;
  root._lateBy = lateBy;
  if (root._timer !== undefined || root._keepAlive) disarm(root);
  if (root._head === null) {
    announceEnd(root);
    return;
  }
  const ended: CancelContext[] = [root];
  for (let i = 0; i < ended.length; i++) {
    const node = ended[i]!;
    let child = node._head;
    node._head = null;
    while (child !== null) {
      const next = child._next;
      child._prev = child._next = child._owner = null;
      if (child instanceof CancelContext) {
        child._ended(node); // copies the end's facts; runs nothing else
        ended.push(child);
      } else {
        try {
          child._ended(node);
          announceOpEnd(child as Partial<Announced>, "context-ended");
        } catch (err) {
          rethrowLater(err);
        }
      }
      child = next;
    }
  }
  for (const node of ended) {
    try {
      announceEnd(node);
    } catch (err) {
      rethrowLater(err);
    }
  }
}

function rethrowLater(err: unknown): void {
  queueMicrotask(() => {
    throw err;
  });
}

function announceEnd(ctx: CancelContext): void {
  if (ctx._resolve !== undefined) {
    ctx._resolve();
    ctx._resolve = undefined;
  }
  if (ctx._ac !== undefined) ctx._ac.abort(ctx.err);
  if (channels.ended.hasSubscribers) channels.ended.publish(new EndedMessage(ctx));
}

/** The ended event's message; `error` and `cause` are made only if a subscriber reads them. */
class EndedMessage implements ContextEndedMessage {
  constructor(readonly context: CancelContext) {}
  get error(): ContextError {
    return this.context.err!;
  }
  get cause(): unknown {
    return this.context.cause;
  }
}

// The message says who ended the context, when and why; a stack would add only where the error
// was first read, at several microseconds a capture. Stacks are kept while tracking is on.
function makeError(ctx: CancelContext): ContextError {
  const explanation = (): Explanation => describe(ctx);
  const cause = ctx._cause;
  const limit = Error.stackTraceLimit;
  if (!tracking.enabled) Error.stackTraceLimit = 0;
  try {
    return ctx._state === DEADLINE
      ? new DeadlineExceeded(explanation, cause)
      : new Canceled(explanation, cause);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function labelOf(ctx: CancelContext): string {
  return ctx.name ?? KIND_LABEL[ctx._kind];
}

function infoOf(ctx: CancelContext): ContextInfo {
  return {
    name: ctx.name,
    label: labelOf(ctx),
    createdAt: ctx._createdAt,
    timeoutMs:
      ctx._ownDeadline === Infinity
        ? undefined
        : Math.max(0, round(ctx._ownDeadline - ctx._createdAt)),
    site: siteLocation(ctx._site),
  };
}

function describe(ctx: CancelContext): Explanation {
  const info = infoOf(ctx);
  const deadline = ctx._deadline === Infinity ? undefined : ctx._deadline;
  if (ctx._state === LIVE) {
    const remaining = ctx.remaining();
    return liveExplanation(info, deadline, remaining === Infinity ? undefined : round(remaining));
  }
  const origin = ctx._origin ?? ctx;
  let depth = 0;
  for (let c: Context | undefined = ctx; c !== undefined && c !== origin; c = c.parent) depth++;
  const reason: EndReason = ctx._state === DEADLINE ? "deadline" : "canceled";
  const early = ctx._ownDeadline - ctx._endedAt;
  return withMessage({
    context: info,
    state: ctx._state === DEADLINE ? "deadline-exceeded" : "canceled",
    deadline,
    remainingMs: undefined,
    endedAt: ctx._endedAt,
    lifetimeMs: round(ctx._endedAt - ctx._createdAt),
    earlyByMs: origin !== ctx && early > 0 && early !== Infinity ? round(early) : undefined,
    lateByMs: ctx._lateBy > 0 ? round(ctx._lateBy) : undefined,
    hasCause: ctx._cause !== undefined,
    cause: ctx._cause,
    origin: {
      context: origin === ctx ? info : infoOf(origin),
      reason,
      depth,
      atMs: round(origin._endedAt - origin._createdAt),
    },
  });
}

function liveExplanation(
  info: ContextInfo,
  deadline: number | undefined,
  remainingMs: number | undefined,
): Explanation {
  return withMessage({
    context: info,
    state: "live",
    deadline,
    remainingMs,
    endedAt: undefined,
    lifetimeMs: undefined,
    earlyByMs: undefined,
    lateByMs: undefined,
    hasCause: false,
    cause: undefined,
    origin: undefined,
  });
}

function withMessage(e: Omit<Explanation, "message">): Explanation {
  const explanation = { ...e, message: formatExplanation(e) };
  Object.defineProperty(explanation, "toJSON", { value: explanationJSON });
  return explanation;
}

/** JSON of an explanation: the cause as its description (an Error would serialise as `{}`). */
function explanationJSON(this: Explanation): object {
  return { ...this, cause: this.hasCause ? describeValue(this.cause) : undefined };
}

/** To 0.1 ms; values too large for that (a deadline years away) to whole ms, never Infinity. */
function round(v: number): number {
  return Math.abs(v) < 1e15 ? Math.round(v * 10) / 10 : Math.round(v);
}

export function nameFrom(options: ContextOptions | undefined, fn: string): string | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${fn}: options must be an object, got ${describeValue(options)}`);
  }
  const name = options.name;
  if (name !== undefined && typeof name !== "string") {
    throw new TypeError(`${fn}: options.name must be a string, got ${describeValue(name)}`);
  }
  return name;
}

/** Counters for tests and diagnostics: deadline timers armed right now. */
export function coreStats(): { armedTimers: number } {
  return { armedTimers };
}

/** Number of dependents (child contexts and waiters) linked under a context right now. */
export function dependents(ctx: Context): number {
  if (!(ctx instanceof CancelContext)) return 0;
  let n = 0;
  for (let l = ctx._head; l !== null; l = l._next) n++;
  return n;
}

export { CANCELED, DEADLINE, LIVE, end as endContext };
