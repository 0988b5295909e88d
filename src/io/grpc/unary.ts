import type { CallOptions, ClientUnaryCall, Metadata } from "@grpc/grpc-js";
import type { Context } from "../../core/context.js";
import { raceContext } from "../race.js";
import type { CallbackResponseOf, RequestOf } from "./method-types.js";
import { outgoingCall } from "./outgoing.js";
import { responseCallback } from "./response.js";

/**
 * Calls a unary method of a grpc-js client under a context, as a promise. The call carries the
 * context's deadline (the server reads it from `grpc-timeout`) and is cancelled the moment the
 * context ends: the promise then rejects at once with `ctx.err` (`DeadlineExceeded` or
 * `Canceled`), never with grpc-js's DEADLINE_EXCEEDED or CANCELLED error, and the server sees
 * the cancellation. Other failures reject with grpc-js's `ServiceError`.
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
  const out = outgoingCall("unary", "unary", ctx, client, method, metadata, options);
  let call: ClientUnaryCall | undefined;
  return raceContext(
    ctx,
    () =>
      new Promise<CallbackResponseOf<C[K]>>((resolve, reject) => {
        const callback = responseCallback(ctx, out.sent, resolve, reject);
        call = out.start([request], [callback]) as ClientUnaryCall;
      }),
    () => call?.cancel(),
  );
}
