/** @internal A growable FIFO ring buffer: O(1) push and shift without `Array#shift`'s copying. */
export class Ring<T> {
  #items: (T | undefined)[];
  #start = 0;
  length = 0;

  constructor(initialCapacity = 8) {
    this.#items = new Array<T | undefined>(Math.max(1, initialCapacity));
  }

  push(value: T): void {
    if (this.length === this.#items.length) this.#grow();
    this.#items[(this.#start + this.length) % this.#items.length] = value;
    this.length++;
  }

  /** Removes and returns the oldest value; the caller checks `length` first. */
  shift(): T {
    const value = this.#items[this.#start] as T;
    this.#items[this.#start] = undefined;
    this.#start = (this.#start + 1) % this.#items.length;
    this.length--;
    return value;
  }

  #grow(): void {
    const next = new Array<T | undefined>(this.#items.length * 2);
    for (let i = 0; i < this.length; i++)
      next[i] = this.#items[(this.#start + i) % this.#items.length];
    this.#items = next;
    this.#start = 0;
  }
}
