import { checkOneOf, readOptions } from "../core/internal.js";
import { contextLabel, formatAge, hashFrames, plural } from "./format.js";
import { keptAliveSection, timersSection } from "./report-timers.js";
import type { Finding, Frame, Snapshot, TrackedContext, TrackedOperation } from "./model.js";
import { formatFrame, stackKey } from "./stacks.js";

/** Options of {@link toTextReport}. */
export interface TextReportOptions {
  /**
   * 1: items grouped by stack with counts, like `/debug/pprof/goroutine?debug=1`; 2: every item
   * with its state, age and "created by", like `?debug=2`. Default 1.
   */
  readonly debug?: 1 | 2;
  /**
   * At most this many stack groups (and findings) per list; the rest are counted. Default 100 with
   * debug=1, no limit with debug=2 (every item is printed unless a cap is asked for); 1..1e6.
   */
  readonly maxGroups?: number;
  /**
   * With debug=2, at most this many items per stack group; the rest are counted. Default no
   * limit; 1..1e6.
   */
  readonly maxPerGroup?: number;
  /**
   * Which lists to show: findings, live contexts, operations, live timers by creation stack, and
   * what keeps the process alive. Default all five.
   */
  readonly sections?: readonly ("findings" | "contexts" | "operations" | "timers" | "alive")[];
}

/** What an empty stack means, for contexts and for operations. */
const CONTEXT_NO_STACK = "no stack: created before tracking started";
const OPERATION_NO_STACK = "no stack: not sampled (waitSampleEvery), or started before tracking";

const DEFAULT_SECTIONS = ["findings", "contexts", "operations", "timers", "alive"] as const;

/** The message a report gives when nothing is tracked. */
export const NOT_TRACKING =
  "timebound: tracking is off, so there is nothing to report.\n" +
  "Turn it on with `node --import timebound/register app.js`, with TIMEBOUND_TRACK=1 in a\n" +
  'program that imports "timebound/diagnostics", or by calling track() in code.\n';

interface Group<T> {
  readonly key: string;
  readonly items: T[];
}

/** Stack keys by frames array: items from one site share the array, so each is keyed once. */
const keys = new WeakMap<readonly Frame[], string>();
function keyOf(frames: readonly Frame[]): string {
  let key = keys.get(frames);
  if (key === undefined) keys.set(frames, (key = stackKey(frames)));
  return key;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Group<T>[] {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list === undefined) map.set(k, [item]);
    else list.push(item);
  }
  return [...map].map(([k, list]) => ({ key: k, items: list }));
}

function byCountThenAge<T>(age: (item: T) => number): (a: Group<T>, b: Group<T>) => number {
  const oldest = (g: Group<T>): number => Math.max(...g.items.slice(0, 1000).map(age));
  return (a, b) =>
    b.items.length - a.items.length || oldest(b) - oldest(a) || (a.key < b.key ? -1 : 1);
}

/** Go's debug=2 frame lines: `function(...)` then the indented location. */
function goFrames(frames: readonly Frame[], noStack: string): string {
  if (frames.length === 0) return `(${noStack})\n`;
  return frames
    .map(
      (f) =>
        `${f.functionName || "(anonymous)"}(...)\n\t${f.file === "" ? "?" : `${f.file}:${f.line}:${f.column}`}\n`,
    )
    .join("");
}

/**
 * Go's closing "created by" line: the function that made the item and the context it was made
 * in. Its location is the first frame's, printed just above.
 */
function createdBy(frames: readonly Frame[], contextId: number | undefined): string {
  const top = frames[0];
  if (top === undefined) return "";
  const where = contextId === undefined ? "" : ` in context ${contextId}`;
  return `created by ${top.functionName || "(anonymous)"}${where}\n`;
}

function deadlineText(c: TrackedContext, at: number): string {
  if (c.deadline === undefined) return "no deadline";
  const left = c.deadline - at;
  return left >= 0 ? `deadline in ${formatAge(left)}` : `deadline passed ${formatAge(-left)} ago`;
}

