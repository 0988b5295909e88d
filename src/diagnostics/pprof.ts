/**
 * The snapshot as a pprof profile (profile.proto, gzipped), the format of Go's
 * `/debug/pprof/goroutine`: `go tool pprof -top leaks.pb.gz`, `go tool pprof -http=: leaks.pb.gz`
 * and speedscope open it.
 */
import { promisify } from "node:util";
import { gzip, gzipSync } from "node:zlib";
import {
  Function as PprofFunction,
  Label,
  Line,
  Location,
  Profile,
  Sample,
  StringTable,
  ValueType,
} from "pprof-format";
import { optionsObject } from "../core/internal.js";
import {
  FOLD_OPTIONS,
  type FoldOptions,
  functionName,
  groupStacks,
  type StackGroup,
  validItems,
  validMaxStacks,
} from "./folded.js";
import type { Frame, Snapshot } from "./model.js";

const gzipAsync = promisify(gzip);

/**
 * @internal Sample types, in order: the count of items first, as profile.proto asks ("by convention
 * it should be at index 0 and use unit count"), and it is the default (`default_sample_type`), as
 * in Go's goroutine profile: `go tool pprof -top` ranks sites by how many things they hold. Age,
 * the summed milliseconds the items have been alive, is the cost of a leak as bytes are in a heap
 * profile (three contexts forgotten ten minutes ago outweigh a thousand requests in flight for
 * 5 ms): `-sample_index=age` shows it. (speedscope ignores the default and shows the last type.)
 *
 * @example
 * ```ts
 * PPROF_SAMPLE_TYPES[0]; // { type: "count", unit: "count" }: what go tool pprof shows first
 * ```
 */
export const PPROF_SAMPLE_TYPES = [
  { type: "count", unit: "count" },
  { type: "age", unit: "milliseconds" },
] as const;

/**
 * Encodes the snapshot as a gzipped pprof profile. One sample per group of items that share a
 * creation stack, kind and context name, with values `[count, age ms]` (count the default, as in
 * Go's goroutine profile) and labels `item`
 * (context, operation, finding, omitted), `kind` (withTimeout, sleep, never-canceled...) and
 * `context` (the context's name, when it has one) and `route` (the route of the request it runs
 * for, `GET /users/:id`, when a timebound HTTP server adapter made that request's context: the
 * framework's pattern, or the path with its ids folded to `:id`). Each stack ends, outermost, in a synthetic
 * frame such as `[context withTimeout]`, so contexts, operations and findings stay apart.
 * `duration_nanos` spans from the oldest item (or first growth sample) to the snapshot. It holds
 * the live items by default; `{ items: "findings" }` makes the findings' own profile (each
 * weighing what it found), so that counts never add a finding to the items it is about.
 *
 * @example
 * ```ts
 * await writeFile("leaks.pb.gz", await toPprof(snapshot()));
 * // go tool pprof -top leaks.pb.gz
 * // go tool pprof -sample_index=age -tagfocus=kind=withCancel -top leaks.pb.gz
 * ```
 */
export async function toPprof(snapshot: Snapshot, options: FoldOptions = {}): Promise<Buffer> {
  return gzipAsync(await buildProfile(snapshot, options, "toPprof").encodeAsync());
}

/**
 * {@link toPprof}, synchronously: for dumps written while the process exits (a crash,
 * `process.exit()`), when no promise will ever settle.
 *
 * @example
 * ```ts
 * process.on("exit", () => writeFileSync("exit.pb.gz", toPprofSync(tracking.snapshot())));
 * ```
 */
export function toPprofSync(snapshot: Snapshot, options: FoldOptions = {}): Buffer {
  return gzipSync(buildProfile(snapshot, options, "toPprofSync").encode());
}

