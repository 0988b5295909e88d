import type { CancelableContext, Context, ContextError } from "../../core/index.js";
import {
  type CancelContext,
  endedError,
  unwatch,
  watchOrEnd,
  Watcher,
} from "../../core/internal.js";
import { announceWork } from "../race.js";

// A response dropped unread would keep its request linked under the caller's context until that
// ends. Like undici's registry for unread bodies, end the request when what can still read the
// body (the response, or its body stream) has been collected. Only for requests whose end on the
// wire is not seen (a fetch stopped through a signal): a guarded dispatcher sees the end itself.
const unread = new FinalizationRegistry<FetchCall>((call) => {
  call.abort(undefined);
  call.release();
});

/** @internal How the time left travels on each request a guarded dispatcher sends. */
export interface TimeLeftHeader {
  /** Lower-case header name. */
  readonly name: string;
  /** Subtracted from the time left before it is sent. */
  readonly marginMs: number;
}

/**
 * One request's link to its context, from the call until the request is over: when the context
 * ends, it aborts the fetch underneath (the connection closes, so the server stops), also while
 * nobody is reading the body. It aborts through undici's own abort function when the request
 * goes through a guarded dispatcher, else through a signal. A request that completes is released
 * without an abort, which would cost undici a cascade of events for nothing.
 *
 * When is the request over? Through a guarded dispatcher, when fetch has returned its response
 * and every request it dispatched (one per redirect hop) has ended on the wire: the body is then
 * all in memory, so reading it needs no race against the context. Through a signal, nothing is
 * seen of the wire: when every body (the response's and its clones') has been read to the end or
 * canceled.
 *
 * @internal
 */
export class FetchCall extends Watcher {
  #controller: AbortController | undefined = undefined;
  /** How to abort the request on its connection, once undici has started it. */
  #request: ((err?: Error) => void) | { abort(err: Error): void } | undefined = undefined;
  /** Set once aborted: a request that connects later is aborted at once. */
  #reason: Error | undefined = undefined;
  /** Bodies still to be read to the end or canceled: the response's, and one per clone. */
  #open = 1;
  /** Requests dispatched through a guarded dispatcher that have not ended on the wire yet. */
  #inFlight = 0;
  /** Set by a guarded dispatcher: the end of the request on the wire is seen. */
  #seesWire = false;
  /** fetch has settled: no redirect hop can follow. */
  #returned = false;
  /** Rejects the caller still waiting for the response. */
  #waiting: ((err: unknown) => void) | undefined = undefined;
  #released = false;

  /** The caller's context: when it is the one that ended, the caller gets its own error. */
  readonly #callerCtx: Context;
  /** The child made for init.signal, canceled on release. */
  readonly #child: CancelableContext | undefined;

  constructor(
    /** The context the request obeys: the caller's, or a child that also ends with init.signal. */
    readonly ctx: Context,
    callerCtx: Context,
    child: CancelableContext | undefined,
    /** The header a guarded dispatcher sets on each request, if any. */
    readonly header: TimeLeftHeader | undefined,
  ) {
    super();
    this.#callerCtx = callerCtx;
    this.#child = child;
    watchOrEnd(ctx, this);
  }

  /** @internal The core's hook (see `Watcher`): the context ended. */
  _ended(owner: CancelContext): void {
    const err = endedError(owner);
    const waiting = this.#waiting;
    this.#waiting = undefined;
    // The caller is released at once, with its own context's error when that is what ended.
    waiting?.(this.#callerCtx.err ?? err);
    // Aborting runs undici's listeners: after cancel() has returned, not inside it.
    queueMicrotask(() => {
      this.abort(err);
      if (waiting !== undefined) this.release();
    });
  }

  /**
   * Waits for `work` (the fetch underneath): resolves with `withBody(response)`, or rejects with the
   * context's error the moment the context ends, whatever the fetch does; a response that
   * arrives after that is dropped. Its own error is passed through {@link fail}.
   */
  start(
    work: Promise<Response>,
    withBody: (res: Response, call: FetchCall) => Response,
  ): Promise<Response> {
    announceWork(work, "fetch", this.ctx);
    return new Promise<Response>((resolve, reject) => {
      this.#waiting = reject;
      work.then(
        (res) => {
          if (this.#waiting === undefined) return; // the context ended first
          this.#waiting = undefined;
          this.#responded();
          resolve(withBody(res, this));
        },
        (e: unknown) => {
          if (this.#waiting === undefined) return;
          this.#waiting = undefined;
          reject(this.fail(e));
        },
      );
    });
  }

  /** The signal that stops the fetch, for fetches that take no guarded dispatcher. */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    if (this.#reason !== undefined) this.#controller.abort(this.#reason);
    return this.#controller.signal;
  }

  /** A guarded dispatcher sent a request (the first, or a redirect hop). */
  dispatched(): void {
    this.#seesWire = true;
    this.#inFlight++;
  }

  /**
   * undici started the request on a connection: `abort` (undici's legacy handler API) or the
   * controller's `abort` (its current one) fails it and closes the socket.
   */
  connected(request: ((err?: Error) => void) | { abort(err: Error): void }): void {
    this.#request = request;
    if (this.#reason !== undefined) this.#abortRequest(this.#reason);
  }

  /** A request sent through a guarded dispatcher ended on the wire (complete, failed, aborted). */
  ended(): void {
    this.#request = undefined;
    if (--this.#inFlight === 0 && this.#returned) this.release();
  }

  /** fetch has returned its response; a guarded request that has all of it in memory is over. */
  #responded(): void {
    this.#returned = true;
    if (this.#seesWire && this.#inFlight === 0) this.release();
  }

  /** The request has ended for good: nothing left on the wire, no read left to race. */
  get over(): boolean {
    return this.#released;
  }

  /**
   * Why a read of a request that is over must fail: a context ended it before all of the body
   * arrived (the caller's own error when it was the caller's context). Undefined: the read goes
   * ahead, and gets the body, or fetch's own error for a request that failed by itself.
   */
  get readError(): Error | undefined {
    return this.#reason === undefined ? undefined : (this.#callerCtx.err ?? this.#reason);
  }

  #abortRequest(reason: Error): void {
    const request = this.#request;
    if (typeof request === "function") request(reason);
    else request?.abort(reason);
  }

  abort(reason: ContextError | undefined): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason ?? new Error("timebound: the response was dropped unread");
    this.#controller?.abort(this.#reason);
    this.#abortRequest(this.#reason);
  }

  /**
   * The request failed with `e`: releases it and returns the error to throw to the caller: the
   * context's error once it ended (the caller's own error object when it was the caller's
   * context), else `e` (a network error).
   */
  fail(e: unknown): unknown {
    const err = this.#callerCtx.err ?? this.ctx.err ?? e; // before release() ends the child too
    this.release();
    return err;
  }

  /**
   * Ends the request's link when `holder` (a response or a body stream) is collected unread;
   * needed only when the request's end on the wire is not seen.
   */
  releaseWith(holder: object): void {
    if (!this.#seesWire && !this.#released) unread.register(holder, this, holder);
  }

  forget(holder: object): void {
    if (!this.#seesWire) unread.unregister(holder);
  }

  /** A clone of the response has a body of its own to be read too. */
  addBody(): void {
    this.#open++;
  }

  /** One body was read to the end or canceled; when all are, the request is over. */
  bodyDone(): void {
    if (--this.#open <= 0) this.release();
  }

  /** The request is over (done, failed, or dropped): unlink it; no abort is needed. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    unwatch(this);
    this.#child?.cancel();
  }
}
