import type { CancelableContext } from "../../core/index.js";
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import {
  CANCELED_TEXT,
  DEADLINE_EXCEEDED_TEXT,
  type ErrorResponseOptions,
  contextFailure,
  explainOption,
} from "./error-response.js";

// Typed by shape, not by importing Fastify, so Fastify is no dependency of timebound/http.

/** The part of a Fastify request the plugin and the error handler use. */
export interface FastifyRequestLike {
  /** Node's request underneath. */
  readonly raw: IncomingMessage;
  /** Set by the plugin (declared optional so that Fastify's own request type fits). */
  ctx?: CancelableContext | null;
}

/** A pino-style log method: bound fields, then the message. @inline */
type LogFn = (obj: object, msg: string) => void;

/** The part of a Fastify reply the plugin and the error handler use. */
export interface FastifyReplyLike {
  /** Node's response underneath. */
  readonly raw: ServerResponse;
  /** The request's logger, where the error handler logs context errors. */
  readonly log: {
    /** For a deadline that passed, or a response cut off. */
    readonly warn: LogFn;
    /** For a request canceled by the server (a shutdown). */
    readonly info: LogFn;
    /** For a client that disconnected. */
    readonly debug: LogFn;
  };
  /** Sets the status code. */
  code(statusCode: number): FastifyReplyLike;
  /** Sends the response, with `payload` as its body. */
  send(payload?: unknown): FastifyReplyLike;
}

/** A Fastify error handler, for `setErrorHandler`. */
export type FastifyErrorHandler = (
  error: unknown,
  request: FastifyRequestLike,
  reply: FastifyReplyLike,
) => FastifyReplyLike | undefined;

/**
 * Fastify error handler for the errors a request context ends with; {@link fastifyContext}
 * installs it unless told not to (`errorHandler: false`). `DeadlineExceeded` gets a 504 and
 * `{ statusCode, code, error, message: "deadline exceeded" }`, logged at `warn` with its
 * explanation; `Canceled` because the client left gets nothing (the response is closed quietly,
 * logged at `debug` only); another `Canceled` (a server shutdown) gets a 503 "request canceled",
 * logged at `info`. A response whose body had started is destroyed. Explanations are logged,
 * not sent (see `explain`). Any other error is thrown on, to the next error handler (Fastify's
 * own, by default), untouched.
 *
 * Call it from your own error handler to keep this behaviour for context errors:
 *
 * @example
 * ```ts
 * const contextErrors = fastifyErrorHandler();
 * app.setErrorHandler((err, request, reply) => {
 *   if (err instanceof ContextError) return contextErrors(err, request, reply);
 *   return reply.code(500).send({ message: "internal error" });
 * });
 * ```
 */
export function fastifyErrorHandler(options?: ErrorResponseOptions): FastifyErrorHandler {
  return contextErrorHandler(explainOption(options, "fastifyErrorHandler"));
}

/** @internal {@link fastifyErrorHandler} with its option checked. */
export function contextErrorHandler(explain: boolean): FastifyErrorHandler {
  return function timeboundErrors(error, request, reply) {
    const res = reply.raw;
    const failure = contextFailure(error, request.ctx, request.raw, res, explain);
    if (failure === undefined) throw error; // Fastify hands it to the next error handler
    switch (failure.kind) {
      case "sent":
        return undefined;
      case "gone":
        reply.log.debug({ err: failure.error }, "client disconnected");
        res.destroy();
        return undefined;
      case "cut":
        reply.log.warn({ err: failure.error }, "response cut off: its request context ended");
        res.destroy();
        return undefined;
      case "answer": {
        const { status, error: err, body } = failure;
        if (status === 504) reply.log.warn({ err }, DEADLINE_EXCEEDED_TEXT);
        else reply.log.info({ err }, CANCELED_TEXT);
        return reply.code(status).send({
          statusCode: status,
          code: (err as { code?: unknown }).code,
          error: STATUS_CODES[status],
          message: body,
        });
      }
    }
  };
}
