// The path is checked before it is matched, and matched as sent: no dot segment (plain or
// percent-encoded) may walk out of a route's prefix, and nothing is decoded twice (a `%252e`
// stays the bytes `%2e` for the upstream, as the client sent it).

/** Why a request target was refused, for the 400 answer. */
export type PathProblem =
  "not an origin-form path" | "dot segment" | "encoded slash or backslash" | "control character";

const DOT_SEGMENT = /(^|\/)(\.|%2e){1,2}(\/|$)/i;
const ENCODED_SEPARATOR = /%2f|%5c|\\/i;
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f]|%00/i;

// None of the characters any of the three could match: most paths, checked in one pass.
// eslint-disable-next-line no-control-regex -- control characters are among those looked for
const SUSPECT = /[\u0000-\u001f\u007f%.\\]/;

/** The path part of a request target, or the reason it is refused. */
export function checkPath(target: string): { path: string; query: string } | PathProblem {
  if (target.charCodeAt(0) !== 47 /* "/" */) return "not an origin-form path";
  const q = target.indexOf("?");
  const path = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? "" : target.slice(q);
  if (!SUSPECT.test(path)) return { path, query };
  if (CONTROL.test(path)) return "control character";
  if (ENCODED_SEPARATOR.test(path)) return "encoded slash or backslash";
  if (DOT_SEGMENT.test(path)) return "dot segment";
  return { path, query };
}
