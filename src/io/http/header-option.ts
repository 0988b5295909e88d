// The deadline header option, shared by the client and server options: the one check of
// timebound/http that the shared validator cannot express (an HTTP header name).
import { describeValue, invalidType } from "../../core/internal.js";
import { DEFAULT_DEADLINE_HEADER } from "./deadline-header.js";

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
