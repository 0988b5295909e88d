import type { IncomingMessage, ServerResponse } from "node:http";
import { run } from "../../core/ambient.js";
import type { CancelableContext } from "../../core/context.js";
import { type RequestContextOptions, requestContext, resolveRequestOptions } from "./server.js";

// Typed by shape, not by importing Fastify, so Fastify is no dependency of timebound/http.

/** The part of a Fastify request the plugin uses. */
export interface FastifyRequestLike {
  readonly raw: IncomingMessage;
  /** Set by the plugin (declared optional so that Fastify's own request type fits). */
  ctx?: CancelableContext | null;
}

/** The part of a Fastify reply the plugin uses. */
export interface FastifyReplyLike {
  readonly raw: ServerResponse;
}

type HookDone = (err?: Error) => void;

/** The part of a Fastify instance the plugin uses. */
export interface FastifyLike {
  decorateRequest(property: string, value: null): unknown;
  addHook(
    name: "onRequest" | "preHandler",
    hook: (request: FastifyRequestLike, reply: FastifyReplyLike, done: HookDone) => void,
  ): unknown;
}

/** The plugin's type: a Fastify plugin callback. */
export type FastifyContextPlugin = (
  instance: FastifyLike,
  options: RequestContextOptions,
  done: HookDone,
) => void;

/**
 * Fastify (5) plugin: gives each request its context ({@link contextFrom}: ends when the client
 * disconnects, when the caller's deadline passes, and once the response is sent) as
 * `request.ctx` (read it typed with {@link contextOf}), and binds it for `current()` in the
 * hooks and the handler. It is not encapsulated (like a `fastify-plugin`), so it covers every
 * route of the instance it is registered on. Options are checked once, at registration.
 *
 * The context is made in `onRequest` and bound again in `preHandler`: a body is parsed from
 * stream events, which would otherwise lose the binding before the handler runs.
 *
 * @example
 * ```ts
 * const app = Fastify();
 * await app.register(fastifyContext, { maxTimeoutMs: 10_000 });
 * app.get("/items", (request) => listItems(contextOf(request)));
 * ```
 */
export const fastifyContext: FastifyContextPlugin = Object.assign(
  function timeboundContext(instance: FastifyLike, options: RequestContextOptions, done: HookDone) {
    let resolved;
    try {
      resolved = resolveRequestOptions(options, "fastifyContext");
    } catch (err) {
      done(err as Error);
      return;
    }
    instance.decorateRequest("ctx", null);
    instance.addHook("onRequest", (request, reply, next) => {
      const ctx = requestContext(request.raw, reply.raw, resolved);
      request.ctx = ctx;
      run(ctx, next);
    });
    instance.addHook("preHandler", (request, _reply, next) => {
      const ctx = request.ctx;
      if (ctx === null || ctx === undefined) next();
      else run(ctx, next);
    });
    done();
  },
  // What fastify-plugin sets: no new encapsulation scope, and a readable name.
  { [Symbol.for("skip-override")]: true, [Symbol.for("fastify.display-name")]: "timebound" },
);
