import * as diagnosticsChannel from "node:diagnostics_channel";
import type { Context } from "./context.js";

/**
 * Channels on which the core announces what happens to contexts. Messages are published only
 * while a channel has subscribers, so an unobserved program pays one property read per event.
 *
 * @example
 * ```ts
 * import { subscribe } from "node:diagnostics_channel";
 * import type { DeadlineFiredMessage } from "timebound";
 * subscribe("timebound:deadline:fired", (m) => {
 *   const { context, lateByMs } = m as DeadlineFiredMessage;
 *   if (lateByMs > 50) console.warn(`${context.name} fired ${lateByMs} ms late`);
 * });
 * ```
 */
export const channels = {
  /** {@link ContextCreatedMessage}: a cancellable context was created. */
  created: diagnosticsChannel.channel("timebound:context:created"),
  /** {@link ContextEndedMessage}: a cancellable context ended (once per context). */
  ended: diagnosticsChannel.channel("timebound:context:ended"),
  /** {@link DeadlineFiredMessage}: a deadline timer fired. */
  deadlineFired: diagnosticsChannel.channel("timebound:deadline:fired"),
  /** {@link OperationMessage}: a primitive or adapter started waiting or working under a context. */
  opStart: diagnosticsChannel.channel("timebound:op:start"),
  /** {@link OperationEndMessage}: that operation stopped (done, or its context ended). */
  opEnd: diagnosticsChannel.channel("timebound:op:end"),
  /**
   * {@link CancelAfterEndMessage}: `cancel()` (or dispose) was called on a context that had already
   * ended, as `using` and `finally { cancel() }` do once its deadline fired or its parent ended. With
   * `context:ended` (whose origin says whether `cancel()` ended it), it tells a holder that released
   * its context from one that never did (a lost cancel).
   */
  cancelAfterEnd: diagnosticsChannel.channel("timebound:context:cancel-after-end"),
} as const;

/** An operation as diagnostics sees it: a sleep, a channel wait, a query, a fetch... */
export interface OperationMessage {
  /** Identity of the operation; the same object in its start and end messages. */
  readonly op: object;
  /** What it is: "sleep", "channel", "semaphore", "ticker", "pg.query", "fetch"... */
  readonly kind: string;
  /** The context it runs under. */
  readonly context: Context;
}

/** The end of an operation announced by an {@link OperationMessage}. */
export interface OperationEndMessage extends OperationMessage {
  /** "done": it finished; "context-ended": it stopped because its context ended. */
  readonly reason: "done" | "context-ended";
}

/** @internal What core and adapters record on an operation so that its end can be announced once. */
export interface Announced {
  /** @internal */
  _opKind: string | undefined;
  /** @internal */
  _opContext: Context | undefined;
}

/**
 * @internal Publishes an operation's start, if anyone listens; returns whether its end must be
 * announced.
 */
export function announceOpStart(op: Partial<Announced>, kind: string, context: Context): boolean {
  if (!channels.opStart.hasSubscribers) return false;
  op._opKind = kind;
  op._opContext = context;
  channels.opStart.publish({ op, kind, context } satisfies OperationMessage);
  return true;
}

/** @internal Publishes the end of an operation whose start was announced; a no-op otherwise or twice. */
export function announceOpEnd(op: Partial<Announced>, reason: "done" | "context-ended"): void {
  const { _opKind: kind, _opContext: context } = op;
  if (kind === undefined || context === undefined) return;
  op._opContext = undefined;
  channels.opEnd.publish({ op, kind, context, reason } satisfies OperationEndMessage);
}

/** Published on `channels.created` when a cancellable context is created. */
export interface ContextCreatedMessage {
  /** The new context. */
  readonly context: Context;
  /** The parent context given at creation. */
  readonly parent: Context | undefined;
}

/** Published on `channels.ended` when a cancellable context ends (once per context). */
export interface ContextEndedMessage {
  /** The context that ended. */
  readonly context: Context;
  /** The context's error; made when first read, so a subscriber that never reads it pays nothing. */
  readonly error: Error;
  /** The cause, as `cause(context)` reports it; also read lazily. */
  readonly cause: unknown;
}

/** Published on `channels.cancelAfterEnd` when `cancel()` is called on an ended context. */
export interface CancelAfterEndMessage {
  /** The context, which had already ended. */
  readonly context: Context;
}

/** Published on `channels.deadlineFired` when a context's deadline timer fires. */
export interface DeadlineFiredMessage {
  /** The context whose deadline passed. */
  readonly context: Context;
  /** Monotonic time the deadline was due. */
  readonly deadline: number;
  /** How late the timer fired, in ms: a large value means the event loop was blocked. */
  readonly lateByMs: number;
}
