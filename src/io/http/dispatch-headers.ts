import type { Dispatcher } from "undici";

type Headers = Dispatcher.DispatchOptions["headers"];
type HeaderValue = string | string[] | undefined;

/**
 * undici's dispatch headers with `name` (lower case) set to `value`, replacing any header of that
 * name in any case. undici accepts a flat `[name, value, ...]` array, an iterable of pairs or a
 * plain object; the result keeps the caller's form where it can and never mutates the input.
 */
export function setDispatchHeader(headers: Headers, name: string, value: string): Headers {
  if (headers === null || headers === undefined) return { [name]: value };
  if (Array.isArray(headers)) {
    const out: string[] = [];
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const key = headers[i]!;
      if (key.toLowerCase() !== name) out.push(key, headers[i + 1]!);
    }
    out.push(name, value);
    return out;
  }
  const out: Record<string, HeaderValue> = {};
  const entries: Iterable<readonly [string, HeaderValue]> =
    Symbol.iterator in headers
      ? (headers as Iterable<[string, HeaderValue]>)
      : Object.entries(headers as Record<string, HeaderValue>);
  for (const [key, v] of entries) {
    if (key.toLowerCase() !== name) out[key] = v;
  }
  out[name] = value;
  return out as Headers;
}
