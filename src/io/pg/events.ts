import * as diagnosticsChannel from "node:diagnostics_channel";
import type { CancelDelivery } from "./cancel-request.js";

/**
 * Channels on which timebound/pg announces what happened when it stopped a statement. As in the
 * core, messages are built only while someone subscribes.
 *
 * @example
 * ```ts
 * import * as diagnosticsChannel from "node:diagnostics_channel";
 * diagnosticsChannel.subscribe("timebound:pg:cancel", (m) => {
 *   const { outcome, elapsedMs } = m as PgCancelMessage;
 *   if (outcome === "closed") console.warn(`pg: backend not idle after ${elapsedMs} ms, closed`);
 * });
 * ```
 */
export const pgChannels = {
  /** {@link PgCancelMessage}: a statement in flight was stopped (once per stop). */
  cancel: diagnosticsChannel.channel("timebound:pg:cancel"),
} as const;

/**
 * How a stop ended:
 * - `canceled`: the backend answered 57014 (query_canceled) and is idle; the client was reused.
 * - `completed`: the statement finished on its own just as the cancel went out; the client was
 *   reused only after the cancel was spent, so it could not hit the next query.
 * - `failed`: the statement ended with another error; the client was reused.
 * - `closed`: the backend could not be confirmed idle in time (or the cancel's fate was
 *   unknown); the connection was closed instead of reused.
 *
 * @example
 * ```ts
 * function connectionKept(outcome: StatementStopOutcome): boolean {
 *   return outcome !== "closed";
 * }
 * ```
 */
export type StatementStopOutcome = "canceled" | "completed" | "failed" | "closed";

/** @deprecated use {@link StatementStopOutcome} (the same type; renamed to say what stopped). */
export type StopOutcome = StatementStopOutcome;

/** Published on `pgChannels.cancel` each time a statement in flight is stopped. */
export interface PgCancelMessage {
  /** The backend's process id (`pg_stat_activity.pid`). */
  readonly processId: number;
  /** How the stop ended. */
  readonly outcome: StatementStopOutcome;
  /** What became of the CancelRequest; undefined if none could be sent (no backend key). */
  readonly delivery: CancelDelivery | undefined;
  /** From the stop to the client being reusable (or closed), in ms. */
  readonly elapsedMs: number;
}
