import { type Context, run } from "../../core/index.js";
import { checkBoolean, checkFunction } from "../../core/internal.js";
import { Duplex } from "node:stream";
import {
  type ServerErrorResponse,
  type StatusObject,
  type sendUnaryData,
  status,
} from "@grpc/grpc-js";
import { handlerStatus } from "./handler-status.js";
import {
  type CallContextOptions,
  type ServerCall,
  checkCallContextOptions,
  contextFromCall,
} from "./server-context.js";

/**
 * A handler that takes the call's context first and answers by resolving (or returning).
 *
 * @example
 * ```ts
 * import type { ServerUnaryCall } from "@grpc/grpc-js";
 * type GetStock = ServerUnaryCall<StockRequest, Stock>;
 * const getStock: ContextHandler<GetStock, Stock> = (ctx, call) => lookUp(ctx, call.request.sku);
 * ```
 */
export type ContextHandler<Call extends ServerCall, Res> = (
  ctx: Context,
  call: Call,
) => Res | Promise<Res>;

/**
 * The handler grpc-js calls: unary and client-streaming ones get a callback, the others none.
 *
 * @example
 * ```ts
 * import type { ServerUnaryCall } from "@grpc/grpc-js";
 * type GetStock = ServerUnaryCall<StockRequest, Stock>;
 * const handler: GrpcHandler<GetStock, Stock> = withContext(getStock);
 * ```
 */
export type GrpcHandler<Call extends ServerCall, Res> = (
  call: Call,
  callback?: sendUnaryData<Res>,
) => void;

/**
 * Options for {@link withContext}: those of {@link contextFromCall}, and what a failed call tells
 * its caller.
 *
 * @example
 * ```ts
 * const serverLife = withCancel(background(), { name: "server" }); // canceled at shutdown
 * const options: WithContextOptions = { parent: serverLife, sendExplanation: false };
 * server.addService(service, { getStock: withContext(getStock, options) });
 * ```
 */
export interface WithContextOptions extends CallContextOptions {
  /**
   * Send the context's full explanation as the status details of a call that ends with a
   * context's error: which context ended, its ancestors, deadlines and cancel cause. Default
   * false: the details are a short fixed description ("deadline exceeded", "canceled", "server
   * shutting down", "deadline exceeded in the server", "canceled in the server"), because
   * explanations name internal services, hosts and causes ("SIGTERM from orchestrator; draining
   * pod ...") that a remote client should not see; the handler's error still carries the
   * explanation, for the server's own logs. Turn it on between services that trust each other.
   */
  readonly sendExplanation?: boolean;
}

/**
 * Turns a handler that takes a context and returns its answer into a grpc-js handler. The
 * handler runs under {@link contextFromCall}'s context, passed first and bound with `run`
 * (so `current()` finds it too); the context ends when the call's deadline passes, the client
 * cancels, the `parent` context ends (server shutdown), or the handler is done.
 *
 * Unary and client-streaming handlers resolve with the response. Server-streaming and bidi
 * handlers write to `call` and resolve when they are done; the call is then ended. A handler
 * that throws or rejects fails the call. A context's error (`Canceled`, `DeadlineExceeded`, or
 * the error of a call that {@link contextInterceptor} ended) is sent with the status of what
 * ended the work, and short fixed details unless `options.sendExplanation` is set:
 *
 * | what ended the work                                    | status            |
 * | ------------------------------------------------------ | ----------------- |
 * | the caller's deadline                                  | DEADLINE_EXCEEDED |
 * | the caller's cancel (or it went away)                  | CANCELLED         |
 * | the `parent` context (server shutdown)                 | UNAVAILABLE       |
 * | a deadline the handler set itself (a child context)    | DEADLINE_EXCEEDED |
 * | a cancel inside the server that the call did not cause | UNKNOWN           |
 *
 * Other errors go as grpc-js sends them (their `code` and `details`, if they have them, so errors
 * of outgoing calls pass on).
 *
 * @example
 * ```ts
 * import type { ServerUnaryCall } from "@grpc/grpc-js";
 * server.addService(service, {
 *   getStock: withContext(async (ctx, call: ServerUnaryCall<StockRequest, Stock>) => {
 *     const sku = call.request.sku;
 *     const { rows } = await query(ctx, pool, "SELECT count FROM stock WHERE sku = $1", [sku]);
 *     return { sku, count: Number(rows[0]?.count ?? 0) };
 *   }),
 * });
 * ```
 */
export function withContext<Call extends ServerCall, Res>(
  handler: ContextHandler<Call, Res>,
  options?: WithContextOptions,
): GrpcHandler<Call, Res> {
  checkFunction(handler, "withContext", "handler");
  const o = checkCallContextOptions(options, "withContext", ["sendExplanation"]);
  const sendExplanation = o.sendExplanation ?? false;
  checkBoolean(sendExplanation, "withContext", "options.sendExplanation");
  // Only contextFromCall's own keys, checked once here rather than refused on every call.
  const callOptions: CallContextOptions = { parent: o.parent, name: o.name };
  return (call, callback) => {
    const ctx = contextFromCall(call, callOptions);
    readWithoutDestroying(call);
    let answer: Promise<Res>;
    try {
      answer = Promise.resolve(run(ctx, () => handler(ctx, call)));
    } catch (err) {
      answer = Promise.reject(err);
    }
    void answer.then(
      (value) => {
        ctx.cancel(handlerDone(call));
        if (callback !== undefined) respond(call, callback, value);
        else endStream(call);
      },
      (err: unknown) => {
        // Read what ended the work before the handler's own end cancels the context.
        const failure = handlerStatus(err, ctx, sendExplanation);
        ctx.cancel(handlerDone(call));
        if (callback !== undefined) callback(failure);
        else failStream(call, failure);
      },
    );
  };
}

function respond<Res>(call: ServerCall, callback: sendUnaryData<Res>, value: Res): void {
  if (value === undefined) {
    callback({
      code: status.INTERNAL,
      details:
        `withContext: the handler of ${call.getPath()} resolved with undefined; a unary or ` +
        "client-streaming handler must resolve with the response",
    });
    return;
  }
  callback(null, value);
}

/**
 * `for await (const m of call)` on a bidi call destroys the call when the loop ends (Node's
 * default for a stream's iterator), and a destroyed grpc-js call never sends its status: the
 * client hangs until its deadline (grpc/grpc-node#1839). Reading the requests is not the end of
 * the call, so iterate without destroying; the call ends when the handler is done.
 */
function readWithoutDestroying(call: ServerCall): void {
  if (!(call instanceof Duplex)) return;
  Object.defineProperty(call, Symbol.asyncIterator, {
    value: () => call.iterator({ destroyOnReturn: false }),
    configurable: true,
    writable: true,
  });
}

/** A writable server call (server-streaming or bidi), as far as ending it goes. */
interface WritableCall {
  readonly writableEnded?: boolean;
  end(): void;
  emit(event: "error", err: unknown): boolean;
}

function endStream(call: ServerCall): void {
  const writable = call as unknown as WritableCall;
  if (writable.writableEnded === false) writable.end();
}

function failStream(call: ServerCall, failure: ServerErrorResponse | Partial<StatusObject>): void {
  // grpc-js turns an 'error' event on a server stream into the call's status (destroy() would
  // close the stream without sending one).
  const writable = call as unknown as WritableCall;
  if (writable.writableEnded === false) writable.emit("error", failure);
}

function handlerDone(call: ServerCall): Error {
  return new Error(`the handler of gRPC call ${call.getPath()} is done`);
}
