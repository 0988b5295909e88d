// What a request that failed with a context error gets, for the Express and Fastify error
// handlers alike. What goes over the wire is a fixed description: an error's explanation names
// internal contexts, their ancestors and cancel causes, which belong in logs, not to the client.
import { Canceled, cause, ContextError, DeadlineExceeded, isContext } from "../../core/index.js";
import { checkBoolean, optionsObject } from "../../core/internal.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ClientDisconnectedError } from "./errors.js";

/** Options of {@link expressErrorHandler} and {@link fastifyErrorHandler}. */
export interface ErrorResponseOptions {
  /**
   * Send the error's explanation (its message: the context's name, the ancestor that ended
   * it, when, and the cancel cause) in the response body instead of the fixed description
   * ("deadline exceeded", "request canceled"). Default false: an explanation can name internal
   * services and carry whatever was passed to `cancel()`; it is logged either way. Turn it on
   * only where the callers are your own services.
   */
  readonly explain?: boolean;
}

/** @internal How to answer a request that failed with a context error. */
export type ContextFailure =
  /** The response was already sent (a late error): nothing to do, nothing to log. */
  | { readonly kind: "sent" }
  /** The client is gone: close quietly, no body, no error log. */
  | { readonly kind: "gone"; readonly error: ContextError }
  /** The body had started: it cannot carry an error status; the response is destroyed. */
  | { readonly kind: "cut"; readonly error: ContextError }
  /** A status (504 or 503) and a short body. */
  | {
      readonly kind: "answer";
      readonly error: ContextError;
      readonly status: 503 | 504;
      readonly body: string;
    };

/** @internal The fixed descriptions sent by default. */
export const DEADLINE_EXCEEDED_TEXT = "deadline exceeded";
/** @internal */
export const CANCELED_TEXT = "request canceled";

/**
 * Classifies `err` for the request `req` / `res`, whose context is `ctx` (`req.ctx`, if any):
 * undefined when it is not a context error
 * (the caller passes it on). `DeadlineExceeded` is a 504; `Canceled` because the client left
 * (the request context's cause, the error's cause, or a closed connection) closes quietly;
 * another `Canceled` (a server shutdown, a canceled parent) is a 503.
 *
 * @internal
 */
export function contextFailure(
  err: unknown,
  ctx: unknown,
  req: IncomingMessage,
  res: ServerResponse,
  explain: boolean,
): ContextFailure | undefined {
  if (!(err instanceof ContextError)) return undefined;
  if (res.writableEnded) return { kind: "sent" };
  if (clientGone(err, ctx, req, res)) return { kind: "gone", error: err };
  if (res.headersSent) return { kind: "cut", error: err };
  const deadline = err instanceof DeadlineExceeded;
  const fixed = deadline ? DEADLINE_EXCEEDED_TEXT : CANCELED_TEXT;
  return {
    kind: "answer",
    error: err,
    status: deadline ? 504 : 503,
    body: explain ? err.message : fixed,
  };
}

function clientGone(
  err: ContextError,
  ctx: unknown,
  req: IncomingMessage,
  res: ServerResponse,
): boolean {
  if (res.destroyed || req.socket?.destroyed === true) return true;
  if (!(err instanceof Canceled)) return false;
  if (err.cause instanceof ClientDisconnectedError) return true;
  return isContext(ctx) && cause(ctx) instanceof ClientDisconnectedError;
}

/** @internal The option names of {@link ErrorResponseOptions}. */
export const ERROR_RESPONSE_OPTIONS: readonly (keyof ErrorResponseOptions)[] = ["explain"];

/**
 * @internal Reads `explain` from the options of `fn`, found at `path` ("options"), which may
 * hold `known` keys and no others.
 */
export function explainOption(
  options: ErrorResponseOptions | undefined,
  fn: string,
  path = "options",
  known: readonly string[] = ERROR_RESPONSE_OPTIONS,
): boolean {
  const explain = optionsObject(options, fn, known, path).explain;
  return explain !== undefined && checkBoolean(explain, fn, `${path}.explain`);
}
