import type { CancelContext, CancelableContext, Context } from "../../core/context.js";
import type { ContextError } from "../../core/errors.js";
import { Watcher, endedError, unwatch, watch } from "../../core/watch.js";

// A response dropped unread would keep its request linked under the caller's context until that
// ends. Like undici's registry for unread bodies, end the request when what can still read the
// body (the response, or its body stream) has been collected.
const unread = new FinalizationRegistry<FetchCall>((call) => {
  call.abort(undefined);
  call.release();
});

/**
 * One request's link to its context, from the call until its body is done: when the context
 * ends, it aborts the fetch underneath (the connection closes, so the server stops), also while
 * nobody is reading the body. It aborts through undici's own abort function when the request
 * goes through a guarded dispatcher, else through a signal. A request that completes is released
 * without an abort, which would cost undici a cascade of events for nothing.
 */
export class FetchCall extends Watcher {
  private controller: AbortController | undefined = undefined;
  /** How to abort the request on its connection, once undici has started it. */
  private request: ((err?: Error) => void) | { abort(err: Error): void } | undefined = undefined;
  /** Set once aborted: a request that connects later is aborted at once. */
  private reason: Error | undefined = undefined;
  /** Bodies still to be read to the end or canceled: the response's, and one per clone. */
  private open = 1;
  private released = false;

  constructor(
    /** The context the request obeys: the caller's, or a child that also ends with init.signal. */
    readonly ctx: Context,
    /** The caller's context: when it is the one that ended, the caller gets its own error. */
    private readonly callerCtx: Context,
    /** The child made for init.signal, canceled on release. */
    private readonly child: CancelableContext | undefined,
  ) {
    super();
    watch(ctx, this);
  }

  _ended(owner: CancelContext): void {
    const err = endedError(owner);
    // Aborting runs undici's listeners: after cancel() has returned, not inside it.
    queueMicrotask(() => this.abort(err));
  }

  /** The signal that stops the fetch, for fetches that take no guarded dispatcher. */
  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.reason !== undefined) this.controller.abort(this.reason);
    return this.controller.signal;
  }

  /**
   * undici started the request on a connection: `abort` (undici's legacy handler API) or the
   * controller's `abort` (its current one) fails it and closes the socket.
   */
  connected(request: ((err?: Error) => void) | { abort(err: Error): void }): void {
    this.request = request;
    if (this.reason !== undefined) this.abortRequest(this.reason);
  }

  private abortRequest(reason: Error): void {
    const request = this.request;
    if (typeof request === "function") request(reason);
    else request?.abort(reason);
  }

  abort(reason: ContextError | undefined): void {
    if (this.reason !== undefined) return;
    this.reason = reason ?? new Error("timebound: the response was dropped unread");
    this.controller?.abort(this.reason);
    this.abortRequest(this.reason);
  }

  /**
   * The request failed with `e`: releases it and returns the error to throw to the caller: the
   * context's error once it ended (the caller's own error object when it was the caller's
   * context), else `e` (a network error).
   */
  fail(e: unknown): unknown {
    const err = this.callerCtx.err ?? this.ctx.err ?? e; // before release() ends the child too
    this.release();
    return err;
  }

  /** Ends the request's link when `holder` (a response or a body stream) is collected unread. */
  releaseWith(holder: object): void {
    unread.register(holder, this, holder);
  }

  forget(holder: object): void {
    unread.unregister(holder);
  }

  /** A clone of the response has a body of its own to be read too. */
  addBody(): void {
    this.open++;
  }

  /** One body was read to the end or canceled; when all are, the request is over. */
  bodyDone(): void {
    if (--this.open <= 0) this.release();
  }

  /** The request is over (done, failed, or dropped): unlink it; no abort is needed. */
  release(): void {
    if (this.released) return;
    this.released = true;
    unwatch(this);
    this.child?.cancel();
  }
}
