/**
 * Folding: the live contexts, operations and findings of a {@link Snapshot} grouped by creation
 * stack, as Go's goroutine profile groups goroutines. The folded-stacks text, the pprof profile
 * and the HTML flame graph are all drawn from these groups.
 */
import { checkNumber, checkOneOf, optionsObject } from "../core/internal.js";
import type { Frame, Snapshot } from "./model.js";

/** @internal What the items of a group are; "omitted" groups count items left out by a size bound. */
export type StackItem = "context" | "operation" | "finding" | "omitted";

/** @internal Items of one kind that share a creation stack. */
export interface StackGroup {
  readonly item: StackItem;
  /** Context kind (`withTimeout`), operation kind (`sleep`), finding kind (`never-canceled`). */
  readonly kind: string;
  /**
   * Synthetic outermost frame naming what the items are (`[context withTimeout]`), so that a
   * flame graph splits contexts, operations and findings at its first level.
   */
  readonly root: string;
  /** Set when groups are split by context name (pprof labels), else undefined. */
  readonly contextName: string | undefined;
  /** The items' request route, when groups are split by context name (pprof labels). */
  readonly route: string | undefined;
  /** Innermost frame first, as in the model. */
  readonly frames: readonly Frame[];
  readonly count: number;
  /** Sum of the items' ages, ms. */
  readonly totalAgeMs: number;
}

/**
 * Options of {@link toFolded} and of the exporters built on the same grouping ({@link toPprof},
 * {@link toFlameGraphHtml}).
 */
export interface FoldOptions {
  /**
   * At most this many groups; the smallest beyond it are merged into one `[omitted stacks]`
   * group so the output stays bounded whatever the snapshot holds. Default 10,000; 1 to 1,000,000.
   */
  readonly maxStacks?: number;
  /**
   * Which items: `"live"` (live contexts and operations, and what the tracker left out of them),
   * `"findings"` (one sample a finding, weighing what it found: a lost cancel of 50 contexts
   * weighs 50), or `"all"` (both; a live context that is also a finding then counts twice).
   * Default "live" ({@link toFlameGraphHtml} draws the findings as a graph of their own).
   */
  readonly items?: FoldItems;
}

/** Which items a profile holds: {@link FoldOptions.items}. */
export type FoldItems = "live" | "findings" | "all";

/** @internal The keys of {@link FoldOptions}. */
export const FOLD_OPTIONS = [
  "maxStacks",
  "items",
] as const satisfies readonly (keyof FoldOptions)[];

const FOLD_ITEMS = ["live", "findings", "all"] as const satisfies readonly FoldItems[];

/**
 * @internal Validates an `items` option, naming the function it was given to; undefined gives
 * "live".
 */
export function validItems(value: unknown, fn: string): FoldItems {
  if (value === undefined) return "live";
  return checkOneOf(value, fn, "options.items", FOLD_ITEMS);
}

interface GroupingOptions extends FoldOptions {
  /** Split groups that share a stack but not a context name. Default false. */
  readonly byContextName?: boolean;
}

const DEFAULT_MAX_STACKS = 10_000;
const MAX_MAX_STACKS = 1_000_000;

/**
 * @internal Groups the snapshot's items by stack, largest group first. Items the tracker left out
 * (`snapshot.omitted`) become `[omitted contexts]`-style groups with no frames, so counts always
 * add up to everything the tracker saw.
 *
 * @example
 * ```ts
 * for (const g of groupStacks(snapshot())) console.log(g.count, g.root, g.frames[0]?.functionName);
 * ```
 */
