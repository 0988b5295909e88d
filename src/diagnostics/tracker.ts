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
import { type ContextSnapshot, tryInspect } from "../core/introspect.js";
import {
  type RequestAnnouncement,
  listenedChannels as channels,
  requestContextChannel,
} from "./channels.js";
import { containExceptions } from "./contain.js";
import { LostCancels, Overruns } from "./history.js";
import { ContextRecord, EventLog, Holds, LiveList, OperationRecord, nodeOf } from "./records.js";
import { RequestRoute } from "./routes.js";
import { StackRef } from "./stacks.js";
import { TimelineLog } from "./timeline-log.js";

/** A creation-site holder, with the records trackers keep on it (see {@link Tracker}). */
type SiteHolder = Record<symbol, ContextRecord | undefined>;

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
  /** Live contexts, in creation order (so oldest first). */
  readonly contexts = new LiveList<ContextRecord>();
  /** Operations in progress, in start order. */
  readonly operations = new LiveList<OperationRecord>();
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
  /** Records of contexts without a creation site (made before tracking started). */
  readonly #byContext = new WeakMap<object, ContextRecord>();
  /**
   * Where a context's record is kept: on its creation-site holder, the object the core made for
   * its stack while sites are recorded, which lives exactly as long as the context and is read
   * through its snapshot anyway. A WeakMap entry per request-sized context (an ephemeron) made
   * every young collection dearer. The key is this tracker's own, so that a tracker started
   * later never takes an earlier one's records.
   */
  readonly #recordKey = Symbol("timebound.diagnostics.record");
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
    requestContextChannel.subscribe(this.#onRequest);
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
    requestContextChannel.unsubscribe(this.#onRequest);
    captureCreationSites(this.#sitesWereCaptured);
  }

  /**
   * The record of a cancellable context, made on the spot for one created before tracking
   * started (unlisted: its creation was not seen, so it has no stack to report).
   */
  recordFor(node: Context): ContextRecord {
    const s = tryInspect(node);
    let record = this.#recordOf(node, s);
    if (record === undefined) {
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
      this.#keep(node, s, record);
    }
    return record;
  }

  /** The record of `ctx` (a context that can end), from its snapshot `s`. */
  #recordOf(ctx: object, s: ContextSnapshot | undefined): ContextRecord | undefined {
    return (s?.site as SiteHolder | undefined)?.[this.#recordKey] ?? this.#byContext.get(ctx);
  }

  #keep(ctx: object, s: ContextSnapshot | undefined, record: ContextRecord): void {
    const site = s?.site as SiteHolder | undefined;
    if (site !== undefined) site[this.#recordKey] = record;
    else this.#byContext.set(ctx, record);
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
    this.operations.add(record);
    return record;
  }

  /** The record of a context that can end and has one (its creation was seen, or it was adopted). */
  #known(ctx: unknown): ContextRecord | undefined {
    if (typeof ctx !== "object" || ctx === null) return undefined;
    const s = tryInspect(ctx);
    return s?.node === ctx ? this.#recordOf(ctx, s) : undefined;
  }

  endOperation(record: OperationRecord): void {
    this.operations.delete(record);
    record.endedAt = now();
    this.overruns.finished(record, record.endedAt);
    if (record.stack !== StackRef.NONE) this.timeline.operation(record);
  }

  /** A deadline timer fired, `lateByMs` late: a mark on the timeline. */
  deadlineFired(context: object, lateByMs: number): void {
    const node = nodeOf(context);
    const record = node === null ? undefined : this.#recordOf(node, tryInspect(node));
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
      const above =
        parentRecord ??
        (parentNode === null ? undefined : this.#recordOf(parentNode, tryInspect(parentNode)));
      const record = new ContextRecord(
        this.newId(),
        s.name,
        s.kind,
        above?.id,
        s.createdAt ?? now(),
        s.deadline ?? Infinity,
        s.site === undefined ? undefined : new StackRef(s.site),
      );
      record.listed = true;
      record.longLived = this.#isLongLived(s.name);
      // Made under a request: its route, read now if routing has set it since (Express).
      const request = above?.request;
      if (request !== undefined) {
        request.resolve();
        record.request = request;
      }
      this.contexts.add(record);
      this.#keep(context, s, record);
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
    const s = tryInspect(context);
    const record = this.#recordOf(context, s);
    if (record === undefined || record.endedAt !== undefined) return;
    record.endedAt = s?.endedAt ?? now();
    if (s !== undefined) {
      record.endedBy =
        s.origin !== context ? "ancestor" : s.state === "canceled" ? "cancel" : "deadline";
    }
    if (record.request?.requestId === record.id) record.request.resolve(true);
    if (record.listed) this.timeline.context(record);
    if (record.endedBy === "cancel") record.released = true;
    else if (record.endedBy !== undefined) this.lostCancels.ended(record, record.endedAt);
    if (record.listed) {
      record.listed = false;
      this.contexts.delete(record);
      if (record.finalizable) this.#finalizer.unregister(record);
    }
  });

  readonly #onRequest = containExceptions("http:request subscriber", (message: unknown): void => {
    const { context, request, method, path } = (message ?? {}) as RequestAnnouncement;
    const record = this.#known(context);
    if (record !== undefined && typeof request === "object" && request !== null) {
      record.request = new RequestRoute(record.id, String(method), String(path), request);
    }
  });

  #onCollected(record: ContextRecord): void {
    if (!record.listed) return;
    record.listed = false;
    this.contexts.delete(record);
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
      const record = this.#recordOf(context, tryInspect(context));
      if (record === undefined) return;
      record.released = true;
      this.lostCancels.released(record);
    },
  );
}
