// The admission machinery the bulkhead and adaptive concurrency share: a count of permits in use
// under a limit (which adaptive concurrency moves), and a FIFO of callers waiting for one. A
// waiter leaves the queue the moment its context ends, wherever it stands, so a queue of callers
// who gave up never holds back those behind them.
import type { Channel } from "node:diagnostics_channel";
import { type Context, now } from "../core/index.js";
import { type CancelContext, endedError, unwatch, watch, Watcher } from "../core/internal.js";

class Waiter extends Watcher {
  prev: Waiter | null = null;
  next: Waiter | null = null;
  constructor(
    readonly queue: PermitQueue,
    readonly resolve: () => void,
    readonly reject: (err: unknown) => void,
  ) {
    super();
  }

  override get opName(): string {
    return this.queue.opName;
  }

  _ended(owner: CancelContext): void {
    this.queue.leave(this);
    this.reject(endedError(owner));
  }
}

/**
 * @internal Permits under a limit, with a bounded FIFO of waiters. A permit is handed to a
 * waiter the moment one frees up (the count moves with it), so nobody can take it in between.
 */
export class PermitQueue {
  /** Permits in use. */
  inflight = 0;
  /** Callers waiting. */
  queued = 0;
  #head: Waiter | null = null;
  #tail: Waiter | null = null;
  #limit: number;

  constructor(
    limit: number,
    /** The operation diagnostics sees a wait as ("bulkhead"). */
    readonly opName: string,
  ) {
    this.#limit = limit;
  }

  /** Permits that may be in use at once. */
  get limit(): number {
    return this.#limit;
  }

  /** Moves the limit; waiters that now fit get their permits. */
  set limit(value: number) {
    this.#limit = value;
    this.#grant();
  }

  /** Takes a permit if one is free and nobody waits (FIFO: no overtaking); never waits. */
  tryTake(): boolean {
    if (this.queued > 0 || this.inflight >= this.#limit) return false;
    this.inflight++;
    return true;
  }

  /**
   * Waits in line for a permit: resolves holding it, or rejects with `ctx.err` (holding
   * nothing) as soon as `ctx` ends. The caller has checked that `ctx` is live and that the
   * queue has room.
   */
  wait(ctx: Context): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter = new Waiter(this, resolve, reject);
      if (!watch(ctx, waiter)) {
        reject(endedError(ctx));
        return;
      }
      waiter.prev = this.#tail;
      if (this.#tail === null) this.#head = waiter;
      else this.#tail.next = waiter;
      this.#tail = waiter;
      this.queued++;
    });
  }

  /** Returns a permit; the first waiter, if any, gets it. */
  release(): void {
    this.inflight--;
    this.#grant();
  }

  /** @internal A waiter whose context ended leaves the line. */
  leave(waiter: Waiter): void {
    const { prev, next } = waiter;
    if (prev === null) {
      if (this.#head !== waiter) return; // already granted or gone
      this.#head = next;
    } else prev.next = next;
    if (next === null) this.#tail = prev;
    else next.prev = prev;
    waiter.prev = waiter.next = null;
    this.queued--;
  }

  #grant(): void {
    while (this.#head !== null && this.inflight < this.#limit) {
      const waiter = this.#head;
      this.leave(waiter);
      this.inflight++;
      unwatch(waiter);
      waiter.resolve();
    }
  }
}

/**
 * @internal Gets a permit for a caller that found none free: refuses with `full()` (which
 * announces its own "rejected") when `maxQueue` callers already wait, else waits in line,
 * announcing on `channel` "queued" (`queued`: its place), then "dequeued" (`waitedMs`) or,
 * if `ctx` ends first, "left-queue" (`waitedMs`, `error`) and rejects with `ctx.err`.
 */
export async function waitInLine(
  permits: PermitQueue,
  ctx: Context,
  maxQueue: number,
  channel: Channel,
  policy: string,
  full: () => Error,
): Promise<void> {
  if (permits.queued >= maxQueue) throw full();
  if (!channel.hasSubscribers) return permits.wait(ctx);
  const since = now();
  channel.publish({ policy, event: "queued", context: ctx, queued: permits.queued + 1 });
  try {
    await permits.wait(ctx);
  } catch (error) {
    if (channel.hasSubscribers) {
      channel.publish({
        policy,
        event: "left-queue",
        context: ctx,
        waitedMs: now() - since,
        error,
      });
    }
    throw error;
  }
  if (channel.hasSubscribers) {
    channel.publish({ policy, event: "dequeued", context: ctx, waitedMs: now() - since });
  }
}
