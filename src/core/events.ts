import diagnosticsChannel from "node:diagnostics_channel";
import type { Context } from "./context.js";

/**
 * Channels on which the core announces what happens to contexts. Messages are published only
 * while a channel has subscribers, so an unobserved program pays one property read per event.
 *
 * @example
 * ```ts
 * import diagnosticsChannel from "node:diagnostics_channel";
 * diagnosticsChannel.subscribe("timebound:deadline:fired", (m) => {
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
} as const;

export interface ContextCreatedMessage {
  readonly context: Context;
  /** The parent context given at creation. */
  readonly parent: Context | undefined;
}

export interface ContextEndedMessage {
  readonly context: Context;
  /** The context's error; made when first read, so a subscriber that never reads it pays nothing. */
  readonly error: Error;
  /** The cause, as `cause(context)` reports it; also read lazily. */
  readonly cause: unknown;
}

export interface DeadlineFiredMessage {
  readonly context: Context;
  /** Monotonic time the deadline was due. */
  readonly deadline: number;
  /** How late the timer fired, in ms: a large value means the event loop was blocked. */
  readonly lateByMs: number;
}
