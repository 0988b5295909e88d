/**
 * The data diagnostics works on. The tracker fills a {@link Snapshot}; every output (text dumps,
 * JSON, pprof, folded stacks, flame graphs, growth curves) is a pure function of one.
 * Times are monotonic ms (`now()`); ages and durations are ms.
 */

/** A context the tracker has seen created and not yet seen end. */
export interface TrackedContext {
  /** Tracker-assigned, unique within the process. */
  readonly id: number;
  readonly name: string | undefined;
  /** `withCancel`, `withTimeout`, `withDeadline`, `fromSignal`. */
  readonly kind: string;
  readonly parentId: number | undefined;
  readonly createdAt: number;
  /** Effective deadline, monotonic; undefined without one. */
  readonly deadline: number | undefined;
  /** Creation stack, innermost frame first, timebound's own frames removed. */
  readonly stack: readonly Frame[];
}

/** An operation (a sleep, a channel wait, a query, a fetch) the tracker has seen start. */
export interface TrackedOperation {
  readonly id: number;
  /** "sleep", "channel", "semaphore", "ticker", "pg.query", "fetch", "timer"... */
  readonly kind: string;
  readonly contextId: number | undefined;
  readonly contextName: string | undefined;
  readonly startedAt: number;
  /** When its context ended, if it has: an operation still running after that ignored it. */
  readonly contextEndedAt: number | undefined;
  readonly stack: readonly Frame[];
}

/** One stack frame. */
export interface Frame {
  readonly functionName: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** What went wrong, as a finding kind. */
export type FindingKind =
  /** A cancellable context with no deadline, still live after the threshold. */
  | "never-canceled"
  /** A context garbage-collected without having been canceled: proof of a lost cancel. */
  | "collected-uncanceled"
  /** An operation still running N ms after its context ended. */
  | "ignored-cancellation"
  /** A timer or ticker still armed after its context ended. */
  | "leaked-timer"
  /** Timer counts that grow without bound (setTimeout recursion). */
  | "timer-growth"
  /** A deadline timer that fired late, with the event-loop delay at that moment. */
  | "late-deadline"
  /** Heap, handles, live contexts or operations growing over time (statistical verdict). */
  | "growth";

/** One finding; `stack` is the creation stack of what leaked (empty when not applicable). */
export interface Finding {
  readonly kind: FindingKind;
  /** One sentence for people. */
  readonly message: string;
  readonly stack: readonly Frame[];
  /** How long ago the thing was created (or the event happened). */
  readonly ageMs: number;
  readonly contextName?: string | undefined;
  readonly operationKind?: string | undefined;
  /** Kind-specific numbers: lateByMs, eventLoopDelayP99Ms, growth slope... */
  readonly details?: Readonly<Record<string, number | string | boolean>>;
  /** A second stack that explains the finding: for late-deadline, the code that blocked the loop. */
  readonly related?: { readonly label: string; readonly stack: readonly Frame[] } | undefined;
}

/** One sample of the process's growth curves. */
export interface GrowthSample {
  /** Monotonic time of the sample. */
  readonly at: number;
  readonly heapUsed: number;
  readonly rss: number;
  /** Active handles/requests by type (`process.getActiveResourcesInfo()`). */
  readonly handles: Readonly<Record<string, number>>;
  readonly liveContexts: number;
  readonly liveOperations: number;
}

/** What the tracker had at one moment. Bounded: `omitted` says what was left out. */
export interface Snapshot {
  /** Monotonic and wall-clock time of the snapshot. */
  readonly takenAt: number;
  readonly takenAtWall: string;
  readonly pid: number;
  readonly contexts: readonly TrackedContext[];
  readonly operations: readonly TrackedOperation[];
  readonly findings: readonly Finding[];
  readonly samples: readonly GrowthSample[];
  /** Monotonic time tracking started; undefined when nothing was tracked. */
  readonly trackingSince?: number | undefined;
  /** Items not included because of the size bound, by list. */
  readonly omitted: {
    readonly contexts: number;
    readonly operations: number;
    readonly findings: number;
  };
}
