import {
  background,
  type CancelableContext,
  type Context,
  isContext,
  withTimeout,
} from "../../core/index.js";
import {
  asParent,
  describeValue,
  invalidType,
  outOfRange,
  readOptions,
} from "../../core/internal.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import { timeLeftFromHeaders } from "./deadline-header.js";
import { requestChannel } from "./events.js";
import { headerListOption } from "./header-option.js";
import { tieRequest } from "./request-link.js";

/** Options for {@link contextFrom} and the Express and Fastify adapters. */
export interface RequestContextOptions {
  /** Parent of every request context (a server-wide context ends them all). Default background(). */
  readonly parent?: Context;
  /** Name of the context, in errors and diagnostics. Default: method and path (`"GET /items"`). */
  readonly name?: string;
  /**
   * Request headers that may carry the caller's time left: one name or a list (the earliest
   * deadline they give wins), or `false` to ignore callers' deadlines. Default
   * {@link DEADLINE_HEADERS}: `timebound-timeout` and `grpc-timeout` (gRPC's encoding) and
   * `x-envoy-expected-rq-timeout-ms` (Envoy's, plain milliseconds).
   */
  readonly header?: string | readonly string[] | false;
  /**
   * The most a caller may ask for: a longer header value is cut to this. Default 300,000
   * (5 min); 1 to 86,400,000.
   */
  readonly maxTimeoutMs?: number;
  /**
   * The timeout when the request has no header, or a malformed one (a malformed header is
   * ignored, never trusted). Default 30,000, or `maxTimeoutMs` if that is smaller; 0 to
   * `maxTimeoutMs`, or Infinity for no deadline of its own.
   */
  readonly defaultTimeoutMs?: number;
  /**
   * How long a response may stay unfinished after the context ended by its deadline (or by an
   * ancestor, as on a server shutdown): time for the handler to answer (a 504) or to end a
   * stream its own way. A response not ended by then is destroyed, so the client sees it cut
   * off instead of waiting for it; a streamed body is never ended cleanly for the handler, which
   * would pass a truncated body as complete. A cancel of the request context by its holder
   * (`ctx.cancel()`, `using`) leaves the response alone. Default 1,000; 0 to 60,000, or
   * Infinity to leave unfinished responses to the handler.
   */
  readonly responseGraceMs?: number;
}

/** @internal Options checked once, for adapters that make a context per request. */
export interface ResolvedRequestOptions {
  readonly parent: Context;
  readonly name: string | undefined;
  /** Deadline headers read, earliest wins; empty for none. */
  readonly headers: readonly string[];
  readonly maxTimeoutMs: number;
  readonly defaultTimeoutMs: number;
  readonly responseGraceMs: number;
}

const DEFAULT_MAX_TIMEOUT_MS = 300_000;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_RESPONSE_GRACE_MS = 1_000;
const MAX_TIMEOUT_MS = { min: 1, max: 86_400_000 } as const;
const DEFAULT_TIMEOUT_RANGE_MS = { min: 0, max: Infinity } as const;
const RESPONSE_GRACE_MS = { min: 0, max: 60_000, infinity: true } as const;

/** @internal The options of {@link contextFrom} (and of the adapters, which add their own). */
export const REQUEST_CONTEXT_OPTIONS: readonly (keyof RequestContextOptions)[] = [
  "parent",
  "name",
  "header",
  "maxTimeoutMs",
  "defaultTimeoutMs",
  "responseGraceMs",
];
const MAX_NAME_LENGTH = 100;

/**
 * @internal Checks request-context options; `fn` names the caller in errors. `known` are the
 * option names `fn` takes (its own besides {@link REQUEST_CONTEXT_OPTIONS}); others are refused.
 */
export function resolveRequestOptions(
  options: RequestContextOptions | undefined,
  fn: string,
  known: readonly string[] = REQUEST_CONTEXT_OPTIONS,
): ResolvedRequestOptions {
  const o = readOptions(options, fn, known as readonly (keyof RequestContextOptions)[]);
  const parent = o.raw("parent") ?? background();
  asParent(parent, fn, "options.parent");
  const name = o.string("name", undefined, true);
  const maxTimeoutMs = o.ms("maxTimeoutMs", DEFAULT_MAX_TIMEOUT_MS, MAX_TIMEOUT_MS);
  const defaultTimeoutMs = o.ms(
    "defaultTimeoutMs",
    Math.min(DEFAULT_TIMEOUT_MS, maxTimeoutMs),
    DEFAULT_TIMEOUT_RANGE_MS,
  );
  if (defaultTimeoutMs !== Infinity && defaultTimeoutMs > maxTimeoutMs) {
    throw outOfRange(
      `${fn}: options.defaultTimeoutMs (${defaultTimeoutMs}) must not exceed ` +
        `options.maxTimeoutMs (${maxTimeoutMs})`,
    );
  }
  const responseGraceMs = o.ms("responseGraceMs", DEFAULT_RESPONSE_GRACE_MS, RESPONSE_GRACE_MS);
  return {
    parent,
    name,
    headers: headerListOption(o.raw("header"), fn),
    maxTimeoutMs,
    defaultTimeoutMs,
    responseGraceMs,
  };
}

