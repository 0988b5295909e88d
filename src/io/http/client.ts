import { type Context, fromSignal } from "../../core/index.js";
import {
  checkContext,
  describeValue,
  invalidType,
  optionsObject,
  readOptions,
} from "../../core/internal.js";
import {
  type BoundInit,
  type Engine,
  type FetchFunction,
  defaultEngine,
  signalEngine,
} from "./fetch-impl.js";
import { FetchCall, type TimeLeftHeader } from "./fetch-call.js";
import { withContextBody } from "./context-body.js";
import { headerOption } from "./header-option.js";
import { timeLeftValue } from "./deadline-header.js";
import { withTimeLeft } from "./request-headers.js";

export type { FetchFunction } from "./fetch-impl.js";

/** Options for {@link createFetch}. */
export interface FetchOptions {
  /**
   * Request header that carries the time left (gRPC `grpc-timeout` encoding, e.g. `"250m"`),
   * or `false` to send none. Sent only when the context has a deadline; it replaces a header
   * of that name given in `init`. Default `"timebound-timeout"` (see
   * {@link DEFAULT_DEADLINE_HEADER} for why not `grpc-timeout`).
   */
  readonly header?: string | false;
  /**
   * Subtracted from the time left before it is sent, so the server gives up slightly before the
   * caller does and its answer can still arrive: transit both ways. Default 10; 0 to 60,000.
   */
  readonly marginMs?: number;
  /**
   * The fetch that does the work; it must honour `init.signal` for the work underneath to stop
   * (the caller is released regardless). Default: undici's if installed, else the global fetch.
   */
  readonly fetch?: FetchFunction;
}

/**
 * fetch's `init`, where `dispatcher` may be any undici Dispatcher (an `Agent`, a `Pool`) of the
 * undici that does the work: the global RequestInit types it with the undici bundled in Node.
 */
export type FetchInit = Omit<RequestInit, "dispatcher"> & {
  /** The undici Dispatcher to send the request through. */
  readonly dispatcher?: object;
};

/** A fetch that takes a context first; see {@link fetch}. */
export type ContextFetch = (ctx: Context, input: Input, init?: FetchInit) => Promise<Response>;

/** What fetch takes as its first argument. @inline */
type Input = string | URL | Request;

const globalEngine = signalEngine((input, init) => globalThis.fetch(input, init));

/** undici's fetch, stopped through a signal: for inputs that are Requests. */
const bySignal = (engine: Engine): Engine => signalEngine(engine.fetch);

const DEFAULT_MARGIN_MS = 10;
const MARGIN_MS = { min: 0, max: 60_000 } as const;
const FETCH_OPTIONS: readonly (keyof FetchOptions)[] = ["header", "marginMs", "fetch"];

/**
 * Makes a {@link fetch} with its own header name, margin or underlying fetch.
 *
 * @example
 * ```ts
 * const grpcFetch = createFetch({ header: "grpc-timeout", marginMs: 5 });
 * const res = await grpcFetch(ctx, "http://inventory/items");
 * ```
 */
