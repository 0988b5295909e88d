type HeadersInit = ConstructorParameters<typeof Headers>[0];

/**
 * The request headers with `name` set to `value` (the time left, encoded), replacing a header
 * of that name in any case. A plain object (the common case) is copied as a plain object, which costs fetch nothing
 * more than the caller's own headers; a Headers object, an array of pairs or a Request's headers
 * go through a Headers copy. Never mutates what it was given.
 *
 * @internal
 */
export function withTimeLeft(
  given: HeadersInit | undefined,
  fromRequest: Headers | undefined,
  name: string,
  value: string,
): HeadersInit {
  const base = given ?? fromRequest;
  if (base === undefined) return { [name]: value };
  if (isPlainObject(base)) return recordWith(base as Record<string, string>, name, value);
  const headers = new Headers(base);
  headers.set(name, value);
  return headers;
}

/**
 * A copy of the plain object `headers` with `name` (lower case) set to `value`, and any key that
 * is `name` in another case left out.
 *
 * @internal
 */
export function recordWith<V>(
  headers: Readonly<Record<string, V>>,
  name: string,
  value: string,
): Record<string, V | string> {
  const out: Record<string, V | string> = {};
  for (const key in headers) {
    // Only a key of the same length can be the name: skip lower-casing the others.
    if (key.length !== name.length || key.toLowerCase() !== name) out[key] = headers[key]!;
  }
  out[name] = value;
  return out;
}

/**
 * @internal An object literal (or one made with a null prototype): not a Headers, an array or a
 * Map.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
