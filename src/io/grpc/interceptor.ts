import {
  type Interceptor,
  InterceptingCall,
  type InterceptorOptions,
  type NextCall,
  type StatusObject,
} from "@grpc/grpc-js";
import { current } from "../../core/ambient.js";
import { afterFunc } from "../../core/after-func.js";
import type { Context } from "../../core/context.js";
import { endedError } from "../../core/watch.js";
import { boundOptions, contextOf } from "./call-options.js";
import { isContextDeadline } from "./deadline.js";
import { statusOf } from "./status.js";

/**
 * A grpc-js client interceptor that binds each call to a context: the one given with
 * {@link callOptions}, or else the ambient one ({@link current}, bound with `run`). The call gets
 * the context's deadline (or an earlier `options.deadline`) and is cancelled as soon as the
 * context ends, with DEADLINE_EXCEEDED or CANCELLED and the context's explanation as the status
 * details; the server sees the cancellation at once. A call made with no context is left alone.
 *
 * grpc-js ignores a client's interceptors for a call that passes interceptors of its own, so
 * install it on the client, or add it to those per-call interceptors.
 *
 * @example
 * ```ts
 * const client = new Greeter(address, credentials, { interceptors: [contextInterceptor] });
 * await run(ctx, () => new Promise((resolve, reject) =>
 *   client.sayHello({ name }, (err, reply) => (err ? reject(err) : resolve(reply))),
 * ));
 * ```
 */
export const contextInterceptor: Interceptor = (
  options: InterceptorOptions,
  nextCall: NextCall,
): InterceptingCall => {
  const ctx = contextOf(options) ?? current();
  if (ctx === undefined) return new InterceptingCall(nextCall(options));
  const { options: bound, sent } = boundOptions(ctx, options);
  const call: InterceptingCall = new InterceptingCall(
    nextCall({ ...bound, method_definition: options.method_definition }),
    {
      start(metadata, _listener, next) {
        const stop = afterFunc(ctx, () => cancelWith(call, ctx));
        next(metadata, {
          onReceiveStatus(status: StatusObject, nextStatus: (status: StatusObject) => void) {
            stop();
            // grpc-js's wall-clock timer ran out a moment before the context's: pass the status
            // on once the context has ended too, so that ctx.err is set when the caller looks.
            if (isContextDeadline(status, ctx, sent)) afterFunc(ctx, () => nextStatus(status));
            else nextStatus(status);
          },
        });
      },
    },
  );
  return call;
};

function cancelWith(call: InterceptingCall, ctx: Context): void {
  const { code, details } = statusOf(endedError(ctx));
  call.cancelWithStatus(code, details);
}
