import { background, type Context } from "../core/index.js";
import { checkContext, checkNumber, defineErrorClass, watchOrEnd } from "../core/internal.js";
import { List } from "./list.js";
import { type Entry, ChannelWait, type Outcome } from "./channel-wait.js";
import { Ring } from "./ring.js";

/** A receive's result, as Go's `v, ok := <-ch`: `ok` is false once the channel is closed and drained. */
export type RecvResult<T> =
  | {
      /** A value was received. */
      readonly ok: true;
      /** The value received. */
      readonly value: T;
    }
  | ClosedResult;

/** What a receive gets from a channel that is closed and drained: no value. */
export type ClosedResult = {
  /** False: nothing was received, and nothing ever will be. */
  readonly ok: false;
  /** Always undefined. */
  readonly value: undefined;
};

const CLOSED: ClosedResult = Object.freeze({ ok: false, value: undefined });

/** Any whole number of buffered values from 0 up. */
const CAPACITY = { min: 0, max: Infinity, integer: true } as const;

/**
 * Sending on, or closing, a closed channel (where Go panics). Its `code` is
 * `"TIMEBOUND_ERR_CHANNEL_CLOSED"`; `instanceof` works across the ESM and CJS copies too.
 *
 * @example
 * ```ts
 * async function report(ctx: Context, results: Channel<string>, result: string) {
 *   try {
 *     await results.send(ctx, result);
 *   } catch (err) {
 *     if (!(err instanceof ChannelClosedError)) throw err; // the consumer is gone: drop it
 *   }
 * }
 * ```
 */
export class ChannelClosedError extends Error {
  /** `"TIMEBOUND_ERR_CHANNEL_CLOSED"`: a send on, or a close of, a closed channel. */
  declare readonly code: "TIMEBOUND_ERR_CHANNEL_CLOSED";
}

defineErrorClass(ChannelClosedError, "ChannelClosedError", {
  kind: "timebound.ChannelClosedError",
  code: "TIMEBOUND_ERR_CHANNEL_CLOSED",
});

/**
 * Go's channel: unbuffered (`new Channel()`, a send waits for a receiver: a rendezvous) or
 * buffered (`new Channel(n)`, FIFO, a send waits only when `n` values are queued). Every
 * blocking operation takes a context and leaves the channel's queues the moment it ends.
 * Use {@link select} to wait on several channels at once.
 *
 * @example
 * ```ts
 * const jobs = new Channel<Job>(100);
 * void (async () => { for await (const job of jobs.iterate(ctx)) await handle(ctx, job); })();
 * await jobs.send(ctx, job);
 * jobs.close();
 * ```
 */
export class Channel<T> implements AsyncIterable<T> {
  /** How many values it buffers (0: unbuffered). */
  readonly capacity: number;
  readonly #buffer: Ring<T>;
  #closed = false;
  /** @internal Receivers waiting for a value (read by select). */
  readonly recvq = new List<Entry>();
  /** @internal Senders waiting for room or a receiver (read by select). */
  readonly sendq = new List<Entry>();

  /**
   * A channel that buffers `capacity` values (0: unbuffered); throws a RangeError unless
   * `capacity` is a non-negative integer.
   */
  constructor(capacity = 0) {
    this.capacity = checkNumber(capacity, "Channel", "capacity", CAPACITY);
    this.#buffer = new Ring<T>(Math.min(capacity, 1024));
  }

  /** Values buffered right now (Go's `len(ch)`). */
  get length(): number {
    return this.#buffer.length;
  }

  /** Whether {@link Channel.close} was called (buffered values may still be received). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends `value`, waiting for a receiver or buffer room. Rejects with `ctx.err` if `ctx` ends
   * first (the value is then not sent), and with {@link ChannelClosedError} if the channel is
   * or gets closed.
   */
  send(ctx: Context, value: T): Promise<void> {
    try {
      checkContext(ctx, "Channel.send");
    } catch (bad) {
      return Promise.reject(bad); // a promise API rejects on bad arguments, as Node's do
    }
    const err = ctx.err;
    if (err !== undefined) return Promise.reject(err);
    if (this.#closed) return Promise.reject(sendOnClosed());
    if (this.trySend(value)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const wait = new ChannelWait(() => resolve(), reject);
      wait.enqueue(this.sendq, 0, value);
      watchOrEnd(ctx, wait);
    });
  }

