// One request to one upstream target, driven through undici's dispatch API: the response head
// is handed to the route's policies first (a 503 may be retried, a slow head times the attempt
// out), and only the answer they keep is streamed to the client, with backpressure both ways,
// or read whole for the stale cache.
import type { ServerResponse } from "node:http";
import type { Dispatcher } from "undici";
import { type HeaderList, clientResponseHeaders } from "../proxy/headers.js";
import type { BufferedAnswer } from "./answers.js";

type Controller = Dispatcher.DispatchController;

/** Bytes of an answer read ahead while the policies decide on it; past this the read pauses. */
const HOLD_BYTES = 64 * 1024;

/** Where the body goes once the answer is kept: `write` false means wait for `drain`. */
interface Sink {
  write(chunk: Buffer): boolean;
  once?(event: "drain", listener: () => void): unknown;
}

/** The upstream's answer, held (its body read ahead, bounded) until the gateway decides on it. */
export class UpstreamExchange implements Dispatcher.DispatchHandler {
  /** Status of the answer; 0 until the head arrived. */
  status = 0;
  /** Headers of the answer (undici's lower-case record). */
  headers: Record<string, string | string[] | undefined> = {};
  readonly head: Promise<UpstreamExchange>;
  #controller: Controller | undefined;
  #pendingAbort: Error | undefined;
  /** Settle `head`; undefined once it settled. */
  #resolveHead: ((x: UpstreamExchange) => void) | undefined;
  #rejectHead: ((err: unknown) => void) | undefined;
  #sink: Sink | undefined;
  // The first chunk apart: most answers arrive whole in one, and an array for it would be the
  // largest allocation an answer makes (docs/benchmarks.md: allocation is what costs here).
  #heldFirst: Buffer | undefined;
  #heldMore: Buffer[] | undefined;
  #heldBytes = 0;
  #ended = false;
  #failed: Error | undefined;
  #onDone: ((err: Error | undefined) => void) | undefined;
  #onSettled: (() => void) | undefined;

  /** `onSettled` runs once, when the exchange is over (answered, failed or aborted). */
  constructor(onSettled?: () => void) {
    this.#onSettled = onSettled;
    this.head = new Promise((resolve, reject) => {
      this.#resolveHead = resolve;
      this.#rejectHead = reject;
    });
  }

  /**
   * Lets retry discard this answer (it cancels a discarded result's `body`): the upstream
   * request is closed, freeing its connection. The exchange itself, so that an answer costs no
   * object of its own for a discard that almost never comes.
   */
  get body(): { cancel(): Promise<void> } {
    return this;
  }

  /** See {@link body}. */
  cancel(): Promise<void> {
    this.abort(new Error("answer discarded for another attempt"));
    return Promise.resolve();
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
    // The body is held until the policies keep this answer. Not paused yet: a small answer is
    // usually whole in the packet that carried its head, and a pause/resume cycle per request
    // costs the parser more than holding it (onResponseData pauses past HOLD_BYTES).
    const resolve = this.#resolveHead!;
    this.#resolveHead = this.#rejectHead = undefined;
    resolve(this);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    const sink = this.#sink;
    if (sink === undefined) {
      if (this.#heldFirst === undefined) this.#heldFirst = chunk;
      else (this.#heldMore ??= []).push(chunk);
      this.#heldBytes += chunk.length;
      if (this.#heldBytes > HOLD_BYTES) controller.pause();
      return;
    }
    if (!sink.write(chunk) && sink.once !== undefined) {
      controller.pause();
      sink.once("drain", () => controller.resume());
    }
  }

  onResponseEnd(): void {
    this.#ended = true;
    this.#settle();
    if (this.#sink !== undefined) this.#finish(undefined);
  }

  onResponseError(_controller: Controller, error: Error): void {
    this.#settle();
    const reject = this.#rejectHead;
    if (reject !== undefined) {
      this.#resolveHead = this.#rejectHead = undefined;
      reject(error);
      return;
    }
    this.#failed = error;
    if (this.#sink !== undefined) this.#finish(error);
  }

  /**
   * Streams this answer to the client: head, held chunks, then the rest as it comes. `onDone`
   * learns how it ended (an error: the body was cut, and the client response destroyed).
   */
  pipeTo(
    client: ServerResponse,
    extraHeaders: HeaderList,
    onDone: (err: Error | undefined) => void,
  ): void {
    const headers = clientResponseHeaders(this.headers);
    for (const field of extraHeaders) headers.push(field);
    client.writeHead(this.status, headers);
    this.#drain(client, (err) => {
      if (err === undefined) client.end();
      else client.destroy(err);
      onDone(err);
    });
  }

  /** Reads the whole answer into memory (at most `limit` bytes), for the stale cache. */
  buffer(limit: number): Promise<BufferedAnswer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const sink: Sink = {
        write: (chunk) => {
          size += chunk.length;
          if (size > limit) this.abort(new Error(`the upstream's answer is over ${limit} bytes`));
          else chunks.push(chunk);
          return true;
        },
      };
      this.#drain(sink, (err) => {
        if (err !== undefined) return reject(err);
        const headers: Record<string, string | string[]> = {};
        const kept = clientResponseHeaders(this.headers);
        for (let i = 0; i < kept.length; i += 2) {
          const name = kept[i]!;
          if (name === "content-length") continue;
          const value = kept[i + 1]!;
          const prior = headers[name];
          headers[name] = prior === undefined ? value : [prior, value].flat();
        }
        resolve({ kind: "buffered", status: this.status, headers, body: Buffer.concat(chunks) });
      });
    });
  }

  #drain(sink: Sink, onDone: (err: Error | undefined) => void): void {
    this.#sink = sink;
    this.#onDone = onDone;
    const first = this.#heldFirst;
    const more = this.#heldMore;
    this.#heldFirst = this.#heldMore = undefined;
    if (first !== undefined) sink.write(first);
    if (more !== undefined) for (const chunk of more) sink.write(chunk);
    if (this.#ended || this.#failed !== undefined) {
      this.#finish(this.#failed);
      return;
    }
    // Resumes only a read paused past HOLD_BYTES (resume on a running read is a no-op).
    this.#controller?.resume();
  }

  #settle(): void {
    const settled = this.#onSettled;
    this.#onSettled = undefined;
    settled?.();
  }

  #finish(err: Error | undefined): void {
    const done = this.#onDone;
    this.#onDone = undefined;
    done?.(err);
  }
}
