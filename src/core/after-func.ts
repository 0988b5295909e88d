import { asParent } from "./context.js";
import type { Context } from "./context.js";
import { describeValue } from "./describe.js";
import { Watcher, unwatch, watch } from "./watch.js";

class AfterFunc extends Watcher {
  state: "waiting" | "started" | "stopped" = "waiting";
  constructor(readonly fn: () => void) {
    super();
  }
  /** @internal */
  _ended(): void {
    this.state = "started";
    queueMicrotask(this.fn);
  }
}

/**
 * Runs `fn` once `ctx` ends (Go's `context.AfterFunc`), on a microtask of its own, never
 * inside the `cancel()` call that ended it. If `ctx` has already ended, `fn` is queued now.
 * An exception thrown by `fn` is uncaught, as a panic in Go's goroutine would be.
 *
 * Returns `stop()`: it unregisters `fn` and returns true if that kept `fn` from running;
 * false if `fn` was already started (the context ended) or already stopped.
 *
 * @example
 * ```ts
 * const stop = afterFunc(ctx, () => socket.destroy());
 * await useSocket(socket);
 * stop(); // done in time: keep the socket
 * ```
 */
export function afterFunc(ctx: Context, fn: () => void): () => boolean {
  asParent(ctx, "afterFunc", "ctx");
  if (typeof fn !== "function") {
    throw new TypeError(`afterFunc: fn must be a function, got ${describeValue(fn)}`);
  }
  const waiter = new AfterFunc(fn);
  if (!watch(ctx, waiter)) waiter._ended();
  return () => {
    if (waiter.state !== "waiting") return false;
    waiter.state = "stopped";
    unwatch(waiter);
    return true;
  };
}