  /**
   * Receives a value, waiting for one. Resolves `{ ok: false }` once the channel is closed and
   * drained; rejects with `ctx.err` if `ctx` ends first (nothing is then taken).
   */
  recv(ctx: Context): Promise<RecvResult<T>> {
    try {
      checkContext(ctx, "Channel.recv");
    } catch (bad) {
      return Promise.reject(bad);
    }
    const err = ctx.err;
    if (err !== undefined) return Promise.reject(err);
    if (this.canRecv()) return Promise.resolve(this.recvNow());
    return new Promise<RecvResult<T>>((resolve, reject) => {
      const wait = new ChannelWait((o) => resolve(toRecvResult<T>(o)), reject);
      wait.enqueue(this.recvq, 0, undefined);
      watchOrEnd(ctx, wait);
    });
  }

  /** Sends without waiting: true if sent, false if it would block. Throws if closed. */
  trySend(value: T): boolean {
    if (!this.canSend()) return false;
    this.sendNow(value);
    return true;
  }

  /** Receives without waiting: `undefined` if it would block. */
  tryRecv(): RecvResult<T> | undefined {
    return this.canRecv() ? this.recvNow() : undefined;
  }

  /**
   * Closes the channel: waiting receivers get `{ ok: false }`, waiting senders reject with
   * {@link ChannelClosedError}; buffered values can still be received. Closing twice throws.
   */
  close(): void {
    if (this.#closed) throw new ChannelClosedError("close of closed channel");
    this.#closed = true;
    for (let e = this.recvq.shift(); e !== null; e = this.recvq.shift()) {
      e.wait.complete(e.index, false, undefined);
    }
    for (let e = this.sendq.shift(); e !== null; e = this.sendq.shift()) {
      e.wait.fail(new ChannelClosedError("channel closed while sending"));
    }
  }

  /**
   * Iterates received values until the channel is closed and drained; rejects with `ctx.err`
   * if `ctx` ends first, so a canceled loop is never mistaken for a closed channel.
   */
  async *iterate(ctx: Context): AsyncGenerator<T, void, undefined> {
    for (;;) {
      const r = await this.recv(ctx);
      if (!r.ok) return;
      yield r.value;
    }
  }

  /** `for await (const v of ch)`: iterates until closed, with no context. */
  [Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    return this.iterate(background());
  }

  /** @internal A send would not block (or would throw: closed). */
  canSend(): boolean {
    return this.#closed || this.recvq.size > 0 || this.#buffer.length < this.capacity;
  }

  /** @internal A receive would not block. */
  canRecv(): boolean {
    return this.#buffer.length > 0 || this.sendq.size > 0 || this.#closed;
  }

  /** @internal Sends; the caller checked `canSend()`. */
  sendNow(value: T): void {
    if (this.#closed) throw sendOnClosed();
    const receiver = this.recvq.shift();
    if (receiver !== null) receiver.wait.complete(receiver.index, true, value);
    else this.#buffer.push(value);
  }

  /** @internal Receives; the caller checked `canRecv()`. */
  recvNow(): RecvResult<T> {
    if (this.#buffer.length > 0) {
      const value = this.#buffer.shift();
      const sender = this.sendq.shift();
      if (sender !== null) {
        this.#buffer.push(sender.value as T);
        sender.wait.complete(sender.index, true, undefined);
      }
      return { ok: true, value };
    }
    const sender = this.sendq.shift();
    if (sender !== null) {
      sender.wait.complete(sender.index, true, undefined);
      return { ok: true, value: sender.value as T };
    }
    return CLOSED;
  }
}

function sendOnClosed(): ChannelClosedError {
  return new ChannelClosedError("send on closed channel");
}

function toRecvResult<T>(o: Outcome): RecvResult<T> {
  return o.ok ? { ok: true, value: o.value as T } : CLOSED;
}
