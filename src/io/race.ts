import type { CancelContext, Context } from "../core/context.js";
import type { ContextError } from "../core/errors.js";
import { type Announced, announceEnd, announceStart, channels } from "../core/events.js";
import { Watcher, endedError, unwatch, watch } from "../core/watch.js";
import { checkContext } from "../sync/check.js";

class Race<T> extends Watcher {
  settled = false;
  constructor(
    readonly resolve: (value: T) => void,
    readonly reject: (err: unknown) => void,
    readonly onEnd: ((err: ContextError) => void) | undefined,
  ) {
    super();
  }

  _ended(owner: CancelContext): void {
    if (this.settled) return;
    this.settled = true;
    const err = endedError(owner);
    this.reject(err);
    // The stop hook touches sockets and drivers: run it after cancel() has returned.
    const onEnd = this.onEnd;
    if (onEnd !== undefined) queueMicrotask(() => onEnd(err));
  }

  settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    unwatch(this);
    return true;
  }
}

/**
 * The adapters' common contract, in one place: runs `start()` and settles with its result, unless
 * `ctx` ends first. Then the promise rejects with `ctx.err` at once (the caller is released within
 * the same tick as the cancel), and `stop(err)` is called once, on a microtask, to stop the work on
 * the other side: destroy the socket, send the CancelRequest, kill the process group. A result or
 * error that `start()` produces after that is dropped. If `ctx` has already ended, `start` is
 * never called. `kind` names the work for diagnostics ("pg.query", "fetch").
 *
 * @example
 * ```ts
 * const rows = await raceContext(ctx, () => client.query(sql), () => cancelBackend(client));
 * ```
 */
export function raceContext<T>(
  ctx: Context,
  start: () => Promise<T>,
  stop?: (err: ContextError) => void,
  kind = "io",
): Promise<T> {
  checkContext(ctx, "raceContext");
  const err = ctx.err;
  if (err !== undefined) return Promise.reject(err);
  return new Promise<T>((resolve, reject) => {
    const race = new Race<T>(resolve, reject, stop);
    // Diagnostics sees the work, not the caller: it ends when the work settles, which may be
    // after the caller was released. Work that never settles is what "ignored cancellation" finds.
    // Allocated only while diagnostics listens: this is on every adapter call's path.
    const op: Partial<Announced> | undefined = channels.opStart.hasSubscribers ? {} : undefined;
    if (op !== undefined) announceStart(op, kind, ctx);
    const settled = (): void => {
      if (op !== undefined) announceEnd(op, race.settled ? "context-ended" : "done");
    };
    watch(ctx, race);
    let work: Promise<T>;
    try {
      work = start();
    } catch (e) {
      settled();
      if (race.settle()) reject(e);
      return;
    }
    work.then(
      (value) => {
        settled();
        if (race.settle()) resolve(value);
      },
      (e: unknown) => {
        settled();
        if (race.settle()) reject(e);
      },
    );
  });
}
