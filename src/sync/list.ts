/**
 * @internal A node of an intrusive {@link List}: a waiter carries its own links, so removal is
 * O(1).
 */
export interface ListNode {
  lprev: ListNode | null;
  lnext: ListNode | null;
  list: List<ListNode> | null;
}

/**
 * FIFO of waiters with O(1) push, shift and removal from the middle: a waiter whose context
 * ends leaves the queue at once instead of lingering until it reaches the front.
 *
 * @internal
 */
export class List<N extends ListNode> {
  head: N | null = null;
  tail: N | null = null;
  size = 0;

  push(node: N): void {
    node.list = this;
    node.lprev = this.tail;
    node.lnext = null;
    if (this.tail === null) this.head = node;
    else this.tail.lnext = node;
    this.tail = node;
    this.size++;
  }

  shift(): N | null {
    const node = this.head;
    if (node !== null) this.remove(node);
    return node;
  }

  /** Removes `node` if it is in this list; a no-op otherwise. */
  remove(node: N): void {
    if (node.list !== (this as List<ListNode>)) return;
    const { lprev, lnext } = node;
    if (lprev === null) this.head = lnext as N | null;
    else lprev.lnext = lnext;
    if (lnext === null) this.tail = lprev as N | null;
    else lnext.lprev = lprev;
    node.lprev = node.lnext = node.list = null;
    this.size--;
  }
}

/** @internal Removes `node` from whichever list holds it. */
export function detach(node: ListNode): void {
  node.list?.remove(node);
}
