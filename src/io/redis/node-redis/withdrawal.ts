/**
 * Stands in for the AbortSignal node-redis accepts with a command. node-redis listens to it only
 * while the command waits in its queue to be written (5 stops listening once it is written; 4
 * never stops, see `canWithdraw` in ./flavours.ts), and on abort removes the command from the
 * queue and rejects it: the server never sees it. Unlike an AbortSignal, it tells whether anyone
 * was listening, which is what the adapter needs to know: withdrawn, or written.
 *
 * @internal
 */
export class Withdrawal {
  aborted = false;
  readonly #listeners = new Set<() => void>();

  addEventListener(_type: "abort", listener: () => void): void {
    this.#listeners.add(listener);
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    this.#listeners.delete(listener);
  }

  /**
   * Aborts. Returns whether the command was still queued (it is now withdrawn, never to be
   * written); false when it had been written (or its client never queued it). From now on,
   * node-redis refuses to queue it again (a cluster redirect, say).
   */
  withdraw(): boolean {
    this.aborted = true;
    if (this.#listeners.size === 0) return false;
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    for (const listener of listeners) listener();
    return true;
  }

  /** As an AbortSignal to hand to node-redis (it only uses the members above). */
  asSignal(): AbortSignal {
    return this as unknown as AbortSignal;
  }
}