function buildProfile(snapshot: Snapshot, options: FoldOptions, fn: string): Profile {
  const o = optionsObject(options, fn, FOLD_OPTIONS);
  const maxStacks = validMaxStacks(o.maxStacks, fn);
  const items = validItems(o.items, fn);
  const groups = groupStacks(snapshot, { maxStacks, byContextName: true, items });
  const strings = new StringTable();
  const locations = new LocationTable(strings);
  const labelKeys = {
    item: strings.dedup("item"),
    kind: strings.dedup("kind"),
    context: strings.dedup("context"),
    route: strings.dedup("route"),
  };
  const sampleType = PPROF_SAMPLE_TYPES.map(
    (t) => new ValueType({ type: strings.dedup(t.type), unit: strings.dedup(t.unit) }),
  );
  const headline = sampleType[0] as ValueType;

  const sample = groups.map((g) => {
    const label: Label[] = [];
    // String index 0 is "": an empty value would read as a numeric label, so it is left out.
    const addLabel = (key: number, value: string | undefined): void => {
      if (value !== undefined && value !== "")
        label.push(new Label({ key, str: strings.dedup(value) }));
    };
    addLabel(labelKeys.item, g.item);
    addLabel(labelKeys.kind, g.kind);
    addLabel(labelKeys.context, g.contextName);
    addLabel(labelKeys.route, g.route);
    return new Sample({
      locationId: locations.stack(g),
      value: [g.count, Math.round(g.totalAgeMs)],
      label,
    });
  });

  return new Profile({
    sampleType,
    sample,
    location: locations.locations,
    function: locations.functions,
    stringTable: strings,
    timeNanos: wallNanos(snapshot.takenAtWall),
    durationNanos: Math.round(spanMs(snapshot) * 1e6),
    periodType: new ValueType({ type: strings.dedup("count"), unit: strings.dedup("count") }),
    period: 1,
    comment: comments(snapshot).map((c) => strings.dedup(c)),
    defaultSampleType: headline.type,
  });
}

/**
 * @internal Functions and locations, each made once and numbered from 1 (0 means "none" in the
 * proto).
 */
export class LocationTable {
  readonly functions: PprofFunction[] = [];
  readonly locations: Location[] = [];
  readonly #functionIds = new Map<string, number>();
  readonly #locationIds = new Map<string, number>();
  readonly #strings: StringTable;

  constructor(strings: StringTable) {
    this.#strings = strings;
  }

  /** Location ids of the group's stack, leaf first as pprof wants, the synthetic root last. */
  stack(group: StackGroup): number[] {
    const last = group.frames.length - 1;
    const ids = group.frames.map((f, i) => this.#location(f, i === last));
    ids.push(this.#location({ functionName: group.root, file: "", line: 0, column: 0 }));
    return ids;
  }

  /** Location ids of `frames` (innermost first, as pprof wants). */
  frames(frames: readonly Frame[]): number[] {
    const last = frames.length - 1;
    return frames.map((f, i) => this.#location(f, i === last));
  }

  #location(frame: Frame, outermost = false): number {
    const functionId = this.#function(frame, outermost);
    const line = wholeOrZero(frame.line);
    const column = wholeOrZero(frame.column);
    const key = `${functionId}:${line}:${column}`;
    let id = this.#locationIds.get(key);
    if (id === undefined) {
      id = this.locations.length + 1;
      this.#locationIds.set(key, id);
      this.locations.push(new Location({ id, line: [new Line({ functionId, line, column })] }));
    }
    return id;
  }

  #function(frame: Frame, outermost: boolean): number {
    const name = functionName(frame, outermost);
    const key = `${name}\u0000${frame.file}`;
    let id = this.#functionIds.get(key);
    if (id === undefined) {
      id = this.functions.length + 1;
      this.#functionIds.set(key, id);
      const nameIndex = this.#strings.dedup(name);
      // A creation stack names call sites, not where functions start: start_line stays unset.
      this.functions.push(
        new PprofFunction({
          id,
          name: nameIndex,
          systemName: nameIndex,
          filename: this.#strings.dedup(frame.file),
        }),
      );
    }
    return id;
  }
}

function wholeOrZero(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.round(n) : 0;
}

/** Wall-clock time in ns since the epoch; 0 (unknown) when the snapshot's time does not parse. */
function wallNanos(wall: string): bigint {
  const ms = Date.parse(wall);
  return Number.isFinite(ms) ? BigInt(ms) * 1_000_000n : 0n;
}

/** From the oldest thing the snapshot knows of to the moment it was taken, ms. */
function spanMs(snapshot: Snapshot): number {
  let oldest = snapshot.takenAt;
  for (const c of snapshot.contexts) oldest = Math.min(oldest, c.createdAt);
  for (const o of snapshot.operations) oldest = Math.min(oldest, o.startedAt);
  const first = snapshot.samples[0];
  if (first !== undefined) oldest = Math.min(oldest, first.at);
  const span = snapshot.takenAt - oldest;
  return Number.isFinite(span) && span > 0 ? span : 0;
}

function comments(snapshot: Snapshot): string[] {
  const lines = [`timebound snapshot of pid ${snapshot.pid} at ${snapshot.takenAtWall}`];
  const { contexts, operations, findings } = snapshot.omitted;
  if (contexts + operations + findings > 0) {
    lines.push(
      `left out by the tracker's size bound: ${contexts} contexts, ${operations} operations, ${findings} findings`,
    );
  }
  return lines;
}
