/**
 * The data diagnostics works on. The tracker fills a {@link Snapshot}; every output (text dumps,
 * JSON, pprof, folded stacks, flame graphs, growth curves) is a pure function of one.
 * Times are monotonic ms (`now()`); ages and durations are ms.
 */

/** A context the tracker has seen created and not yet seen end. */
export interface TrackedContext {
  /** Tracker-assigned, unique within the process. */
  readonly id: number;
  /** The name given at creation, if any. */
  readonly name: string | undefined;
  /** `withCancel`, `withTimeout`, `withDeadline`, `fromSignal`. */
  readonly kind: string;
  /** The `id` of its nearest cancellable ancestor; undefined for none, or one not tracked. */
  readonly parentId: number | undefined;
  /** Monotonic creation time. */
  readonly createdAt: number;
  /** Effective deadline, monotonic; undefined without one. */
  readonly deadline: number | undefined;
  /** Creation stack, innermost frame first, timebound's own frames removed. */
  readonly stack: readonly Frame[];
  /**
   * The route of the request it was made under (`GET /users/:id`), when an HTTP server adapter
   * of timebound made that request's context: the framework's pattern, or the path with its ids
   * folded to `:id`.
   */
  readonly route?: string;
}

/** An operation (a sleep, a channel wait, a query, a fetch) the tracker has seen start. */
export interface TrackedOperation {
  /** Tracker-assigned, unique within the process. */
  readonly id: number;
  /** "sleep", "channel", "semaphore", "ticker", "pg.query", "fetch", "timer"... */
  readonly kind: string;
  /** The `id` of the context it runs under, if that context is tracked. */
  readonly contextId: number | undefined;
  /** The name of that context, if it has one. */
  readonly contextName: string | undefined;
  /** Monotonic time it started. */
  readonly startedAt: number;
  /** When its context ended, if it has: an operation still running after that ignored it. */
  readonly contextEndedAt: number | undefined;
  /** Where it started, innermost frame first, timebound's own frames removed. */
  readonly stack: readonly Frame[];
  /** The route of the request its context was made under: {@link TrackedContext.route}. */
  readonly route?: string;
}

/** One stack frame. */
export interface Frame {
  /** As V8 names it (`Server.handle`, `async fetchUser`); "" for an anonymous function. */
  readonly functionName: string;
  /** A path (`file://` URLs are converted), `node:internal/...`, or "" when V8 gives none. */
  readonly file: string;
  /** 1-based line; 0 when unknown. */
  readonly line: number;
  /** 1-based column; 0 when unknown. */
  readonly column: number;
}

/** What went wrong, as a finding kind. */
export type FindingKind =
  /** A cancellable context with no deadline, still live after the threshold. */
  | "never-canceled"
  /** A context garbage-collected without having been canceled: proof of a lost cancel. */
  | "collected-uncanceled"
  /**
   * A context whose holder never called `cancel()`: it ended by its own deadline or an
   * ancestor's end, or was still live at exit (go vet's lostcancel, proven from the run).
   */
  | "lost-cancel"
  /**
   * A timer that re-arms itself from its own callback (synchronously, or an async callback that
   * passes itself to `setTimeout` again after an await) and is still armed: a runaway loop.
   */
  | "timer-loop"
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
  /** What went wrong. */
  readonly kind: FindingKind;
  /** One sentence for people. */
  readonly message: string;
  /** Where the thing found was created, innermost frame first. */
  readonly stack: readonly Frame[];
  /** How long ago the thing was created (or the event happened). */
  readonly ageMs: number;
  /** The name of the context concerned, if it has one. */
  readonly contextName?: string | undefined;
  /** The kind of operation concerned ({@link TrackedOperation.kind}), for operation findings. */
  readonly operationKind?: string | undefined;
  /**
   * The route of the request it happened under (`GET /users/:id`), when an HTTP server adapter
   * made that request's context: lost cancels and ignored cancellations are counted per route.
   */
  readonly route?: string | undefined;
  /** Kind-specific numbers: lateByMs, eventLoopDelayP99Ms, growth slope... */
  readonly details?: Readonly<Record<string, number | string | boolean>>;
  /** A second stack that explains the finding: for late-deadline, the code that blocked the loop. */
  readonly related?:
    | {
        /** What the stack is, for people: "blocked the event loop". */
        readonly label: string;
        /** The stack, innermost frame first. */
        readonly stack: readonly Frame[];
      }
    | undefined;
}

/** One sample of the process's growth curves. */
export interface GrowthSample {
  /** Monotonic time of the sample. */
  readonly at: number;
  /** V8 heap in use, in bytes (`process.memoryUsage().heapUsed`). */
  readonly heapUsed: number;
  /** Resident set size, in bytes. */
  readonly rss: number;
  /** Active handles/requests by type (`process.getActiveResourcesInfo()`). */
  readonly handles: Readonly<Record<string, number>>;
  /** Tracked contexts live at that moment. */
  readonly liveContexts: number;
  /** Tracked operations in progress at that moment. */
  readonly liveOperations: number;
  /**
   * Worst event-loop delay since the previous sample, ms (`monitorEventLoopDelay`); absent on the
   * first sample and in reports written before it was recorded.
   */
  readonly loopDelayMaxMs?: number;
  /** 99th percentile of the event-loop delay since the previous sample, ms. */
  readonly loopDelayP99Ms?: number;
  /** Share of the time since the previous sample the loop spent running code, 0..1 (`eventLoopUtilization`). */
  readonly loopUtilization?: number;
}

