import {
  afterFunc,
  background,
  type CancelableContext,
  type Context,
  withCancel,
  withTimeout,
} from "../../core/index.js";
import {
  asParent,
  describeValue,
  expire,
  formatMs,
  invalidType,
  readOptions,
} from "../../core/internal.js";
import type { Deadline } from "@grpc/grpc-js";
import { wallClockMs } from "./deadline.js";

/**
 * A client whose deadline passes cancels its call (RST_STREAM), and that reaches the server
 * before the server's own copy of the deadline expires: the server counts from when the request
 * arrived (later by the time in transit) and rounds the `grpc-timeout` up. A cancellation this
 * close to the server's deadline is the client's deadline, and ends the context as
 * DeadlineExceeded; the wire does not say why a call was canceled.
 *
 * @internal
 */
export const DEADLINE_LEAD_MS = 20;

/**
 * What timebound needs of a grpc-js server call; the call of every kind of handler
 * (`ServerUnaryCall`, `ServerReadableStream`, `ServerWritableStream`, `ServerDuplexStream`) has it.
 *
 * @example
 * ```ts
 * function logDeadline(call: ServerCall) {
 *   console.log(call.getPath(), call.getDeadline());
 * }
 * ```
 */
export interface ServerCall {
  /** Whether the call has already ended (canceled, gone, or finished). */
  readonly cancelled: boolean;
  /** The call's deadline, from the client's `grpc-timeout`: `Infinity` without one. */
  getDeadline(): Deadline;
  /** The method's path, `/package.Service/Method`: the context's default name. */
  getPath(): string;
  /** Listens for the call's end, which grpc-js reports as "cancelled" whatever ended it. */
  on(event: "cancelled", listener: () => void): unknown;
  /** Stops listening, once the call's context has ended. */
  removeListener(event: "cancelled", listener: () => void): unknown;
}

/**
 * Options for {@link contextFromCall} and {@link withContext}.
 *
 * @example
 * ```ts
 * const serverLife = withCancel(background(), { name: "server" }); // canceled at shutdown
 * server.addService(service, { getStock: withContext(getStock, { parent: serverLife }) });
 * ```
 */
export interface CallContextOptions {
  /** The context the call's context derives from (server shutdown, say). Default `background()`. */
  readonly parent?: Context;
  /** Its name in errors and diagnostics. Default `grpc <method path>`. */
  readonly name?: string;
}

/**
 * The context of an incoming gRPC call, for its handler: it ends with `DeadlineExceeded` when the
 * call's deadline (the client's `grpc-timeout`) passes, and with `Canceled` when the call is
 * canceled: the client canceled or went away, or the call ended (grpc-js reports every end of
 * a call as 'cancelled'). Pass it down to everything the handler starts, outgoing calls
 * included, so that the caller's deadline and cancellation reach them. It cleans up after itself
 * when the call ends; `cancel()` it (or `using`) to end it sooner.
 *
 * @example
 * ```ts
 * import type { ServerUnaryCall, sendUnaryData } from "@grpc/grpc-js";
 * server.addService(service, {
 *   getStock(call: ServerUnaryCall<StockRequest, Stock>, callback: sendUnaryData<Stock>) {
 *     using ctx = contextFromCall(call);
 *     lookUp(ctx, call.request.sku).then((stock) => callback(null, stock), callback);
 *   },
 * });
 * ```
 */
export function contextFromCall(
  call: ServerCall,
  options: CallContextOptions = {},
): CancelableContext {
  checkCall(call, "contextFromCall");
  const { parent = background(), name } = checkCallContextOptions(options, "contextFromCall");
  const path = call.getPath();
  const named = { name: name ?? `grpc ${path}` };
  const deadline = wallClockMs(call.getDeadline());
  const hasDeadline = Number.isFinite(deadline);
  // grpc-js keeps the deadline in wall-clock ms; the context counts monotonic time from now.
  const ctx = hasDeadline
    ? withTimeout(parent, deadline - Date.now(), named)
    : withCancel(parent, named);
  if (call.cancelled) {
    ctx.cancel(callEnded(path));
    return ctx;
  }
  const onCanceled = (): void => {
    if (ctx.err !== undefined) return;
    const left = ctx.remaining();
    // The client saw the same deadline first: end as the deadline does, a moment early.
    if (hasDeadline && left <= DEADLINE_LEAD_MS) {
      expire(ctx, "deadline-exceeded", clientDeadline(path, left));
    } else ctx.cancel(callEnded(path));
  };
  call.on("cancelled", onCanceled);
  afterFunc(ctx, () => call.removeListener("cancelled", onCanceled));
  return ctx;
}

/**
 * Throws a TypeError naming `fn` unless `call` looks like a grpc-js server call.
 *
 * @internal
 */
export function checkCall(call: unknown, fn: string): asserts call is ServerCall {
  const c = call as Partial<ServerCall> | null;
  if (
    typeof c !== "object" ||
    c === null ||
    typeof c.getDeadline !== "function" ||
    typeof c.getPath !== "function" ||
    typeof c.on !== "function" ||
    typeof c.removeListener !== "function"
  ) {
    throw invalidType(
      `${fn}: call must be the call object grpc-js gives a server handler, got ${describeValue(call)}`,
    );
  }
}

/** The option names of {@link CallContextOptions}. */
const CALL_CONTEXT_KEYS = ["parent", "name"] as const;

/**
 * Checks {@link CallContextOptions}, naming `fn` and the bad option in any error; a key that is
 * neither one of them nor in `extraKeys` (the caller's own) is refused.
 *
 * @internal
 */
export function checkCallContextOptions<T extends CallContextOptions>(
  options: T | undefined,
  fn: string,
  extraKeys: readonly (keyof T & string)[] = [],
): Partial<T> {
  const known = [...CALL_CONTEXT_KEYS, ...extraKeys] as (keyof CallContextOptions)[];
  const o = readOptions<CallContextOptions>(options, fn, known);
  const parent = o.raw("parent");
  if (parent !== undefined) asParent(parent, fn, "options.parent");
  o.string("name", undefined, true);
  return o.given as Partial<T>;
}

function clientDeadline(path: string, left: number): Error {
  return new Error(
    `gRPC call ${path}: the client's deadline passed; its cancellation arrived ${formatMs(left)} ` +
      "before this server's copy of the deadline",
  );
}

function callEnded(path: string): Error {
  return new Error(
    `gRPC call ${path} ended: the client canceled it or went away, or its status was sent`,
  );
}
