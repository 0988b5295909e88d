import { defineErrorClass } from "../../core/internal.js";

/**
 * The cause of a request context's end when the connection closed before the response was
 * finished: the client went away (or the socket was destroyed), so nobody waits for the answer.
 * The context's error is `Canceled`; this is its `cause`. Its `code` is
 * `"TIMEBOUND_ERR_CLIENT_DISCONNECTED"`; `instanceof` works across the ESM and CJS copies too.
 *
 * @example
 * ```ts
 * if (cause(ctx) instanceof ClientDisconnectedError) log.info("client gave up");
 * ```
 */
export class ClientDisconnectedError extends Error {
  /** `"TIMEBOUND_ERR_CLIENT_DISCONNECTED"`: the client left before the response was finished. */
  declare readonly code: "TIMEBOUND_ERR_CLIENT_DISCONNECTED";

  constructor(message = "the client disconnected before the response was finished") {
    super(message);
  }
}

defineErrorClass(ClientDisconnectedError, "ClientDisconnectedError", {
  kind: "timebound.ClientDisconnectedError",
  code: "TIMEBOUND_ERR_CLIENT_DISCONNECTED",
});

/**
 * The cause of a request context's end when its response has been sent: as Go cancels a
 * request's context when its handler returns, the context ends so that its deadline timer and
 * its link to the parent go with the request. Work that must outlive the response takes
 * `withoutCancel(ctx)`. Its `code` is `"TIMEBOUND_ERR_RESPONSE_FINISHED"`.
 *
 * @example
 * ```ts
 * res.on("finish", () => assert(cause(ctx) instanceof ResponseFinishedError));
 * ```
 */
export class ResponseFinishedError extends Error {
  /** `"TIMEBOUND_ERR_RESPONSE_FINISHED"`: the response was sent, so its request context ended. */
  declare readonly code: "TIMEBOUND_ERR_RESPONSE_FINISHED";

  constructor(message = "the response was sent; the request is over") {
    super(message);
  }
}

defineErrorClass(ResponseFinishedError, "ResponseFinishedError", {
  kind: "timebound.ResponseFinishedError",
  code: "TIMEBOUND_ERR_RESPONSE_FINISHED",
});

/** One shared instance: a finished response is the common case and needs no stack. */
export const RESPONSE_FINISHED: ResponseFinishedError = Object.freeze(new ResponseFinishedError());

/**
 * The cause every disconnected request's context ends with: one instance without stack frames,
 * which would only show the socket listener that noticed, so that a logged or inspected error
 * stays a couple of lines.
 *
 * @internal
 */
export const CLIENT_DISCONNECTED: ClientDisconnectedError = Object.freeze(stackless());

function stackless(): ClientDisconnectedError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new ClientDisconnectedError();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
