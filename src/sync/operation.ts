import { type CancelContext, endedError, unwatch, Watcher } from "../core/internal.js";
import { type List, type ListNode, detach } from "./list.js";

/** What a channel operation completed with: which case, the value received, and `ok`. */
export interface Outcome {
  readonly index: number;
  readonly ok: boolean;
  readonly value: unknown;
}

/** One case of a pending operation, queued on one channel's send or receive queue. */
export class Entry implements ListNode {
  lprev: ListNode | null = null;
  lnext: ListNode | null = null;
  list: List<ListNode> | null = null;
  constructor(
    readonly op: Operation,
    readonly index: number,
    /** The value to send, for send cases. */
    readonly value: unknown,
  ) {}
}

/**
 * A blocked send, receive or select: its entries wait on channel queues while it watches the
 * context. Whatever settles it first (a peer, a close, the context) removes all the rest, so
 * no entry outlives the operation.
 */
export class Operation extends Watcher {
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

  /** Queues a case of this operation on `queue`. */
  enqueue(queue: List<Entry>, index: number, value: unknown): void {
    const entry = new Entry(this, index, value);
    this.entries.push(entry);
    queue.push(entry);
  }

  complete(index: number, ok: boolean, value: unknown): void {
    this.settle();
    this.resolve({ index, ok, value });
  }

  fail(err: Error): void {
    this.settle();
    this.reject(err);
  }

  _ended(owner: CancelContext): void {
    for (const entry of this.entries) detach(entry);
    this.reject(endedError(owner));
  }

  private settle(): void {
    for (const entry of this.entries) detach(entry);
    unwatch(this);
  }
}
