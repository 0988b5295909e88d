import type { Context } from "../../core/index.js";
import type { CallOptions, ClientWritableStream, Metadata, ServiceError } from "@grpc/grpc-js";
import { raceContext } from "../race.js";
import type { CallbackResponseOf, StreamRequestOf } from "./method-types.js";
import { outgoingCall } from "./outgoing.js";
import { ignore, ignoreLateErrors, responseCallback } from "./response.js";

/**
 * A client-streaming call bound to a context: write requests to `call`, await `response`.
 *
 * @example
 * ```ts
 * const upload: ClientStreamCall<Chunk, Receipt> = clientStream(ctx, files, "upload");
 * ```
 */
export interface ClientStreamCall<Req, Res> {
  /** The grpc-js call: `write()` the requests, then `end()`. */
  readonly call: ClientWritableStream<Req>;
  /**
   * The server's answer; rejects with `ctx.err` as soon as the context ends (the call is then
   * canceled). It may reject while you are still writing, before anyone awaits it: that is
   * never an unhandled rejection, and awaiting it later still throws the error.
   */
  readonly response: Promise<Res>;
}

/**
 * Starts a client-streaming call under a context: it carries the context's deadline and is
 * canceled the moment the context ends, and `response` then rejects with `ctx.err`. On a
 * context that has already ended, the call is canceled before anything is sent. An earlier
 * `options.deadline` works as for {@link unary}. Bad arguments throw a TypeError at once (there
 * is no call to return).
 *
 * @example
 * ```ts
 * const { call, response } = clientStream(ctx, routeClient, "recordRoute");
 * for (const point of route) call.write(point);
 * call.end();
 * const summary = await response;
 * ```
 */
export function clientStream<C extends object, K extends keyof C & string>(
  ctx: Context,
  client: C,
  method: K,
  metadata?: Metadata,
  options?: CallOptions,
): ClientStreamCall<StreamRequestOf<C[K]>, CallbackResponseOf<C[K]>> {
  const out = outgoingCall("clientStream", "clientStream", ctx, client, method, metadata, options);
  const callCtx = out.ctx;
  type Res = CallbackResponseOf<C[K]>;
  let settle: ((err: ServiceError | null, value?: Res) => void) | undefined;
  const answer = new Promise<Res>((resolve, reject) => {
    settle = responseCallback(callCtx, resolve, reject);
  });
  const call = out.start([], [settle]) as ClientWritableStream<StreamRequestOf<C[K]>>;
  ignoreLateErrors(call);
  if (callCtx.err !== undefined) {
    // raceContext will not start on an ended context: nothing would observe `answer`, so
    // cancel here and keep its CANCELLED from becoming an unhandled rejection.
    void answer.catch(ignore);
    call.cancel();
  }
  const raced = raceContext(
    callCtx,
    () => answer,
    () => call.cancel(),
    "grpc.clientStream",
  );
  const response = out.release === undefined ? raced : raced.finally(out.release);
  // The caller awaits `response` only after writing; a forwarding handler is still inside
  // `for await (m of incoming)` when its context ends. Without a handler attached now, that
  // rejection would be unhandled and take the process down.
  void response.catch(ignore);
  return { call, response };
}
