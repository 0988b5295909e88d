import { types } from "node:util";
import type { Context } from "./context.js";

/** Why a context ended: canceled (by `cancel()` or an adopted signal) or its deadline passed. */
export type EndReason = "canceled" | "deadline";

/** What is known about one context in an explanation. */
export interface ContextInfo {
  /** The name given at creation, if any. */
  readonly name: string | undefined;
  /** The name, or how it was made (`withTimeout(2000 ms)`) when it has none. */
  readonly label: string;
  /** Monotonic creation time ({@link now}). */
  readonly createdAt: number;
  /** Its own timeout in ms (own deadline minus creation time), if it set one. */
  readonly timeoutMs: number | undefined;
  /**
   * `file:line:column` of the code that created it; only recorded while tracking is on. Never
   * part of a message: a handler that echoes `err.message` must not send server paths to a client.
   */
  readonly site: string | undefined;
}

/** The context where an end started, seen from a context it reached. */
export interface EndOrigin {
  /** The context that ended first: this one, or an ancestor. */
  readonly context: ContextInfo;
  /** Whether it was canceled or its deadline passed. */
  readonly reason: EndReason;
  /** 0 when the context ended itself, 1 for its parent, and so on. */
  readonly depth: number;
  /** How long after its creation the origin ended, in ms. */
  readonly atMs: number;
}

/**
 * Structured answer to "why did this context end?", as returned by {@link explain}.
 * Times are monotonic milliseconds ({@link now}); durations are rounded to 0.1 ms.
 */
export interface Explanation {
  /** The context explained. */
  readonly context: ContextInfo;
  /** Still live, or how it ended (its error: `Canceled` or `DeadlineExceeded`). */
  readonly state: "live" | "canceled" | "deadline-exceeded";
  /** Effective deadline (its own or an ancestor's, whichever is earlier). */
  readonly deadline: number | undefined;
  /** Time left, for a live context. */
  readonly remainingMs: number | undefined;
  /** When it ended; undefined while live. */
  readonly endedAt: number | undefined;
  /** How long it lived, from creation to end. */
  readonly lifetimeMs: number | undefined;
  /** How long before its own deadline it ended, when something else ended it first. */
  readonly earlyByMs: number | undefined;
  /** How late the deadline timer that ended it fired (event loop busy). */
  readonly lateByMs: number | undefined;
  /** Whether an explicit cause was given; `cause` holds it. */
  readonly hasCause: boolean;
  /** The explicit cause (`cancel(cause)`, `withTimeoutCause`...); undefined when none was given. */
  readonly cause: unknown;
  /** Where the end started (this context or an ancestor); undefined while live. */
  readonly origin: EndOrigin | undefined;
  /** One sentence that says all of the above. */
  readonly message: string;
}

/** A deadline that fires at least this late is called late in messages (lateByMs is always set). */
export const LATE_NOTICE_MS = 10;

/**
 * Explains why a context ended (or how long it has left), naming the ancestor that ended it,
 * its deadline, how early that was relative to this context's own deadline, and the cause.
 *
 * @example
 * ```ts
 * using parent = withTimeout(background(), 1500, { name: "request" });
 * using child = withTimeout(parent, 2000, { name: "inventory" });
 * await child.done;
 * explain(child).message;
 * // context "inventory" (timeout 2000 ms) ended 500 ms before its own deadline:
 * //   the deadline of ancestor "request" (timeout 1500 ms) passed
 * ```
 */
export function explain(ctx: Context): Explanation {
  const explainable = ctx as unknown as { _explain?: () => Explanation } | null | undefined;
  if (typeof explainable?._explain !== "function") {
    throw new TypeError(`explain: expected a timebound Context, got ${describeValue(ctx)}`);
  }
  return explainable._explain();
}

/**
 * Builds the one-sentence message from the structured facts (without `message`). Creation sites
 * stay out of it (they are in `context.site` and `origin.context.site`).
 */
export function formatExplanation(e: Omit<Explanation, "message">): string {
  const self = `context ${quoteLabel(e.context)}${timeoutNote(e.context)}`;
  if (e.state === "live") {
    const left = e.remainingMs === undefined ? "no deadline" : `${ms(e.remainingMs)} left`;
    return `${self} is live (${left})`;
  }
  const origin = e.origin;
  if (origin === undefined) return `${self} ended`;
  const causeNote = e.hasCause ? ` (cause: ${describeValue(e.cause)})` : "";
  const lateNote =
    e.lateByMs !== undefined && e.lateByMs >= LATE_NOTICE_MS
      ? `; the deadline timer fired ${ms(e.lateByMs)} late: the event loop was blocked`
      : "";
  if (origin.depth === 0) {
    const what =
      origin.reason === "deadline"
        ? "exceeded its deadline"
        : `was canceled after ${ms(origin.atMs)}`;
    return `${self} ${what}${causeNote}${lateNote}`;
  }
  const verb = e.state === "canceled" ? "was canceled" : "ended";
  const early = e.earlyByMs !== undefined ? ` ${ms(e.earlyByMs)} before its own deadline` : "";
  const ancestor = `ancestor ${quoteLabel(origin.context)}`;
  const why =
    origin.reason === "deadline"
      ? `the deadline of ${ancestor}${timeoutNote(origin.context)} passed`
      : `${ancestor} was canceled ${ms(origin.atMs)} after it was created`;
  return `${self} ${verb}${early}: ${why}${causeNote}${lateNote}`;
}

function quoteLabel(info: ContextInfo): string {
  return info.name === undefined ? info.label : JSON.stringify(info.name);
}

function timeoutNote(info: ContextInfo): string {
  return info.timeoutMs === undefined ? "" : ` (timeout ${ms(info.timeoutMs)})`;
}

/** Milliseconds for people: whole numbers above 10 ms, one decimal below. */
export function ms(value: number): string {
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
