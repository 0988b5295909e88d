import { now } from "./clock.js";
import { describeValue } from "./describe.js";
import { Canceled, type ContextError, DeadlineExceeded, isDeadlineExceeded } from "./errors.js";
import { type Announced, type ContextEndedMessage, announceOpEnd, channels } from "./events.js";
import { explainContext } from "./explain.js";
import { followForeign, foreignDeadline, isForeignContext, missingNote } from "./foreign.js";
import { type CreationSite, captureSite, siteCapture } from "./site.js";
import {
  type ContextKind,
  type ContextSnapshot,
  type ContextState,
  SNAPSHOT,
  SNAPSHOT_VERSION,
  STATE,
} from "./snapshot.js";
import { TIMER_SLACK_MS } from "./timer.js";
import {
  type QueuedTimer,
  cancelQueued,
  keepQueued,
  queueKeptTimer,
  queueTimer,
} from "./deadline-queue.js";
import { invalidType, unknownOption } from "./validate.js";

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

declare const keyType: unique symbol;

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
  /** Carries `T` in the type only (no such property exists). */
  declare readonly [keyType]: T;
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

/**
 * @internal A dependent of a cancellable context: a child context or an internal waiter, in the
 * context's intrusive list.
 */
export interface Link {
  /** @internal */
  _prev: Link | null;
  /** @internal */
  _next: Link | null;
  /** @internal */
  _owner: CancelContext | null;
  /** @internal Called once, synchronously, when `owner` ends. Must not run user code synchronously. */
  _ended(owner: CancelContext): void;
}

const LIVE = 0;
const CANCELED = 1;
const DEADLINE = 2;
type State = typeof LIVE | typeof CANCELED | typeof DEADLINE;
const STATE_NAMES: readonly ContextState[] = ["live", "canceled", "deadline-exceeded"];

/** @internal How a cancellable context was made; its label when it has no name. */
export const Kind = {
  Cancel: 0,
  CancelCause: 1,
  Timeout: 2,
  TimeoutCause: 3,
  Deadline: 4,
  DeadlineCause: 5,
  Signal: 6,
  /** Follows a context timebound did not make, for the waits of a context derived from it. */
  Follower: 7,
  /** A budget: a timeout its maker may move later (core/budget.ts). */
  Budget: 8,
} as const;
/** @internal */
export type Kind = (typeof Kind)[keyof typeof Kind];

const KIND_NAMES: readonly ContextKind[] = [
  "withCancel",
  "withCancelCause",
  "withTimeout",
  "withTimeoutCause",
  "withDeadline",
  "withDeadlineCause",
  "fromSignal",
  "withCancel",
  "withBudget",
];

let armedTimers = 0;
let neverSignal: AbortSignal | undefined;
const neverDone: Promise<void> = new Promise<void>(() => {});

/** @internal The cancellable context: a node in the tree of things that end together. */
export class CancelContext implements CancelableContext, Link {
  /** @internal */
  _prev: Link | null = null;
  /** @internal */
  _next: Link | null = null;
  /** @internal */
  _owner: CancelContext | null = null;
  /** @internal */
  _head: Link | null = null;
  /** @internal */
  readonly _node: CancelContext = this;
  /** @internal */
  _state: State = LIVE;
  /** @internal */
  _cause: unknown = undefined;
  /** @internal */
  _origin: CancelContext | null = null;
  // -0, not 0: V8 then stores these as doubles from the start, instead of migrating every
  // context to a new layout when the first performance.now() value is written (mass cancel).
  /** @internal */
  _endedAt = -0;
  /** @internal */
  _lateBy = -0;
  /** @internal */
  _deadline: number;
  /** @internal */
  _timer: QueuedTimer | undefined = undefined;
  /** @internal */
  _err: ContextError | undefined = undefined;
  /** @internal */
  _ac: AbortController | undefined = undefined;
  /** @internal */
  _done: Promise<void> | undefined = undefined;
  /** @internal */
  _resolve: (() => void) | undefined = undefined;
  /** @internal */
  _site: CreationSite | undefined = undefined;
  /** @internal */
  _keepAlive = false;
  /** @internal */
  _keepTimer: QueuedTimer | undefined = undefined;

