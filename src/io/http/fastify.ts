import { type CancelableContext, run } from "../../core/index.js";
import { describeValue, invalidType } from "../../core/internal.js";
import { type ErrorResponseOptions, explainOption } from "./error-response.js";
import {
  type FastifyErrorHandler,
  type FastifyReplyLike,
  type FastifyRequestLike,
  contextErrorHandler,
} from "./fastify-errors.js";
import {
  REQUEST_CONTEXT_OPTIONS,
  type RequestContextOptions,
  requestContext,
  resolveRequestOptions,
} from "./server.js";

// Typed by shape, so Fastify is no dependency of timebound/http: nothing of it is loaded at run
// time, and its types only for the augmentation below.

// `request.ctx`, typed for Fastify users: this augmentation ships with timebound/http's types.
// The empty type-only import puts Fastify's types in the program that compiles this file (an
// augmentation alone does not load them); it is dropped from the emitted code and declarations,
// so a program without Fastify never looks for it.
import type {} from "fastify";
declare module "fastify" {
  interface FastifyRequest {
    /**
     * The request's context, set by timebound's `fastifyContext` plugin in its `onRequest`
     * hook (null in hooks that run before it). See `contextFrom` for when it ends.
     */
    ctx: CancelableContext;
  }
}

/** Fastify's callback that ends a hook or a plugin's registration, with an error or none. @inline */
type HookDone = (err?: Error) => void;

/** The part of a Fastify instance the plugin uses. */
export interface FastifyLike {
  /** Declares a request property (`ctx`), so that Fastify's requests keep one shape. */
  decorateRequest(property: string, value: null): unknown;
  /** Adds a hook: `onRequest` makes the context, it and `preHandler` bind it for `current()`. */
  addHook(
    name: "onRequest" | "preHandler",
    hook: (request: FastifyRequestLike, reply: FastifyReplyLike, done: HookDone) => void,
  ): unknown;
  /** Sets the instance's error handler ({@link fastifyErrorHandler}, unless told not to). */
  setErrorHandler(handler: FastifyErrorHandler): unknown;
}

/** Options for {@link fastifyContext}. */
export interface FastifyContextOptions extends RequestContextOptions {
  /**
   * Install {@link fastifyErrorHandler} for the instance, so that a context error is answered
   * with a short fixed description (504 "deadline exceeded"; a client that left gets nothing)
   * instead of Fastify's default body, which carries the error's full explanation: `true`
   * (the default), its options (`{ explain: true }` sends explanations), or `false` to leave
   * the error handler alone. Other errors go on to the error handler set before, as without it.
   * An error handler you set afterwards in the same scope runs first, and what it throws comes
   * here; Fastify warns about the override (FSTWRN004, or refuses it with
   * `allowErrorHandlerOverride: false`): to avoid that, pass `false` and call
   * `fastifyErrorHandler()` from your handler.
   */
  readonly errorHandler?: boolean | ErrorResponseOptions;
}

/**
 * The plugin's own options and those Fastify's `register` puts in the same object (its
 * `RegisterOptions`, which reach a plugin that does not encapsulate): any other key is refused.
 */
const FASTIFY_CONTEXT_OPTIONS: readonly string[] = [
  ...REQUEST_CONTEXT_OPTIONS,
  "errorHandler",
  "prefix",
  "logLevel",
  "logSerializers",
];

/** The plugin's type: a Fastify plugin callback. */
export type FastifyContextPlugin = (
  instance: FastifyLike,
  options: FastifyContextOptions,
  done: HookDone,
) => void;

/**
 * Fastify (5) plugin: gives each request its context ({@link contextFrom}: ends when the client
 * disconnects, when the caller's deadline passes, and once the response is sent) as
 * `request.ctx` (typed: timebound/http augments Fastify's `FastifyRequest`; {@link contextOf}
 * works too), and binds it for `current()` in the hooks and the handler. It also installs
 * {@link fastifyErrorHandler}, so that context errors reach the client as a short fixed
 * description (see `errorHandler`). It is not encapsulated (like a `fastify-plugin`), so it
 * covers every route of the instance it is registered on. Options are checked once, at
 * registration.
 *
 * The context is made in `onRequest` and bound again in `preHandler`: a body is parsed from
 * stream events, which would otherwise lose the binding before the handler runs.
 *
 * @example
 * ```ts
 * const app = Fastify();
 * await app.register(fastifyContext, { maxTimeoutMs: 10_000 });
 * app.get("/items", (request) => listItems(request.ctx));
 * ```
 */
export const fastifyContext: FastifyContextPlugin = Object.assign(
  function timeboundContext(instance: FastifyLike, options: FastifyContextOptions, done: HookDone) {
    let resolved;
    let errors: FastifyErrorHandler | undefined;
    try {
      resolved = resolveRequestOptions(options, "fastifyContext", FASTIFY_CONTEXT_OPTIONS);
      errors = errorHandlerOption(options?.errorHandler);
    } catch (err) {
      done(err as Error);
      return;
    }
    instance.decorateRequest("ctx", null);
    instance.addHook("onRequest", (request, reply, next) => {
      const ctx = requestContext(request.raw, reply.raw, resolved, request);
      request.ctx = ctx;
      run(ctx, next);
    });
    instance.addHook("preHandler", (request, _reply, next) => {
      const ctx = request.ctx;
      if (ctx === null || ctx === undefined) next();
      else run(ctx, next);
    });
    if (errors !== undefined) instance.setErrorHandler(errors);
    done();
  },
  // What fastify-plugin sets: no new encapsulation scope, and a readable name.
  { [Symbol.for("skip-override")]: true, [Symbol.for("fastify.display-name")]: "timebound" },
);

function errorHandlerOption(value: unknown): FastifyErrorHandler | undefined {
  if (value === false) return undefined;
  if (value === undefined || value === true) return contextErrorHandler(false);
  if (typeof value !== "object" || value === null) {
    throw invalidType(
      "fastifyContext: options.errorHandler must be a boolean or error handler options, " +
        `got ${describeValue(value)}`,
    );
  }
  return contextErrorHandler(explainOption(value, "fastifyContext", "options.errorHandler"));
}
