// What "transient" means for retry's default: failures that another attempt may not meet (a
// connection reset, an overloaded upstream), as opposed to answers that would come back the same.
import { isDeadlineExceeded } from "../core/index.js";

/** Error codes of connection failures worth another attempt (Node's and undici's). */
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CLOSED",
]);

/** undici's error class names, for errors that lost their code on the way. */
const TRANSIENT_NAMES: ReadonlySet<string> = new Set([
  "ConnectTimeoutError",
  "SocketError",
  "HeadersTimeoutError",
  "BodyTimeoutError",
]);

/** HTTP statuses that say "try again": too many requests, bad gateway, unavailable, gateway timeout. */
const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** How deep a chain of `cause`s is followed (fetch wraps the socket error in a TypeError). */
const MAX_CAUSE_DEPTH = 4;

/**
 * Whether `error` is a transient failure: a connection reset, refused or timed out (Node's
 * `ECONNRESET`, `ECONNREFUSED`, `EPIPE`, `ETIMEDOUT`... and undici's `UND_ERR_SOCKET`,
 * `UND_ERR_CONNECT_TIMEOUT`...), anywhere in its chain of `cause`s or in an AggregateError's
 * `errors`; an error carrying an HTTP status (`status` or `statusCode`, on itself or its
 * `response`) of 429, 502, 503 or 504; or a `DeadlineExceeded`. {@link retry} calls it only while
 * the caller's context is live, so a `DeadlineExceeded` it sees is an attempt's own timeout,
 * never the caller's. Never throws.
 *
 * @example
 * ```ts
 * class LockTimeout extends Error {}
 * const policy = retry({ retryOn: (err) => isTransientError(err) || err instanceof LockTimeout });
 * ```
 */
export function isTransientError(error: unknown): boolean {
  try {
    return transient(error, 0);
  } catch {
    return false; // a getter that throws, a revoked proxy: not something to retry on
  }
}

function transient(error: unknown, depth: number): boolean {
  if (typeof error !== "object" || error === null || depth > MAX_CAUSE_DEPTH) return false;
  if (isDeadlineExceeded(error)) return true;
  const e = error as {
    code?: unknown;
    name?: unknown;
    status?: unknown;
    statusCode?: unknown;
    response?: unknown;
    errors?: unknown;
    cause?: unknown;
  };
  if (typeof e.code === "string" && TRANSIENT_CODES.has(e.code)) return true;
  if (typeof e.name === "string" && TRANSIENT_NAMES.has(e.name)) return true;
  if (hasTransientStatus(e) || hasTransientStatus(e.response)) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => transient(inner, depth + 1))) return true;
  return transient(e.cause, depth + 1);
}

function hasTransientStatus(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const { status, statusCode } = value as { status?: unknown; statusCode?: unknown };
  const code = typeof status === "number" ? status : statusCode;
  return typeof code === "number" && TRANSIENT_STATUSES.has(code);
}

/**
 * Whether `value`, a call's result, is a Response-like answer (`{ status, headers }`, such as
 * fetch's Response) whose status is 429, 502, 503 or 504. Never throws.
 *
 * @example
 * ```ts
 * const isEmpty = (res: unknown) => res instanceof Response && res.status === 204;
 * const policy = retry({ retryOnResult: (res) => isTransientResult(res) || isEmpty(res) });
 * ```
 */
export function isTransientResult(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  try {
    const status = (value as { status?: unknown }).status;
    return typeof status === "number" && TRANSIENT_STATUSES.has(status) && "headers" in value;
  } catch {
    return false;
  }
}

/** Retry-After beyond a day is nonsense (or a date typed wrong): treated as absent. */
const MAX_RETRY_AFTER_MS = 24 * 3600 * 1000;

/**
 * The wait an answer asks for in its `Retry-After` header, in ms: delay-seconds ("120") or an
 * HTTP date ("Wed, 21 Oct 2026 07:28:00 GMT"), read from a Response-like value or an error that
 * carries one (`headers`, or `response.headers`); undefined when there is none or it cannot be
 * read. A date in the past gives 0. Never throws.
 *
 * @example
 * ```ts
 * const res = await fetch(url);
 * if (res.status === 429) console.log(`asked to wait ${retryAfterMs(res) ?? "?"} ms`);
 * ```
 */
export function retryAfterMs(source: unknown, wallNow: number = Date.now()): number | undefined {
  try {
    const header = retryAfterHeader(source);
    if (header === undefined) return undefined;
    const text = header.trim();
    let ms: number;
    if (/^\d+(\.\d+)?$/.test(text)) ms = Number(text) * 1000;
    else {
      const at = Date.parse(text);
      if (Number.isNaN(at)) return undefined;
      ms = Math.max(0, at - wallNow);
    }
    return ms <= MAX_RETRY_AFTER_MS ? ms : undefined;
  } catch {
    return undefined;
  }
}

function retryAfterHeader(source: unknown): string | undefined {
  if (typeof source !== "object" || source === null) return undefined;
  const s = source as { headers?: unknown; response?: { headers?: unknown } };
  return headerValue(s.headers) ?? headerValue(s.response?.headers);
}

function headerValue(headers: unknown): string | undefined {
  if (typeof headers !== "object" || headers === null) return undefined;
  const h = headers as { get?: unknown } & Record<string, unknown>;
  const raw: unknown =
    typeof h.get === "function"
      ? (h.get as (name: string) => unknown).call(headers, "retry-after")
      : (h["retry-after"] ?? h["Retry-After"]);
  if (typeof raw === "string") return raw;
  if (typeof raw === "number") return String(raw);
  if (Array.isArray(raw) && typeof raw[0] === "string") return raw[0];
  return undefined;
}
