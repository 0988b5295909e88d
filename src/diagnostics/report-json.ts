import type {
  Finding,
  FindingKind,
  Frame,
  GrowthSample,
  KeptAlive,
  LiveTimers,
  Snapshot,
  TrackedContext,
  TrackedOperation,
} from "./model.js";
import { stackKey } from "./stacks.js";

/** Identifies the JSON report format; bumped when a reader would misread the new one. */
export const REPORT_FORMAT = "timebound-report";
/** The version of the JSON report format, in {@link JsonReport.version}. */
export const REPORT_VERSION = 1;

/** `T` with its `stack` replaced by an index into {@link JsonReport.stacks}. @inline */
type WithStackIndex<T> = Omit<T, "stack"> & {
  /** Index of the stack in {@link JsonReport.stacks}. */
  readonly stack: number;
};

/**
 * The JSON report: a {@link Snapshot} with every distinct stack stored once in `stacks` and
 * referred to by index from contexts and operations (ten thousand contexts from one site would
 * otherwise repeat one stack ten thousand times). Findings keep their stacks inline, so a
 * reader (or `jq`) sees where each finding points without a lookup.
 */
export interface JsonReport {
  /** `"timebound-report"`: what the file is. */
  readonly format: typeof REPORT_FORMAT;
  /** The format's version (1), bumped when a reader would misread the new one. */
  readonly version: typeof REPORT_VERSION;
  /** {@link Snapshot.pid} */
  readonly pid: number;
  /** {@link Snapshot.takenAt} */
  readonly takenAt: number;
  /** {@link Snapshot.takenAtWall} */
  readonly takenAtWall: string;
  /** False when nothing was tracked: the lists are then empty. */
  readonly tracking: boolean;
  /** {@link Snapshot.trackingSince} */
  readonly trackingSince?: number | undefined;
  /** Totals, counting what the lists left out. */
  readonly summary: {
    /** Findings in all. */
    readonly findings: number;
    /** Findings in all, by kind (kinds with none are absent). */
    readonly findingsByKind: Readonly<Partial<Record<FindingKind, number>>>;
    /** Live contexts in all. */
    readonly liveContexts: number;
    /** Operations in progress in all. */
    readonly operations: number;
  };
  /** {@link Snapshot.findings}, stacks inline. */
  readonly findings: readonly Finding[];
  /** Every distinct stack of `contexts` and `operations`, once. */
  readonly stacks: readonly (readonly Frame[])[];
  /** {@link Snapshot.contexts}, each `stack` an index into `stacks`. */
  readonly contexts: readonly WithStackIndex<TrackedContext>[];
  /** {@link Snapshot.operations}, each `stack` an index into `stacks`. */
  readonly operations: readonly WithStackIndex<TrackedOperation>[];
  /** {@link Snapshot.samples} */
  readonly samples: readonly GrowthSample[];
  /** {@link Snapshot.timers}, stacks inline (absent when timers were not watched). */
  readonly timers?: LiveTimers | undefined;
  /** {@link Snapshot.keptAlive} */
  readonly keptAlive?: KeptAlive | undefined;
  /** {@link Snapshot.omitted} */
  readonly omitted: Snapshot["omitted"];
}

/**
 * The snapshot as a {@link JsonReport} object (stacks shared through an index table).
 *
 * @example
 * ```ts
 * const report = toJsonReport(tracking.snapshot());
 * report.findings.filter((f) => f.kind === "collected-uncanceled");
 * ```
 */
