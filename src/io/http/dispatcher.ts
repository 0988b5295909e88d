import { type Context, current } from "../../core/index.js";
import {
  checkContext,
  describeValue,
  invalidType,
  optionsObject,
  readOptions,
} from "../../core/internal.js";
import type { Dispatcher } from "undici";
import { ContextHandler } from "./context-handler.js";
import { timeLeftValue } from "./deadline-header.js";
import { setDispatchHeader } from "./dispatch-headers.js";
import { headerOption } from "./header-option.js";

/** Options for {@link contextInterceptor}. */
export interface ContextInterceptorOptions {
  /**
   * The context every request obeys. Default: the context bound by `run()` where the request is
   * dispatched (`current()`); a request dispatched outside of any passes through untouched.
   */
  readonly context?: Context;
  /** Header carrying the time left, or `false` for none. Default `"timebound-timeout"`. */
  readonly header?: string | false;
  /** Subtracted from the time left before it is sent. Default 10; 0 to 60,000. */
  readonly marginMs?: number;
}

const DEFAULT_MARGIN_MS = 10;
const MARGIN_MS = { min: 0, max: 60_000 } as const;
const INTERCEPTOR_OPTIONS: readonly (keyof ContextInterceptorOptions)[] = [
  "context",
  "header",
  "marginMs",
];
const DISPATCHER_OPTIONS: readonly string[] = ["header", "marginMs"];

/**
 * An undici interceptor (for `dispatcher.compose()`) that puts each request under a context: when
 * the context ends, the request fails with `ctx.err` (the body stream of `request()` is
 * destroyed with it) and its connection is closed, so the server stops too; a request still
 * waiting for a connection fails at once. The request carries the time left in a header. A
 * request whose body has been fully received is done: a later end changes nothing.
 *
 * Without `context`, it reads the ambient context, so one global dispatcher serves every
 * request made inside `run(ctx, ...)`, including those of libraries that call undici directly.
 * Needs undici 7 (its dispatch handler API).
 *
 * @example
 * ```ts
 * import { Agent, request, setGlobalDispatcher } from "undici";
 * setGlobalDispatcher(new Agent().compose(contextInterceptor()));
 * await run(ctx, async () => {
 *   const { body } = await request("http://inventory/items"); // obeys ctx
 *   return body.json();
 * });
 * ```
 */
export function contextInterceptor(
  options?: ContextInterceptorOptions,
): Dispatcher.DispatcherComposeInterceptor {
  const o = readOptions(options, "contextInterceptor", INTERCEPTOR_OPTIONS);
  const fixed = o.raw("context");
  if (fixed !== undefined) checkContext(fixed, "contextInterceptor");
  const header = headerOption(o.raw("header"), "contextInterceptor");
  const marginMs = o.ms("marginMs", DEFAULT_MARGIN_MS, MARGIN_MS);

  return (dispatch) =>
    function dispatchUnderContext(opts, handler) {
      const ctx = fixed ?? current();
      if (ctx === undefined) return dispatch(opts, handler);
      // undici 7's compose hands interceptors its current handler API; undici 6's, the old one.
      if (typeof handler.onRequestStart !== "function") {
        throw new TypeError(
          "contextInterceptor: needs undici 7 or later (its dispatch handler API); " +
            "with undici 6, use timebound/http's fetch(ctx), which works with both",
        );
      }
      const bound = new ContextHandler(ctx, handler);
      if (!bound.start()) return true;
      const value = header === false ? undefined : timeLeftValue(ctx.remaining(), marginMs);
      if (header === false || value === undefined) return dispatch(opts, bound);
      const headers = setDispatchHeader(opts.headers, header, value);
      return dispatch({ ...opts, headers }, bound);
    };
}

/**
 * A dispatcher whose requests obey `ctx` (see {@link contextInterceptor}): `base` (default:
 * undici's global dispatcher) composed with the interceptor. Cheap: make one per context.
 *
 * @example
 * ```ts
 * import { request } from "undici";
 * using ctx = withTimeout(parent, 300);
 * const { body } = await request(url, { dispatcher: contextDispatcher(ctx) });
 * const text = await body.text(); // rejects with ctx.err if the 300 ms pass mid-body
 * ```
 */
export function contextDispatcher(
  ctx: Context,
  base?: Dispatcher,
  options?: Omit<ContextInterceptorOptions, "context">,
): Dispatcher {
  checkContext(ctx, "contextDispatcher");
  const own = optionsObject(options, "contextDispatcher", DISPATCHER_OPTIONS);
  const dispatcher = base ?? globalDispatcher();
  if (typeof (dispatcher as Partial<Dispatcher> | undefined)?.compose !== "function") {
    throw invalidType(
      base === undefined
        ? "contextDispatcher: no base dispatcher given and undici's global dispatcher is not " +
            "set (import undici first, or pass one: contextDispatcher(ctx, new Agent()))"
        : `contextDispatcher: base must be an undici Dispatcher (6 or later), got ${describeValue(base)}`,
    );
  }
  return dispatcher!.compose(contextInterceptor({ ...own, context: ctx }));
}

// Where undici (and Node's bundled fetch) keep the global dispatcher; read here so that this
// module never loads undici itself.
const GLOBAL_DISPATCHER = Symbol.for("undici.globalDispatcher.1");

function globalDispatcher(): Dispatcher | undefined {
  return (globalThis as { [GLOBAL_DISPATCHER]?: Dispatcher })[GLOBAL_DISPATCHER];
}