  constructor(
    readonly parent: Context | undefined,
    readonly name: string | undefined,
    /** @internal */
    readonly _kind: Kind,
    /** @internal */
    readonly _createdAt: number,
    /** @internal Fixed but for a budget context, whose maker may move it later ({@link moveDeadlineLater}). */
    public _ownDeadline: number,
    /** @internal */
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
    else if (channels.cancelAfterEnd.hasSubscribers)
      channels.cancelAfterEnd.publish({ context: this });
  }

  [Symbol.dispose](): void {
    this.cancel();
  }

  /** @internal */
  _ended(owner: CancelContext): void {
    this._state = owner._state;
    this._cause = owner._cause;
    this._origin = owner._origin;
    this._endedAt = owner._endedAt;
    this._lateBy = owner._lateBy;
    if (this._timer !== undefined || this._keepAlive) disarm(this);
  }

  [STATE](): ContextState {
    return STATE_NAMES[this._state]!;
  }

  [SNAPSHOT](): ContextSnapshot {
    const ended = this._state !== LIVE;
    return {
      version: SNAPSHOT_VERSION,
      kind: KIND_NAMES[this._kind]!,
      name: this.name,
      cancelable: true,
      state: STATE_NAMES[this._state]!,
      createdAt: this._createdAt,
      ownDeadline: this._ownDeadline === Infinity ? undefined : this._ownDeadline,
      deadline: this.deadline,
      endedAt: ended ? this._endedAt : undefined,
      lateByMs: this._lateBy > 0 ? this._lateBy : 0,
      hasCause: ended && this._cause !== undefined,
      cause: ended ? this._cause : undefined,
      origin: ended ? (this._origin ?? this) : undefined,
      node: this,
      site: this._site,
    };
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `Context<${shortDescription(this)}>`;
  }
}

/**
 * @internal A context that cannot end by itself: `background()`, `withValue`, `withoutCancel`.
 * What can end it is its nearest cancellable ancestor of ours (`_node`), or, when a context timebound
 * did not make sits above it with none of ours in between, that context (`_foreign`).
 */
export class DerivedContext implements Context {
  constructor(
    readonly parent: Context | undefined,
    readonly name: string | undefined,
    /** @internal Nearest cancellable ancestor, or null when nothing of ours above can end this context. */
    readonly _node: CancelContext | null,
    /** @internal A foreign ancestor that can end it, when `_node` is null; null otherwise. */
    readonly _foreign: Context | null,
    /** @internal */
    readonly _key: Key<unknown> | undefined,
    /** @internal */
    readonly _val: unknown,
    /** @internal */
    readonly _kindName: ContextKind,
  ) {}

  get err(): ContextError | undefined {
    return this._node !== null ? this._node.err : (this._foreign?.err ?? undefined);
  }

  get cause(): unknown {
    return sourceOf(this)?.cause;
  }

  get deadline(): number | undefined {
    return sourceOf(this)?.deadline;
  }

  remaining(): number {
    return sourceOf(this)?.remaining() ?? Infinity;
  }

  get signal(): AbortSignal {
    return sourceOf(this)?.signal ?? (neverSignal ??= new AbortController().signal);
  }

  get done(): Promise<void> {
    return sourceOf(this)?.done ?? neverDone;
  }

  value<T>(key: Key<T>): T | undefined {
    return lookup(this, key);
  }

  throwIfDone(): void {
    sourceOf(this)?.throwIfDone();
  }

  [STATE](): ContextState {
    const source = sourceOf(this);
    if (source === null) return "live";
    if (source instanceof CancelContext) return source[STATE]();
    return snapshotOfSource(source).state;
  }

  [SNAPSHOT](): ContextSnapshot {
    const source = sourceOf(this);
    const base = source === null ? undefined : snapshotOfSource(source);
    return {
      version: SNAPSHOT_VERSION,
      kind: this._kindName,
      name: this.name,
      cancelable: false,
      state: base?.state ?? "live",
      createdAt: undefined,
      ownDeadline: undefined,
      deadline: base?.deadline,
      endedAt: base?.endedAt,
      lateByMs: base?.lateByMs ?? 0,
      hasCause: base?.hasCause ?? false,
      cause: base?.cause,
      origin: base?.origin,
      node: source ?? undefined,
      site: undefined,
    };
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    const base = this._node === null ? "" : ` under ${shortDescription(this._node)}`;
    const what = this._key !== undefined ? `value ${this._key.name}` : (this.name ?? "context");
    return `Context<${what}${base}>`;
  }
}

