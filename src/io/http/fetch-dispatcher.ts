// How timebound's fetch stops a request on undici without giving it a signal (which costs undici's
// fetch about 15 µs of listener bookkeeping, a tenth of a loopback request): the request goes
// through a view of the dispatcher that tells the request's FetchCall how to abort it, the moment
// undici starts it, and when it ends on the wire. When the context ends, the call aborts the
// request at the connection: undici fails it and destroys the socket, so the server sees the
// connection close. The view also sets the deadline header on each request it sends, with the
// time left at that moment: a redirect hop carries what is left for it, and fetch never has to
// validate and normalise one more header of the caller's.
//
// Per request this allocates one object and no closure: the hot path of a loopback request is
// short enough for either to show.
import { timeLeftValue } from "./deadline-header.js";
import { type DispatchHeaders, putDispatchHeader } from "./dispatch-headers.js";
import type { FetchCall } from "./fetch-call.js";

type Abort = (err?: Error) => void;

interface Controller {
  abort(err: Error): void;
}

/** The handler fetch makes for one request: undici's legacy handler API (undici 6 and 7). */
interface LegacyHandler {
  onConnect(abort: Abort, context?: unknown): unknown;
  onResponseStarted?(): unknown;
  onHeaders(status: number, headers: unknown, resume: () => void, statusText: string): boolean;
  onData(chunk: Buffer): boolean;
  onComplete(trailers: unknown): unknown;
  onError(err: Error): unknown;
  onUpgrade?(status: number, headers: unknown, socket: unknown): unknown;
  onBodySent?(chunk: unknown): unknown;
  onRequestSent?(): unknown;
}

/** undici 7's current handler API, in case its fetch moves to it. */
interface CurrentHandler {
  onRequestStart(controller: Controller, context: unknown): unknown;
  onRequestUpgrade?(
    controller: Controller,
    status: number,
    headers: unknown,
    socket: unknown,
  ): unknown;
  onResponseStart?(controller: Controller, status: number, headers: unknown, text: string): unknown;
  onResponseData?(controller: Controller, chunk: Buffer): unknown;
  onResponseEnd?(controller: Controller, trailers: unknown): unknown;
  onResponseError?(controller: Controller, err: Error): unknown;
}

interface DispatcherLike {
  dispatch(options: { headers?: DispatchHeaders }, handler: object): boolean;
  readonly isMockActive?: boolean;
}

/** @internal A guarded stand-in for `base`, whose requests are tied to `call`. */
export function guardedDispatcher(base: object, call: FetchCall): object {
  return new GuardedDispatcher(base as DispatcherLike, call);
}

/**
 * A stand-in for `base` whose `dispatch` ties each request to `call`. undici's fetch uses
 * nothing else of a dispatcher but `isMockActive` (a MockAgent's). A class rather than a view
 * made with Object.create(base): that would turn the caller's Agent into a prototype, and V8
 * would slow undici's every access to it.
 */
class GuardedDispatcher {
  readonly #base: DispatcherLike;
  readonly #call: FetchCall;

  constructor(base: DispatcherLike, call: FetchCall) {
    this.#base = base;
    this.#call = call;
  }

  get isMockActive(): boolean | undefined {
    return this.#base.isMockActive;
  }

  dispatch(
    options: { headers?: DispatchHeaders },
    handler: LegacyHandler | CurrentHandler,
  ): boolean {
    const call = this.#call;
    const header = call.header;
    if (header !== undefined) {
      const value = timeLeftValue(call.ctx.remaining(), header.marginMs);
      if (value !== undefined) {
        // fetch builds these options afresh for each request it sends: updated in place.
        options.headers = putDispatchHeader(options.headers, header.name, value);
      }
    }
    call.dispatched();
    // Wrapped, not patched: patching fetch's handler would give undici's hot paths a second
    // shape of it, and V8 would deoptimise them.
    return this.#base.dispatch(
      options,
      "onRequestStart" in handler
        ? new GuardedCurrentHandler(handler, call)
        : new GuardedLegacyHandler(handler, call),
    );
  }
}

/**
 * fetch's handler, passed through, with the call told when the request starts on a connection
 * (and how to abort it there) and when it ends on the wire.
 */
class GuardedLegacyHandler implements LegacyHandler {
  #ended = false;
  readonly #inner: LegacyHandler;
  readonly #call: FetchCall;

  constructor(inner: LegacyHandler, call: FetchCall) {
    this.#inner = inner;
    this.#call = call;
  }

  onConnect(abort: Abort, context?: unknown): unknown {
    const started = this.#inner.onConnect(abort, context);
    if (!this.#ended) this.#call.connected(abort);
    return started;
  }

  onResponseStarted(): unknown {
    return this.#inner.onResponseStarted?.();
  }

  onHeaders(status: number, headers: unknown, resume: () => void, statusText: string): boolean {
    return this.#inner.onHeaders(status, headers, resume, statusText);
  }

  onData(chunk: Buffer): boolean {
    return this.#inner.onData(chunk);
  }

  onComplete(trailers: unknown): unknown {
    const done = this.#inner.onComplete(trailers);
    this.#end();
    return done;
  }

  onError(err: Error): unknown {
    const failed = this.#inner.onError(err);
    this.#end();
    return failed;
  }

  onUpgrade(status: number, headers: unknown, socket: unknown): unknown {
    return this.#inner.onUpgrade?.(status, headers, socket);
  }

  onBodySent(chunk: unknown): unknown {
    return this.#inner.onBodySent?.(chunk);
  }

  onRequestSent(): unknown {
    return this.#inner.onRequestSent?.();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#call.ended();
  }
}

/** The same, for undici 7's current handler API. */
class GuardedCurrentHandler implements CurrentHandler {
  #ended = false;
  readonly #inner: CurrentHandler;
  readonly #call: FetchCall;

  constructor(inner: CurrentHandler, call: FetchCall) {
    this.#inner = inner;
    this.#call = call;
  }

  onRequestStart(controller: Controller, context: unknown): unknown {
    const started = this.#inner.onRequestStart(controller, context);
    if (!this.#ended) this.#call.connected(controller);
    return started;
  }

  onRequestUpgrade(
    controller: Controller,
    status: number,
    headers: unknown,
    socket: unknown,
  ): unknown {
    return this.#inner.onRequestUpgrade?.(controller, status, headers, socket);
  }

  onResponseStart(controller: Controller, status: number, headers: unknown, text: string): unknown {
    return this.#inner.onResponseStart?.(controller, status, headers, text);
  }

  onResponseData(controller: Controller, chunk: Buffer): unknown {
    return this.#inner.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Controller, trailers: unknown): unknown {
    const done = this.#inner.onResponseEnd?.(controller, trailers);
    this.#end();
    return done;
  }

  onResponseError(controller: Controller, err: Error): unknown {
    const failed = this.#inner.onResponseError?.(controller, err);
    this.#end();
    return failed;
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#call.ended();
  }
}
