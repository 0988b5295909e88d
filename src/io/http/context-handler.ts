import type { Context } from "../../core/index.js";
import { type CancelContext, endedError, unwatch, watch, Watcher } from "../../core/internal.js";
import type { Duplex } from "node:stream";
import type { Dispatcher } from "undici";

type Controller = Dispatcher.DispatchController;
type Handler = Dispatcher.DispatchHandler;
type Headers = Parameters<NonNullable<Handler["onResponseStart"]>>[2];

/** Stands in for undici's controller when a request ends before undici has started it. */
class EndedController implements Controller {
  readonly aborted = true;
  readonly paused = false;
  constructor(readonly reason: Error) {}
  abort(): void {}
  pause(): void {}
  resume(): void {}
}

/**
 * Sits between undici and the caller's handler for one request and ends it when `ctx` ends:
 * a started request is aborted through undici's controller (undici then destroys the socket, so
 * the server sees the connection close) and fails with `ctx.err`; a request still waiting for
 * a connection fails with `ctx.err` at once, and is aborted when undici gets to it. Whatever
 * undici reports after that is not passed on: the caller hears exactly one end.
 *
 * @internal
 */
export class ContextHandler extends Watcher implements Handler {
  #controller: Controller | undefined = undefined;
  #error: Error | undefined = undefined;
  /** The caller's handler has been told the request failed. */
  #told = false;
  readonly #handler: Handler;

  constructor(
    readonly ctx: Context,
    handler: Handler,
  ) {
    super();
    this.#handler = handler;
  }

  override get opName(): string {
    return "undici.dispatch";
  }

  /**
   * Starts watching `ctx`. If it has already ended, fails the request at once (nothing is
   * linked) and returns false: the caller must not dispatch it.
   */
  start(): boolean {
    if (watch(this.ctx, this)) return true;
    const err = endedError(this.ctx);
    this.#fail(new EndedController(err), err);
    return false;
  }

  /** @internal The core's hook (see `Watcher`): the context ended. */
  _ended(owner: CancelContext): void {
    this.#error = endedError(owner);
    // Abort from a microtask: undici runs handlers and touches sockets, not inside cancel().
    queueMicrotask(() => this.#stop());
  }

  #stop(): void {
    const err = this.#error!;
    if (this.#told) return;
    if (this.#controller !== undefined) {
      this.#controller.abort(err); // undici calls onResponseError, which tells the caller
    } else {
      this.#fail(new EndedController(err), err);
    }
  }

  /** Tells the caller's handler the request failed, once. */
  #fail(controller: Controller, err: Error): void {
    if (this.#told) return;
    this.#told = true;
    this.#handler.onResponseError?.(controller, err);
  }

  onRequestStart(controller: Controller, context: unknown): void {
    if (this.#error !== undefined) {
      controller.abort(this.#error);
      return;
    }
    this.#controller = controller;
    this.#handler.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(
    controller: Controller,
    statusCode: number,
    headers: Headers,
    socket: Duplex,
  ): void {
    unwatch(this); // the socket is the caller's now
    if (this.#error === undefined) {
      this.#handler.onRequestUpgrade?.(controller, statusCode, headers, socket);
      return;
    }
    socket.destroy();
    this.#fail(controller, this.#error);
  }

  onResponseStart(
    controller: Controller,
    statusCode: number,
    headers: Headers,
    statusMessage?: string,
  ): void {
    if (this.#error === undefined) {
      this.#handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
    }
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.#error === undefined) this.#handler.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Controller, trailers: Headers): void {
    unwatch(this);
    // Ended between the context's end and the abort: the caller dropped data, so it fails.
    if (this.#error !== undefined) this.#fail(controller, this.#error);
    else this.#handler.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Controller, err: Error): void {
    unwatch(this);
    this.#fail(controller, this.#error ?? err);
  }
}