export function createFetch(options?: FetchOptions): ContextFetch {
  const o = readOptions(options, "createFetch", FETCH_OPTIONS);
  const header = headerOption(o.raw("header"), "createFetch");
  const marginMs = o.ms("marginMs", DEFAULT_MARGIN_MS, MARGIN_MS);
  const impl = o.function("fetch", undefined);
  const custom = impl === undefined ? undefined : signalEngine(impl);
  const timeLeft: TimeLeftHeader | undefined =
    header === false ? undefined : { name: header, marginMs };

  /** The engine for this input: undici's (loaded once), the global fetch, or the given one. */
  const engineFor = (input: Input): Engine | Promise<Engine> => {
    if (custom !== undefined) return custom;
    // A Request made with the global class goes to the global fetch: undici's takes only its
    // own. undici's own Request may carry a dispatcher, which init.dispatcher would replace.
    if (input instanceof Request) return globalEngine;
    const engine = defaultEngine();
    if (typeof input === "string" || input instanceof URL) return engine;
    return "then" in engine ? engine.then(bySignal) : bySignal(engine);
  };

  const send = (
    ctx: Context,
    input: Input,
    init: FetchInit | undefined,
    engine: Engine,
  ): Promise<Response> => {
    const request = typeof input === "object" && !(input instanceof URL) ? input : undefined;
    // With init.signal (or the Request's own), the request obeys a child that ends with either.
    const signal = init?.signal ?? request?.signal;
    const child =
      signal === undefined || signal === null
        ? undefined
        : fromSignal(signal, { parent: ctx, name: "fetch" });
    const call = new FetchCall(child ?? ctx, ctx, child, engine.guarded ? timeLeft : undefined);
    const ended = call.ctx.err; // init.signal had already aborted
    if (ended !== undefined) return Promise.reject(call.fail(ended));
    let requestInit: RequestInit;
    try {
      requestInit = initFor(call, request, init, engine);
    } catch (e) {
      call.release(); // headers fetch would refuse too: fail as fetch does, by rejecting
      return Promise.reject(e);
    }
    let work: Promise<Response>;
    try {
      work = engine.fetch(input, requestInit);
    } catch (e) {
      return Promise.reject(call.fail(e)); // a fetch that throws instead of rejecting
    }
    return call.start(work, withContextBody);
  };

  /** The init the fetch underneath gets: the caller's, with the time left and the call's hook. */
  const initFor = (
    call: FetchCall,
    request: Request | undefined,
    init: FetchInit | undefined,
    engine: Engine,
  ): RequestInit => {
    // Object.assign, not a spread: V8 spreads a non-empty object then redefines its keys on a
    // slow path, a microsecond and a half per request.
    const out: BoundInit = init === undefined ? {} : Object.assign({}, init);
    // A guarded dispatcher sets the header on each request it sends; else it goes in init.
    if (!engine.guarded && header !== false) {
      const value = timeLeftValue(call.ctx.remaining(), marginMs);
      if (value !== undefined) {
        out.headers = withTimeLeft(init?.headers, request?.headers, header, value);
      }
    }
    // The call ends with init.signal (through its child context) and stops the request itself.
    engine.bind(call, out, init?.dispatcher);
    return out as RequestInit;
  };

  return function fetch(ctx, input, init) {
    try {
      checkArguments(ctx, input, init);
    } catch (e) {
      return Promise.reject(e); // a promise API rejects, as fetch itself does on bad input
    }
    const err = ctx.err;
    if (err !== undefined) return Promise.reject(err); // a done context never starts new work
    const engine = engineFor(input);
    return "then" in engine
      ? engine.then((loaded) => send(ctx, input, init, loaded))
      : send(ctx, input, init, engine);
  };
}

/**
 * fetch() under a context: the deadline covers connecting, the headers and the whole body,
 * also when the body is read later (`res.text()`, `json()`, `arrayBuffer()`, `res.body`): any
 * of those rejects with the context's error as soon as it ends, and never hangs. The error is
 * always `ctx.err` (`DeadlineExceeded` or `Canceled`), never a bare AbortError; when
 * `init.signal` aborts first, a `Canceled` (or `DeadlineExceeded` for a TimeoutError reason)
 * whose cause is the signal's reason. The connection is closed the moment the context ends,
 * also while nobody is reading the body, so the server sees it; a response read to its end keeps
 * its connection for the next request. The request carries the time left in a
 * `timebound-timeout` header. The response is the one fetch made (its class, `url`, `type`),
 * with readers that obey the context; one dropped unread is released when it is garbage-collected.
 *
 * Uses undici's fetch if undici is installed (so `init.dispatcher` from your undici works; the
 * request is stopped through a dispatcher of its own, which costs less than a signal), the
 * global fetch otherwise (stopped through a signal).
 *
 * @example
 * ```ts
 * async function items(parent: Context) {
 *   using ctx = withTimeout(parent, 300, { name: "inventory" });
 *   const res = await fetch(ctx, "http://inventory/items");
 *   return await res.json(); // still bounded by the 300 ms; `await`: `using` ends ctx on return
 * }
 * ```
 */
export const fetch: ContextFetch = createFetch();

function checkArguments(ctx: unknown, input: unknown, init: unknown): asserts ctx is Context {
  checkContext(ctx, "fetch");
  const isRequest = typeof input === "object" && input !== null && "url" in input;
  if (typeof input !== "string" && !(input instanceof URL) && !isRequest) {
    throw invalidType(
      `fetch: input must be a URL string, a URL or a Request, got ${describeValue(input)}`,
    );
  }
  // fetch's own init: every key of RequestInit passes through; only its signal is ours to check.
  const signal = optionsObject(init as FetchInit | undefined, "fetch", undefined, "init").signal;
  if (signal !== undefined && signal !== null && !(signal instanceof AbortSignal)) {
    throw invalidType(`fetch: init.signal must be an AbortSignal, got ${describeValue(signal)}`);
  }
}
