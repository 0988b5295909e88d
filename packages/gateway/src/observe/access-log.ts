// Structured access logs (pino, one JSON line per request) with how the request ended and the
// time its deadline had left when the answer went out.
import { pino, type Logger } from "pino";
import type { RequestRecord } from "../gateway.js";

/** A logger for the gateway: JSON lines on `destination` (default stdout). */
export function createLogger(destination?: NodeJS.WritableStream): Logger {
  return pino(
    { base: undefined, timestamp: pino.stdTimeFunctions.isoTime },
    destination ?? process.stdout,
  );
}

/** Logs one request. */
export function logRequest(log: Logger, r: RequestRecord): void {
  log.info(
    {
      requestId: r.requestId,
      route: r.route,
      upstream: r.upstream,
      method: r.method,
      path: r.path,
      status: r.status,
      reason: r.reason,
      durationMs: Math.round(r.durationMs * 100) / 100,
      timeLeftMs: r.timeLeftMs === undefined ? undefined : Math.round(r.timeLeftMs),
      attempts: r.attempts,
      missing: r.missing?.map((m) => `${m.part}:${m.reason}`),
    },
    "request",
  );
}