/**
 * The context of one incoming request on a node:http server. It ends:
 * - with `Canceled`, cause {@link ClientDisconnectedError}, when the response or the connection
 *   closes before the response is finished (the client went away): stop the work. This includes
 *   requests pipelined behind another on the connection, whose responses never get to start;
 * - with `DeadlineExceeded` when the caller's deadline passes: the `timebound-timeout` header
 *   (cut to `maxTimeoutMs`; a malformed one is ignored), else `defaultTimeoutMs`;
 * - with `Canceled`, cause {@link RESPONSE_FINISHED}, once the response has been sent, as Go
 *   ends a request's context when its handler returns, so nothing stays behind per request.
 *
 * When it ends by its deadline (or a parent's end) before the response is finished, the handler
 * has `responseGraceMs` (default 1 s) to answer; then the response is destroyed, so the client
 * is not left hanging by a handler that ignored the context or was streaming.
 *
 * A finished response on a keep-alive connection is not a disconnect. The context listens to the
 * response (one `close` listener, which goes with it) and to its connection through one `close`
 * listener per connection, shared by all of its requests, so a keep-alive connection gains no
 * listener per request; not to the request's own `close`, which fires once its body is read.
 *
 * @example
 * ```ts
 * http.createServer((req, res) => {
 *   const ctx = contextFrom(req, res, { maxTimeoutMs: 10_000 });
 *   run(ctx, () => handle(ctx, req, res)).catch((err: Error) => res.destroy(err));
 * });
 * ```
 */
export function contextFrom(
  req: IncomingMessage,
  res: ServerResponse,
  options?: RequestContextOptions,
): CancelableContext {
  checkRequestPair(req, res, "contextFrom");
  return requestContext(req, res, resolveRequestOptions(options, "contextFrom"));
}

/**
 * {@link contextFrom} with its options checked once, for a server that makes a context per
 * request: the returned function takes `(req, res)` and costs only the context itself. Bad
 * options throw here, as `contextFrom` would on the first request.
 *
 * @example
 * ```ts
 * const contextOf = requestContexts({ maxTimeoutMs: 10_000, defaultTimeoutMs: 2_000 });
 * http.createServer((req, res) => {
 *   const ctx = contextOf(req, res);
 *   run(ctx, () => handle(ctx, req, res)).catch((err: Error) => res.destroy(err));
 * });
 * ```
 */
export function requestContexts(
  options?: RequestContextOptions,
): (req: IncomingMessage, res: ServerResponse) => CancelableContext {
  const resolved = resolveRequestOptions(options, "requestContexts");
  return (req, res) => {
    checkRequestPair(req, res, "requestContexts");
    return requestContext(req, res, resolved);
  };
}

function checkRequestPair(req: IncomingMessage, res: ServerResponse, fn: string): void {
  if (typeof req !== "object" || req === null || typeof req.headers !== "object") {
    throw invalidType(`${fn}: req must be an http.IncomingMessage, got ${describeValue(req)}`);
  }
  if (typeof res !== "object" || res === null || typeof res.once !== "function") {
    throw invalidType(`${fn}: res must be an http.ServerResponse, got ${describeValue(res)}`);
  }
}

/**
 * @internal {@link contextFrom} with options already checked. `request` is the framework's
 * request object (Fastify's), announced to diagnostics for its route pattern; default `req`.
 */
export function requestContext(
  req: IncomingMessage,
  res: ServerResponse,
  o: ResolvedRequestOptions,
  request: object = req,
): CancelableContext {
  const ctx = withTimeout(o.parent, timeoutOf(req, o), { name: o.name ?? nameOf(req) });
  if (requestChannel.hasSubscribers) {
    requestChannel.publish({
      context: ctx,
      request,
      method: req.method ?? "HTTP",
      path: pathOf(req),
    });
  }
  tieRequest(ctx, o.parent, req, res, o.responseGraceMs);
  return ctx;
}

/** The request's timeout: its header, cut to the maximum, or the default. */
function timeoutOf(req: IncomingMessage, o: ResolvedRequestOptions): number {
  if (o.headers.length === 0) return o.defaultTimeoutMs;
  const asked = timeLeftFromHeaders(req.headers, o.headers);
  return asked === undefined ? o.defaultTimeoutMs : Math.min(asked, o.maxTimeoutMs);
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? "";
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}

function nameOf(req: IncomingMessage): string {
  const name = `${req.method ?? "HTTP"} ${pathOf(req)}`;
  return name.length > MAX_NAME_LENGTH ? `${name.slice(0, MAX_NAME_LENGTH - 3)}...` : name;
}

/** What the Express and Fastify adapters put on each request. */
export interface WithContext {
  /** The request's context: see {@link contextFrom}. */
  ctx: CancelableContext;
}

/**
 * The context the Express middleware or Fastify plugin put on this request (`req.ctx`), typed;
 * throws a TypeError naming the fix if there is none.
 *
 * @example
 * ```ts
 * app.get("/items", async (req, res) => res.json(await listItems(contextOf(req))));
 * ```
 */
export function contextOf(req: object): CancelableContext {
  const ctx = (req as Partial<WithContext> | null)?.ctx;
  if (!isContext(ctx) || !("cancel" in ctx)) {
    throw invalidType(
      `contextOf: this request has no context (req.ctx is ${describeValue(ctx)}): install ` +
        "expressContext() or fastifyContext first, or call contextFrom(req, res)",
    );
  }
  return ctx;
}
