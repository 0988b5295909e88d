// What an outcome says about the dependency's load: an error that means "too busy, or not
// reachable" (connection refused or reset, 429/502/503/504, gRPC UNAVAILABLE or
// RESOURCE_EXHAUSTED, a timeout, another policy's refusal) rather than "your request was
// wrong". Adaptive throttling and adaptive concurrency read load from these; a 404 or a
// validation error says nothing about load.

/**
 * How a call settled, as the policies that learn from outcomes see it (`adaptiveThrottle`'s
 * `isAccepted`, `adaptiveConcurrency`'s `isDropped`).
 */
export type CallOutcome =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** Node's and undici's codes for a connection that failed or a peer that did not answer. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_SOCKET",
]);

/** Refusals of timebound's own flow-control policies (a shed call is a load signal too). */
const REFUSAL_CODES = new Set([
  "TIMEBOUND_ERR_BULKHEAD_REJECTED",
  "TIMEBOUND_ERR_RATE_LIMITED",
  "TIMEBOUND_ERR_CONCURRENCY_LIMIT",
  "TIMEBOUND_ERR_THROTTLED",
]);

/** @internal HTTP statuses that mean "too busy or unreachable": 429, 502, 503, 504. */
export function isOverloadStatus(status: unknown): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}

/** gRPC DEADLINE_EXCEEDED (4), RESOURCE_EXHAUSTED (8), UNAVAILABLE (14). */
function isOverloadGrpcCode(code: unknown): boolean {
  return code === 4 || code === 8 || code === 14;
}

function read(value: object, key: string): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined; // a getter that throws says nothing about load
  }
}

/**
 * @internal Whether `error` says the dependency is overloaded or unreachable. A timeout
 * (`DeadlineExceeded`, any error named "TimeoutError") counts: the caller checks first that
 * its own context has not ended, since the caller's own deadline says nothing about the
 * dependency. Looks one level into `cause` (fetch's "fetch failed" carries the socket error
 * there). Never throws.
 */
export function isOverloadError(error: unknown): boolean {
  return (
    overloadIn(error) ||
    (typeof error === "object" && error !== null && overloadIn(read(error, "cause")))
  );
}

function overloadIn(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const code = read(error, "code");
  if (typeof code === "string" && (NETWORK_CODES.has(code) || REFUSAL_CODES.has(code))) return true;
  if (typeof code === "number" && isOverloadGrpcCode(code)) return true;
  const name = read(error, "name");
  if (name === "TimeoutError" || name === "BrokenCircuitError") return true;
  return isOverloadStatus(read(error, "status")) || isOverloadStatus(read(error, "statusCode"));
}

/**
 * @internal Whether a value a call resolved with is a response that says the same (fetch
 * resolves with a 503): an object whose numeric `status` is 429, 502, 503 or 504. Never throws.
 */
export function isOverloadResponse(value: unknown): boolean {
  return typeof value === "object" && value !== null && isOverloadStatus(read(value, "status"));
}
