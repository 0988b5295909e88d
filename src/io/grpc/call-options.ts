import type { Context } from "../../core/index.js";
import { checkContext, optionsObject } from "../../core/internal.js";
import type { CallOptions } from "@grpc/grpc-js";
import { checkDeadlineOption, sentDeadline } from "./deadline.js";

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
 * client.getStock({ sku }, options, (err, stock) => console.log(err ?? stock));
 * ```
 */
export interface ContextCallOptions extends CallOptions {
  /** @internal the context, for contextInterceptor */
  readonly [CONTEXT]: Context;
}

/**
 * grpc-js call options whose `deadline` is the context's (the earlier of it and
 * `options.deadline`, if given), as wall-clock ms: grpc-js sends it on as the `grpc-timeout`
 * header, so the server knows how long the caller will wait. A deadline more than 24 days away
 * (`MAX_SENT_TIMEOUT_MS`) is left out: a grpc-js server would misread it. The context
 * rides along for {@link contextInterceptor}, which also cancels the call when the context is
 * canceled; without that interceptor, these options bound the call by the deadline only.
 * {@link unary} and the stream helpers do both without the interceptor.
 *
 * @example
 * ```ts
 * const client = new Greeter(address, credentials, { interceptors: [contextInterceptor] });
 * client.sayHello({ name: "world" }, callOptions(ctx), (err, reply) => console.log(err ?? reply));
 * ```
 */
export function callOptions(ctx: Context, options?: CallOptions): ContextCallOptions {
  checkContext(ctx, "callOptions");
  const checked = checkCallOptions(options, "callOptions");
  return withDeadline(ctx, checked, sentDeadline(ctx, checked.deadline));
}

/**
 * Checks that `options` is undefined or an object with a valid deadline; names `fn` in errors.
 *
 * @internal
 */
export function checkCallOptions(options: unknown, fn: string): CallOptions {
  // grpc-js's own options: its keys pass through; only the deadline is ours to read.
  const checked = optionsObject(options as CallOptions | undefined, fn, undefined, GRPC_OPTIONS);
  checkDeadlineOption(checked.deadline, fn);
  return checked;
}

/** How messages name the options argument: they are grpc-js's. */
const GRPC_OPTIONS = "options (grpc-js CallOptions)";

/**
 * The options with `ctx` attached and `deadline` (wall-clock ms, or undefined for none) in place
 * of any the caller gave.
 *
 * @internal
 */
export function withDeadline(
  ctx: Context,
  options: CallOptions,
  deadline: number | undefined,
): ContextCallOptions {
  const out: ContextCallOptions = { ...options, [CONTEXT]: ctx };
  if (deadline === undefined) delete out.deadline;
  else out.deadline = deadline;
  return out;
}

/**
 * The context {@link callOptions} attached to these options, if any.
 *
 * @internal
 */
export function contextOf(options: CallOptions): Context | undefined {
  return (options as Partial<ContextCallOptions>)[CONTEXT];
}