function operationState(o: TrackedOperation, at: number): string {
  const context =
    o.contextId === undefined
      ? "no cancellable context"
      : `context ${o.contextId} ${contextLabel(o.contextName)}`;
  const ended =
    o.contextEndedAt === undefined ? "" : ` ended ${formatAge(at - o.contextEndedAt)} ago`;
  return `${o.kind}, running ${formatAge(at - o.startedAt)}, ${context}${ended}`;
}

function header(s: Snapshot): string {
  const since =
    s.trackingSince === undefined ? "" : `, tracking for ${formatAge(s.takenAt - s.trackingSince)}`;
  const count = (shown: number, omitted: number, word: string): string =>
    omitted === 0
      ? plural(shown, word)
      : `${plural(shown + omitted, word)} (${shown.toLocaleString("en-US")} in this snapshot)`;
  return (
    `timebound diagnostics: pid ${s.pid} at ${s.takenAtWall}${since}\n` +
    `${count(s.findings.length, s.omitted.findings, "finding")}, ` +
    `${count(s.contexts.length, s.omitted.contexts, "live context")}, ` +
    `${count(s.operations.length, s.omitted.operations, "operation")}\n`
  );
}

function findingsSection(s: Snapshot, maxGroups: number): string {
  let out = `\nfindings: total ${s.findings.length + s.omitted.findings}\n`;
  if (s.findings.length === 0) out += "(none)\n";
  for (const f of s.findings.slice(0, maxGroups)) out += findingText(f);
  const left = Math.max(0, s.findings.length - maxGroups) + s.omitted.findings;
  if (left > 0) out += `\n… and ${plural(left, "more finding")}\n`;
  return out;
}

/** @internal One finding: its kind and message, then its stack (and a related stack, if any). */
export function findingText(f: Finding): string {
  let out = `\n[${f.kind}] ${f.message}\n`;
  for (const frame of f.stack) out += `\t${formatFrame(frame)}\n`;
  if (f.related !== undefined && f.related.stack.length > 0) {
    out += `    ${f.related.label}:\n`;
    for (const frame of f.related.stack) out += `\t${formatFrame(frame)}\n`;
  }
  return out;
}

interface ListSpec<T> {
  readonly title: string;
  readonly noun: string;
  /** What an empty stack means for these items. */
  readonly noStack: string;
  readonly items: readonly T[];
  readonly omitted: number;
  readonly stack: (item: T) => readonly Frame[];
  readonly age: (item: T) => number;
  /** Groups split by this label too (kind and name): "1000 @ withCancel "worker"". */
  readonly label: (item: T) => string;
  readonly entry: (item: T) => string;
}

function listSection<T>(
  spec: ListSpec<T>,
  debug: 1 | 2,
  maxGroups: number,
  maxPerGroup: number,
): string {
  const total = spec.items.length + spec.omitted;
  let out = `\n${spec.title}: total ${total.toLocaleString("en-US")}\n`;
  const groups = groupBy(
    spec.items,
    (item) => `${spec.label(item)}\n${keyOf(spec.stack(item))}`,
  ).sort(byCountThenAge(spec.age));
  for (const group of groups.slice(0, maxGroups)) {
    const first = group.items[0]!;
    if (debug === 1) {
      const ages = group.items.map(spec.age);
      const oldest = Math.max(...ages.slice(0, 10_000));
      out += `\n${group.items.length} @ ${spec.label(first)}, oldest ${formatAge(oldest)}\n`;
      out += hashFrames(spec.stack(first), spec.noStack);
      continue;
    }
    const items = group.items.slice().sort((a, b) => spec.age(b) - spec.age(a));
    for (const item of items.slice(0, maxPerGroup)) out += `\n${spec.entry(item)}`;
    if (items.length > maxPerGroup) {
      out += `\n… and ${plural(items.length - maxPerGroup, `more ${spec.noun}`)} with this stack\n`;
    }
  }
  if (groups.length > maxGroups) {
    const rest = groups.slice(maxGroups);
    const n = rest.reduce((sum, g) => sum + g.items.length, 0);
    out += `\n… and ${plural(rest.length, "more stack")} (${plural(n, spec.noun)})\n`;
  }
  if (spec.omitted > 0) {
    out += `\n… and ${plural(spec.omitted, `more ${spec.noun}`)} not in this snapshot (size bound)\n`;
  }
  return out;
}

