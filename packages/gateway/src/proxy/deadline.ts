// The time left a caller grants, read from every deadline header the gateway is told to trust;
// the earliest wins, and a malformed value is ignored (never trusted, never fatal).
import type { IncomingHttpHeaders } from "node:http";
import { parseTimeout } from "timebound/http";

const ENVOY_MS = /^\d{1,10}$/;

/** The smallest time left the headers give, in ms, or undefined when none gives one. */
export function callerTimeLeft(
  headers: IncomingHttpHeaders,
  names: readonly string[],
): number | undefined {
  let least: number | undefined;
  for (const name of names) {
    const value = headers[name];
    if (value === undefined) continue;
    let ms: number | undefined;
    if (name === "x-envoy-expected-rq-timeout-ms") {
      ms = typeof value === "string" && ENVOY_MS.test(value) ? Number(value) : undefined;
    } else {
      ms = parseTimeout(value);
    }
    if (ms !== undefined && (least === undefined || ms < least)) least = ms;
  }
  return least;
}
