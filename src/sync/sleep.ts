import { type Context, now } from "../core/index.js";
import {
  type CancelContext,
  checkContext,
  checkMs,
  endedError,
  type QueuedTimer,
  cancelQueued,
  queueKeptTimer,
  TIMER_SLACK_MS,
  unwatch,
  watch,
  Watcher,
} from "../core/internal.js";

class Sleeper extends Watcher {
  override get opName(): string {
    return "sleep";
  }
  timer: QueuedTimer | undefined = undefined;
  constructor(
    readonly until: number,
    readonly resolve: () => void,
    readonly reject: (err: unknown) => void,
  ) {
    super();
  }

  wake(): void {
    const left = this.until - now();
    if (left > TIMER_SLACK_MS) {
      this.timer = queueKeptTimer(wake, left, this); // a sleep longer than one timer can wait
      return;
    }
    this.timer = undefined;
    unwatch(this);
    this.resolve();
  }

  /** @internal The core's hook (see `Watcher`): the context ended first. */
  _ended(owner: CancelContext): void {
    if (this.timer !== undefined) cancelQueued(this.timer);
    this.timer = undefined;
    this.reject(endedError(owner));
  }
}

/** Any number of ms: zero or less is a yield, Infinity waits for the context alone. */
const ANY_MS = { min: -Infinity, max: Infinity, infinity: true } as const;

function wake(sleeper: Sleeper): void {
  sleeper.wake();
}

/**
 * Waits `ms` milliseconds, or rejects with `ctx.err` as soon as `ctx` ends, whichever comes
 * first; either way its timer is cleared at once (the seed's `time.Sleep` that ignores the
 * context, fixed). Rejects at once if `ctx` has already ended, and with a TypeError on bad
 * arguments.
 *
 * @example
 * ```ts
 * for (let attempt = 0; ; attempt++) {
 *   if (await tryOnce(ctx)) break;
 *   await sleep(ctx, 100 * 2 ** attempt); // stops backing off when the request ends
 * }
 * ```
 */
export function sleep(ctx: Context, ms: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // Thrown here, bad arguments reject the promise, as Node's promise APIs do.
    checkContext(ctx, "sleep");
    checkMs(ms, "sleep", "ms", ANY_MS);
    const t = now();
    const sleeper = new Sleeper(t + ms, resolve, reject);
    if (!watch(ctx, sleeper)) {
      reject(endedError(ctx));
      return;
    }
    if (ms === Infinity) return; // only the context can end it
    // Queued with the other waits of its delay, one Node timer for all, and ref'd like setTimeout.
    sleeper.timer = queueKeptTimer(wake, ms, sleeper, t);
  });
}
