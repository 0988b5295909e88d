import type { Context } from "../core/index.js";
import { tryInspect } from "../core/introspect.js";
import type { RequestRoute } from "./routes.js";
import type { StackRef } from "./stacks.js";

/**
 * @internal The context that can end `ctx` (itself, or its nearest ancestor that can end), read
 * from its snapshot, so that contexts of the other build (ESM vs CJS) are understood too; null for
 * one that nothing can end (background) or a value that is not a context.
 */
export function nodeOf(ctx: unknown): Context | null {
  return tryInspect(ctx)?.node ?? null;
}

/**
 * @internal What the tracker keeps about a context: plain data, no reference to the context itself,
 * so that keeping the record never keeps the context alive.
 */
export class ContextRecord {
  /** Neighbours in the tracker's {@link LiveList} of live contexts, while in it. */
  prev: ContextRecord | undefined = undefined;
  next: ContextRecord | undefined = undefined;
  /** Monotonic time the context ended; undefined while it is live (as far as we know). */
  endedAt: number | undefined = undefined;
  /** In the tracker's list of live contexts (false once ended, collected, or if adopted). */
  listed = false;
  /** Registered for a finalization callback (only contexts that can be collected while live). */
  finalizable = false;
  /** What ended it: its holder's `cancel()`, its own deadline, or an ancestor's end. */
  endedBy: "cancel" | "deadline" | "ancestor" | undefined = undefined;
  /** Its holder called `cancel()` (or disposed it), before or after it ended. */
  released = false;
  /** Declared meant to live (`longLived`): never reported as a lost cancel. */
  longLived = false;
  /** The request it was made under (or is the context of), when an HTTP adapter announced one. */
  request: RequestRoute | undefined = undefined;
  /** The lost-cancel group it was counted in, until a late `cancel()` takes it out. */
  lostIn: { count: number; byDeadline: number; byAncestor: number } | undefined = undefined;

  constructor(
    readonly id: number,
    readonly name: string | undefined,
    readonly kind: string,
    readonly parentId: number | undefined,
    readonly createdAt: number,
    /** Effective deadline at creation (monotonic), Infinity without one. */
    readonly deadline: number,
    /** Undefined for contexts created before tracking started. */
    readonly stack: StackRef | undefined,
  ) {}
}

/** @internal An operation in progress: a primitive's wait, an adapter's work, an ambient fetch. */
export class OperationRecord {
  /** Neighbours in the tracker's {@link LiveList} of operations in progress, while in it. */
  prev: OperationRecord | undefined = undefined;
  next: OperationRecord | undefined = undefined;
  /** Monotonic time it ended; undefined while it runs. */
  endedAt: number | undefined = undefined;

  constructor(
    readonly id: number,
    readonly kind: string,
    readonly context: ContextRecord | undefined,
    readonly contextName: string | undefined,
    readonly startedAt: number,
    readonly stack: StackRef,
  ) {}
}

/**
 * @internal Requests to record everything rather than a sample (leak checks make them); each
 * returned release function undoes its own request once.
 */
export class Holds {
  #count = 0;

  get held(): boolean {
    return this.#count > 0;
  }

  hold(): () => void {
    this.#count++;
    let released = false;
    return () => {
      if (!released) this.#count--;
      released = true;
    };
  }
}

/** @internal A bounded list of recent events that still counts every event it was offered. */
export class EventLog<T> {
  #items: T[] = [];
  #next = 0;
  /** Every event ever offered, kept or not. */
  total = 0;

  constructor(readonly capacity: number) {}

  push(item: T): void {
    this.total++;
    if (this.#items.length < this.capacity) {
      this.#items.push(item);
      return;
    }
    this.#items[this.#next] = item;
    this.#next = (this.#next + 1) % this.capacity;
  }

  /** Kept events, oldest first. */
  toArray(): T[] {
    return this.#items.length < this.capacity
      ? this.#items.slice()
      : [...this.#items.slice(this.#next), ...this.#items.slice(0, this.#next)];
  }

  clear(): void {
    this.#items = [];
    this.#next = 0;
    this.total = 0;
  }
}

/** @internal A record that a {@link LiveList} can hold: it carries its own links. */
export interface Linked<T> {
  prev: T | undefined;
  next: T | undefined;
}

/**
 * @internal The live records in the order they were added (so oldest first), linked through the
 * records themselves. A Map with a record added and deleted per request reallocates its table
 * every few dozen of them, in the old generation once the Map lives there, and every young
 * collection then promoted what those tables held: measured, most of tracking's cost.
 */
export class LiveList<T extends Linked<T>> {
  #head: T | undefined = undefined;
  #tail: T | undefined = undefined;
  /** How many records it holds. */
  size = 0;

  /** Appends `record`, which must not be in a list. */
  add(record: T): void {
    record.prev = this.#tail;
    record.next = undefined;
    if (this.#tail === undefined) this.#head = record;
    else this.#tail.next = record;
    this.#tail = record;
    this.size++;
  }

  /** Takes `record` out; false if it was not in this list. */
  delete(record: T): boolean {
    if (record.prev === undefined && this.#head !== record) return false;
    if (record.prev === undefined) this.#head = record.next;
    else record.prev.next = record.next;
    if (record.next === undefined) this.#tail = record.prev;
    else record.next.prev = record.prev;
    record.prev = undefined;
    record.next = undefined;
    this.size--;
    return true;
  }

  /** The records, oldest first. Taking records out during the walk may end it early. */
  *values(): Generator<T, void, undefined> {
    for (let r = this.#head; r !== undefined;) {
      const next = r.next;
      yield r;
      r = next;
    }
  }

  [Symbol.iterator](): Generator<T, void, undefined> {
    return this.values();
  }
}
