import type { ServiceError } from "@grpc/grpc-js";
import type { Context } from "../../core/context.js";
import { type CallDeadline, isContextDeadline } from "./deadline.js";

/**
 * The callback a unary or client-streaming call answers through, settling a promise that
 * `raceContext` races with the context. A DEADLINE_EXCEEDED that is the context's own deadline
 * leaves the promise pending: the context ends within moments and `raceContext` rejects with
 * its error, so the caller never sees grpc-js's error for a deadline that was the context's.
 */
export function responseCallback<Res>(
  ctx: Context,
  sent: CallDeadline,
  resolve: (value: Res) => void,
  reject: (err: unknown) => void,
): (err: ServiceError | null, value?: Res) => void {
  return (err, value) => {
    if (err === null || err === undefined) resolve(value as Res);
    else if (!isContextDeadline(err, ctx, sent)) reject(err);
  };
}

/**
 * After the context ends, grpc-js still reports the cancelled call as an 'error' event on the
 * stream; with no listener left, that event would crash the process. The caller hears the
 * context's error instead, from the promise or the iterator.
 */
export function ignoreLateErrors(call: NodeJS.EventEmitter): void {
  call.on("error", ignore);
}

/** Does nothing: the handler for outcomes that no longer matter. */
export function ignore(): void {}
