import {
  type ServerErrorResponse,
  type StatusObject,
  type sendUnaryData,
  status,
} from "@grpc/grpc-js";
import { run } from "../../core/ambient.js";
import type { Context } from "../../core/context.js";
import { ContextError } from "../../core/errors.js";
import { describeValue } from "../../core/explain.js";
import {
  type CallContextOptions,
  type ServerCall,
  checkCallContextOptions,
  contextFromCall,
} from "./server-context.js";
import { statusOf } from "./status.js";

/**
 * A handler that takes the call's context first and answers by resolving (or returning).
 *
 * @example
 * ```ts
 * const getStock: ContextHandler<ServerUnaryCall<StockRequest, Stock>, Stock> = async (ctx, call) =>
 *   lookUp(ctx, call.request.sku);
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
 * const handler: GrpcHandler<ServerUnaryCall<StockRequest, Stock>, Stock> = withContext(getStock);
 * ```
 */
export type GrpcHandler<Call extends ServerCall, Res> = (
  call: Call,
  callback?: sendUnaryData<Res>,
) => void;

/**
 * Turns a handler that takes a context and returns its answer into a grpc-js handler. The
 * handler runs under {@link contextFromCall}'s context, passed first and bound with `run`
 * (so `current()` finds it too); the context ends when the call's deadline passes, the client
 * cancels, or the handler is done.
 *
 * Unary and client-streaming handlers resolve with the response. Server-streaming and bidi
 * handlers write to `call` and resolve when they are done; the call is then ended. A handler
 * that throws or rejects fails the call: with DEADLINE_EXCEEDED or CANCELLED and the context's
 * explanation when it rejects with a context's error, otherwise with the error as grpc-js
 * reports one (its `code` and `details`, if it has them, so errors of outgoing calls pass on).
 *
 * @example
 * ```ts
 * server.addService(service, {
 *   getStock: withContext(async (ctx, call: ServerUnaryCall<StockRequest, Stock>) => {
 *     const row = await query(ctx, "select ...", [call.request.sku]);
 *     return { sku: call.request.sku, count: row.count };
 *   }),
 * });
 * ```
 */
export function withContext<Call extends ServerCall, Res>(
  handler: ContextHandler<Call, Res>,
  options?: CallContextOptions,
): GrpcHandler<Call, Res> {
  if (typeof handler !== "function") {
    throw new TypeError(`withContext: handler must be a function, got ${describeValue(handler)}`);
  }
  checkCallContextOptions(options, "withContext");
  return (call, callback) => {
    const ctx = contextFromCall(call, options);
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
        ctx.cancel(handlerDone(call));
        if (callback !== undefined) callback(toStatus(err));
        else failStream(call, err);
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

function failStream(call: ServerCall, err: unknown): void {
  // grpc-js turns an 'error' event on a server stream into the call's status (destroy() would
  // close the stream without sending one).
  const writable = call as unknown as WritableCall;
  if (writable.writableEnded === false) writable.emit("error", toStatus(err));
}

/** What the handler failed with, as grpc-js sends it back: context errors become their status. */
function toStatus(err: unknown): ServerErrorResponse | Partial<StatusObject> {
  if (err instanceof ContextError) return statusOf(err);
  if (err instanceof Error) return err;
  return { code: status.UNKNOWN, details: describeValue(err) };
}

function handlerDone(call: ServerCall): Error {
  return new Error(`the handler of gRPC call ${call.getPath()} is done`);
}
