// Which fetch does the work: undici's own when it is installed, Node's global fetch otherwise.
// undici's is preferred because a caller who passes `init.dispatcher` built with their undici
// needs the fetch of the same undici (the dispatcher handler API changed between majors), and
// because it carries fixes that the undici bundled in an older Node lacks.
import type * as UndiciModule from "undici";
import type { FetchCall } from "./fetch-call.js";
import { guardedDispatcher } from "./fetch-dispatcher.js";
import { ownRequire } from "../own-require.js";

/** A WHATWG fetch: the global one, undici's, or a stand-in with the same shape. */
export type FetchFunction = (
  input: string | URL | Request,
  init?: RequestInit,
) => Promise<Response>;

/**
 * @internal A fetch, and how a request is tied to its {@link FetchCall} so that the call can stop
 * it.
 */
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

/** @internal The init the fetch underneath gets, being built. */
export type BoundInit = Omit<RequestInit, "dispatcher"> & { dispatcher?: object };

/**
 * Any fetch: the request is stopped through its signal. Portable, but undici's fetch pays about
 * 15 µs of listener bookkeeping for a signal, a tenth of a loopback request.
 *
 * @internal
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

type Undici = typeof UndiciModule;

function engineOf(undici: Undici): Engine {
  return undiciEngine(undici.fetch as unknown as FetchFunction, undici.getGlobalDispatcher);
}

/**
 * The default engine, loaded when `timebound/http` is imported, synchronously, and warmed:
 * loading undici takes 60 to 120 ms and its fetch loads the rest of itself on its first call,
 * which inside the first `fetch(ctx)` would come out of its caller's deadline (a 40 ms deadline
 * failed on the first call of a process). Without undici, the global fetch is used, warmed the
 * same way (Node loads its own copy of undici on the first call). `import()` is the fallback
 * where `require` cannot load undici.
 */
let loaded: Engine | undefined = loadNow();
let loading: Promise<Engine> | undefined;

function loadNow(): Engine | undefined {
  const require = ownRequire();
  if (require !== undefined) {
    try {
      const undici = require("undici") as Undici;
      warm(undici.fetch as unknown as FetchFunction);
      return engineOf(undici);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "MODULE_NOT_FOUND") return undefined;
      warm(globalThis.fetch);
      return signalEngine(globalThis.fetch);
    }
  }
  return undefined;
}

/** Has `fetch` load what it loads on its first call, with a request that needs no network. */
function warm(fetch: FetchFunction | undefined): void {
  if (typeof fetch !== "function") return;
  fetch("data:,").then(
    (res) => res.body?.cancel(),
    () => {},
  );
}

/**
 * @internal The default engine: synchronously once loaded (always, unless `require` could not load
 * it).
 */
export function defaultEngine(): Engine | Promise<Engine> {
  if (loaded !== undefined) return loaded;
  loading ??= import("undici").then(
    (undici) => (loaded = engineOf(undici)),
    () => (loaded = signalEngine(globalThis.fetch)),
  );
  return loading;
}