export function toJsonReport(snapshot: Snapshot): JsonReport {
  const stacks: (readonly Frame[])[] = [];
  const indexByKey = new Map<string, number>();
  const indexByArray = new WeakMap<readonly Frame[], number>();
  const indexOf = (frames: readonly Frame[]): number => {
    let index = indexByArray.get(frames);
    if (index !== undefined) return index;
    const key = stackKey(frames);
    index = indexByKey.get(key);
    if (index === undefined) {
      index = stacks.push(frames) - 1;
      indexByKey.set(key, index);
    }
    indexByArray.set(frames, index);
    return index;
  };
  const byKind: Partial<Record<FindingKind, number>> = {};
  for (const f of snapshot.findings) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
  return {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    pid: snapshot.pid,
    takenAt: snapshot.takenAt,
    takenAtWall: snapshot.takenAtWall,
    tracking: snapshot.trackingSince !== undefined,
    trackingSince: snapshot.trackingSince,
    summary: {
      findings: snapshot.findings.length + snapshot.omitted.findings,
      findingsByKind: byKind,
      liveContexts: snapshot.contexts.length + snapshot.omitted.contexts,
      operations: snapshot.operations.length + snapshot.omitted.operations,
    },
    findings: snapshot.findings,
    stacks,
    contexts: snapshot.contexts.map((c) => ({ ...c, stack: indexOf(c.stack) })),
    operations: snapshot.operations.map((o) => ({ ...o, stack: indexOf(o.stack) })),
    samples: snapshot.samples,
    ...(snapshot.timers === undefined ? {} : { timers: snapshot.timers }),
    ...(snapshot.keptAlive === undefined ? {} : { keptAlive: snapshot.keptAlive }),
    omitted: snapshot.omitted,
  };
}

/**
 * {@link toJsonReport}, serialized (indented by `indent` spaces; default 2).
 *
 * @example
 * ```ts
 * await writeFile("report.json", toJson(tracking.snapshot()));
 * ```
 */
export function toJson(snapshot: Snapshot, indent = 2): string {
  return `${JSON.stringify(toJsonReport(snapshot), null, indent)}\n`;
}

function fail(where: string, what: string): never {
  throw new TypeError(`parseJsonReport: ${where} ${what}`);
}

/**
 * Reads a JSON report back into a {@link Snapshot}, so that a report written by a process
 * (`report.json`) can be turned into any other output later.
 *
 * @example
 * ```ts
 * const snapshot = parseJsonReport(await readFile("report.json", "utf8"));
 * await writeFile("profile.pb.gz", await toPprof(snapshot));
 * ```
 */
export function parseJsonReport(text: string): Snapshot {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new SyntaxError(`parseJsonReport: not JSON (${(err as Error).message})`, { cause: err });
  }
  const report = value as Partial<JsonReport> | null;
  if (typeof report !== "object" || report === null || report.format !== REPORT_FORMAT) {
    fail("the input", `is not a timebound report (no "format": "${REPORT_FORMAT}")`);
  }
  if (report.version !== REPORT_VERSION) {
    fail("version", `${String(report.version)} is not supported (expected ${REPORT_VERSION})`);
  }
  const stacks = report.stacks ?? [];
  const stackAt = (index: unknown, where: string): readonly Frame[] => {
    const frames = typeof index === "number" ? stacks[index] : undefined;
    return frames ?? fail(where, `refers to stack ${String(index)}, which is not in "stacks"`);
  };
  return {
    takenAt: report.takenAt ?? 0,
    takenAtWall: report.takenAtWall ?? "",
    pid: report.pid ?? 0,
    trackingSince: report.tracking === true ? report.trackingSince : undefined,
    findings: report.findings ?? [],
    contexts: (report.contexts ?? []).map((c, i) => ({
      ...c,
      stack: stackAt(c.stack, `contexts[${i}].stack`),
    })),
    operations: (report.operations ?? []).map((o, i) => ({
      ...o,
      stack: stackAt(o.stack, `operations[${i}].stack`),
    })),
    samples: report.samples ?? [],
    ...(report.timers === undefined ? {} : { timers: report.timers }),
    ...(report.keptAlive === undefined ? {} : { keptAlive: report.keptAlive }),
    omitted: report.omitted ?? { contexts: 0, operations: 0, findings: 0 },
  };
}
