// The aggregation case: N HTTP calls through timebound/http's fetch under one deadline, each
// with its budget, merged into one object whose missing parts are named.
import type { Context } from "../core/index.js";
import { describeValue, invalidType, readOptions } from "../core/internal.js";
import { type ContextFetch, type FetchInit, fetch as contextFetch } from "../io/http/index.js";
import { type BatchOptions, type CallSpec, batch } from "./batch.js";
import { type MissingPart, UpstreamStatusError } from "./errors.js";

/** How a {@link fanoutFetch} part's body is read. */
export type BodyReader<T = unknown> = "json" | "text" | ((res: Response) => Promise<T>);

/** One request of a {@link fanoutFetch}: a URL, or a URL with options. */
export type FanoutRequest =
  | string
  | URL
  | {
      /** Where to send it. */
      readonly url: string | URL;
      /** Options of the fetch (method, headers, body...); its signal and deadline come from the batch. */
      readonly init?: FetchInit;
      /** The answer can do without this part. Default false. */
      readonly optional?: boolean;
      /** Its importance in the budget split, > 0. Default 1. */
      readonly weight?: number;
      /** The key of its latency history. Default: the part's key. */
      readonly dependency?: string;
      /** Its P95 in ms, instead of the tracker's. */
      readonly p95Ms?: number;
      /** How its body is read. Default "json". */
      readonly read?: BodyReader;
    };

/** The merged answer: each part's body (undefined where missing) and what is missing, and why. */
export interface FanoutFetchResult<R extends Record<string, FanoutRequest>> {
  /** Each part's body by key, undefined where the part is missing. */
  readonly data: {
    -readonly [K in keyof R]: R[K] extends {
      /** The part's own body reader, whose result types the body. */
      readonly read: (res: Response) => Promise<infer P>;
    }
      ? P | undefined
      : unknown;
  };
  /** The optional parts without a body, and why, in input order. */
  readonly missing: readonly MissingPart[];
}

/** Options of {@link fanoutFetch}: a batch's (its mode is always "all"), and the fetch to use. */
export interface FanoutFetchOptions extends Omit<BatchOptions<"all">, "mode"> {
  /** The context-aware fetch to send with. Default timebound/http's `fetch`. */
  readonly fetch?: ContextFetch;
}

const FN = "fanoutFetch";
const REQUEST_KEYS = ["url", "init", "optional", "weight", "dependency", "p95Ms", "read"];

/**
 * Sends every request of `requests` at once through timebound/http's `fetch`, as a
 * {@link batch} in mode `all`: one deadline (the caller's, or `timeoutMs`), a budget per
 * request by the seed's rule (each request carries its own time left downstream in the deadline
 * header), drift compensation. A body is read as JSON unless `read` says otherwise; a status
 * outside 200-299 makes that part fail with an {@link UpstreamStatusError}. Resolves with the
 * bodies merged into one object and the missing optional parts named; rejects with
 * {@link BatchFailedError} when a required part failed, with the context's error when the
 * caller's deadline passed first.
 *
 * @example
 * ```ts
 * const { data, missing } = await fanoutFetch(ctx, {
 *   user: "http://127.0.0.1:8081/user/42",
 *   orders: { url: "http://127.0.0.1:8082/orders?user=42", weight: 2 },
 *   recommendations: { url: "http://127.0.0.1:8083/recs/42", optional: true, weight: 0.3 },
 * });
 * // e.g. { user: {...}, orders: [...], recommendations: undefined } and
 * // missing: [{ key: "recommendations", status: "timed-out", message: "timed out after 41 ms (budget 41 ms)", ... }]
 * ```
 */
export async function fanoutFetch<const R extends Record<string, FanoutRequest>>(
  ctx: Context,
  requests: R,
  options?: FanoutFetchOptions,
): Promise<FanoutFetchResult<R>> {
  const { fetch: fetchOption, ...batchOptions } = readOptions(options, FN).given;
  if (fetchOption !== undefined && typeof fetchOption !== "function") {
    throw invalidType(
      `${FN}: options.fetch must be a context fetch (ctx, url, init), got ${describeValue(fetchOption)}`,
    );
  }
  const send: ContextFetch = fetchOption ?? contextFetch;
  if (typeof requests !== "object" || requests === null || Array.isArray(requests)) {
    throw invalidType(
      `${FN}: requests must be a record of requests by part name, got ${describeValue(requests)}`,
    );
  }
  const calls: Record<string, CallSpec<unknown>> = {};
  for (const [key, request] of Object.entries(requests)) calls[key] = callFor(key, request, send);
  const result = await batch(ctx, calls, { ...batchOptions, mode: "all" });
  return { data: result.values as FanoutFetchResult<R>["data"], missing: result.missing };
}

function callFor(key: string, request: FanoutRequest, send: ContextFetch): CallSpec<unknown> {
  const where = `requests[${JSON.stringify(key)}]`;
  if (typeof request === "string" || request instanceof URL) {
    return { run: (ctx) => fetchPart(ctx, send, request, undefined, "json") };
  }
  if (typeof request !== "object" || request === null) {
    throw invalidType(
      `${FN}: ${where} must be a URL or { url, init?, optional?, ... }, got ${describeValue(request)}`,
    );
  }
  readOptions(request, FN, REQUEST_KEYS as never[]); // refuses a misspelt option
  const { url, init, read = "json", ...spec } = request;
  if (typeof url !== "string" && !(url instanceof URL)) {
    throw invalidType(
      `${FN}: ${where}.url must be a URL string or a URL, got ${describeValue(url)}`,
    );
  }
  if (read !== "json" && read !== "text" && typeof read !== "function") {
    throw invalidType(
      `${FN}: ${where}.read must be "json", "text" or a function (res) => body, got ${describeValue(read)}`,
    );
  }
  return { ...spec, run: (ctx) => fetchPart(ctx, send, url, init, read) };
}

async function fetchPart(
  ctx: Context,
  send: ContextFetch,
  url: string | URL,
  init: FetchInit | undefined,
  read: BodyReader,
): Promise<unknown> {
  const res = await send(ctx, url, init);
  if (res.status < 200 || res.status > 299) {
    await res.body?.cancel().catch(() => undefined); // the connection goes back to the pool
    throw new UpstreamStatusError(res.status, String(url));
  }
  if (read === "json") return res.json();
  if (read === "text") return res.text();
  return read(res);
}
