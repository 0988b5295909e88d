import * as diagnosticsChannel from "node:diagnostics_channel";
import type { CancelableContext } from "../../core/index.js";

/**
 * @internal The channel on which the server adapters announce each request context they make
 * (`timebound:http:request`, {@link RequestContextMessage}), so that diagnostics can label what
 * runs under it with its route. As in the core, the message is built only while someone listens.
 */
export const requestChannel = diagnosticsChannel.channel("timebound:http:request");

/**
 * @internal Published on {@link requestChannel} when a request's context is made, before any
 * handler runs.
 */
export interface RequestContextMessage {
  /** The request's context. */
  readonly context: CancelableContext;
  /**
   * The request as the framework gives it (Fastify's request, Express's or node:http's
   * `IncomingMessage`), from which a listener may read the route pattern once routing has set
   * it (Express: `req.route.path`; Fastify: `request.routeOptions.url`). Hold it weakly.
   */
  readonly request: object;
  /** The request's method and path without the query. */
  readonly method: string;
  readonly path: string;
}
