// fetch() resolves when the headers arrive; the body is read later, often by someone else.
// Aborting the signal during that read can leave `res.text()` pending forever (nodejs/node#56917,
// nodejs/undici#4089) and rejects with a bare AbortError instead of a timeout
// (nodejs/undici#3296). So every way of reading the body of the response the caller gets is
// raced against the request's context: it rejects with the context's error the moment that ends,
// whatever the fetch underneath does: the response has a context body.
//
// The response stays the one fetch made (same object, same class, url and type intact): only its
// prototype is swapped for a child of its own whose readers race the context. Rebuilding it around a
// stream of our own would cost a stream and a Response per request, about a third of a loopback
// request's time.
import type { ContextError } from "../../core/index.js";
import {
  ReadableStream,
  type ReadableStreamDefaultController,
  type ReadableStreamDefaultReader,
  type ReadableStreamReadResult,
} from "node:stream/web";
import { raceContext } from "../race.js";
import type { FetchCall } from "./fetch-call.js";

type Chunk = Uint8Array;
type BodyReader = (this: Response) => Promise<unknown>;

const CALL = Symbol("timebound.http.call");
const BODY = Symbol("timebound.http.body");

/** A context body's request, and its body stream (our own) once asked for. */
interface WithCall {
  [CALL]: FetchCall;
  [BODY]: ReadableStream<Chunk> | null | undefined;
}

const READERS = ["arrayBuffer", "blob", "bytes", "formData", "json", "text"] as const;

/** One context-body prototype per Response class (undici's, Node's bundled one). */
const prototypes = new WeakMap<object, object>();

function contextBodyPrototype(base: Response): object {
  const proto = Object.getPrototypeOf(base) as Record<string, unknown>;
  const known = prototypes.get(proto);
  if (known !== undefined) return known;
  const made: Record<string, unknown> = Object.create(proto) as Record<string, unknown>;
  for (const name of READERS) {
    const original = proto[name];
    if (typeof original !== "function") continue;
    made[name] = function (this: Response & WithCall) {
      return read(this, original as BodyReader);
    };
  }
  const bodyProperty = Object.getOwnPropertyDescriptor(proto, "body");
  const clone = proto.clone as (this: Response) => Response;
  Object.defineProperty(made, "body", {
    get(this: Response & WithCall) {
      return bodyOf(this, bodyProperty);
    },
    configurable: true,
  });
  made.clone = function (this: Response & WithCall) {
    const call = this[CALL];
    const copy = clone.call(this);
    call.addBody();
    return adopt(copy, call);
  };
  prototypes.set(proto, made);
  return made;
}

/**
 * @internal Makes `res` (the object fetch returned) a response with a context body: every read of
 * it obeys `call`'s context.
 */
export function withContextBody(res: Response, call: FetchCall): Response {
  // All of it arrived with the headers (seen by a guarded dispatcher): nothing is left on the wire
  // for the context to stop, so the response is fetch's own, untouched. Reading it works as
  // fetch's own does, also after the context ends, as a fetch's body does after its signal aborts.
  if (call.over) return res;
  if (res.body === null) {
    call.release(); // HEAD, 204, 304: nothing left to read
    return res;
  }
  return adopt(res, call);
}

function adopt(res: Response, call: FetchCall): Response {
  const bound = res as Response & WithCall;
  bound[CALL] = call;
  bound[BODY] = undefined;
  Object.setPrototypeOf(res, contextBodyPrototype(res));
  call.releaseWith(res);
  return res;
}

/** text(), json()...: the original method, raced against the request's context. */
function read(res: Response & WithCall, original: BodyReader): Promise<unknown> {
  const call = res[CALL];
  if (call.over) {
    // All of the body is in memory (or the request failed, and undici says why): nothing to race.
    const err = call.readError;
    return err === undefined ? original.call(res) : Promise.reject(err);
  }
  call.forget(res); // being read: the read's own end releases the request
  return raceContext(call.ctx, () => original.call(res), undefined, "fetch.body").then(
    (value) => {
      call.bodyDone();
      return value;
    },
    (e: unknown) => {
      throw call.fail(e);
    },
  );
}

/** `res.body`: a stream of our own over the original, made once, when first asked for. */
function bodyOf(
  res: Response & WithCall,
  bodyProperty: PropertyDescriptor | undefined,
): ReadableStream<Chunk> | null {
  if (res[BODY] !== undefined) return res[BODY];
  const source = bodyProperty?.get?.call(res) as ReadableStream<Chunk> | null | undefined;
  if (source === null || source === undefined) return (res[BODY] = null);
  const call = res[CALL];
  const stream = new ReadableStream<Chunk>(new ContextBodySource(source, call, res), {
    highWaterMark: 0,
  });
  call.forget(res);
  call.releaseWith(stream); // whoever holds the stream holds the request
  return (res[BODY] = stream);
}

/** Pulls from the original body on demand, each read raced against the request's context. */
class ContextBodySource {
  #reader: ReadableStreamDefaultReader<Chunk> | undefined = undefined;
  readonly #stop: (err: ContextError) => void;
  readonly #source: ReadableStream<Chunk>;
  readonly #call: FetchCall;

  constructor(
    source: ReadableStream<Chunk>,
    call: FetchCall,
    /**
     * Held, never used: undici cancels the body of a response it sees collected unless the body
     * is locked, which ours is only once read. Whoever holds the stream must keep the response.
     */
    readonly response: Response,
  ) {
    this.#source = source;
    this.#call = call;
    // Besides aborting the fetch, cancel the reader: that stops a fetch that ignores signals.
    this.#stop = (err) => {
      call.abort(err);
      this.#reader?.cancel(err).catch(ignore);
    };
  }

  async pull(controller: ReadableStreamDefaultController<Chunk>): Promise<void> {
    // Locked only once read: res.body alone must leave res.text() usable.
    const reader = (this.#reader ??= this.#source.getReader());
    const call = this.#call;
    let chunk: ReadableStreamReadResult<Chunk>;
    if (call.over) {
      // The rest of the body is in memory: nothing to race.
      const err = call.readError;
      if (err !== undefined) throw err;
      chunk = await reader.read();
    } else {
      try {
        chunk = await raceContext(call.ctx, () => reader.read(), this.#stop, "fetch.body");
      } catch (e) {
        throw call.fail(e);
      }
    }
    if (chunk.done) {
      this.#call.bodyDone();
      controller.close();
    } else {
      controller.enqueue(chunk.value);
    }
  }

  cancel(reason: unknown): Promise<void> {
    const canceled = (this.#reader ?? this.#source).cancel(reason);
    this.#call.bodyDone();
    return canceled.catch(ignore);
  }
}

function ignore(): void {}
