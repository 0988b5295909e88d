import {
  type CancelAfterEndMessage,
  type Context,
  type ContextCreatedMessage,
  type ContextEndedMessage,
  isContext,
  now,
  type OperationMessage,
  captureCreationSites,
} from "../core/index.js";
import { announceOpStart, siteCapture } from "../core/internal.js";
import { tryInspect } from "../core/introspect.js";
import { listenedChannels as channels } from "./channels.js";
import { containExceptions } from "./contain.js";
import { LostCancels, Overruns } from "./history.js";
import { ContextRecord, EventLog, Holds, OperationRecord, nodeOf } from "./records.js";
import { StackRef } from "./stacks.js";
import { TimelineLog } from "./timeline-log.js";

/** @internal A deadline timer that fired, for the timeline. */
export interface DeadlineFiring {
  readonly at: number;
  readonly lateByMs: number;
  readonly context: ContextRecord | undefined;
}

/** The timeline keeps this many entries per `maxEvents` (10,000 by default). */
const TIMELINE_EVENTS_PER_EVENT = 10;

/** @internal A context that was garbage-collected while live: nobody called its cancel. */
export interface CollectedEvent {
  readonly record: ContextRecord;
  readonly at: number;
}

/**
 * Whether an announced operation is a wait (a sleep, a channel, semaphore or ticker wait): the
 * core announces waits on its waiter objects, which name themselves (`opName`), and adapter
 * work on a bare object of its own. A shape check rather than `instanceof`, so that the other
 * build's waits (ESM vs CJS) are recognised too.
 */
function isWait(op: object): boolean {
  return "opName" in op;
}

/**
 * @internal The registry of live contexts and operations, filled from core's diagnostics_channel
 * events (no async_hooks). Contexts are keyed weakly by the context object and described by
 * plain-data records, so tracking never keeps a context alive; a FinalizationRegistry reports
 * contexts collected without having ended: the run-time proof of a lost cancel.
 */
