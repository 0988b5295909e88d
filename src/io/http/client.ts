import type { Context } from "../../core/context.js";
import { describeValue } from "../../core/explain.js";
import { fromSignal } from "../../core/from-signal.js";
import { checkContext } from "../../sync/check.js";
import { raceContext } from "../race.js";
import { type FetchFunction, defaultEngine, signalEngine } from "./fetch-impl.js";
import { FetchCall } from "./fetch-call.js";
import { guardResponse } from "./guarded-body.js";
import { headerOption, msOption, optionsObject } from "./options.js";
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
export type FetchInit = Omit<RequestInit, "dispatcher"> & { readonly dispatcher?: object };

/** A fetch that takes a context first; see {@link fetch}. */
export type ContextFetch = (ctx: Context, input: Input, init?: FetchInit) => Promise<Response>;

type Input = string | URL | Request;

const globalEngine = signalEngine((input, init) => globalThis.fetch(input, init));

const DEFAULT_MARGIN_MS = 10;

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
  const o = optionsObject(options, "createFetch");
  const header = headerOption(o.header, "createFetch");
  const marginMs = msOption(o.marginMs, "createFetch", "marginMs", DEFAULT_MARGIN_MS, 0, 60_000);
  const impl = o.fetch;
  if (impl !== undefined && typeof impl !== "function") {
    throw new TypeError(
      `createFetch: options.fetch must be a fetch function, got ${describeValue(impl)}`,
    );
  }
  const custom = impl === undefined ? undefined : signalEngine(impl);

  const send = async (ctx: Context, input: Input, init: FetchInit | undefined) => {
    const isRequest = typeof input === "object" && !(input instanceof URL);
    // A Request made with the global class goes to the global fetch: undici's takes only its own.
    // A Request may carry a dispatcher of its own, which init.dispatcher would replace: signal.
    const engine =
      custom ??
      (input instanceof Request
        ? globalEngine
        : isRequest
          ? signalEngine((await defaultEngine()).fetch)
          : await defaultEngine());
    // With init.signal (or the Request's own), the request obeys a child that ends with either.
    const signal = init?.signal ?? (isRequest ? input.signal : undefined);
    const child =
      signal === undefined || signal === null
        ? undefined
        : fromSignal(signal, { parent: ctx, name: "fetch" });
    const call = new FetchCall(child ?? ctx, ctx, child);
    let res: Response;
    try {
      const remaining = call.ctx.remaining();
      const bound = engine.bind(call, init?.dispatcher);
      const requestInit = {
        ...(init as RequestInit | undefined),
        headers:
          header === false || remaining === Infinity
            ? init?.headers
            : withTimeLeft(
                init?.headers,
                isRequest ? input.headers : undefined,
                header,
                remaining - marginMs,
              ),
        // The call ends with init.signal (through `child`) and stops the request itself.
        signal: bound.signal,
        dispatcher: bound.dispatcher,
      } as RequestInit;
      // No stop hook: the call aborts the request itself when its context ends.
      res = await raceContext(call.ctx, () => engine.fetch(input, requestInit), undefined, "fetch");
    } catch (e) {
      const err = call.error(e);
      call.release();
      throw err;
    }
    return guardResponse(res, call);
  };

  return function fetch(ctx, input, init) {
    checkArguments(ctx, input, init); // bad arguments throw here, as a bug should
    const err = ctx.err;
    if (err !== undefined) return Promise.reject(err); // a done context never starts new work
    return send(ctx, input, init);
  };
}

/**
 * fetch() under a context: the deadline covers connecting, the headers and the whole body,
 * also when the body is read later (`res.text()`, `json()`, `arrayBuffer()`, `res.body`): any
 * of those rejects with the context's error as soon as it ends, and never hangs. The error is
 * always `ctx.err` (`DeadlineExceeded` or `Canceled`), never a bare AbortError; when
 * `init.signal` aborts first, a `Canceled` (or `DeadlineExceeded` for a TimeoutError reason)
 * whose cause is the signal's reason. The connection is closed when the context ends mid-way,
 * so the server sees it. The request carries the time left in a `timebound-timeout` header.
 *
 * Uses undici's fetch if undici is installed (so `init.dispatcher` from your undici works),
 * the global fetch otherwise.
 *
 * @example
 * ```ts
 * using ctx = withTimeout(parent, 300, { name: "inventory" });
 * const res = await fetch(ctx, "http://inventory/items");
 * const items = await res.json(); // still bounded by the 300 ms
 * ```
 */
export const fetch: ContextFetch = createFetch();

function checkArguments(ctx: unknown, input: unknown, init: unknown): asserts ctx is Context {
  checkContext(ctx, "fetch");
  const isRequest = typeof input === "object" && input !== null && "url" in input;
  if (typeof input !== "string" && !(input instanceof URL) && !isRequest) {
    throw new TypeError(
      `fetch: input must be a URL string, a URL or a Request, got ${describeValue(input)}`,
    );
  }
  if (init !== undefined && (typeof init !== "object" || init === null)) {
    throw new TypeError(`fetch: init must be an object, got ${describeValue(init)}`);
  }
}
