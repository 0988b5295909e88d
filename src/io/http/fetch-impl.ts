// Which fetch does the work: undici's own when it is installed, Node's global fetch otherwise.
// undici's is preferred because a caller who passes `init.dispatcher` built with their undici
// needs the fetch of the same undici (the dispatcher handler API changed between majors), and
// because it carries fixes that the undici bundled in an older Node lacks.
import type { FetchCall } from "./fetch-call.js";
import { guardedDispatcher } from "./fetch-dispatcher.js";

/** A WHATWG fetch: the global one, undici's, or a stand-in with the same shape. */
export type FetchFunction = (
  input: string | URL | Request,
  init?: RequestInit,
) => Promise<Response>;

/** A fetch, and how a request is tied to its {@link FetchCall} so that the call can stop it. */
export interface Engine {
  readonly fetch: FetchFunction;
  /**
   * Requests go through a guarded dispatcher, which sees them end on the wire and sets the
   * deadline header on each one it sends; else the request is stopped through its signal.
   */
  readonly guarded: boolean;
  /**
   * Ties the request to `call`, on the init the fetch underneath gets: through a `signal`, or a
   * guarded `dispatcher` over `dispatcher` (the caller's, or undici's global one).
   */
  bind(call: FetchCall, init: BoundInit, dispatcher: object | undefined): void;
}

/** The init the fetch underneath gets, being built. */
export type BoundInit = Omit<RequestInit, "dispatcher"> & { dispatcher?: object };

/**
 * Any fetch: the request is stopped through its signal. Portable, but undici's fetch pays about
 * 15 µs of listener bookkeeping for a signal, a tenth of a loopback request.
 */
export function signalEngine(fetch: FetchFunction): Engine {
  return {
    fetch,
    guarded: false,
    bind: (call, init) => {
      init.signal = call.signal;
    },
  };
}

/** undici's own fetch: the request is stopped through its dispatcher, at no cost per request. */
function undiciEngine(fetch: FetchFunction, globalDispatcher: () => object): Engine {
  return {
    fetch,
    guarded: true,
    bind: (call, init, dispatcher) => {
      // The caller's signal ends the call (through its child context), which stops the request.
      if (init.signal != null) init.signal = undefined;
      init.dispatcher = guardedDispatcher(dispatcher ?? globalDispatcher(), call);
    },
  };
}

let loaded: Engine | undefined;
let loading: Promise<Engine> | undefined;

/**
 * The default engine, loaded once: synchronously available after the first call resolves, so
 * later requests do not pay for an extra turn of the microtask queue.
 */
export function defaultEngine(): Engine | Promise<Engine> {
  if (loaded !== undefined) return loaded;
  loading ??= import("undici").then(
    (undici) =>
      (loaded = undiciEngine(
        undici.fetch as unknown as FetchFunction,
        undici.getGlobalDispatcher as () => object,
      )),
    () => (loaded = signalEngine(globalThis.fetch)),
  );
  return loading;
}