export class Tracker {
  /** Live contexts by id, in creation order (so oldest first). */
  readonly contexts = new Map<number, ContextRecord>();
  /** Operations in progress by id, in start order. */
  readonly operations = new Map<number, OperationRecord>();
  readonly collected: EventLog<CollectedEvent>;
  /** Contexts whose holder never called cancel(), by creation stack. */
  readonly lostCancels: LostCancels;
  /** Operations that finished after their context ended, by stack. */
  readonly overruns: Overruns;
  /**
   * The run's history for the timeline: contexts and (sampled or adapter) operations as they
   * end, and deadline firings; the most recent are kept.
   */
  readonly timeline: TimelineLog;
  readonly startedAt = now();
  readonly #byContext = new WeakMap<object, ContextRecord>();
  readonly #byOperation = new WeakMap<object, OperationRecord>();
  readonly #finalizer = new FinalizationRegistry<ContextRecord>(
    containExceptions("finalization callback", (record: ContextRecord) =>
      this.#onCollected(record),
    ),
  );
  #nextId = 1;
  #waits = 0;
  readonly #everyWait = new Holds();
  #subscribed = false;
  #sitesWereCaptured = false;

  readonly #waitSampleEvery: number;
  readonly #isLongLived: (name: string | undefined) => boolean;

  constructor(
    maxEvents: number,
    waitSampleEvery = 1,
    ignoredCancellationMs = 1_000,
    isLongLived: (name: string | undefined) => boolean = () => false,
  ) {
    this.collected = new EventLog(maxEvents);
    this.timeline = new TimelineLog(maxEvents * TIMELINE_EVENTS_PER_EVENT);
    this.lostCancels = new LostCancels(ignoredCancellationMs, maxEvents);
    this.overruns = new Overruns(ignoredCancellationMs, maxEvents);
    this.#waitSampleEvery = waitSampleEvery;
    this.#isLongLived = isLongLived;
  }

  /** Marks a context as meant to live: it is never reported as a lost or never-canceled context. */
  markLongLived(ctx: object): void {
    const node = nodeOf(ctx);
    if (node === null) return;
    const record = this.recordFor(node);
    record.longLived = true;
  }

  /** Records every wait's stack until the returned function is called. Calls nest. */
  sampleAllWaits(): () => void {
    return this.#everyWait.hold();
  }

  /** A process-wide id for a new record (contexts, operations and timers share the space). */
  newId(): number {
    return this.#nextId++;
  }

  /** Starts listening; turns on creation stacks in the core. */
  subscribe(): void {
    if (this.#subscribed) return;
    this.#subscribed = true;
    this.#sitesWereCaptured = siteCapture.enabled;
    captureCreationSites(true);
    channels.contextCreated.subscribe(this.#onCreated);
    channels.contextEnded.subscribe(this.#onEnded);
    channels.opStart.subscribe(this.#onOpStart);
    channels.opEnd.subscribe(this.#onOpEnd);
    channels.cancelAfterEnd.subscribe(this.#onCancelAfterEnd);
  }

  /** Stops listening; the core publishes nothing again once nobody else listens. */
  unsubscribe(): void {
    if (!this.#subscribed) return;
    this.#subscribed = false;
    channels.contextCreated.unsubscribe(this.#onCreated);
    channels.contextEnded.unsubscribe(this.#onEnded);
    channels.opStart.unsubscribe(this.#onOpStart);
    channels.opEnd.unsubscribe(this.#onOpEnd);
    channels.cancelAfterEnd.unsubscribe(this.#onCancelAfterEnd);
    captureCreationSites(this.#sitesWereCaptured);
  }

  /**
   * The record of a cancellable context, made on the spot for one created before tracking
   * started (unlisted: its creation was not seen, so it has no stack to report).
   */
  recordFor(node: Context): ContextRecord {
    let record = this.#byContext.get(node);
    if (record === undefined) {
      const s = tryInspect(node);
      record = new ContextRecord(
        this.newId(),
        node.name,
        s?.kind ?? "context",
        undefined,
        s?.createdAt ?? now(),
        s?.deadline ?? Infinity,
        undefined,
      );
      if (s !== undefined && s.state !== "live") record.endedAt = s.endedAt ?? now();
      this.#byContext.set(node, record);
    }
    return record;
  }

  /** Registers an operation that code outside the core announced (an ambient fetch, say). */
  startOperation(kind: string, context: unknown, stack: StackRef): OperationRecord {
    // Most work runs under a tracked context itself: its record, without a snapshot of it.
    const known = this.#known(context);
    const node = known === undefined ? nodeOf(context) : null;
    const record = new OperationRecord(
      this.newId(),
      kind,
      known ?? (node === null ? undefined : this.recordFor(node)),
      (context as Partial<Context> | undefined)?.name ?? node?.name ?? undefined,
      now(),
      stack,
    );
    this.operations.set(record.id, record);
    return record;
  }

  /** The record of a tracked context (one whose creation was seen), without a snapshot of it. */
  #known(ctx: unknown): ContextRecord | undefined {
    return typeof ctx === "object" && ctx !== null ? this.#byContext.get(ctx) : undefined;
  }

  endOperation(record: OperationRecord): void {
    this.operations.delete(record.id);
    record.endedAt = now();
    this.overruns.finished(record, record.endedAt);
    if (record.stack !== StackRef.NONE) this.timeline.operation(record);
  }

  /** A deadline timer fired, `lateByMs` late: a mark on the timeline. */
  deadlineFired(context: object, lateByMs: number): void {
    const node = nodeOf(context);
    const record = node === null ? undefined : this.#byContext.get(node);
    this.timeline.deadline(now(), lateByMs, record);
  }

  readonly #onCreated = containExceptions(
    "context:created subscriber",
    (message: unknown): void => {
      const { context, parent } = message as ContextCreatedMessage;
      const s = tryInspect(context);
      if (s === undefined) return;
      // A parent whose creation was seen is its own node: no snapshot of it needed.
      const parentRecord = this.#known(parent);
      const parentNode = parentRecord === undefined ? nodeOf(parent) : null;
      const own = s.ownDeadline ?? Infinity;
      const record = new ContextRecord(
        this.newId(),
        s.name,
        s.kind,
        parentRecord?.id ?? (parentNode === null ? undefined : this.#byContext.get(parentNode)?.id),
        s.createdAt ?? now(),
        s.deadline ?? Infinity,
        s.site === undefined ? undefined : new StackRef(s.site),
      );
      record.listed = true;
      record.longLived = this.#isLongLived(s.name);
      this.contexts.set(record.id, record);
      this.#byContext.set(context, record);
      // Only a root without a deadline can be collected while live: a deadline timer holds its
      // context until it fires (and ends it), and a live parent holds its children (a lost subtree
      // is reported at its root). Registering no others saves most of the registry's cost.
      if (parentRecord === undefined && parentNode === null && own === Infinity) {
        record.finalizable = true;
        this.#finalizer.register(context, record, record);
      }
    },
  );

  readonly #onEnded = containExceptions("context:ended subscriber", (message: unknown): void => {
    const { context } = message as ContextEndedMessage;
    const record = this.#byContext.get(context);
    if (record === undefined || record.endedAt !== undefined) return;
    const s = tryInspect(context);
    record.endedAt = s?.endedAt ?? now();
    if (s !== undefined) {
      record.endedBy =
        s.origin !== context ? "ancestor" : s.state === "canceled" ? "cancel" : "deadline";
    }
    if (record.listed) this.timeline.context(record);
    if (record.endedBy === "cancel") record.released = true;
    else if (record.endedBy !== undefined) this.lostCancels.ended(record, record.endedAt);
    if (record.listed) {
      record.listed = false;
      this.contexts.delete(record.id);
      if (record.finalizable) this.#finalizer.unregister(record);
    }
  });

  #onCollected(record: ContextRecord): void {
    if (!record.listed) return;
    record.listed = false;
    this.contexts.delete(record.id);
    if (this.#subscribed) this.collected.push({ record, at: now() });
  }

  readonly #onOpStart = containExceptions("op:start subscriber", (message: unknown): void => {
    const { op, kind, context } = message as OperationMessage;
    // A wait ends with its context, so only dumps show its stack: sampled, as a capture costs
    // more than the wait. Adapter work can outlive its context: always recorded.
    const sampled =
      !isWait(op) || this.#everyWait.held || this.#waits++ % this.#waitSampleEvery === 0;
    // Stacks start at the core's announceOpStart when it is this copy's (V8 then skips the frames
    // above it for free); for the other build's contexts, at this subscriber. Either way the
    // frames of timebound's own before the program's are found by file and dropped.
    const stack = !sampled
      ? StackRef.NONE
      : StackRef.capture(isContext(context) ? announceOpStart : undefined);
    const record = this.startOperation(kind, context, stack);
    this.#byOperation.set(op, record);
  });

  readonly #onOpEnd = containExceptions("op:end subscriber", (message: unknown): void => {
    const { op } = message as OperationMessage;
    const record = this.#byOperation.get(op);
    if (record === undefined) return;
    this.#byOperation.delete(op);
    this.endOperation(record);
  });

  readonly #onCancelAfterEnd = containExceptions(
    "context:cancel-after-end subscriber",
    (message: unknown): void => {
      const { context } = message as CancelAfterEndMessage;
      const record = this.#byContext.get(context);
      if (record === undefined) return;
      record.released = true;
      this.lostCancels.released(record);
    },
  );
}
