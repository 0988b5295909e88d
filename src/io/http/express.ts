import { run } from "../../core/index.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type RequestContextOptions,
  type WithContext,
  requestContext,
  resolveRequestOptions,
} from "./server.js";

/** An Express (4 or 5) middleware, typed without Express so it is no dependency. */
export type ContextMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void;

/**
 * Express middleware: gives each request its context ({@link contextFrom}: ends when the client
 * disconnects, when the caller's deadline passes, and once the response is sent), as `req.ctx`
 * (read it typed with {@link contextOf}), and binds it for `current()` in the handlers after it.
 * Options are checked once, here.
 *
 * Middleware that calls `next()` from a stream event (some body parsers) may lose the binding
 * for those after it; `req.ctx` always works.
 *
 * Install {@link expressErrorHandler} after the routes: Express's own handler answers a
 * context's error with a 500 (and, outside production, its stack, which carries the full
 * explanation) and logs every client that left.
 *
 * @example
 * ```ts
 * const app = express();
 * app.use(expressContext({ maxTimeoutMs: 10_000 }));
 * app.get("/items", async (req, res) => res.json(await listItems(contextOf(req))));
 * app.use(expressErrorHandler()); // 504 "deadline exceeded"; a client that left: a quiet close
 * ```
 */
export function expressContext(options?: RequestContextOptions): ContextMiddleware {
  const resolved = resolveRequestOptions(options, "expressContext");
  return function timeboundContext(req, res, next) {
    const ctx = requestContext(req, res, resolved);
    (req as IncomingMessage & WithContext).ctx = ctx;
    run(ctx, next);
  };
}
