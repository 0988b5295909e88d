import { type Context, now } from "../core/index.js";
import {
  checkContext,
  describeValue,
  invalidType,
  outOfRange,
  startTimer,
  TIMER_SLACK_MS,
  unwatch,
  watchOrEnd,
  Watcher,
} from "../core/internal.js";

/** One tick of a {@link ticker}. */
export interface Tick {
  /** Which tick this is, counting from 1 at `start + intervalMs`; skipped ticks count too. */
  readonly index: number;
  /** Monotonic time ({@link now}) the tick was delivered. */
  readonly at: number;
  /** Ticks dropped since the previous one because the consumer was busy (as Go's ticker drops). */
  readonly skipped: number;
}

/** Waits for the next tick while watching the context; armed only while a `next()` waits. */
class TickWait extends Watcher {
  override get opName(): string {
    return "ticker";
  }
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  constructor(
    /** Monotonic time of the tick it waits for. */
    readonly due: number,
    readonly settle: (ended: boolean) => void,
  ) {
    super();
  }

  /** @internal The core's hook (see `Watcher`): the context ended first. */
  _ended(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.settle(true);
  }
}

function onTick(wait: TickWait): void {
  const left = wait.due - now();
  if (left > TIMER_SLACK_MS) {
    wait.timer = startTimer(onTick, left, wait); // an interval longer than one timer can wait
    return;
  }
  wait.timer = undefined;
  unwatch(wait);
  wait.settle(false);
}

/**
 * Go's `time.Ticker` as an async iterator: yields a {@link Tick} every `intervalMs`, and stops
 * (the loop simply ends) when `ctx` ends or the loop is left. A timer is armed only while the
 * loop waits for the next tick, so a stopped ticker leaves nothing behind (the seed's
 * `time.After` in a loop, fixed). A slow consumer gets the next tick at once, with the ticks it
 * missed counted in `skipped`, instead of a burst.
 *
 * @example
 * ```ts
 * for await (const tick of ticker(ctx, 5_000)) {
 *   await cleanup(ctx);
 * }
 * // here ctx has ended: ctx.err says why
 * ```
 */
export function ticker(ctx: Context, intervalMs: number): AsyncIterableIterator<Tick> {
  checkContext(ctx, "ticker");
  checkInterval(intervalMs);
  const start = now();
  let delivered = 0;
  let stopped = false;
  let pending: TickWait | undefined;

  const stop = (): IteratorResult<Tick> => {
    stopped = true;
    if (pending !== undefined) {
      clearTimeout(pending.timer);
      unwatch(pending);
      pending.settle(true);
      pending = undefined;
    }
    return { done: true, value: undefined };
  };

  const deliver = (): IteratorResult<Tick> => {
    const t = now();
    const index = Math.max(delivered + 1, Math.floor((t - start) / intervalMs));
    const tick: Tick = { index, at: t, skipped: index - delivered - 1 };
    delivered = index;
    return { done: false, value: tick };
  };

  const next = (): Promise<IteratorResult<Tick>> => {
    if (stopped || ctx.err !== undefined) return Promise.resolve(stop());
    if (pending !== undefined) {
      return Promise.reject(new Error("ticker: next() called while a previous next() is waiting"));
    }
    const due = start + (delivered + 1) * intervalMs;
    const t = now();
    if (t >= due) return Promise.resolve(deliver());
    return new Promise<IteratorResult<Tick>>((resolve) => {
      const wait = new TickWait(due, (ended) => {
        pending = undefined;
        resolve(ended ? stop() : deliver());
      });
      pending = wait;
      wait.timer = startTimer(onTick, due - t, wait);
      watchOrEnd(ctx, wait); // ended meanwhile: its _ended clears the timer and stops
    });
  };

  return {
    next,
    return: () => Promise.resolve(stop()),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** A positive, finite number of ms: the validator's ranges are inclusive, and 0 is no interval. */
function checkInterval(ms: unknown): asserts ms is number {
  if (typeof ms === "number" && ms > 0 && ms !== Infinity) return;
  const message = `ticker: intervalMs must be a positive, finite number, got ${describeValue(ms)}`;
  throw typeof ms === "number" ? outOfRange(message) : invalidType(message);
}
