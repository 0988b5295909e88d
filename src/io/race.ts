import { channels, type Context, type ContextError } from "../core/index.js";
import {
  type Announced,
  announceOpEnd,
  announceOpStart,
  type CancelContext,
  checkContext,
  endedError,
  unwatch,
  watch,
  Watcher,
} from "../core/internal.js";

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
 * never called. `kind` names the work for diagnostics ("pg.query", "fetch"). Rejects (never
 * throws) on a bad `ctx`.
 *
 * What an adapter owes it: `start()`'s promise must settle eventually, whichever side ended
 * first (diagnostics counts the work as running until it does, and reports work that outlives its
 * context as ignoring cancellation); and a raced promise handed out before anyone awaits it (a
 * stream's `response`) must be marked handled, or a cancel in between is an unhandled rejection.
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
  try {
    checkContext(ctx, "raceContext");
  } catch (bad) {
    return Promise.reject(bad); // a promise API rejects on bad arguments, as Node's do
  }
  const err = ctx.err;
  if (err !== undefined) return Promise.reject(err);
  return new Promise<T>((resolve, reject) => {
    const race = new Race<T>(resolve, reject, stop);
    // Its deadline may pass after the check above: then the work is not started at all.
    if (!watch(ctx, race)) {
      reject(endedError(ctx));
      return;
    }
    let work: Promise<T>;
    try {
      work = start();
    } catch (e) {
      if (race.settle()) reject(e);
      return;
    }
    announceWork(work, kind, ctx);
    work.then(
      (value) => {
        if (race.settle()) resolve(value);
      },
      (e: unknown) => {
        if (race.settle()) reject(e);
      },
    );
  });
}

/**
 * Tells diagnostics about `work` done for `ctx`: it ends when the work settles, which may be after
 * the caller was released. Work that never settles is what "ignored cancellation" finds. Costs
 * nothing while diagnostics does not listen: this is on every adapter call's path.
 */
export function announceWork(work: Promise<unknown>, kind: string, ctx: Context): void {
  if (!channels.opStart.hasSubscribers) return;
  const op: Partial<Announced> = {};
  announceOpStart(op, kind, ctx);
  const settled = (): void => announceOpEnd(op, ctx.err === undefined ? "done" : "context-ended");
  work.then(settled, settled);
}
