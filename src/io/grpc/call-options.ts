import type { CallOptions } from "@grpc/grpc-js";
import type { Context } from "../../core/context.js";
import { describeValue } from "../../core/explain.js";
import { checkContext } from "../../sync/check.js";
import { type CallDeadline, callDeadline } from "./deadline.js";

// Where callOptions() leaves the context for contextInterceptor. grpc-js hands interceptors a
// copy of the call options made with Object.assign, which keeps symbol-keyed properties.
const CONTEXT = Symbol("timebound.grpc.context");

/**
 * Call options that carry a context for {@link contextInterceptor}, as made by
 * {@link callOptions}. Pass them where grpc-js takes `CallOptions`.
 *
 * @example
 * ```ts
 * const options: ContextCallOptions = callOptions(ctx, { host: "inventory.internal" });
 * client.getStock({ sku }, options, callback);
 * ```
 */
export interface ContextCallOptions extends CallOptions {
  readonly [CONTEXT]: Context;
}

/**
 * grpc-js call options whose `deadline` is the context's (the earlier of it and
 * `options.deadline`, if given), as wall-clock ms: grpc-js sends it on as the `grpc-timeout`
 * header, so the server knows how long the caller will wait. The context rides along for
 * {@link contextInterceptor}, which also cancels the call when the context is canceled; without
 * that interceptor, these options bound the call by the deadline only. {@link unary} and the
 * stream helpers do both without the interceptor.
 *
 * @example
 * ```ts
 * const client = new Greeter(address, credentials, { interceptors: [contextInterceptor] });
 * client.sayHello({ name }, callOptions(ctx), (err, reply) => { ... });
 * ```
 */
export function callOptions(ctx: Context, options?: CallOptions): ContextCallOptions {
  checkContext(ctx, "callOptions");
  return boundOptions(ctx, checkCallOptions(options, "callOptions")).options;
}

/** Checks that `options` is undefined or an object; names `fn` in the error. */
export function checkCallOptions(options: unknown, fn: string): CallOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `${fn}: options must be grpc-js CallOptions (an object), got ${describeValue(options)}`,
    );
  }
  return options;
}

/** The options with the context's deadline in force, and which deadline that is. */
export function boundOptions(
  ctx: Context,
  options: CallOptions,
): { options: ContextCallOptions; sent: CallDeadline } {
  const sent = callDeadline(ctx, options.deadline);
  const out: ContextCallOptions = { ...options, [CONTEXT]: ctx };
  if (sent.deadline === undefined) delete out.deadline;
  else out.deadline = sent.deadline;
  return { options: out, sent };
}

/** The context {@link callOptions} attached to these options, if any. */
export function contextOf(options: CallOptions): Context | undefined {
  return (options as Partial<ContextCallOptions>)[CONTEXT];
}
