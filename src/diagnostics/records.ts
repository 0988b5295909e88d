import type { Context } from "../core/index.js";
import { tryInspect } from "../core/introspect.js";
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