/** What ends a derived context: a node of ours, a foreign context, or nothing. */
function sourceOf(d: DerivedContext): Context | null {
  return d._node ?? d._foreign;
}

/** The snapshot of what ends a derived context: ours, or a foreign context read through its API. */
function snapshotOfSource(source: Context): ContextSnapshot {
  if (source instanceof CancelContext) return source[SNAPSHOT]();
  const err = source.err;
  return {
    version: SNAPSHOT_VERSION,
    kind: "withCancel",
    name: source.name,
    cancelable: true,
    state: err === undefined ? "live" : isDeadlineExceeded(err) ? "deadline-exceeded" : "canceled",
    createdAt: undefined,
    ownDeadline: source.deadline,
    deadline: source.deadline,
    endedAt: undefined,
    lateByMs: 0,
    hasCause: err !== undefined && source.cause !== err,
    cause: err === undefined ? undefined : source.cause,
    origin: err === undefined ? undefined : source,
    node: source,
    site: undefined,
  };
}

function shortDescription(ctx: CancelContext): string {
  const state = ctx._state === LIVE ? "live" : ctx._state === CANCELED ? "canceled" : "expired";
  const timeout =
    ctx._ownDeadline === Infinity ? "" : ` ${Math.round(ctx._ownDeadline - ctx._createdAt)} ms`;
  return `${ctx.name ?? KIND_NAMES[ctx._kind]!}${timeout} ${state}`;
}

function lookup<T>(start: Context | undefined, key: Key<T>): T | undefined {
  for (let c = start; c !== undefined; c = c.parent) {
    if (c instanceof DerivedContext) {
      if (c._key === key) return c._val as T;
    } else if (!(c instanceof CancelContext)) {
      return c.value(key); // a context timebound did not make answers for its own ancestors
    }
  }
  return undefined;
}

/**
 * @internal Checks a context argument: one of ours, or a foreign one (see
 * {@link isForeignContext}) where `foreignOk`; anything else is refused with a message that says
 * which case it is.
 */
export function asParent(
  parent: unknown,
  fn: string,
  what = "parent",
  foreignOk = true,
): CancelContext | DerivedContext | Context {
  if (parent instanceof CancelContext || parent instanceof DerivedContext) return parent;
  if (isForeignContext(parent)) {
    if (foreignOk) return parent;
    throw invalidType(
      `${fn}: ${what} is a Context that timebound did not make (a wrapper, a test double, or a` +
        ` context of the other ESM/CJS copy of timebound): derive one from it first` +
        ` (withCancel(${what})) and pass that`,
    );
  }
  throw invalidType(
    `${fn}: ${what} must be a timebound Context, got ${describeValue(parent)}${missingNote(parent)}`,
  );
}

/** @internal Makes a {@link DerivedContext} child of `parent` (checked by the caller). */
export function newDerivedContext(
  parent: Context,
  name: string | undefined,
  kind: ContextKind,
  key: Key<unknown> | undefined,
  value: unknown,
  detached = false,
): DerivedContext {
  let node: CancelContext | null = null;
  let foreign: Context | null = null;
  if (!detached) {
    if (parent instanceof CancelContext) node = parent;
    else if (parent instanceof DerivedContext) {
      node = parent._node;
      foreign = parent._foreign;
    } else foreign = parent;
  }
  return new DerivedContext(parent, name, node, foreign, key, value, kind);
}

