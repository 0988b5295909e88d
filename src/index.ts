/**
 * timebound: deadlines that actually stop the work.
 *
 * The main entry holds the core (Go-style contexts) and the primitives that obey them. It has
 * no runtime dependencies; adapters for drivers live under their own subpaths.
 *
 * @example
 * ```ts
 * import { background, withTimeout, sleep } from "timebound";
 * using ctx = withTimeout(background(), 500, { name: "checkout" });
 * await sleep(ctx, 100);
 * ```
 * @module timebound
 */
export * from "./core/index.js";
export * from "./sync/index.js";
