import type { Dispatcher } from "undici";
import { isPlainObject, recordWith } from "./request-headers.js";

/** @internal The headers of undici's dispatch options. */
export type DispatchHeaders = Dispatcher.DispatchOptions["headers"];
type HeaderValue = string | string[] | undefined;

/**
 * undici's dispatch headers with `name` (lower case) set to `value`, replacing any header of that
 * name in any case. undici accepts a flat `[name, value, ...]` array, an iterable of pairs or a
 * plain object; the result keeps the caller's form where it can and never mutates the input.
 *
 * @internal
 */
export function setDispatchHeader(
  headers: DispatchHeaders,
  name: string,
  value: string,
): DispatchHeaders {
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
  if (!(Symbol.iterator in headers)) {
    return recordWith(headers as Record<string, HeaderValue>, name, value) as DispatchHeaders;
  }
  const out: Record<string, HeaderValue> = {};
  for (const [key, v] of headers as Iterable<[string, HeaderValue]>) {
    if (key.toLowerCase() !== name) out[key] = v;
  }
  out[name] = value;
  return out as DispatchHeaders;
}

/**
 * {@link setDispatchHeader} for headers made afresh for this one request (fetch's): a plain
 * object is updated in place, saving a copy on every request; any other form is copied.
 *
 * @internal
 */
export function putDispatchHeader(
  headers: DispatchHeaders,
  name: string,
  value: string,
): DispatchHeaders {
  if (!isPlainObject(headers)) return setDispatchHeader(headers, name, value);
  const record = headers as Record<string, HeaderValue>;
  for (const key in record) {
    if (key.length === name.length && key !== name && key.toLowerCase() === name) {
      delete record[key]; // the caller's header of that name, in another case
    }
  }
  record[name] = value;
  return record as DispatchHeaders;
}