/** @internal Creates a cancellable child of `parent`, linked so that it ends when the parent does. */
export function newCancelContext(
  parentArg: unknown,
  fn: string,
  kind: Kind,
  ownDeadline: number,
  deadlineCause: unknown,
  options: ContextOptions | undefined,
  createdAt: number = now(),
  knownOptions: readonly string[] = NAME_ONLY,
): CancelContext {
  let pnode: CancelContext | null = null;
  let foreign: Context | null = null;
  if (parentArg instanceof CancelContext) pnode = parentArg;
  else if (parentArg instanceof DerivedContext) {
    pnode = parentArg._node;
    foreign = parentArg._foreign;
  } else foreign = asParent(parentArg, fn); // throws unless it is a foreign context
  const parent = parentArg as Context;
  const name = nameFrom(options, fn, knownOptions);
  const ctx = new CancelContext(parent, name, kind, createdAt, ownDeadline, deadlineCause);
  if (siteCapture.enabled) ctx._site = captureSite(newCancelContext);
  const parentDeadline =
    pnode !== null ? pnode._deadline : foreign === null ? Infinity : foreignDeadline(foreign);
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
      notifyEnded(ctx);
      return ctx;
    }
    link(pnode, ctx);
  } else if (foreign !== null) {
    followForeign(ctx, foreign);
    if (ctx._state !== LIVE) return ctx;
  }
  if (ownDeadline < parentDeadline) {
    if (ownDeadline <= createdAt) end(ctx, DEADLINE, deadlineCause, ctx, 0);
    else arm(ctx, ownDeadline - createdAt, createdAt);
  } else if (foreign !== null && parentDeadline !== Infinity) {
    // The foreign parent's deadline: it may have no timer of its own (a test double), so ours
    // keeps it, as the context that set it would.
    if (parentDeadline <= createdAt) end(ctx, DEADLINE, undefined, ctx, 0);
    else arm(ctx, parentDeadline - createdAt, createdAt);
  }
  return ctx;
}

/** @internal Adds `child` to `owner`'s dependents. The caller checks that `owner` is live. */
export function link(owner: CancelContext, child: Link): void {
  child._owner = owner;
  const head = owner._head;
  child._next = head;
  if (head !== null) head._prev = child;
  owner._head = child;
}

/** @internal Removes `child` from its owner's dependents, if it is still there. */
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
function arm(ctx: CancelContext, delay: number, from?: number): void {
  ctx._timer = queueTimer(onDeadline, delay, ctx, from);
  if (ctx._keepAlive) keepQueued(ctx._timer);
  armedTimers++;
}

/** @internal Refs the timers that can end `ctx` until it ends: something waits on it. */
export function keepAliveUntilDone(ctx: CancelContext): void {
  if (ctx._keepAlive || ctx._state !== LIVE) return;
  ctx._keepAlive = true;
  if (ctx._timer !== undefined) {
    keepQueued(ctx._timer); // its own deadline is the earliest: this timer ends it
  } else if (ctx._deadline !== Infinity) {
    // An ancestor's unref'd timer will end it; hold the loop open until then, from here, so
    // that the ancestor's timer is not ref'd for the ancestor's whole life.
    ctx._keepTimer = queueKeptTimer(onKeepAlive, ctx._deadline - now(), ctx);
    armedTimers++;
  }
}

function onKeepAlive(ctx: CancelContext): void {
  ctx._keepTimer = undefined;
  armedTimers--;
  // Due: end it here rather than wait for the ancestor's timer. Not due: the wait was longer
  // than one timer can hold, or the timer fired within its slack; wait for the rest.
  if (ctx._state === LIVE && !expireIfDue(ctx)) {
    ctx._keepTimer = queueKeptTimer(onKeepAlive, ctx._deadline - now(), ctx);
    armedTimers++;
  }
}

function disarm(ctx: CancelContext): void {
  if (ctx._timer !== undefined) {
    cancelQueued(ctx._timer);
    ctx._timer = undefined;
    armedTimers--;
  }
  if (ctx._keepTimer !== undefined) {
    cancelQueued(ctx._keepTimer);
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
  if (t + TIMER_SLACK_MS < ctx._deadline) arm(ctx, ctx._deadline - t);
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
  const lateBy = Math.max(0, t - ctx._deadline);
  // Its own deadline's cause; a foreign parent's deadline (kept by our timer) has none.
  const cause = ctx._deadline === ctx._ownDeadline ? ctx._deadlineCause : undefined;
  end(ctx, DEADLINE, cause, ctx, lateBy, t);
  if (channels.deadlineFired.hasSubscribers) {
    channels.deadlineFired.publish({ context: ctx, deadline: ctx._deadline, lateByMs: lateBy });
  }
}

/**
 * @internal Moves the own deadline of `ctx` later, to `to` but never past its parent's deadline,
 * and makes every descendant that followed the old deadline (it set no timer of its own) follow
 * the new one. Returns the effective deadline afterwards. Does nothing to a context that has
 * ended, or when `to` is not later than its own deadline.
 *
 * Costs nothing to contexts that never move: `ctx`'s own timer is left armed for the old
 * deadline and re-arms itself for the rest when it fires early ({@link onDeadline}), as a
 * keep-alive timer does ({@link onKeepAlive}), so a move arms no timer for `ctx` itself. A
 * descendant whose own deadline lies between the old and the new one now sets the earlier
 * deadline itself, and gets the timer it did not need before.
 */
export function moveDeadlineLater(ctx: CancelContext, to: number): number {
  if (ctx._state !== LIVE || expireIfDue(ctx)) return ctx._deadline;
  const limit = ctx.parent?.deadline ?? Infinity;
  const target = to < limit ? to : limit;
  if (!(target > ctx._ownDeadline)) return ctx._deadline;
  const old = ctx._deadline;
  ctx._ownDeadline = target;
  if (target <= old) return old; // its parent's deadline was already the earlier one
  ctx._deadline = target;
  followMove(ctx, old);
  return target;
}

/** Moves the descendants that followed `root`'s old deadline `old`; iterative (trees may be deep). */
function followMove(root: CancelContext, old: number): void {
  const nodes: CancelContext[] = [root];
  const olds: number[] = [old];
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    const before = olds[i]!;
    for (let l = node._head; l !== null; l = l._next) {
      if (!(l instanceof CancelContext) || l._deadline !== before) continue;
      if (l._ownDeadline < node._deadline) {
        // Its own deadline is now the earlier one: it keeps it with a timer of its own.
        l._deadline = l._ownDeadline;
        if (l._timer === undefined) armOwn(l);
      } else {
        l._deadline = node._deadline;
      }
      if (l._deadline !== before) {
        nodes.push(l);
        olds.push(before);
      }
    }
  }
}

