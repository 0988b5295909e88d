// Validation shared by the client and server options: each bad value is reported with the
// function and the option that received it.
import { describeValue } from "../../core/internal.js";
import { DEFAULT_DEADLINE_HEADER } from "./deadline-header.js";

/** An HTTP header name (RFC 9110 token). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The options object itself: `undefined` or a plain object. */
export function optionsObject<T extends object>(value: T | undefined, fn: string): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null) {
    throw new TypeError(`${fn}: options must be an object, got ${describeValue(value)}`);
  }
  return value;
}

/**
 * `options.header`: a header name (lower-cased, as Node presents incoming headers), `false` for
 * none, or the default when undefined.
 */
export function headerOption(value: unknown, fn: string): string | false {
  if (value === undefined) return DEFAULT_DEADLINE_HEADER;
  if (value === false) return false;
  if (typeof value !== "string" || !TOKEN.test(value)) {
    throw new TypeError(
      `${fn}: options.header must be a header name or false, got ${describeValue(value)}`,
    );
  }
  return value.toLowerCase();
}

/**
 * A duration option in ms within `[min, max]` (`max` may be Infinity), or `fallback`; with
 * `orInfinity`, Infinity too (for "never").
 */
export function msOption(
  value: unknown,
  fn: string,
  name: string,
  fallback: number,
  min: number,
  max: number,
  orInfinity = false,
): number {
  if (value === undefined) return fallback;
  if (orInfinity && value === Infinity) return value;
  if (typeof value !== "number" || Number.isNaN(value) || value < min || value > max) {
    const range = `${min} to ${max === Infinity ? "Infinity" : max}${orInfinity ? ", or Infinity" : ""}`;
    throw new RangeError(
      `${fn}: options.${name} must be a number of ms from ${range}, got ${describeValue(value)}`,
    );
  }
  return value;
}
