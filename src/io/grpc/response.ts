import { afterFunc, type Context } from "../../core/index.js";
import type { ServiceError } from "@grpc/grpc-js";
import { isContextDeadline } from "./deadline.js";

/**
 * The callback a unary or client-streaming call answers through, settling a promise that
 * `raceContext` races with the context. A DEADLINE_EXCEEDED that is the context's own deadline
 * seen a moment early rejects only once the context has ended, so `raceContext` has already
 * rejected with the context's error: the caller never sees grpc-js's error for a deadline that
 * was the context's, and the work still settles, so diagnostics sees it end.
 *
 * @internal
 */
export function responseCallback<Res>(
  ctx: Context,
  resolve: (value: Res) => void,
  reject: (err: unknown) => void,
): (err: ServiceError | null, value?: Res) => void {
  return (err, value) => {
    if (err === null || err === undefined) resolve(value as Res);
    else if (isContextDeadline(err, ctx)) afterFunc(ctx, () => reject(err));
    else reject(err);
  };
}

/**
 * Rejects with `err` once `ctx` has ended: for a DEADLINE_EXCEEDED that is the context's own
 * deadline seen a moment early (see {@link responseCallback}).
 *
 * @internal
 */
export function rejectWhenEnded(ctx: Context, err: unknown): Promise<never> {
  return new Promise<never>((_, reject) => {
    afterFunc(ctx, () => reject(err));
  });
}

/**
 * After the context ends, grpc-js still reports the canceled call as an 'error' event on the
 * stream; with no listener left, that event would crash the process. The caller hears the
 * context's error instead, from the promise or the iterator.
 *
 * @internal
 */
export function ignoreLateErrors(call: NodeJS.EventEmitter): void {
  call.on("error", ignore);
}

/**
 * Does nothing: the handler for outcomes that no longer matter.
 *
 * @internal
 */
export function ignore(): void {}
