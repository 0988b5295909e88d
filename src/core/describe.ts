// How values and durations are written in messages: never throwing, in bounded time and size.
import { types } from "node:util";

/**
 * Milliseconds for people, in messages: whole numbers from 10 ms, one decimal below
 * (`formatMs(1234.5)` is "1235 ms", `formatMs(2.25)` is "2.3 ms").
 */
export function formatMs(value: number): string {
  const v = Math.max(0, value);
  return `${v >= 10 ? Math.round(v) : Math.round(v * 10) / 10} ms`;
}

/** Longest description {@link describeValue} gives, in characters. */
const DESCRIPTION_LIMIT = 200;
/** How deep {@link describeValue} looks into nested objects and arrays. */
const DESCRIPTION_DEPTH = 2;

/**
 * A short, safe description of any value for an error message, in bounded time and size:
 * at most {@link DESCRIPTION_LIMIT} characters, whatever the value's size (a huge object is
 * read only as far as the description goes). It never throws: a proxy is not touched, and a
 * getter that throws is described as unreadable.
 */
export function describeValue(value: unknown): string {
  let text: string;
  try {
    text = describeAny(value, 0);
  } catch {
    text = "a value that cannot be described";
  }
  return text.length > DESCRIPTION_LIMIT ? `${text.slice(0, DESCRIPTION_LIMIT - 3)}...` : text;
}

function describeAny(value: unknown, depth: number): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(
        value.length > DESCRIPTION_LIMIT ? value.slice(0, DESCRIPTION_LIMIT) : value,
      );
    case "bigint":
      return `${value}n`;
    case "symbol":
      return value.toString();
    case "function":
      return types.isProxy(value) ? "Proxy(function)" : `function ${value.name || "(anonymous)"}`;
    case "object":
      return value === null ? "null" : describeObject(value, depth);
    default:
      return String(value);
  }
}

function describeObject(value: object, depth: number): string {
  if (types.isProxy(value)) return "Proxy"; // its traps are someone else's code: never run them
  if (value instanceof Error) {
    return `${readable(() => String(value.name))}: ${readable(() => String(value.message).slice(0, DESCRIPTION_LIMIT))}`;
  }
  if (value instanceof Date) return `Date(${readable(() => value.toISOString())})`;
  const ctor = readable(() => (value as { constructor?: { name?: unknown } }).constructor?.name);
  const plain = ["Object", "undefined", "(unreadable)"].includes(ctor);
  const prefix = plain ? "" : `${ctor} `;
  if (value instanceof Map || value instanceof Set) return `${prefix}(${value.size})`;
  if (ArrayBuffer.isView(value)) return `${prefix}(${value.byteLength} bytes)`;
  const array = Array.isArray(value);
  if (depth >= DESCRIPTION_DEPTH) return `${prefix}${array ? "[…]" : "{…}"}`;
  let out = prefix + (array ? "[" : "{");
  let first = true;
  const add = (part: string): boolean => {
    out += (first ? "" : ",") + part;
    first = false;
    return out.length < DESCRIPTION_LIMIT;
  };
  if (array) {
    for (let i = 0; i < value.length && add(readable(() => describeAny(value[i], depth + 1))); i++);
  } else {
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      const item = readable(() => describeAny((value as Record<string, unknown>)[key], depth + 1));
      if (!add(`${JSON.stringify(key)}:${item}`)) break;
    }
  }
  return out + (array ? "]" : "}");
}

/** What `read` returns, or a note that it threw (a hostile getter). */
function readable(read: () => unknown): string {
  try {
    return String(read());
  } catch {
    return "(unreadable)";
  }
}