/** One span (a context's life, an operation) or mark (a deadline firing) of the run's timeline. */
export interface TimelineEntry {
  /** What it is. */
  readonly type: "context" | "operation" | "deadline";
  /** The context's or operation's id; for a deadline firing, its context's id (0 if unknown). */
  readonly id: number;
  /** The context's name or kind, the operation's kind, the fired context's name. */
  readonly name: string;
  /** `withTimeout`, `fetch`, `deadline`... */
  readonly kind: string;
  /** Monotonic start (for a mark, when it happened). */
  readonly start: number;
  /** Monotonic end; undefined while still live at the snapshot (and for marks). */
  readonly end: number | undefined;
  /** A context's parent, an operation's context. */
  readonly parentId?: number | undefined;
  /** How a context ended: "cancel", "deadline", "ancestor". */
  readonly endedBy?: string | undefined;
  /** For a deadline firing: how late it fired, ms. */
  readonly lateByMs?: number | undefined;
  /** Where it was created: the innermost frame of the program, `fn (file:line:col)`. */
  readonly site?: string | undefined;
}

/**
 * Timers still armed that share a creation stack, kind, delay and context: the live-timer view,
 * Go's goroutine dump of sleepers. Timers are sampled (`timerSampleEvery`), intervals never.
 */
export interface LiveTimerGroup {
  /** `setTimeout`, `setInterval`, `setImmediate`. */
  readonly kind: string;
  /** The delay (setTimeout) or period (setInterval), ms. */
  readonly delayMs: number;
  /** Recorded timers in the group (one `setTimeout` recorded stands for `sampleEvery` made). */
  readonly count: number;
  /** Of those, how many keep the process alive (not `unref()`ed). */
  readonly keepAlive: number;
  /** The ambient context's name (`run(ctx, …)`) they were made in, if any. */
  readonly contextName?: string | undefined;
  /** A timer loop's latest timer: it re-arms itself from its own callback. */
  readonly loop?: boolean | undefined;
  /** timebound's layer that armed them for the program ("core": a deadline or a sleep), if it did. */
  readonly armedBy?: string | undefined;
  /** Age of the oldest, ms. */
  readonly oldestAgeMs: number;
  /** Creation stack (a loop's: where it re-arms), innermost frame first. */
  readonly stack: readonly Frame[];
}

/** The live-timer view of a snapshot. */
export interface LiveTimers {
  /** One `setTimeout` recorded in this many (1: all); every `setInterval` is recorded. */
  readonly sampleEvery: number;
  /** Groups, those that keep the process alive first, then the largest. */
  readonly groups: readonly LiveTimerGroup[];
  /** Groups left out by the size bound. */
  readonly omitted: number;
}

/** What keeps the event loop running: why the process has not exited (or had not, at exit). */
export interface KeptAlive {
  /** Taken while the process was exiting (a signal, `process.exit()`): what it was doing then. */
  readonly atExit: boolean;
  /** `process.getActiveResourcesInfo()` by type: timers not unref'd, sockets, servers, requests. */
  readonly resources: Readonly<Record<string, number>>;
  /** Servers, sockets and child processes, described ("Server listening on 127.0.0.1:8080"). */
  readonly handles: readonly {
    /** What it is and where it points. */
    readonly description: string;
    /** How many share the description. */
    readonly count: number;
  }[];
}

/** What the tracker had at one moment. Bounded: `omitted` says what was left out. */
export interface Snapshot {
  /** Monotonic and wall-clock time of the snapshot. */
  readonly takenAt: number;
  /** The same moment on the wall clock, as an ISO 8601 string. */
  readonly takenAtWall: string;
  /** The process's pid. */
  readonly pid: number;
  /** Live contexts, oldest first (the likeliest leaks), up to the bound. */
  readonly contexts: readonly TrackedContext[];
  /** Operations in progress, oldest first, up to the bound. */
  readonly operations: readonly TrackedOperation[];
  /** Findings, most serious first, up to the bound. */
  readonly findings: readonly Finding[];
  /** Growth samples, oldest first. */
  readonly samples: readonly GrowthSample[];
  /** Monotonic time tracking started; undefined when nothing was tracked. */
  readonly trackingSince?: number | undefined;
  /**
   * The run's recent history, oldest first, for the timeline (`toTraceEvents`): ended and live
   * contexts, operations, deadline firings. `omitted` counts the entries no longer kept.
   */
  readonly timeline?: {
    /** The entries kept, oldest first. */
    readonly entries: readonly TimelineEntry[];
    /** How many older entries were dropped (the history is bounded). */
    readonly omitted: number;
  };
  /** Timers still armed, grouped by creation stack (absent when timers are not watched). */
  readonly timers?: LiveTimers | undefined;
  /** What keeps the process alive: resources by type, servers and sockets, and (in `timers`) timers. */
  readonly keptAlive?: KeptAlive | undefined;
  /** Items not included because of the size bound, by list. */
  readonly omitted: {
    /** Live contexts left out. */
    readonly contexts: number;
    /** Operations left out. */
    readonly operations: number;
    /** Findings left out. */
    readonly findings: number;
  };
}
