import { type CancelContext, endedError, unwatch, Watcher } from "../core/internal.js";
import { type List, type ListNode, detach } from "./list.js";

/** @internal What a channel wait completed with: which case, the value received, and `ok`. */
export interface Outcome {
  readonly index: number;
  readonly ok: boolean;
  readonly value: unknown;
}

/** @internal One case of a channel wait, queued on one channel's send or receive queue. */
export class Entry implements ListNode {
  lprev: ListNode | null = null;
  lnext: ListNode | null = null;
  list: List<ListNode> | null = null;
  constructor(
    readonly wait: ChannelWait,
    readonly index: number,
    /** The value to send, for send cases. */
    readonly value: unknown,
  ) {}
}

/**
 * @internal A blocked send, receive or select: its entries wait on channel queues while it
 * watches the context. Whatever settles it first (a peer, a close, the context) removes all the
 * rest, so no entry outlives the wait. (Diagnostics calls every wait an operation; this one's
 * kind is "channel".)
 */
export class ChannelWait extends Watcher {
  override get opName(): string {
    return "channel";
  }
  readonly entries: Entry[] = [];
  constructor(
    readonly resolve: (outcome: Outcome) => void,
    readonly reject: (err: unknown) => void,
  ) {
    super();
  }

  /** Queues a case of this wait on `queue`. */
  enqueue(queue: List<Entry>, index: number, value: unknown): void {
    const entry = new Entry(this, index, value);
    this.entries.push(entry);
    queue.push(entry);
  }

  /** A peer (or a close, for a receive) completed case `index`. */
  complete(index: number, ok: boolean, value: unknown): void {
    this.#settle();
    this.resolve({ index, ok, value });
  }

  /** The channel closed under a send. */
  fail(err: Error): void {
    this.#settle();
    this.reject(err);
  }

  /** @internal The core's hook (see `Watcher`): the context ended first. */
  _ended(owner: CancelContext): void {
    for (const entry of this.entries) detach(entry);
    this.reject(endedError(owner));
  }

  #settle(): void {
    for (const entry of this.entries) detach(entry);
    unwatch(this);
  }
}
