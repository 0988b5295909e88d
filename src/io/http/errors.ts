/**
 * The cause of a request context's end when the connection closed before the response was
 * finished: the client went away (or the socket was destroyed), so nobody waits for the answer.
 * The context's error is `Canceled`; this is its `cause`.
 *
 * @example
 * ```ts
 * if (cause(ctx) instanceof ClientDisconnectedError) log.info("client gave up");
 * ```
 */
export class ClientDisconnectedError extends Error {
  constructor(message = "the client disconnected before the response was finished") {
    super(message);
  }
}

/**
 * The cause of a request context's end when its response has been sent: as Go cancels a
 * request's context when its handler returns, the context ends so that its deadline timer and
 * its link to the parent go with the request. Work that must outlive the response takes
 * `withoutCancel(ctx)`.
 *
 * @example
 * ```ts
 * res.on("finish", () => assert(cause(ctx) instanceof ResponseFinishedError));
 * ```
 */
export class ResponseFinishedError extends Error {
  constructor(message = "the response was sent; the request is over") {
    super(message);
  }
}

for (const cls of [ClientDisconnectedError, ResponseFinishedError]) {
  Object.defineProperty(cls.prototype, "name", { value: cls.name, configurable: true });
}

/** One shared instance: a finished response is the common case and needs no stack. */
export const RESPONSE_FINISHED: ResponseFinishedError = Object.freeze(new ResponseFinishedError());

/**
 * The cause every disconnected request's context ends with: one instance without stack frames,
 * which would only show the socket listener that noticed, so that a logged or inspected error
 * stays a couple of lines.
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
