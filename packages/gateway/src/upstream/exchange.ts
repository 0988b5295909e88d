// One request to one upstream target, driven through undici's dispatch API: the response head
// is handed to the route's policies first (a 503 may be retried, a slow head times the attempt
// out), and only the answer they keep is streamed to the client, with backpressure both ways.
import type { ServerResponse } from "node:http";
import type { Dispatcher } from "undici";
import { clientResponseHeaders } from "../proxy/headers.js";

type Controller = Dispatcher.DispatchController;

/** The upstream's answer head, held (paused) until the gateway decides what to do with it. */
export class UpstreamExchange implements Dispatcher.DispatchHandler {
  /** Status of the answer; 0 until the head arrived. */
  status = 0;
  /** Headers of the answer (undici's lower-case record). */
  headers: Record<string, string | string[] | undefined> = {};
  #controller: Controller | undefined;
  #pendingAbort: Error | undefined;
  #head: { resolve(x: UpstreamExchange): void; reject(err: unknown): void } | undefined;
  readonly head: Promise<UpstreamExchange>;
  #client: ServerResponse | undefined;
  #held: Buffer[] | undefined = [];
  #ended = false;
  #failed: Error | undefined;
  #onDone: ((err: Error | undefined) => void) | undefined;
  #onSettled: (() => void) | undefined;

  /** `onSettled` runs once, when the exchange is over (answered, failed or aborted). */
  constructor(onSettled?: () => void) {
    this.#onSettled = onSettled;
    this.head = new Promise((resolve, reject) => {
      this.#head = { resolve, reject };
    });
  }

  /** Stops the exchange (before or after its head): the upstream connection is closed. */
  abort(reason: Error): void {
    if (this.#controller === undefined) this.#pendingAbort = reason;
    else if (!this.#controller.aborted) this.#controller.abort(reason);
  }

  onRequestStart(controller: Controller): void {
    this.#controller = controller;
    if (this.#pendingAbort !== undefined) controller.abort(this.#pendingAbort);
  }

  onResponseStart(
    controller: Controller,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.status = statusCode;
    this.headers = headers;
    // Held until the policies keep this answer (and a client to write to exists).
    controller.pause();
    const head = this.#head!;
    this.#head = undefined;
    head.resolve(this);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    const client = this.#client;
    if (client === undefined) {
      this.#held!.push(chunk);
      return;
    }
    if (!client.write(chunk)) {
      controller.pause();
      client.once("drain", () => controller.resume());
    }
  }

  #settle(): void {
    const settled = this.#onSettled;
    this.#onSettled = undefined;
    settled?.();
  }

  onResponseEnd(): void {
    this.#ended = true;
    this.#settle();
    if (this.#client !== undefined) this.#finish(undefined);
  }

  onResponseError(_controller: Controller, error: Error): void {
    this.#settle();
    if (this.#head !== undefined) {
      const head = this.#head;
      this.#head = undefined;
      head.reject(error);
      return;
    }
    this.#failed = error;
    if (this.#client !== undefined) this.#finish(error);
  }

  /**
   * Streams this answer to the client: head, held chunks, then the rest as it comes.
   * `onDone` learns how it ended (an error: the body was cut, the client response destroyed).
   */
  pipeTo(
    client: ServerResponse,
    extraHeaders: Record<string, string>,
    onDone: (err: Error | undefined) => void,
  ): void {
    this.#client = client;
    this.#onDone = onDone;
    const headers = clientResponseHeaders(this.headers);
    for (const name in extraHeaders) headers[name] = extraHeaders[name];
    client.writeHead(this.status, headers);
    const held = this.#held!;
    this.#held = undefined;
    for (const chunk of held) client.write(chunk);
    if (this.#ended || this.#failed !== undefined) {
      this.#finish(this.#failed);
      return;
    }
    this.#controller?.resume();
  }

  #finish(err: Error | undefined): void {
    const client = this.#client!;
    if (err === undefined) client.end();
    else client.destroy(err);
    const done = this.#onDone;
    this.#onDone = undefined;
    done?.(err);
  }
}