function contextsSpec(s: Snapshot): ListSpec<TrackedContext> {
  return {
    title: "live contexts",
    noun: "context",
    noStack: CONTEXT_NO_STACK,
    items: s.contexts,
    omitted: s.omitted.contexts,
    stack: (c) => c.stack,
    age: (c) => s.takenAt - c.createdAt,
    label: (c) =>
      `${c.kind}${c.name === undefined ? "" : ` "${c.name}"`} (${c.deadline === undefined ? "no deadline" : "deadline"})${forRoute(c.route)}`,
    entry: (c) => {
      const state = `${c.kind}, live ${formatAge(s.takenAt - c.createdAt)}, ${deadlineText(c, s.takenAt)}${forRoute(c.route)}`;
      const name = c.name === undefined ? "" : ` "${c.name}"`;
      return `context ${c.id}${name} [${state}]:\n${goFrames(c.stack, CONTEXT_NO_STACK)}${createdBy(c.stack, c.parentId)}`;
    },
  };
}

/** ` for GET /users/:id`: the request route an item runs for, when it has one. */
function forRoute(route: string | undefined): string {
  return route === undefined ? "" : ` for ${route}`;
}

function operationsSpec(s: Snapshot): ListSpec<TrackedOperation> {
  return {
    title: "operations",
    noun: "operation",
    noStack: OPERATION_NO_STACK,
    items: s.operations,
    omitted: s.omitted.operations,
    stack: (o) => o.stack,
    age: (o) => s.takenAt - o.startedAt,
    label: (o) =>
      `${o.kind}${o.contextName === undefined ? "" : ` in "${o.contextName}"`}` +
      (o.contextEndedAt === undefined ? "" : " (context ended)") +
      forRoute(o.route),
    entry: (o) =>
      `operation ${o.id} [${operationState(o, s.takenAt)}${forRoute(o.route)}]:\n${goFrames(o.stack, OPERATION_NO_STACK)}${createdBy(o.stack, o.contextId)}`,
  };
}

/**
 * The snapshot as text, the way Go's goroutine profile reads. debug=1 groups items by stack
 * with counts (`1000 @ withCancel "worker"` then `#\tfunction\tfile:line:col` lines); debug=2
 * lists every item with its state, age and "created by". Bounded when asked: at most `maxGroups`
 * stacks per list (100 by default with debug=1) and, with debug=2, `maxPerGroup` items per
 * stack, with "… and N more" lines for the rest and for what the snapshot itself left out. An untracked process gets a message saying how to
 * turn tracking on.
 *
 * @example
 * ```ts
 * process.stderr.write(toTextReport(tracking.snapshot(), { debug: 2 }));
 * ```
 */
export function toTextReport(snapshot: Snapshot, options: TextReportOptions = {}): string {
  const fn = "toTextReport";
  const o = readOptions(options, fn, ["debug", "maxGroups", "maxPerGroup", "sections"]);
  const debug = o.oneOf("debug", 1, [1, 2] as const);
  // debug=2 is the full dump (Go's goroutine?debug=2 prints every goroutine): a cap only when asked.
  const unbounded = debug === 2 ? Infinity : undefined;
  const maxGroups = o.number("maxGroups", unbounded ?? 100, { min: 1, max: 1e6, integer: true });
  const maxPerGroup = o.number("maxPerGroup", Infinity, { min: 1, max: 1e6, integer: true });
  const sections = o.raw("sections") ?? DEFAULT_SECTIONS;
  for (const [i, section] of sections.entries()) {
    checkOneOf(section, fn, `options.sections[${i}]`, DEFAULT_SECTIONS);
  }
  if (snapshot.trackingSince === undefined) return NOT_TRACKING;
  let out = header(snapshot);
  for (const section of sections) {
    if (section === "findings") out += findingsSection(snapshot, maxGroups);
    else if (section === "contexts")
      out += listSection(contextsSpec(snapshot), debug, maxGroups, maxPerGroup);
    else if (section === "operations")
      out += listSection(operationsSpec(snapshot), debug, maxGroups, maxPerGroup);
    else if (section === "timers") out += timersSection(snapshot, maxGroups);
    else if (section === "alive") out += keptAliveSection(snapshot, maxGroups);
  }
  return out;
}
