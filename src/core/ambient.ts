import { AsyncLocalStorage } from "node:async_hooks";
import { type Context, asParent } from "./context.js";

const storage = new AsyncLocalStorage<Context>();

/**
 * Runs `fn` with `ctx` bound to its async call tree, for frameworks and instrumentation that
 * cannot take a context argument. Passing `ctx` explicitly stays the primary style, as in Go.
 *
 * @example
 * ```ts
 * server.on("request", (req, res) => run(contextFrom(req, res), () => app(req, res)));
 * ```
 */
export function run<R>(ctx: Context, fn: () => R): R {
  asParent(ctx, "run", "ctx");
  return storage.run(ctx, fn);
}

/**
 * The context bound by the nearest enclosing {@link run}, or `undefined` outside of one.
 *
 * @example
 * ```ts
 * const ctx = current() ?? background();
 * ```
 */
export function current(): Context | undefined {
  return storage.getStore();
}
