import { afterFunc, type Context, current } from "../../core/index.js";
import { endedError } from "../../core/internal.js";
import {
  type Interceptor,
  InterceptingCall,
  type InterceptorOptions,
  type NextCall,
  type StatusObject,
} from "@grpc/grpc-js";
import { bindCall } from "./bound-call.js";
import { contextOf } from "./call-options.js";
import { isContextDeadline } from "./deadline.js";
import { localStatus, withContextError } from "./status.js";

/**
 * A grpc-js client interceptor that binds each call to a context: the one given with
 * {@link callOptions}, or else the ambient one ({@link current}, bound with `run`). The call gets
 * the context's deadline (or an earlier `options.deadline`) and is canceled as soon as the
 * context ends; the server sees the cancellation at once. The caller's error then has the code
 * DEADLINE_EXCEEDED or CANCELLED, the context's explanation as its details (they stay in this
 * process: a cancel sends no details), and the context's error (`DeadlineExceeded` or
 * `Canceled`) as its `cause`. An earlier `options.deadline` works as a child context named
 * after it, so its DEADLINE_EXCEEDED carries a `DeadlineExceeded` too. A call made with no
 * context is left alone.
 *
 * grpc-js ignores a client's interceptors for a call that passes interceptors of its own, so
 * install it on the client, or add it to those per-call interceptors.
 *
 * @example
 * ```ts
 * const client = new Greeter(address, credentials, { interceptors: [contextInterceptor] });
 * await run(ctx, () => new Promise((resolve, reject) =>
 *   client.sayHello({ name: "world" }, (err, reply) => (err ? reject(err) : resolve(reply))),
 * ));
 * // err.cause instanceof DeadlineExceeded when ctx's deadline ended the call
 * ```
 */
export const contextInterceptor: Interceptor = (
  options: InterceptorOptions,
  nextCall: NextCall,
): InterceptingCall => {
  const ctx = contextOf(options) ?? current();
  if (ctx === undefined) return new InterceptingCall(nextCall(options));
  const bound = bindCall(ctx, options, `grpc call ${options.method_definition.path}`);
  const callCtx = bound.ctx;
  const call: InterceptingCall = new InterceptingCall(
    nextCall({ ...bound.options, method_definition: options.method_definition }),
    {
      start(metadata, _listener, next) {
        const stop = afterFunc(callCtx, () => cancelWith(call, callCtx));
        next(metadata, {
          onReceiveStatus(status: StatusObject, nextStatus: (status: StatusObject) => void) {
            stop();
            const pass = (): void => {
              const out = withContextError(status, callCtx);
              bound.release?.(); // after reading callCtx: ending the child first would say Canceled
              nextStatus(out);
            };
            // grpc-js's wall-clock timer ran out a moment before the context's: pass the status
            // on once the context has ended too, so that ctx.err is set when the caller looks.
            if (isContextDeadline(status, callCtx)) afterFunc(callCtx, pass);
            else pass();
          },
        });
      },
    },
  );
  return call;
};

function cancelWith(call: InterceptingCall, ctx: Context): void {
  const { code, details } = localStatus(endedError(ctx));
  call.cancelWithStatus(code, details);
}
