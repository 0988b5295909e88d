import type { Context } from "../core/index.js";
import {
  type CancelContext,
  checkContext,
  checkNumber,
  endedError,
  outOfRange,
  unwatch,
  watchOrEnd,
  Watcher,
} from "../core/internal.js";
import { List, type ListNode } from "./list.js";

/** Any whole number of units from 1 up. */
const SIZE = { min: 1, max: Infinity, integer: true } as const;
/** Any whole number of units from 0 up (the size is checked apart, with its own message). */
const WEIGHT = { min: 0, max: Infinity, integer: true } as const;

class Acquirer extends Watcher implements ListNode {
  override get opName(): string {
    return "semaphore";
  }
  lprev: ListNode | null = null;
  lnext: ListNode | null = null;
  list: List<ListNode> | null = null;
  constructor(
    readonly semaphore: Semaphore,
    readonly n: number,
    readonly resolve: () => void,
    readonly reject: (err: unknown) => void,
  ) {
    super();
  }

  /** @internal The core's hook (see `Watcher`): the context ended first. */
  _ended(owner: CancelContext): void {
    this.semaphore.abandon(this);
    this.reject(endedError(owner));
  }
}

/**
 * A weighted semaphore (Go's `x/sync/semaphore.Weighted`): `acquire(ctx, n)` waits, first in
 * first out, until `n` units are free, and leaves the queue the moment `ctx` ends. FIFO means a
 * large request is not starved by a stream of small ones.
 *
 * @example
 * ```ts
 * const db = new Semaphore(10); // at most 10 queries at once, whoever asks
 * async function countOrders(ctx: Context) {
 *   await db.acquire(ctx);
 *   try {
 *     return await query(ctx, pool, "SELECT count(*) FROM orders");
 *   } finally {
 *     db.release();
 *   }
 * }
 * ```
 */
export class Semaphore {
  /** Units in all, free or held. */
  readonly size: number;
  #used = 0;
  readonly #waiters = new List<Acquirer>();

  /** A semaphore of `size` units; throws a RangeError unless `size` is a positive integer. */
  constructor(size: number) {
    this.size = checkNumber(size, "Semaphore", "size", SIZE);
  }

  /** Units free right now. */
  get available(): number {
    return this.size - this.#used;
  }

  /** Acquirers waiting right now. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /**
   * Acquires `n` units (default 1), waiting for them in FIFO order. Rejects with `ctx.err` if
   * `ctx` ends first (nothing is then held), at once if it has already ended.
   */
  acquire(ctx: Context, n = 1): Promise<void> {
    try {
      checkContext(ctx, "Semaphore.acquire");
      this.#checkWeight(n, "acquire");
    } catch (bad) {
      return Promise.reject(bad); // a promise API rejects on bad arguments, as Node's do
    }
    const err = ctx.err;
    if (err !== undefined) return Promise.reject(err);
    if (this.tryAcquire(n)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter = new Acquirer(this, n, resolve, reject);
      this.#waiters.push(waiter);
      watchOrEnd(ctx, waiter);
    });
  }

  /** Acquires `n` units if they are free and nobody is queued; never waits. */
  tryAcquire(n = 1): boolean {
    this.#checkWeight(n, "tryAcquire");
    if (this.#waiters.size > 0 || this.size - this.#used < n) return false;
    this.#used += n;
    return true;
  }

  /** Returns `n` units (default 1) and wakes the waiters they now satisfy. */
  release(n = 1): void {
    this.#checkWeight(n, "release");
    if (n > this.#used) {
      throw outOfRange(`Semaphore.release: released ${n} but only ${this.#used} are held`);
    }
    this.#used -= n;
    this.#grant();
  }

  /** @internal A waiter whose context ended leaves; those behind it may now fit. */
  abandon(waiter: Acquirer): void {
    const wasHead = this.#waiters.head === waiter;
    this.#waiters.remove(waiter);
    if (wasHead) this.#grant();
  }

  #grant(): void {
    for (let w = this.#waiters.head; w !== null; w = this.#waiters.head) {
      if (this.size - this.#used < w.n) return; // FIFO: the head waits, and so do those behind it
      this.#used += w.n;
      this.#waiters.remove(w);
      unwatch(w);
      w.resolve();
    }
  }

  #checkWeight(n: unknown, method: string): asserts n is number {
    const weight = checkNumber(n, `Semaphore.${method}`, "n", WEIGHT);
    if (weight > this.size) {
      throw outOfRange(
        `Semaphore.${method}: n (${weight}) exceeds the semaphore's size (${this.size}); it could never be granted`,
      );
    }
  }
}
