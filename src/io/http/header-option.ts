// The deadline header option, shared by the client and server options: the one check of
// timebound/http that the shared validator cannot express (an HTTP header name).
import { describeValue, invalidType } from "../../core/internal.js";
import { DEADLINE_HEADERS, DEFAULT_DEADLINE_HEADER } from "./deadline-header.js";

/** An HTTP header name (RFC 9110 token). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * @internal `options.header` of `fn`: a header name (lower-cased, as Node presents incoming
 * headers), `false` for none, or the default when undefined.
 */
export function headerOption(value: unknown, fn: string): string | false {
  if (value === undefined) return DEFAULT_DEADLINE_HEADER;
  if (value === false) return false;
  if (typeof value !== "string" || !TOKEN.test(value)) {
    throw invalidType(
      `${fn}: options.header must be a header name or false, got ${describeValue(value)}`,
    );
  }
  return value.toLowerCase();
}

/**
 * @internal `options.header` of a server-side `fn`: one header name, a list of them (the
 * earliest deadline wins), `false` for none, or {@link DEADLINE_HEADERS} when undefined.
 */
export function headerListOption(value: unknown, fn: string): readonly string[] {
  if (value === undefined) return DEADLINE_HEADERS;
  if (value === false) return [];
  if (Array.isArray(value)) {
    if (value.length === 0) {
      throw invalidType(`${fn}: options.header must list at least one header name (or be false)`);
    }
    return Object.freeze(
      value.map((name: unknown, i) => checked(name, fn, `options.header[${i}]`)),
    );
  }
  return [checked(value, fn, "options.header")];
}

function checked(value: unknown, fn: string, what: string): string {
  if (typeof value !== "string" || !TOKEN.test(value)) {
    throw invalidType(
      `${fn}: ${what} must be a header name, a list of them, or false, got ${describeValue(value)}`,
    );
  }
  return value.toLowerCase();
}