/** Arms the deadline timer of a context that did not need one before a move. */
function armOwn(ctx: CancelContext): void {
  if (ctx._keepTimer !== undefined) {
    cancelQueued(ctx._keepTimer); // its own timer now holds the loop open, kept by arm()
    ctx._keepTimer = undefined;
    armedTimers--;
  }
  arm(ctx, Math.max(0, ctx._deadline - now()));
}

/**
 * @internal Ends a context from outside the tree: an adapter that learned from the wire that
 * the deadline passed (a gRPC call's deadline), or a canceled call. Ends only a live context.
 */
export function expireFromWire(
  ctx: CancelContext,
  state: "canceled" | "deadline-exceeded",
  cause: unknown,
): void {
  if (ctx._state === LIVE) end(ctx, state === "canceled" ? CANCELED : DEADLINE, cause, ctx, 0);
}

/**
 * @internal
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
    notifyEnded(root);
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
      notifyEnded(node);
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

/** Resolves `done`, aborts `signal` and publishes `context:ended`, for a context that just ended. */
function notifyEnded(ctx: CancelContext): void {
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
// was first read, at several microseconds a capture. Stacks are kept while creation sites are.
function makeError(ctx: CancelContext): ContextError {
  const explanation = () => explainContext(ctx);
  const cause = ctx._cause;
  const limit = Error.stackTraceLimit;
  if (!siteCapture.enabled) Error.stackTraceLimit = 0;
  try {
    return ctx._state === DEADLINE
      ? new DeadlineExceeded(explanation, cause)
      : new Canceled(explanation, cause);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

const NAME_ONLY: readonly string[] = ["name"];

/**
 * @internal The `name` of a constructor's options (`known` lists every key the constructor takes;
 * any other key is refused).
 */
export function nameFrom(
  options: ContextOptions | undefined,
  fn: string,
  known: readonly string[] = NAME_ONLY,
): string | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== "object" || options === null) {
    throw invalidType(`${fn}: options must be an object, got ${describeValue(options)}`);
  }
  for (const key in options) if (!known.includes(key)) throw unknownOption(fn, key, known);
  const name = options.name;
  if (name !== undefined && typeof name !== "string") {
    throw invalidType(`${fn}: options.name must be a string, got ${describeValue(name)}`);
  }
  return name;
}

/** @internal Deadline timers armed right now (introspect's `coreStats`). */
export function armedTimerCount(): number {
  return armedTimers;
}

/** @internal Dependents (child contexts and waiters) linked under `ctx` right now. */
export function dependentCount(ctx: Context): number {
  if (!(ctx instanceof CancelContext)) return 0;
  let n = 0;
  for (let l = ctx._head; l !== null; l = l._next) n++;
  return n;
}

/** @internal The state numbers and `end`, for the core's own modules (foreign, watch, from-signal). */
export { CANCELED, DEADLINE, LIVE, type State, end as endContext };
