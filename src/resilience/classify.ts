// One answer to "what does this failure say about the dependency?", used by every policy that
// decides on it: retry (try again?), adaptive throttle and adaptive concurrency (is it
// overloaded?). A failure that says "busy or unreachable" (a reset or refused connection, a
// 429/502/503/504, gRPC UNAVAILABLE, an attempt's own timeout) is both transient and an overload
// signal; a refusal of one of timebound's own policies (an open breaker, a full bulkhead, a rate
// limit) is an overload signal but not transient: retrying it at once meets the same refusal.
// Errors are recognised by `code`, never by class name, so copies of the library agree.
import { isDeadlineExceeded } from "../core/index.js";

/**
 * How a call settled, as the policies that learn from outcomes see it (`adaptiveThrottle`'s
 * `isAccepted`, `adaptiveConcurrency`'s `isDropped`).
 */
export type CallOutcome =
  | {
      /** The call resolved. */
      readonly ok: true;
      /** What it resolved with. */
      readonly value: unknown;
    }
  | {
      /** The call rejected. */
      readonly ok: false;
      /** What it rejected with. */
      readonly error: unknown;
    };

/** Node's and undici's codes for a connection that failed or a peer that did not answer. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
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
const NETWORK_NAMES: ReadonlySet<string> = new Set([
  "ConnectTimeoutError",
  "SocketError",
  "HeadersTimeoutError",
  "BodyTimeoutError",
]);

/** Refusals of timebound's own policies: the dependency (or our view of it) is saturated. */
const REFUSAL_CODES: ReadonlySet<string> = new Set([
  "TIMEBOUND_ERR_BROKEN_CIRCUIT",
  "TIMEBOUND_ERR_BULKHEAD_REJECTED",
  "TIMEBOUND_ERR_RATE_LIMITED",
  "TIMEBOUND_ERR_CONCURRENCY_LIMIT",
  "TIMEBOUND_ERR_THROTTLED",
]);

/** gRPC DEADLINE_EXCEEDED (4), RESOURCE_EXHAUSTED (8), UNAVAILABLE (14). */
const GRPC_BUSY_CODES: ReadonlySet<number> = new Set([4, 8, 14]);

/** How deep a chain of `cause`s is followed (fetch wraps the socket error in a TypeError). */
const MAX_CAUSE_DEPTH = 4;

/** @internal HTTP statuses that mean "too busy or unreachable": 429, 502, 503, 504. */
export function isOverloadStatus(status: unknown): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}

/**
 * Whether `error` is a transient failure: a connection reset, refused or timed out (Node's
 * `ECONNRESET`, `ECONNREFUSED`, `EPIPE`, `ETIMEDOUT`... and undici's `UND_ERR_SOCKET`,
 * `UND_ERR_CONNECT_TIMEOUT`...), anywhere in its chain of `cause`s or in an AggregateError's
 * `errors`; an error carrying an HTTP status (`status` or `statusCode`, on itself or its
 * `response`) of 429, 502, 503 or 504; a gRPC status UNAVAILABLE, RESOURCE_EXHAUSTED or
 * DEADLINE_EXCEEDED (numeric `code` 14, 8, 4); or a timeout (`DeadlineExceeded`, any error named
 * "TimeoutError"). {@link retry} calls it only while the caller's context is live, so a
 * `DeadlineExceeded` it sees is an attempt's own timeout, never the caller's. The refusals of
 * timebound's own policies (`TIMEBOUND_ERR_BROKEN_CIRCUIT`, `TIMEBOUND_ERR_BULKHEAD_REJECTED`...)
 * are not transient: another attempt now would meet the same refusal. Never throws.
 *
 * @example
 * ```ts
 * class LockTimeout extends Error {}
 * const policy = retry({ retryOn: (err) => isTransientError(err) || err instanceof LockTimeout });
 * ```
 */
export function isTransientError(error: unknown): boolean {
  try {
    return busyOrUnreachable(error, 0, false);
  } catch {
    return false; // a getter that throws, a revoked proxy: not something to retry on
  }
}

/**
 * @internal Whether `error` says the dependency is overloaded or unreachable: a transient error
 * ({@link isTransientError}) or a refusal of one of timebound's own policies (by code:
 * `TIMEBOUND_ERR_BROKEN_CIRCUIT`, `_BULKHEAD_REJECTED`, `_RATE_LIMITED`, `_CONCURRENCY_LIMIT`,
 * `_THROTTLED`). The caller checks first that its own context has not ended, since the caller's
 * own deadline says nothing about the dependency. Never throws.
 */
export function isOverloadError(error: unknown): boolean {
  try {
    return busyOrUnreachable(error, 0, true);
  } catch {
    return false; // says nothing about load
  }
}

function busyOrUnreachable(error: unknown, depth: number, refusals: boolean): boolean {
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
  const code = e.code;
  if (typeof code === "string") {
    if (NETWORK_CODES.has(code)) return true;
    if (refusals && REFUSAL_CODES.has(code)) return true;
  } else if (typeof code === "number" && GRPC_BUSY_CODES.has(code)) return true;
  const name = e.name;
  if (typeof name === "string" && (name === "TimeoutError" || NETWORK_NAMES.has(name))) return true;
  if (hasOverloadStatus(e) || hasOverloadStatus(e.response)) return true;
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) if (busyOrUnreachable(inner, depth + 1, refusals)) return true;
  }
  return busyOrUnreachable(e.cause, depth + 1, refusals);
}

function hasOverloadStatus(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const { status, statusCode } = value as { status?: unknown; statusCode?: unknown };
  return isOverloadStatus(typeof status === "number" ? status : statusCode);
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
    return isOverloadStatus((value as { status?: unknown }).status) && "headers" in value;
  } catch {
    return false;
  }
}

/**
 * @internal Whether a value a call resolved with says the dependency is overloaded (fetch
 * resolves with a 503): an object whose `status` is 429, 502, 503 or 504. Never throws.
 */
export function isOverloadResponse(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  try {
    return isOverloadStatus((value as { status?: unknown }).status);
  } catch {
    return false;
  }
}
