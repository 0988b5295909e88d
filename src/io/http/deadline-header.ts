// The time left travels as a duration in gRPC's `grpc-timeout` encoding (an integer of at most
// 8 digits and one unit letter), never as a wall-clock instant: the two hosts' clocks need not
// agree, and the encoding is one that proxies and gRPC tooling already know.

/**
 * The header that carries the time left, unless configured otherwise: `timebound-timeout`.
 * It uses gRPC's encoding but not gRPC's name, so that gRPC-aware proxies (Envoy, gRPC-web
 * gateways) never mistake a plain HTTP request for a gRPC call; pass `header: "grpc-timeout"`
 * where such a proxy should see and enforce it.
 */
export const DEFAULT_DEADLINE_HEADER = "timebound-timeout";

import { checkMs } from "../../core/internal.js";

/** Any number of ms: zero or less encodes as "0m", Infinity as the longest duration. */
const ANY_MS = { min: -Infinity, max: Infinity, infinity: true } as const;

/**
 * Envoy's header for the time a request has left, in plain milliseconds (an integer, no unit).
 * The one deadline header whose encoding is not gRPC's.
 */
export const ENVOY_TIMEOUT_HEADER = "x-envoy-expected-rq-timeout-ms";

/**
 * The deadline headers a server reads unless told otherwise: timebound's own, gRPC's and
 * Envoy's. The earliest deadline they give wins.
 */
export const DEADLINE_HEADERS: readonly string[] = Object.freeze([
  DEFAULT_DEADLINE_HEADER,
  "grpc-timeout",
  ENVOY_TIMEOUT_HEADER,
]);

/** Largest value the encoding allows: 8 digits. */
const MAX_VALUE = 99_999_999;

/** Unit letters and their length in ms, finest first. */
const UNIT_MS: Readonly<Record<string, number>> = {
  n: 1e-6,
  u: 1e-3,
  m: 1,
  S: 1000,
  M: 60_000,
  H: 3_600_000,
};

/** Units for durations too long for 8 digits of ms, finest first. */
const COARSER = ["S", "M", "H"] as const;

const TIMEOUT = /^(\d{1,8})([HMSmun])$/;

/**
 * A deadline further away than this (2^31 - 1 ms, about 24.8 days) is not sent: grpc-js servers
 * read a `grpc-timeout` into a 32-bit integer, and a larger one wraps (a 30-day budget arrives
 * negative and fails the call at once); and a budget of weeks bounds nothing a server does.
 * The caller's context still ends the request when it ends.
 */
export const MAX_SENT_DEADLINE_MS = 2 ** 31 - 1;

/**
 * The header value for `remainingMs` left, less `marginMs`, or undefined when no deadline is to
 * be sent (none, or more than {@link MAX_SENT_DEADLINE_MS} away).
 *
 * @internal
 */
export function timeLeftValue(remainingMs: number, marginMs: number): string | undefined {
  return remainingMs > MAX_SENT_DEADLINE_MS ? undefined : encodeTimeout(remainingMs - marginMs);
}

/**
 * Encodes a duration for the deadline header, rounding down (the receiver must never believe it
 * has more time than the sender): whole milliseconds (`"250m"`), microseconds below 1 ms
 * (`"700u"`), and seconds, minutes or hours when the milliseconds would need more than 8 digits.
 * Negative durations encode as `"0m"`.
 *
 * @example
 * ```ts
 * encodeTimeout(250);      // "250m"
 * encodeTimeout(0.7);      // "700u"
 * encodeTimeout(2 ** 31);  // "2147483S"
 * ```
 */
export function encodeTimeout(ms: number): string {
  checkMs(ms, "encodeTimeout", "ms", ANY_MS);
  if (!(ms > 0)) return "0m";
  if (ms < 1) return `${Math.floor(ms * 1000)}u`;
  if (ms <= MAX_VALUE) return `${Math.floor(ms)}m`; // every deadline under 27 hours
  for (const unit of COARSER) {
    const value = Math.floor(ms / UNIT_MS[unit]!);
    if (value <= MAX_VALUE) return `${value}${unit}`;
  }
  return `${MAX_VALUE}H`;
}

/**
 * Parses a deadline header into milliseconds, or `undefined` when it is absent or malformed
 * (anything but 1 to 8 digits followed by one of `H M S m u n`: signs, fractions, spaces
 * inside, unknown units and empty values are all malformed). A list (`"250m, 1S"`, or the
 * repeated header as an array) gives its shortest duration, and is malformed if any item is.
 * The result is not clamped: the server decides how much it trusts a caller.
 *
 * @example
 * ```ts
 * parseTimeout("250m");    // 250
 * parseTimeout("1S, 90m"); // 90
 * parseTimeout("-5m");     // undefined
 * ```
 */
export function parseTimeout(value: string | readonly string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") {
    let shortest: number | undefined;
    for (const item of value) {
      const ms = parseTimeout(item);
      if (ms === undefined) return undefined;
      shortest = shortest === undefined ? ms : Math.min(shortest, ms);
    }
    return shortest;
  }
  if (value.includes(",")) return parseTimeout(value.split(","));
  const match = TIMEOUT.exec(value.trim());
  if (match === null) return undefined;
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

/** Envoy's value: 1 to 10 digits of milliseconds, nothing else. */
const ENVOY_MS = /^\d{1,10}$/;

/**
 * The shortest time left that the deadline headers `names` give a request, in ms, or undefined
 * when none gives a well-formed one. `x-envoy-expected-rq-timeout-ms` is read as plain
 * milliseconds, every other header in gRPC's encoding ({@link parseTimeout}); a malformed value
 * is ignored, never trusted. Not clamped: the server decides how much it trusts a caller.
 *
 * @example
 * ```ts
 * const left = timeLeftFromHeaders(req.headers, DEADLINE_HEADERS); // e.g. 250, or undefined
 * ```
 */
export function timeLeftFromHeaders(
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
  names: readonly string[],
): number | undefined {
  let least: number | undefined;
  // Indexed: on every request, for...of here allocated an iterator result per name (160 bytes).
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const value = headers[name];
    if (value === undefined) continue;
    let ms: number | undefined;
    if (name === ENVOY_TIMEOUT_HEADER) {
      ms = typeof value === "string" && ENVOY_MS.test(value.trim()) ? Number(value) : undefined;
    } else ms = parseTimeout(value);
    if (ms !== undefined && (least === undefined || ms < least)) least = ms;
  }
  return least;
}
