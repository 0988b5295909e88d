/**
 * timebound/grpc: gRPC calls (@grpc/grpc-js) that obey a context.
 *
 * Client side, every call takes the context's deadline (sent as `grpc-timeout`) and is
 * canceled the moment the context ends; the caller gets `ctx.err`. Server side, a handler's
 * context ends on the call's deadline or cancellation, and flows into the calls it makes, so a
 * deadline and a cancel cross every hop.
 *
 * Deadlines propagate through the context rather than grpc-js's `parent` call option: the
 * context also carries any shorter deadline the handler set, ends with timebound's errors, and
 * reaches the handler's other I/O (HTTP, SQL) as well. `parent` can still be passed. An earlier
 * `options.deadline` works as a child context, so it too ends a call with `DeadlineExceeded`.
 * A deadline more than 24 days away is not sent (a grpc-js server misreads `grpc-timeout` past
 * 2^31-1 ms); the context still cancels the call when it ends.
 *
 * A handler wrapped by `withContext` that fails with a context's error answers with the status
 * of what ended the work: DEADLINE_EXCEEDED for a deadline (the caller's or its own), CANCELLED
 * for the caller's cancel, UNAVAILABLE when the server's own context ends (shutdown). The
 * details are a short fixed phrase; the explanation, which names internal contexts and causes,
 * is sent only with `sendExplanation: true`.
 *
 * @example
 * ```ts
 * import type { ServerUnaryCall } from "@grpc/grpc-js";
 * import { unary, withContext } from "timebound/grpc";
 *
 * server.addService(service, {
 *   getQuote: withContext(async (ctx, call: ServerUnaryCall<QuoteRequest, Quote>) => {
 *     const price = await unary(ctx, pricing, "getPrice", { sku: call.request.sku });
 *     return { sku: call.request.sku, price };
 *   }),
 * });
 * ```
 * @module timebound/grpc
 */
export { callOptions, type ContextCallOptions } from "./call-options.js";
export { contextInterceptor } from "./interceptor.js";
export { unary } from "./unary.js";
export { clientStream, type ClientStreamCall } from "./client-stream.js";
export { bidiStream, serverStream, type ResponseStream } from "./stream.js";
export { contextFromCall, type CallContextOptions, type ServerCall } from "./server-context.js";
export {
  withContext,
  type ContextHandler,
  type GrpcHandler,
  type WithContextOptions,
} from "./handler.js";
export type {
  CallbackResponseOf,
  RequestOf,
  StreamRequestOf,
  StreamResponseOf,
} from "./method-types.js";
