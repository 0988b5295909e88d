import { afterFunc, type Context } from "../../core/index.js";
import type {
  CallOptions,
  ClientDuplexStream,
  ClientReadableStream,
  Metadata,
} from "@grpc/grpc-js";
import { raceContext } from "../race.js";
import { isContextDeadline } from "./deadline.js";
import type { RequestOf, StreamRequestOf, StreamResponseOf } from "./method-types.js";
import { type OutgoingCall, outgoingCall } from "./outgoing.js";
import { ignore, ignoreLateErrors, rejectWhenEnded } from "./response.js";

/**
 * A streaming call bound to a context: iterate it for the server's messages. The iterator
 * throws `ctx.err` the moment the context ends (and the call is canceled), and grpc-js's
 * `ServiceError` when the call fails otherwise; leaving the loop early cancels the call. It can
 * be iterated once. The call's 'error' events are taken care of (an unheard one would crash the
 * process): a failure reaches you through the iteration, or the call's 'status' event.
 *
 * @example
 * ```ts
 * import type { ClientReadableStream } from "@grpc/grpc-js";
 * const features: ResponseStream<Feature, ClientReadableStream<Feature>> = serverStream(
 *   ctx, routeClient, "listFeatures", area);
 * features.call.on("status", (status) => console.log(status.code));
 * for await (const f of features) console.log(f.name);
 * ```
 */
export interface ResponseStream<Res, Call> extends AsyncIterable<Res> {
  /** The grpc-js call, for metadata and status events, and for writing on a bidi call. */
  readonly call: Call;
}

/**
 * Starts a server-streaming call under a context: it carries the context's deadline and is
 * canceled the moment the context ends, whether or not anyone is reading. Iterating gives the
 * messages; the loop throws `ctx.err` (never grpc-js's CANCELLED or DEADLINE_EXCEEDED) when the
 * context ends, and grpc-js's `ServiceError` for other failures.
 *
 * @example
 * ```ts
 * for await (const feature of serverStream(ctx, routeClient, "listFeatures", area)) {
 *   console.log(feature.name, feature.location);
 * }
 * ```
 */
export function serverStream<C extends object, K extends keyof C & string>(
  ctx: Context,
  client: C,
  method: K,
  request: RequestOf<C[K]>,
  metadata?: Metadata,
  options?: CallOptions,
): ResponseStream<StreamResponseOf<C[K]>, ClientReadableStream<StreamResponseOf<C[K]>>> {
  const out = outgoingCall("serverStream", "serverStream", ctx, client, method, metadata, options);
  const call = out.start([request], []) as ClientReadableStream<StreamResponseOf<C[K]>>;
  return bind(ctx, call, out, "serverStream");
}

/**
 * Starts a bidirectional streaming call under a context: write to `call`, iterate for the
 * server's messages. Deadline, cancellation and errors work as for {@link serverStream}.
 *
 * @example
 * ```ts
 * const chat = bidiStream(ctx, chatClient, "talk");
 * chat.call.write({ text: "hello" });
 * for await (const reply of chat) if (reply.last) chat.call.end();
 * ```
 */
export function bidiStream<C extends object, K extends keyof C & string>(
  ctx: Context,
  client: C,
  method: K,
  metadata?: Metadata,
  options?: CallOptions,
): ResponseStream<
  StreamResponseOf<C[K]>,
  ClientDuplexStream<StreamRequestOf<C[K]>, StreamResponseOf<C[K]>>
> {
  const out = outgoingCall("bidiStream", "bidi", ctx, client, method, metadata, options);
  const call = out.start([], []) as ClientDuplexStream<
    StreamRequestOf<C[K]>,
    StreamResponseOf<C[K]>
  >;
  return bind(ctx, call, out, "bidiStream");
}

type ReadableCall<Res> = ClientReadableStream<Res> | ClientDuplexStream<unknown, Res>;

/** Reads the messages of one call, each read raced with the call's context. */
class Reading<Res> {
  /** The call's context: the caller's, or the child for an earlier `options.deadline`. */
  #ctx: Context;
  readonly #callerCtx: Context;
  #release: (() => void) | undefined;
  readonly #call: ReadableCall<Res>;
  #reading = false;
  #over = false;

  constructor(
    ctx: Context,
    callerCtx: Context,
    release: (() => void) | undefined,
    call: ReadableCall<Res>,
  ) {
    this.#ctx = ctx;
    this.#callerCtx = callerCtx;
    this.#release = release;
    this.#call = call;
  }

  /** The next message, or `ctx.err` the moment the context ends (the call is then canceled). */
  async next(source: AsyncIterator<Res>): Promise<IteratorResult<Res>> {
    const ctx = this.#ctx;
    this.#reading = true;
    try {
      return await raceContext(
        ctx,
        () => nextMessage(source, ctx),
        () => this.#call.cancel(),
        "grpc.stream",
      );
    } finally {
      this.#reading = false;
      if (this.#over) this.#letGo();
    }
  }

  /** The call's status is in: see `#letGo`. */
  callOver(): void {
    this.#over = true;
    if (!this.#reading) this.#letGo();
  }

  /**
   * The child for `options.deadline` has done its work: end it, and read what is left in the
   * buffer under the caller's context. Never while a read raced with the child is in flight:
   * ending the child would fail that read with Canceled.
   */
  #letGo(): void {
    const release = this.#release;
    if (release === undefined) return;
    this.#release = undefined;
    this.#ctx = this.#callerCtx;
    release();
  }
}

function bind<Res, Call extends ReadableCall<Res>>(
  ctx: Context,
  call: Call,
  out: OutgoingCall,
  fn: string,
): ResponseStream<Res, Call> {
  ignoreLateErrors(call);
  const reading = new Reading<Res>(out.ctx, ctx, out.release, call);
  const stop = afterFunc(out.ctx, () => call.cancel());
  call.once("status", () => {
    stop();
    reading.callOver();
  });
  let iterated = false;
  return {
    call,
    [Symbol.asyncIterator](): AsyncIterator<Res> {
      if (iterated) throw new TypeError(`${fn}: the responses can be iterated only once`);
      iterated = true;
      return messages<Res>(reading, call);
    },
  };
}

async function* messages<Res>(
  reading: Reading<Res>,
  call: ReadableCall<Res>,
): AsyncGenerator<Res, void, undefined> {
  const source = (call as AsyncIterable<Res>)[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await reading.next(source);
      if (next.done === true) return;
      yield next.value;
    }
  } finally {
    call.cancel(); // a no-op once the status is in; stops the call when the loop was left early
    void source.return?.().catch(ignore);
  }
}

/** The next message; a DEADLINE_EXCEEDED that is the context's waits for it (see unary). */
function nextMessage<Res>(source: AsyncIterator<Res>, ctx: Context): Promise<IteratorResult<Res>> {
  return source.next().catch((err: unknown) => {
    if (isContextDeadline(err, ctx)) return rejectWhenEnded(ctx, err);
    throw err;
  });
}
