import type { CreationSite } from "../core/tracking.js";
import type { StackRef } from "./stacks.js";

/**
 * The fields of a core context that diagnostics reads. Read structurally, not through
 * `instanceof`, so that contexts of the other build (ESM vs CJS) are understood too.
 */
export interface ContextInternals {
  readonly name: string | undefined;
  readonly parent: unknown;
  readonly _node?: ContextInternals | null;
  readonly _state?: number;
  readonly _kind?: number;
  readonly _createdAt?: number;
  readonly _deadline?: number;
  readonly _endedAt?: number;
  readonly _site?: CreationSite | undefined;
}

/** State value of a live core context (`LIVE` in core/context.ts). */
export const LIVE_STATE = 0;

const KIND_LABELS = ["withCancel", "withTimeout", "withDeadline", "fromSignal"] as const;

/** "withCancel", "withTimeout"... for a core context's `_kind`. */
export function kindLabel(kind: number | undefined): string {
  return KIND_LABELS[kind ?? 0] ?? "context";
}

/** The cancellable node behind a context: itself, its nearest cancellable ancestor, or null. */
export function nodeOf(ctx: unknown): ContextInternals | null {
  if (typeof ctx !== "object" || ctx === null) return null;
  const node = (ctx as ContextInternals)._node;
  return node === undefined ? null : node;
}

/**
 * What the tracker keeps about a context: plain data, no reference to the context itself, so
 * that keeping the record never keeps the context alive.
 */
export class ContextRecord {
  /** Monotonic time the context ended; undefined while it is live (as far as we know). */
  endedAt: number | undefined = undefined;
  /** In the tracker's list of live contexts (false once ended, collected, or if adopted). */
  listed = false;
  /** Registered for a finalization callback (only contexts that can be collected while live). */
  finalizable = false;

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

/** An operation in progress: a primitive's wait, an adapter's work, an ambient fetch. */
export class OperationRecord {
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
 * Requests to record everything rather than a sample (leak checks make them); each returned
 * release function undoes its own request once.
 */
export class Holds {
  private count = 0;

  get held(): boolean {
    return this.count > 0;
  }

  hold(): () => void {
    this.count++;
    let released = false;
    return () => {
      if (!released) this.count--;
      released = true;
    };
  }
}

/** A bounded list of recent events that still counts every event it was offered. */
export class EventLog<T> {
  private items: T[] = [];
  private next = 0;
  /** Every event ever offered, kept or not. */
  total = 0;

  constructor(readonly capacity: number) {}

  push(item: T): void {
    this.total++;
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return;
    }
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Kept events, oldest first. */
  toArray(): T[] {
    return this.items.length < this.capacity
      ? this.items.slice()
      : [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
  }

  clear(): void {
    this.items = [];
    this.next = 0;
    this.total = 0;
  }
}