export function groupStacks(snapshot: Snapshot, options: GroupingOptions = {}): StackGroup[] {
  const maxStacks = validMaxStacks(options.maxStacks, "groupStacks");
  const items = validItems(options.items, "groupStacks");
  const byName = options.byContextName ?? false;
  const groups = new Map<string, MutableGroup>();
  const add = (
    item: StackItem,
    kind: string,
    contextName: string | undefined,
    frames: readonly Frame[],
    ageMs: number,
    weight = 1,
    itemRoute?: string,
  ): void => {
    const name = byName ? contextName : undefined;
    const route = byName ? itemRoute : undefined;
    const key = groupKey(item, kind, name, frames, route);
    const group = groups.get(key);
    const age = Number.isFinite(ageMs) && ageMs > 0 ? ageMs : 0;
    if (group === undefined) {
      groups.set(key, {
        item,
        kind,
        root: rootFrame(item, kind),
        contextName: name,
        route,
        frames,
        count: weight,
        totalAgeMs: age * weight,
        key,
      });
    } else {
      group.count += weight;
      group.totalAgeMs += age * weight;
    }
  };
  const { takenAt } = snapshot;
  if (items !== "findings") {
    for (const c of snapshot.contexts)
      add("context", c.kind, c.name, c.stack, takenAt - c.createdAt, 1, c.route);
    for (const o of snapshot.operations)
      add("operation", o.kind, o.contextName, o.stack, takenAt - o.startedAt, 1, o.route);
  }
  if (items !== "live") {
    for (const f of snapshot.findings) {
      add(
        "finding",
        f.kind,
        f.contextName,
        f.stack,
        f.ageMs,
        findingWeight(f.details?.count),
        f.route,
      );
    }
  }

  const sorted = [...omittedGroups(snapshot, items), ...groups.values()].sort(largestFirst);
  if (sorted.length <= maxStacks) return sorted;
  const rest = sorted.slice(maxStacks - 1);
  const merged: MutableGroup = {
    ...emptyGroup("omitted", "stacks"),
    count: rest.reduce((sum, g) => sum + g.count, 0),
    totalAgeMs: rest.reduce((sum, g) => sum + g.totalAgeMs, 0),
  };
  return [...sorted.slice(0, maxStacks - 1), merged].sort(largestFirst);
}

/**
 * Brendan Gregg's folded stacks, one line per distinct stack, outermost frame first:
 * `[context withCancel];main (app.js:3:1);startWorker (app.js:9:15) 42`. The count is the
 * number of items; flamegraph.pl, speedscope and inferno read it as is. Lines are sorted so
 * that equal snapshots give equal text. An empty snapshot gives "".
 *
 * @example
 * ```ts
 * await writeFile("leaks.folded", toFolded(snapshot()));
 * // flamegraph.pl leaks.folded > leaks.svg
 * ```
 */
