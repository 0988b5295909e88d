import { type Context, ContextError, DeadlineExceeded, explain } from "../../core/index.js";
import { describeValue } from "../../core/internal.js";
import { type ServerErrorResponse, type StatusObject, status } from "@grpc/grpc-js";

/**
 * What ended the work of a handler that failed with a context's error.
 *
 * @internal
 */
export type HandlerEnd =
  /** The caller's deadline (the call's `grpc-timeout`) passed. */
  | "caller-deadline"
  /** The caller canceled the call, or went away. */
  | "caller-cancel"
  /** The server's own context ended: the parent given to withContext (shutdown). */
  | "server"
  /** A deadline the handler's own code set (a child `withTimeout`) passed. */
  | "handler-deadline"
  /** A context the handler's own code canceled, or one from outside the call. */
  | "handler-cancel";

/**
 * The status each end is sent as, and its details unless explanations are sent. The code says
 * who ended the work, because callers act on it: CANCELLED means "you canceled" and is not
 * retried; UNAVAILABLE means "this server is going away, try another"; DEADLINE_EXCEEDED is a
 * deadline, the caller's or one the server set itself (as grpc-go reports a handler's own
 * context.DeadlineExceeded). A cancel inside the server that the call did not cause is UNKNOWN:
 * the server gave up for reasons the wire cannot say, and it is neither the caller's cancel nor a
 * promise that a retry elsewhere helps.
 */
const STATUS: Readonly<Record<HandlerEnd, { code: status; details: string }>> = {
  "caller-deadline": { code: status.DEADLINE_EXCEEDED, details: "deadline exceeded" },
  "caller-cancel": { code: status.CANCELLED, details: "canceled" },
  server: { code: status.UNAVAILABLE, details: "server shutting down" },
  "handler-deadline": {
    code: status.DEADLINE_EXCEEDED,
    details: "deadline exceeded in the server",
  },
  "handler-cancel": { code: status.UNKNOWN, details: "canceled in the server" },
};

/**
 * The context error a handler failed with: a `Canceled` or `DeadlineExceeded`, or the grpc-js
 * error of a call that {@link contextInterceptor} ended (its `cause` is the context's error).
 *
 * @internal
 */
export function contextErrorOf(err: unknown): ContextError | undefined {
  if (err instanceof ContextError) return err;
  if (typeof err !== "object" || err === null) return undefined;
  const { code, cause } = err as { code?: unknown; cause?: unknown };
  const fromContext = code === status.CANCELLED || code === status.DEADLINE_EXCEEDED;
  return fromContext && cause instanceof ContextError ? cause : undefined;
}

/**
 * What ended a handler that failed with `err`, a context's error, read from the call's own
 * context `callCtx` before the handler's end cancels it. If the call's context has ended, it says
 * why: its own deadline or cancel are the caller's, an ancestor's end is the server's own. If it
 * is still live, the context that ended was one of the handler's own.
 *
 * @internal
 */
export function handlerEnd(err: ContextError, callCtx: Context): HandlerEnd {
  const ended = callCtx.err;
  if (ended === undefined) {
    return err instanceof DeadlineExceeded ? "handler-deadline" : "handler-cancel";
  }
  if ((explain(callCtx).origin?.depth ?? 0) > 0) return "server";
  return ended instanceof DeadlineExceeded ? "caller-deadline" : "caller-cancel";
}

/**
 * What a handler's failure is sent back as. A context's end becomes the status of
 * {@link handlerEnd}, with a short fixed description as details ("deadline exceeded",
 * "server shutting down"), or with the context's full explanation when `sendExplanation` is set:
 * explanations name internal contexts, their ancestors and cancel causes, which stay in the
 * server's logs unless asked for. Other errors go as grpc-js sends them (their `code` and
 * `details`, if they have them, so errors of outgoing calls pass on); a value that is not an
 * Error becomes UNKNOWN. Never throws: a failure to read `err` is an UNKNOWN too.
 *
 * @internal
 */
export function handlerStatus(
  err: unknown,
  callCtx: Context,
  sendExplanation: boolean,
): ServerErrorResponse | Partial<StatusObject> {
  try {
    const ctxErr = contextErrorOf(err);
    if (ctxErr !== undefined) {
      const { code, details } = STATUS[handlerEnd(ctxErr, callCtx)];
      return { code, details: sendExplanation ? ctxErr.message : details };
    }
    if (err instanceof Error) return err;
  } catch {
    // A Proxy or a getter that throws: fall through to a status that reads nothing more.
  }
  return { code: status.UNKNOWN, details: describeValue(err) };
}
