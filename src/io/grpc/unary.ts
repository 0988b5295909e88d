import type { Context } from "../../core/index.js";
import type { CallOptions, ClientUnaryCall, Metadata } from "@grpc/grpc-js";
import { raceContext } from "../race.js";
import type { CallbackResponseOf, RequestOf } from "./method-types.js";
import { type OutgoingCall, outgoingCall } from "./outgoing.js";
import { responseCallback } from "./response.js";

/**
 * Calls a unary method of a grpc-js client under a context, as a promise. The call carries the
 * context's deadline (the server reads it from `grpc-timeout`) and is canceled the moment the
 * context ends: the promise then rejects at once with `ctx.err` (`DeadlineExceeded` or
 * `Canceled`), never with grpc-js's DEADLINE_EXCEEDED or CANCELLED error, and the server sees
 * the cancellation. An earlier `options.deadline` works as a child context of `ctx`: at it, the
 * promise rejects with `DeadlineExceeded`, naming `options.deadline`. Other failures reject with
 * grpc-js's `ServiceError`, and bad arguments with a TypeError (the promise rejects; the call
 * never throws).
 *
 * `method` is the method's name on `client` (so that it is called with the client as `this`).
 * With a generated, typed client the request and response types are inferred.
 *
 * @example
 * ```ts
 * using ctx = withTimeout(parent, 200, { name: "inventory" });
 * const stock = await unary(ctx, inventoryClient, "getStock", { sku });
 * ```
 */
export function unary<C extends object, K extends keyof C & string>(
  ctx: Context,
  client: C,
  method: K,
  request: RequestOf<C[K]>,
  metadata?: Metadata,
  options?: CallOptions,
): Promise<CallbackResponseOf<C[K]>> {
  let out: OutgoingCall;
  try {
    out = outgoingCall("unary", "unary", ctx, client, method, metadata, options);
  } catch (err) {
    return Promise.reject(err);
  }
  const callCtx = out.ctx;
  let call: ClientUnaryCall | undefined;
  const result = raceContext(
    callCtx,
    () =>
      new Promise<CallbackResponseOf<C[K]>>((resolve, reject) => {
        call = out.start(
          [request],
          [responseCallback(callCtx, resolve, reject)],
        ) as ClientUnaryCall;
      }),
    () => call?.cancel(),
    "grpc.unary",
  );
  // The child for options.deadline ends once the caller has its outcome (not before: ending it
  // first would reject the caller with Canceled).
  return out.release === undefined ? result : result.finally(out.release);
}
