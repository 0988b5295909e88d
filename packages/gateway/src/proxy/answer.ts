// The answers the gateway makes itself. Each has a small JSON body with the reason, the route and
// the request id, so that a client, a log and an on-call engineer read the same verdict.
import type { ServerResponse } from "node:http";

/** Why the gateway answered itself; also the `reason` label of its metrics and logs. */
export type GatewayReason =
  | "bad-request"
  | "not-found"
  | "body-too-large"
  | "rate-limited"
  | "deadline-exceeded"
  | "circuit-open"
  | "overloaded"
  | "upstream-failed"
  | "shutting-down";

const STATUS: Readonly<Record<GatewayReason, number>> = {
  "bad-request": 400,
  "not-found": 404,
  "body-too-large": 413,
  "rate-limited": 429,
  "deadline-exceeded": 504,
  "circuit-open": 503,
  overloaded: 503,
  "upstream-failed": 502,
  "shutting-down": 503,
};

/** The status the gateway answers with for `reason`. */
export function statusOf(reason: GatewayReason): number {
  return STATUS[reason];
}

/**
 * Writes the gateway's own answer, unless a response already started (then the connection is
 * cut: a half-sent answer must not pass for a complete one).
 */
export function answer(
  res: ServerResponse,
  reason: GatewayReason,
  detail: {
    route: string | undefined;
    requestId: string;
    message: string;
    retryAfterS?: number;
    /** More fields for the body (an aggregation's `missing` parts). */
    extra?: Readonly<Record<string, unknown>>;
  },
  /** The status, when not the reason's usual one (an aggregation's 504). */
  status: number = STATUS[reason],
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({
    error: reason,
    message: detail.message,
    route: detail.route ?? null,
    requestId: detail.requestId,
    ...detail.extra,
  });
  const headers: Record<string, string | number> = {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    "x-request-id": detail.requestId,
    "cache-control": "no-store",
  };
  if (detail.retryAfterS !== undefined)
    headers["retry-after"] = Math.max(1, Math.ceil(detail.retryAfterS));
  res.writeHead(status, headers);
  res.end(body);
}
