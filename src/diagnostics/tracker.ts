import {
  type Context,
  channels,
  type ContextCreatedMessage,
  type ContextEndedMessage,
  isContext,
  now,
  type OperationMessage,
  captureCreationSites,
} from "../core/index.js";
import { announceOpStart, siteCapture } from "../core/internal.js";
import { guard } from "./guard.js";
import { ContextRecord, EventLog, Holds, OperationRecord, nodeOf } from "./records.js";
import { tryInspect } from "../core/introspect.js";
import { StackRef } from "./stacks.js";

/** A context that was garbage-collected while live: nobody called its cancel. */
export interface CollectedEvent {
  readonly record: ContextRecord;
  readonly at: number;
}

/** timebound frames between announceStart and the caller: watch, the primitive, its helper. */
const OWN_FRAMES_BELOW_ANNOUNCE = 3;
/** Frames above the caller when the stack cannot start at announceStart: ours, the channel's, core's. */
const FRAMES_ABOVE_CALLER = 8;

/**
 * The registry of live contexts and operations, filled from core's diagnostics_channel events
 * (no async_hooks). Contexts are keyed weakly by the context object and described by plain-data
 * records, so tracking never keeps a context alive; a FinalizationRegistry reports contexts
 * collected without having ended: the run-time proof of a lost cancel.
 */
export class Tracker {
  /** Live contexts by id, in creation order (so oldest first). */
  readonly contexts = new Map<number, ContextRecord>();
  /** Operations in progress by id, in start order. */
  readonly operations = new Map<number, OperationRecord>();
  readonly collected: EventLog<CollectedEvent>;
  readonly startedAt = now();
  private readonly byContext = new WeakMap<object, ContextRecord>();
  private readonly byOperation = new WeakMap<object, OperationRecord>();
  private readonly finalizer = new FinalizationRegistry<ContextRecord>(
    guard("finalization callback", (record: ContextRecord) => this.onCollected(record)),
  );
  private nextId = 1;
  private waits = 0;
  private readonly everyWait = new Holds();
  private subscribed = false;
  private sitesWereCaptured = false;

  constructor(
    maxEvents: number,
    private readonly waitSampleEvery = 1,
  ) {
    this.collected = new EventLog(maxEvents);
  }

  /** Records every wait's stack until the returned function is called. Calls nest. */
  sampleAllWaits(): () => void {
    return this.everyWait.hold();
  }

  /** A process-wide id for a new record (contexts, operations and timers share the space). */
  newId(): number {
    return this.nextId++;
  }

  /** Starts listening; turns on creation stacks in the core. */
  subscribe(): void {
    if (this.subscribed) return;
    this.subscribed = true;
    this.sitesWereCaptured = siteCapture.enabled;
    captureCreationSites(true);
    channels.created.subscribe(this.onCreated);
    channels.ended.subscribe(this.onEnded);
    channels.opStart.subscribe(this.onOpStart);
    channels.opEnd.subscribe(this.onOpEnd);
  }

  /** Stops listening; the core publishes nothing again once nobody else listens. */
  unsubscribe(): void {
    if (!this.subscribed) return;
    this.subscribed = false;
    channels.created.unsubscribe(this.onCreated);
    channels.ended.unsubscribe(this.onEnded);
    channels.opStart.unsubscribe(this.onOpStart);
    channels.opEnd.unsubscribe(this.onOpEnd);
    captureCreationSites(this.sitesWereCaptured);
  }

  /**
   * The record of a cancellable context, made on the spot for one created before tracking
   * started (unlisted: its creation was not seen, so it has no stack to report).
   */
  recordFor(node: Context): ContextRecord {
    let record = this.byContext.get(node);
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
      this.byContext.set(node, record);
    }
    return record;
  }

  /** Registers an operation that code outside the core announced (an ambient fetch, say). */
  startOperation(kind: string, context: unknown, stack: StackRef): OperationRecord {
    const node = nodeOf(context);
    const record = new OperationRecord(
      this.newId(),
      kind,
      node === null ? undefined : this.recordFor(node),
      (context as Partial<Context> | undefined)?.name ?? node?.name ?? undefined,
      now(),
      stack,
    );
    this.operations.set(record.id, record);
    return record;
  }

  endOperation(record: OperationRecord): void {
    this.operations.delete(record.id);
  }

  private readonly onCreated = guard("context:created subscriber", (message: unknown): void => {
    const { context, parent } = message as ContextCreatedMessage;
    const s = tryInspect(context);
    if (s === undefined) return;
    const parentNode = nodeOf(parent);
    const own = s.ownDeadline ?? Infinity;
    const record = new ContextRecord(
      this.newId(),
      s.name,
      s.kind,
      parentNode === null ? undefined : this.byContext.get(parentNode)?.id,
      s.createdAt ?? now(),
      s.deadline ?? Infinity,
      s.site === undefined ? undefined : new StackRef(s.site),
    );
    record.listed = true;
    this.contexts.set(record.id, record);
    this.byContext.set(context, record);
    // Only a root without a deadline can be collected while live: a deadline timer holds its
    // context until it fires (and ends it), and a live parent holds its children (a lost subtree
    // is reported at its root). Registering no others saves most of the registry's cost.
    if (parentNode === null && own === Infinity) {
      record.finalizable = true;
      this.finalizer.register(context, record, record);
    }
  });

  private readonly onEnded = guard("context:ended subscriber", (message: unknown): void => {
    const { context } = message as ContextEndedMessage;
    const record = this.byContext.get(context);
    if (record === undefined || record.endedAt !== undefined) return;
    record.endedAt = tryInspect(context)?.endedAt ?? now();
    if (record.listed) {
      record.listed = false;
      this.contexts.delete(record.id);
      if (record.finalizable) this.finalizer.unregister(record);
    }
  });

  private onCollected(record: ContextRecord): void {
    if (!record.listed) return;
    record.listed = false;
    this.contexts.delete(record.id);
    if (this.subscribed) this.collected.push({ record, at: now() });
  }

  private readonly onOpStart = guard("op:start subscriber", (message: unknown): void => {
    const { op, kind, context } = message as OperationMessage;
    // A wait (a core Watcher) ends with its context, so only dumps show its stack: sampled, as a
    // capture costs more than the wait. Adapter work can outlive its context: always recorded.
    const wait = typeof (op as { _ended?: unknown })._ended === "function";
    const sampled = !wait || this.everyWait.held || this.waits++ % this.waitSampleEvery === 0;
    // Stacks start at the core's announceStart when it is this copy's (V8 then skips the frames
    // above it for free); for the other build's contexts, with room for the frames dropped later.
    const stack = !sampled
      ? StackRef.NONE
      : isContext(context)
        ? StackRef.capture(announceOpStart, OWN_FRAMES_BELOW_ANNOUNCE)
        : StackRef.capture(undefined, FRAMES_ABOVE_CALLER);
    const record = this.startOperation(kind, context, stack);
    this.byOperation.set(op, record);
  });

  private readonly onOpEnd = guard("op:end subscriber", (message: unknown): void => {
    const { op } = message as OperationMessage;
    const record = this.byOperation.get(op);
    if (record === undefined) return;
    this.byOperation.delete(op);
    this.operations.delete(record.id);
  });
}
