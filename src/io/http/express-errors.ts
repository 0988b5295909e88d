import type { ContextError } from "../../core/index.js";
import { describeValue, invalidType } from "../../core/internal.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  ERROR_RESPONSE_OPTIONS,
  type ErrorResponseOptions,
  contextFailure,
  explainOption,
} from "./error-response.js";

/** An Express error middleware (four arguments), typed without Express. */
export type ContextErrorMiddleware = (
  err: unknown,
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void;

/** Options for {@link expressErrorHandler}. */
export interface ExpressErrorOptions extends ErrorResponseOptions {
  /**
   * Where a deadline or a cancel is logged, with its full explanation (a client that left is
   * not logged: it is no error of the server's). Default: `console.error(err.stack)`, as
   * Express's own handler logs; `false` for nowhere.
   */
  readonly log?: ((err: ContextError, req: IncomingMessage) => void) | false;
}

const EXPRESS_ERROR_OPTIONS: readonly string[] = [...ERROR_RESPONSE_OPTIONS, "log"];

function logToConsole(err: ContextError): void {
  console.error(err.stack ?? String(err));
}

/**
 * Express error middleware for the errors a request context ends with; install it after the
 * routes. `DeadlineExceeded` gets a 504 with the body "deadline exceeded"; `Canceled` because
 * the client left (cause `ClientDisconnectedError`) gets nothing: the response is closed
 * quietly, no body to a gone client and no log line; another `Canceled` (a server shutdown) gets
 * a 503 "request canceled". A response whose body had started is destroyed, as it can no longer
 * carry a status. Explanations are logged, not sent (see `explain`). Any other error goes to
 * `next(err)`, untouched.
 *
 * @example
 * ```ts
 * app.use(expressContext());
 * app.get("/items", async (req, res) => res.json(await listItems(contextOf(req))));
 * app.use(expressErrorHandler());
 * ```
 */
export function expressErrorHandler(options?: ExpressErrorOptions): ContextErrorMiddleware {
  const explain = explainOption(options, "expressErrorHandler", "options", EXPRESS_ERROR_OPTIONS);
  const log = options?.log ?? logToConsole;
  if (log !== false && typeof log !== "function") {
    throw invalidType(
      `expressErrorHandler: options.log must be a function or false, got ${describeValue(log)}`,
    );
  }
  return function timeboundErrors(err, req, res, next) {
    const ctx = (req as { ctx?: unknown }).ctx;
    const failure = contextFailure(err, ctx, req, res, explain);
    if (failure === undefined) {
      next(err);
      return;
    }
    switch (failure.kind) {
      case "sent":
        return;
      case "gone":
        res.destroy();
        return;
      case "cut":
        if (log !== false) log(failure.error, req);
        res.destroy();
        return;
      case "answer":
        if (log !== false) log(failure.error, req);
        res.statusCode = failure.status;
        res.setHeader("content-type", "text/plain; charset=utf-8");
        res.setHeader("content-length", Buffer.byteLength(failure.body));
        res.end(failure.body);
    }
  };
}
