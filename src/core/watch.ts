import {
  CancelContext,
  type Context,
  DerivedContext,
  Kind,
  LIVE,
  type Link,
  keepAliveUntilDone,
  link,
  newCancelContext,
  unlink,
} from "./context.js";
import type { ContextError } from "./errors.js";
import { isIdleFollower } from "./foreign.js";
import { type Announced, announceOpEnd, announceOpStart } from "./events.js";

/**
 * @internal Base for internal waiters (a sleep, a channel receive, a semaphore acquire) that must hear,
 * synchronously and without an AbortController, that a context ended. A waiter is linked
 * into the context's dependents while it waits and unlinked the moment it stops waiting, so
 * nothing stays behind either way.
 */
export abstract class Watcher implements Link, Announced {
  /** @internal */
  _prev: Link | null = null;
  /** @internal */
  _next: Link | null = null;
  /** @internal */
  _owner: CancelContext | null = null;
  /** @internal Set while diagnostics listens: the operation's kind and context, for its end message. */
  _opKind: string | undefined = undefined;
  /** @internal */
  _opContext: Context | undefined = undefined;
  /** What diagnostics calls this waiter ("sleep", "channel"...); undefined: not an operation. */
  get opName(): string | undefined {
    return undefined;
  }

  /** @internal Called once when the watched context ends; `ctx.err` is set. */
  abstract _ended(owner: CancelContext): void;
}

/**
 * @internal Starts watching `ctx`. Returns false, linking nothing, when `ctx` has already ended;
 * returns true otherwise (also for contexts that can never end, which need no link at all). A
 * watched context's deadline timers keep the process alive: something is waiting for them.
 */
export function watch(ctx: Context, watcher: Watcher): boolean {
  return attach(ctx, watcher) === undefined;
}

/**
 * @internal {@link watch} for a waiter already in line, which has nothing else to do when `ctx`
 * has ended: it is told at once, through its `_ended`, as if the context had ended while it
 * waited. A caller's own `ctx.err` check can pass and the deadline still pass before the watch
 * (a collection or a preemption between the two): the waiter would otherwise wait for an end
 * that has already come.
 */
export function watchOrEnd(ctx: Context, watcher: Watcher): void {
  const ended = attach(ctx, watcher);
  if (ended !== undefined) watcher._ended(ended);
}

/** Links `watcher` under `ctx`; returns the node it would have watched if that has ended. */
function attach(ctx: Context, watcher: Watcher): CancelContext | undefined {
  const name = watcher.opName;
  if (name !== undefined) announceOpStart(watcher, name, ctx);
  const node = nodeToWatch(ctx);
  if (node === null) return undefined;
  if (node._state !== LIVE || node.err !== undefined) {
    // ended, or its deadline passed while the loop was busy (reading err ends it then)
    announceOpEnd(watcher, "context-ended");
    return node;
  }
  if (!node._keepAlive) keepAliveUntilDone(node);
  link(node, watcher);
  return undefined;
}

/**
 * The node a waiter on `ctx` links under: `ctx` itself, its nearest cancellable ancestor, or,
 * under a context timebound did not make, a follower of that context made for this wait alone
 * (it stops following when the wait ends: {@link unwatch}).
 */
function nodeToWatch(ctx: Context): CancelContext | null {
  if (ctx instanceof CancelContext) return ctx;
  if (!(ctx instanceof DerivedContext)) return null;
  if (ctx._node !== null || ctx._foreign === null) return ctx._node;
  return newCancelContext(ctx._foreign, "watch", Kind.Follower, Infinity, undefined, undefined);
}

/** @internal Stops watching; safe to call twice or after the context ended. */
export function unwatch(watcher: Watcher): void {
  const owner = watcher._owner;
  unlink(watcher);
  // A follower made for this wait (see nodeToWatch) goes with its last wait.
  if (owner !== null && isIdleFollower(owner)) owner.cancel();
  announceOpEnd(watcher, "done");
}

/** @internal The error of a context known to have ended (after `watch` returned false, or in `_ended`). */
export function endedError(ctx: Context): ContextError {
  const err = ctx.err;
  if (err === undefined) throw new Error("timebound internal error: context has not ended");
  return err;
}
