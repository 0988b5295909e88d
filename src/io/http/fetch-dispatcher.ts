// How timebound's fetch stops a request on undici without giving it a signal (which costs undici's
// fetch about 15 µs of listener bookkeeping, a tenth of a loopback request): the request goes
// through a view of the dispatcher that tells the request's FetchCall how to abort it, the moment
// undici starts it. When the context ends, the call aborts the request at the connection: undici
// fails it and destroys the socket, so the server sees the connection close.
//
// Per request this allocates one object and no closure: the hot path of a loopback request is
// short enough for either to show.
import type { FetchCall } from "./fetch-call.js";

type Abort = (err?: Error) => void;

const BASE = Symbol("timebound.http.base");
const CALL = Symbol("timebound.http.call");
const ORIGINAL = Symbol("timebound.http.original");

interface Controller {
  abort(err: Error): void;
}

interface HandlerLike {
  onConnect?: (this: HandlerLike, abort: Abort, context: unknown) => unknown;
  onRequestStart?: (this: HandlerLike, controller: Controller, context: unknown) => unknown;
  [CALL]?: FetchCall;
  [ORIGINAL]?: (this: HandlerLike, first: never, context: unknown) => unknown;
}

interface DispatcherLike {
  dispatch(this: DispatcherLike, options: unknown, handler: HandlerLike): boolean;
  [BASE]: DispatcherLike;
  [CALL]: FetchCall;
}

/**
 * A view of `base` whose `dispatch` ties each request to `call`. Everything else (an Agent's
 * pools, a MockAgent's `isMockActive`) is `base`'s own, reached through the prototype.
 */
export function guardedDispatcher(base: object, call: FetchCall): object {
  const view = Object.create(base) as DispatcherLike;
  view[BASE] = base as DispatcherLike;
  view[CALL] = call;
  view.dispatch = dispatchGuarded;
  return view;
}

function dispatchGuarded(this: DispatcherLike, options: unknown, handler: HandlerLike): boolean {
  // The handler is made by fetch for this one request; it is wrapped in place, one method, so
  // that undici's hot paths keep seeing the handler's own shape.
  handler[CALL] = this[CALL];
  if (typeof handler.onRequestStart === "function") {
    handler[ORIGINAL] = handler.onRequestStart;
    handler.onRequestStart = onRequestStart;
  } else {
    handler[ORIGINAL] = handler.onConnect;
    handler.onConnect = onConnect;
  }
  return this[BASE].dispatch(options, handler);
}

/** undici 6 and 7's legacy handler API: `abort` fails the request and destroys its socket. */
function onConnect(this: HandlerLike, abort: Abort, context: unknown): unknown {
  const started = this[ORIGINAL]?.call(this, abort as never, context);
  this[CALL]!.connected(abort);
  return started;
}

/** undici 7's handler API. */
function onRequestStart(this: HandlerLike, controller: Controller, context: unknown): unknown {
  const started = this[ORIGINAL]?.call(this, controller as never, context);
  this[CALL]!.connected(controller);
  return started;
}
