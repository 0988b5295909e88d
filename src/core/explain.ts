// Why a context ended, in words and in structure, built from snapshots (snapshot.ts), never from
// the cancel tree's fields: anything that can be read about a context can be explained.
import { now } from "./clock.js";
import type { Context } from "./context.js";
import { describeValue, formatMs } from "./describe.js";
import { siteLocation } from "./site.js";
import { type ContextSnapshot, snapshotOf } from "./snapshot.js";
import { invalidType } from "./validate.js";

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
  if (snapshotOf(ctx) === undefined) {
    throw invalidType(`explain: ctx must be a Context of timebound's, got ${describeValue(ctx)}`);
  }
  return explainContext(ctx);
}

/**
 * The explanation of a context of timebound's (of any copy): a context that cannot end by
 * itself is explained through the context that can end it.
 */
export function explainContext(ctx: Context): Explanation {
  const s = snapshotOf(ctx)!;
  if (!s.cancelable) {
    const node = s.node;
    if (node !== undefined && node !== ctx && snapshotOf(node) !== undefined) {
      return explainContext(node);
    }
    const label = s.name ?? "context";
    const info: ContextInfo = {
      name: s.name,
      label,
      createdAt: 0,
      timeoutMs: undefined,
      site: undefined,
    };
    return s.state === "live"
      ? liveExplanation(info, s.deadline)
      : withMessage({
          ...ENDED_UNKNOWN,
          context: info,
          state: s.state,
          deadline: s.deadline,
          cause: s.cause,
          hasCause: s.hasCause,
        });
  }
  const info = infoOf(s);
  if (s.state === "live") return liveExplanation(info, s.deadline);
  const origin = s.origin ?? ctx;
  const o = origin === ctx ? s : (snapshotOf(origin) ?? s);
  let depth = 0;
  for (let c: Context | undefined = ctx; c !== undefined && c !== origin; c = c.parent) depth++;
  const endedAt = s.endedAt ?? 0;
  const early = s.ownDeadline === undefined ? undefined : s.ownDeadline - endedAt;
  return withMessage({
    context: info,
    state: s.state,
    deadline: s.deadline,
    remainingMs: undefined,
    endedAt,
    lifetimeMs: round(endedAt - (s.createdAt ?? endedAt)),
    earlyByMs: origin !== ctx && early !== undefined && early > 0 ? round(early) : undefined,
    lateByMs: s.lateByMs > 0 ? round(s.lateByMs) : undefined,
    hasCause: s.hasCause,
    cause: s.cause,
    origin: {
      context: o === s ? info : infoOf(o),
      reason: o.state === "deadline-exceeded" ? "deadline" : "canceled",
      depth,
      atMs: round((o.endedAt ?? 0) - (o.createdAt ?? o.endedAt ?? 0)),
    },
  });
}

const ENDED_UNKNOWN = {
  remainingMs: undefined,
  endedAt: undefined,
  lifetimeMs: undefined,
  earlyByMs: undefined,
  lateByMs: undefined,
  origin: undefined,
} as const;

function infoOf(s: ContextSnapshot): ContextInfo {
  const createdAt = s.createdAt ?? 0;
  return {
    name: s.name,
    label: s.name ?? s.kind,
    createdAt,
    timeoutMs:
      s.ownDeadline === undefined ? undefined : Math.max(0, round(s.ownDeadline - createdAt)),
    site: siteLocation(s.site),
  };
}

function liveExplanation(info: ContextInfo, deadline: number | undefined): Explanation {
  return withMessage({
    context: info,
    state: "live",
    deadline,
    remainingMs: deadline === undefined ? undefined : round(Math.max(0, deadline - now())),
    endedAt: undefined,
    lifetimeMs: undefined,
    earlyByMs: undefined,
    lateByMs: undefined,
    hasCause: false,
    cause: undefined,
    origin: undefined,
  });
}

function withMessage(e: Omit<Explanation, "message">): Explanation {
  const explanation = { ...e, message: formatExplanation(e) };
  Object.defineProperty(explanation, "toJSON", { value: explanationJSON });
  return explanation;
}

/** JSON of an explanation: the cause as its description (an Error would serialise as `{}`). */
function explanationJSON(this: Explanation): object {
  return { ...this, cause: this.hasCause ? describeValue(this.cause) : undefined };
}

/** To 0.1 ms; values too large for that (a deadline years away) to whole ms, never Infinity. */
function round(v: number): number {
  return Math.abs(v) < 1e15 ? Math.round(v * 10) / 10 : Math.round(v);
}

/**
 * Builds the one-sentence message from the structured facts (without `message`). Creation sites
 * stay out of it (they are in `context.site` and `origin.context.site`).
 */
export function formatExplanation(e: Omit<Explanation, "message">): string {
  const self = `context ${quoteLabel(e.context)}${timeoutNote(e.context)}`;
  if (e.state === "live") {
    const left = e.remainingMs === undefined ? "no deadline" : `${formatMs(e.remainingMs)} left`;
    return `${self} is live (${left})`;
  }
  const origin = e.origin;
  if (origin === undefined) return `${self} ended`;
  const causeNote = e.hasCause ? ` (cause: ${describeValue(e.cause)})` : "";
  const lateNote =
    e.lateByMs !== undefined && e.lateByMs >= LATE_NOTICE_MS
      ? `; the deadline timer fired ${formatMs(e.lateByMs)} late: the event loop was blocked`
      : "";
  if (origin.depth === 0) {
    const what =
      origin.reason === "deadline"
        ? "exceeded its deadline"
        : `was canceled after ${formatMs(origin.atMs)}`;
    return `${self} ${what}${causeNote}${lateNote}`;
  }
  const verb = e.state === "canceled" ? "was canceled" : "ended";
  const early =
    e.earlyByMs !== undefined ? ` ${formatMs(e.earlyByMs)} before its own deadline` : "";
  const ancestor = `ancestor ${quoteLabel(origin.context)}`;
  const why =
    origin.reason === "deadline"
      ? `the deadline of ${ancestor}${timeoutNote(origin.context)} passed`
      : `${ancestor} was canceled ${formatMs(origin.atMs)} after it was created`;
  return `${self} ${verb}${early}: ${why}${causeNote}${lateNote}`;
}

function quoteLabel(info: ContextInfo): string {
  return info.name === undefined ? info.label : JSON.stringify(info.name);
}

function timeoutNote(info: ContextInfo): string {
  return info.timeoutMs === undefined ? "" : ` (timeout ${formatMs(info.timeoutMs)})`;
}