export function toFolded(snapshot: Snapshot, options: FoldOptions = {}): string {
  const o = optionsObject(options, "toFolded", FOLD_OPTIONS);
  const maxStacks = validMaxStacks(o.maxStacks, "toFolded");
  const items = validItems(o.items, "toFolded");
  const lines = groupStacks(snapshot, { maxStacks, items }).map(
    (g) => `${foldedPath(g)} ${g.count}`,
  );
  lines.sort();
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/**
 * @internal One frame as people read it: `name (file:line:column)`, or the name alone without a
 * file.
 *
 * @example
 * ```ts
 * frameText({ functionName: "", file: "/srv/app.js", line: 3, column: 9 }); // "(anonymous) (/srv/app.js:3:9)"
 * ```
 */
export function frameText(frame: Frame, outermost = false): string {
  const name = functionName(frame, outermost);
  const where = frameLocation(frame);
  return where === "" ? name : `${name} (${where})`;
}

/** What V8 calls a function without a name, and a CommonJS module's top level. */
const ANONYMOUS = new Set(["", "<anonymous>"]);
const CJS_TOP_LEVEL = "Object.<anonymous>";

function baseName(file: string): string {
  return file.slice(Math.max(file.lastIndexOf("/"), file.lastIndexOf("\\")) + 1);
}

/**
 * @internal The frame's function name as profiles show it. A function without a name is told
 * apart by where it is, `(anonymous app.js:12)`, so that two of them do not merge into one
 * node; a module's top level (a CommonJS wrapper, or the outermost anonymous frame of an ES
 * module) is `(top level app.js)`.
 *
 * @example
 * ```ts
 * functionName({ functionName: "", file: "/srv/app.js", line: 12, column: 5 }); // "(anonymous app.js:12)"
 * functionName({ functionName: "", file: "", line: 0, column: 0 }); // "(anonymous)"
 * ```
 */
export function functionName(frame: Frame, outermost = false): string {
  const name = frame.functionName;
  const file = frame.file === "" ? "" : baseName(frame.file);
  if (name === CJS_TOP_LEVEL || (outermost && ANONYMOUS.has(name) && file !== "")) {
    return `(top level ${file})`;
  }
  if (!ANONYMOUS.has(name)) return name;
  return file === "" ? "(anonymous)" : `(anonymous ${file}:${frame.line})`;
}

/**
 * @internal `file:line:column`, or "" when the frame has no file.
 *
 * @example
 * ```ts
 * frameLocation({ functionName: "main", file: "/srv/app.js", line: 3, column: 9 }); // "/srv/app.js:3:9"
 * ```
 */
export function frameLocation(frame: Frame): string {
  if (frame.file === "") return "";
  return `${frame.file}:${frame.line}:${frame.column}`;
}

function foldedPath(group: StackGroup): string {
  const parts = [foldedFrame(group.root)];
  const last = group.frames.length - 1;
  for (let i = last; i >= 0; i--) {
    parts.push(foldedFrame(frameText(group.frames[i] as Frame, i === last)));
  }
  return parts.join(";");
}

/** ";" separates frames and a newline ends the line, so neither may appear inside one. */
function foldedFrame(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what must go
  return text.replace(/[;\u0000-\u001f\u007f]/g, "_");
}

function rootFrame(item: StackItem, kind: string): string {
  return `[${item} ${kind}]`;
}

interface MutableGroup extends StackGroup {
  count: number;
  totalAgeMs: number;
  /** Identity of the group; also the last tie-breaker of the order. */
  readonly key: string;
}

function emptyGroup(item: StackItem, kind: string): MutableGroup {
  return {
    item,
    kind,
    root: rootFrame(item, kind),
    contextName: undefined,
    route: undefined,
    frames: [],
    count: 0,
    totalAgeMs: 0,
    key: groupKey(item, kind, undefined, []),
  };
}

function groupKey(
  item: StackItem,
  kind: string,
  name: string | undefined,
  frames: readonly Frame[],
  route?: string,
): string {
  let key = `${item}\u0000${kind}\u0000${name === undefined ? "\u0001" : name}`;
  if (route !== undefined) key += `\u0002${route}`;
  for (const f of frames)
    key += `\u0000${f.functionName}\u0001${f.file}\u0001${f.line}\u0001${f.column}`;
  return key;
}

/** Largest count first, then oldest, then by identity so the order never depends on insertion. */
function largestFirst(a: MutableGroup, b: MutableGroup): number {
  if (a.count !== b.count) return b.count - a.count;
  if (a.totalAgeMs !== b.totalAgeMs) return b.totalAgeMs - a.totalAgeMs;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** What a finding found (its `count`), at least 1. */
function findingWeight(count: unknown): number {
  return typeof count === "number" && Number.isInteger(count) && count >= 1 ? count : 1;
}

function omittedGroups(snapshot: Snapshot, items: FoldItems): MutableGroup[] {
  const lists = (
    items === "live"
      ? ["contexts", "operations"]
      : items === "findings"
        ? ["findings"]
        : ["contexts", "operations", "findings"]
  ) as readonly ("contexts" | "operations" | "findings")[];
  return lists
    .filter((list) => snapshot.omitted[list] > 0)
    .map((list) => ({ ...emptyGroup("omitted", list), count: snapshot.omitted[list] }));
}

/**
 * @internal Validates a `maxStacks` option, naming the function it was given to; undefined gives
 * the default.
 *
 * @example
 * ```ts
 * validMaxStacks(undefined, "toPprof"); // 10000
 * validMaxStacks(0, "toPprof"); // throws RangeError "toPprof: options.maxStacks must be an integer from 1 to 1,000,000, got 0"
 * ```
 */
export function validMaxStacks(value: unknown, fn: string): number {
  if (value === undefined) return DEFAULT_MAX_STACKS;
  return checkNumber(value, fn, "options.maxStacks", {
    min: 1,
    max: MAX_MAX_STACKS,
    integer: true,
  });
}
