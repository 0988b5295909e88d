import { encodeTimeout } from "./deadline-header.js";

type HeadersInit = ConstructorParameters<typeof Headers>[0];

/**
 * The request headers with `name` set to the time left, replacing a header of that name in any
 * case. A plain object (the common case) is copied as a plain object, which costs fetch nothing
 * more than the caller's own headers; a Headers object, an array of pairs or a Request's headers
 * go through a Headers copy. Never mutates what it was given.
 */
export function withTimeLeft(
  given: HeadersInit | undefined,
  fromRequest: Headers | undefined,
  name: string,
  remainingMs: number,
): HeadersInit {
  const value = encodeTimeout(remainingMs);
  const base = given ?? fromRequest;
  if (base === undefined) return { [name]: value };
  if (isPlainRecord(base)) {
    const out: Record<string, string> = {};
    for (const key in base) {
      if (key.length !== name.length || key.toLowerCase() !== name) out[key] = base[key]!;
    }
    out[name] = value;
    return out;
  }
  const headers = new Headers(base);
  headers.set(name, value);
  return headers;
}

function isPlainRecord(value: HeadersInit): value is Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
