import { type Context, type ContextError, DeadlineExceeded } from "../../core/index.js";
import { type StatusObject, status } from "@grpc/grpc-js";

/**
 * The status a context's end gives a call in this process (the caller's side): DEADLINE_EXCEEDED
 * for `DeadlineExceeded`, CANCELLED for `Canceled`, with the context's explanation as details.
 * A client's cancel sends no details over the wire; see `handler-status.ts` for what a server
 * sends.
 *
 * @internal
 */
export function localStatus(err: ContextError): { code: status; details: string } {
  return {
    code: err instanceof DeadlineExceeded ? status.DEADLINE_EXCEEDED : status.CANCELLED,
    details: err.message,
  };
}

/**
 * A status that carries the context error it stands for, as its `cause`.
 *
 * @internal
 */
export interface ContextStatus extends StatusObject {
  readonly cause: ContextError;
}

/**
 * The status a call bound to `ctx` ends with, for its caller: a CANCELLED or DEADLINE_EXCEEDED
 * that came with the end of the context becomes the context's own ({@link localStatus}), with
 * the context's error as `cause`. grpc-js builds the caller's error with `Object.assign(error,
 * status)`, so the error's `cause` is the `DeadlineExceeded` or `Canceled`. Any other status
 * passes unchanged.
 *
 * @internal
 */
export function withContextError(s: StatusObject, ctx: Context): StatusObject {
  if (s.code !== status.CANCELLED && s.code !== status.DEADLINE_EXCEEDED) return s;
  const err = ctx.err;
  if (err === undefined) return s;
  const out: ContextStatus = { ...s, ...localStatus(err), cause: err };
  return out;
}
