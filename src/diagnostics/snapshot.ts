import { now } from "../core/index.js";
import type {
  Finding,
  GrowthSample,
  KeptAlive,
  LiveTimers,
  Snapshot,
  TimelineEntry,
  TrackedContext,
  TrackedOperation,
} from "./model.js";
import type { ResolvedBounds } from "./options.js";
import type { ContextRecord, OperationRecord } from "./records.js";
import type { TimerRecord } from "./timers.js";

/** @internal What a snapshot is built from: the tracker's live records, counted, and the analysis. */
export interface SnapshotSource {
  readonly trackingSince: number;
  /** Live contexts, oldest first, and how many there are. */
  readonly contexts: Iterable<ContextRecord>;
  readonly contextCount: number;
  /** Operations in progress, oldest first, and how many there are. */
  readonly operations: Iterable<OperationRecord>;
  readonly operationCount: number;
  /** Sampled timers still armed; those created inside `run(ctx, …)` are listed as operations. */
  readonly timers: readonly TimerRecord[];
  readonly findings: readonly Finding[];
  readonly samples: readonly GrowthSample[];
  /** The live-timer view, when timers are watched. */
  readonly liveTimers?: LiveTimers | undefined;
  /** What keeps the process alive right now. */
  readonly keptAlive?: KeptAlive | undefined;
  /** The run's history for the timeline, already bounded. */
  readonly timeline?: { readonly entries: readonly TimelineEntry[]; readonly omitted: number };
}

/** @internal A context record as the model describes it. */
export function toContext(r: ContextRecord): TrackedContext {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    parentId: r.parentId,
    createdAt: r.createdAt,
    deadline: r.deadline === Infinity ? undefined : r.deadline,
    stack: r.stack?.frames ?? [],
    ...routeOf(r),
  };
}

/** @internal An operation or a sampled timer as the model describes it. */
export function toOperation(r: OperationRecord | TimerRecord): TrackedOperation {
  return {
    id: r.id,
    kind: r.kind,
    contextId: r.context?.id,
    contextName: r.contextName,
    startedAt: "startedAt" in r ? r.startedAt : r.createdAt,
    contextEndedAt: r.context?.endedAt,
    stack: r.stack.frames,
    ...routeOf(r.context),
  };
}

/** `{ route }` for a record made under a request, else nothing (the field stays absent). */
function routeOf(r: ContextRecord | undefined): { route?: string } {
  const request = r?.request;
  return request === undefined ? {} : { route: request.label() };
}

/** The first `limit` items, converted. Iterating stops there: the rest is only counted. */
function firstN<T, U>(items: Iterable<T>, limit: number, convert: (item: T) => U): U[] {
  const out: U[] = [];
  if (limit <= 0) return out;
  for (const item of items) {
    out.push(convert(item));
    if (out.length >= limit) break;
  }
  return out;
}

/**
 * @internal A bounded snapshot: at most `bounds` contexts (the oldest, the likeliest leaks),
 * operations and findings (the first, which are the most serious), with what was left out counted
 * in `omitted`. Stacks are parsed only for the items included.
 *
 * @example
 * ```ts
 * const snapshot = buildSnapshot(source, { maxContexts: 100, maxOperations: 100, maxFindings: 20 });
 * snapshot.omitted.contexts; // how many live contexts did not fit
 * ```
 */
export function buildSnapshot(source: SnapshotSource, bounds: ResolvedBounds): Snapshot {
  const contexts = firstN(source.contexts, bounds.maxContexts, toContext);
  const timerOps = source.timers.filter((t) => t.context !== undefined);
  const operations = firstN(source.operations, bounds.maxOperations, toOperation);
  for (const t of timerOps) {
    if (operations.length >= bounds.maxOperations) break;
    operations.push(toOperation(t));
  }
  const findings = source.findings.slice(0, bounds.maxFindings);
  return {
    takenAt: now(),
    takenAtWall: new Date().toISOString(),
    pid: process.pid,
    contexts,
    operations,
    findings,
    samples: source.samples,
    trackingSince: source.trackingSince,
    ...(source.timeline === undefined ? {} : { timeline: source.timeline }),
    ...(source.liveTimers === undefined ? {} : { timers: source.liveTimers }),
    ...(source.keptAlive === undefined ? {} : { keptAlive: source.keptAlive }),
    omitted: {
      contexts: source.contextCount - contexts.length,
      operations: source.operationCount + timerOps.length - operations.length,
      findings: source.findings.length - findings.length,
    },
  };
}

/** @internal The snapshot of a process where nothing is tracked: empty, `trackingSince` undefined. */
export function emptySnapshot(): Snapshot {
  return {
    takenAt: now(),
    takenAtWall: new Date().toISOString(),
    pid: process.pid,
    contexts: [],
    operations: [],
    findings: [],
    samples: [],
    trackingSince: undefined,
    omitted: { contexts: 0, operations: 0, findings: 0 },
  };
}
