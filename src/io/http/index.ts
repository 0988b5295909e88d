/**
 * timebound/http: deadlines and cancellation across HTTP, both ways.
 *
 * Client: {@link fetch} (and {@link createFetch}) whose deadline covers the whole body read and
 * travels to the server in a header; {@link contextInterceptor} / {@link contextDispatcher} for
 * code that uses undici's `request()`/`stream()` directly. Server: {@link contextFrom} for
 * node:http, {@link expressContext} and {@link fastifyContext}: the request's context ends when
 * the client disconnects or its deadline passes; {@link expressErrorHandler} and
 * {@link fastifyErrorHandler} answer the errors it ends with (504, or a quiet close for a client
 * that left) without sending their explanations over the wire.
 *
 * undici is an optional peer dependency: loaded and warmed when this module is imported (so the
 * first `fetch(ctx)` does not spend its deadline loading it), if installed; the dispatcher
 * functions work with your undici's dispatchers. Express and Fastify are not imported at all.
 *
 * @example
 * ```ts
 * import { fetch, contextFrom } from "timebound/http";
 * http.createServer(async (req, res) => {
 *   using ctx = contextFrom(req, res);
 *   const upstream = await fetch(ctx, "http://inventory/items"); // the caller's deadline, passed on
 *   res.end(await upstream.text());
 * });
 * ```
 * @module timebound/http
 */
export {
  createFetch,
  fetch,
  type ContextFetch,
  type FetchFunction,
  type FetchInit,
  type FetchOptions,
} from "./client.js";
export {
  contextDispatcher,
  contextInterceptor,
  type ContextInterceptorOptions,
} from "./dispatcher.js";
export {
  DEADLINE_HEADERS,
  DEFAULT_DEADLINE_HEADER,
  ENVOY_TIMEOUT_HEADER,
  MAX_SENT_DEADLINE_MS,
  encodeTimeout,
  parseTimeout,
  timeLeftFromHeaders,
} from "./deadline-header.js";
export { ClientDisconnectedError, RESPONSE_FINISHED, ResponseFinishedError } from "./errors.js";
export {
  contextFrom,
  contextOf,
  requestContexts,
  type RequestContextOptions,
  type WithContext,
} from "./server.js";
export type { ErrorResponseOptions } from "./error-response.js";
export { expressContext, type ContextMiddleware } from "./express.js";
export {
  expressErrorHandler,
  type ContextErrorMiddleware,
  type ExpressErrorOptions,
} from "./express-errors.js";
export {
  fastifyContext,
  type FastifyContextOptions,
  type FastifyContextPlugin,
  type FastifyLike,
} from "./fastify.js";
export {
  fastifyErrorHandler,
  type FastifyErrorHandler,
  type FastifyReplyLike,
  type FastifyRequestLike,
} from "./fastify-errors.js";
