import {
  type Range,
  checkBoolean,
  checkNumber,
  checkString,
  describeValue,
  invalidType,
  optionsObject,
} from "../core/internal.js";
import { constants } from "node:os";

/**
 * What tracking watches and when it calls something a finding. Every field is optional; the
 * defaults suit a production service (thresholds in seconds, cheap sampling). Tests and the CLI
 * lower them.
 */
export interface TrackOptions {
  /**
   * A cancellable context with no deadline still live after this many ms is reported as
   * never canceled. Default 60,000; 0..1e9.
   */
  readonly neverCanceledMs?: number;
  /** @deprecated The same as {@link TrackOptions.neverCanceledMs}, its old spelling. */
  readonly neverCancelledMs?: number;
  /**
   * An operation (or a timer or fetch started inside `run(ctx, …)`) still running this many ms
   * after its context ended ignored the cancellation. Default 1,000; 0..1e9.
   */
  readonly ignoredCancellationMs?: number;
  /** A deadline timer that fired at least this many ms late is recorded. Default 50; 0..1e9. */
  readonly lateDeadlineMs?: number;
  /** Wrap the global timer functions to find leaked timers. Default true. */
  readonly timers?: boolean;
  /**
   * Record the creation stack of one timer in this many (1 records every timer). Timers created
   * after their ambient context ended are always counted, whatever this says. Default 8; 1..1e6.
   */
  readonly timerSampleEvery?: number;
  /**
   * Follow every timer callback into its async continuations from the start, so that a loop
   * re-armed after an `await` by a callback that returned nothing (`() => { void poll(); }`) is
   * found. On Node 20 and 22 this turns on V8's promise hooks for the whole run (an
   * AsyncLocalStorage), which makes every promise dearer; left off, the continuations are
   * followed once a timer callback is seen to be async (an async function, or one that returned
   * a promise). Default true on Node 24 and later (no hooks there), else false;
   * `timebound diagnose` turns it on.
   */
  readonly followAsyncTimers?: boolean;
  /**
   * Record the stack of one wait in this many (a sleep, a channel, semaphore or ticker wait: it
   * ends with its context, so only dumps list it). Adapter work, which can outlive its context,
   * is always recorded. Default 8; 1..1e6.
   */
  readonly waitSampleEvery?: number;
  /** Wrap the global `fetch` so that a fetch inside `run(ctx, …)` is an operation. Default true. */
  readonly fetch?: boolean;
  /** Interval of the growth samples (heap, RSS, handles, live counts). Default 10,000; 10..1e9. */
  readonly sampleIntervalMs?: number;
  /**
   * No growth verdict on samples spanning less than this many ms: a short run's warm-up (code
   * compiled, caches and pools filling) rises like a leak. Default 30,000; 0..1e9.
   */
  readonly growthMinRunMs?: number;
  /** Growth samples kept (the oldest are dropped). Default 360 (an hour at 10 s); 2..1e6. */
  readonly maxSamples?: number;
  /**
   * Run V8's sampling profiler (every 5 ms) so that a late deadline can name the function that
   * blocked the event loop. Costs a few percent of CPU. Default false.
   */
  readonly blockingStacks?: boolean;
  /** Events (collections, late deadlines, post-end timers) kept per kind. Default 1,000; 1..1e6. */
  readonly maxEvents?: number;
  /** Sampled timers remembered while armed. Default 10,000; 1..1e7. */
  readonly maxTimers?: number;
  /**
   * Where the exit and signal dumps go (`%p` is replaced by the process id); undefined: no exit
   * dump, and the signal dump goes to stderr as text.
   */
  readonly reportDir?: string | undefined;
  /** Dump when the process exits (needs `reportDir`). Default true. */
  readonly dumpOnExit?: boolean;
  /**
   * Signal that triggers a dump, or false for none. Default "SIGUSR2". One a process may catch
   * whose default action Node does not need, and that the platform has: SIGUSR2, SIGUSR1 (which
   * also starts Node's inspector), SIGHUP, SIGWINCH, SIGINFO, SIGPWR, SIGBREAK.
   */
  readonly dumpSignal?: NodeJS.Signals | false;
  /** Bounds applied to snapshots taken for dumps and the HTTP handler. */
  readonly bounds?: SnapshotBounds;
  /**
   * Names of contexts meant to live as long as the process (a server's root context, a worker
   * pool's): never reported as lost or never canceled. `*` matches any run of characters
   * (`"server*"`). Their children are still judged. The same can be said in code with
   * `longLived(ctx)`. Default none.
   */
  readonly longLived?: readonly string[];
}

/** How much a snapshot may hold; what does not fit is counted in `omitted`. */
export interface SnapshotBounds {
  /** Live contexts listed, oldest first. Default 10,000; 0..1e7. */
  readonly maxContexts?: number;
  /** Live operations listed, oldest first. Default 10,000; 0..1e7. */
  readonly maxOperations?: number;
  /** Findings listed, most important first. Default 500; 0..1e7. */
  readonly maxFindings?: number;
}

/** {@link SnapshotBounds} with every default filled in. */
export type ResolvedBounds = Required<SnapshotBounds>;

/** {@link TrackOptions} with every default filled in, as tracking runs with them. */
export interface ResolvedTrackOptions extends Required<
  Omit<TrackOptions, "reportDir" | "bounds" | "neverCancelledMs" | "longLived">
> {
  /** {@link TrackOptions.longLived}: the name patterns, [] when none were given. */
  readonly longLived: readonly string[];
  /** {@link TrackOptions.reportDir}: undefined when none was given. */
  readonly reportDir: string | undefined;
  /** {@link TrackOptions.bounds}, filled in. */
  readonly bounds: ResolvedBounds;
}

/** @internal */
export const DEFAULT_BOUNDS: ResolvedBounds = {
  maxContexts: 10_000,
  maxOperations: 10_000,
  maxFindings: 500,
};

/**
 * Signals a dump can be asked with ({@link TrackOptions.dumpSignal}): those a process may catch
 * whose default action Node does not need (SIGKILL and SIGSTOP cannot be caught; SIGINT and
 * SIGTERM end the process, and get an exit dump anyway), and that this platform has. SIGUSR1
 * also starts Node's inspector.
 *
 * @example
 * ```ts
 * const signal = DUMP_SIGNALS.includes("SIGUSR1") ? "SIGUSR1" : false;
 * track({ dumpSignal: signal });
 * ```
 */
export const DUMP_SIGNALS: readonly NodeJS.Signals[] = (
  ["SIGUSR2", "SIGUSR1", "SIGHUP", "SIGWINCH", "SIGINFO", "SIGPWR", "SIGBREAK"] as const
).filter((name) => name in constants.signals);

const DEFAULTS: Omit<ResolvedTrackOptions, "reportDir" | "bounds" | "longLived"> = {
  neverCanceledMs: 60_000,
  ignoredCancellationMs: 1_000,
  lateDeadlineMs: 50,
  timers: true,
  timerSampleEvery: 8,
  followAsyncTimers: Number(process.versions.node.split(".")[0]) >= 24,
  waitSampleEvery: 8,
  fetch: true,
  sampleIntervalMs: 10_000,
  growthMinRunMs: 30_000,
  maxSamples: 360,
  blockingStacks: false,
  maxEvents: 1_000,
  maxTimers: 10_000,
  dumpOnExit: true,
  dumpSignal: "SIGUSR2",
};

/** The keys of {@link TrackOptions}: an unknown one is refused (a misspelt option is a mistake). */
const TRACK_OPTIONS = [
  "neverCanceledMs",
  "neverCancelledMs",
  "ignoredCancellationMs",
  "lateDeadlineMs",
  "timers",
  "timerSampleEvery",
  "followAsyncTimers",
  "waitSampleEvery",
  "fetch",
  "sampleIntervalMs",
  "growthMinRunMs",
  "maxSamples",
  "blockingStacks",
  "maxEvents",
  "maxTimers",
  "reportDir",
  "dumpOnExit",
  "dumpSignal",
  "bounds",
  "longLived",
] as const satisfies readonly (keyof TrackOptions)[];

const BOUNDS = [
  "maxContexts",
  "maxOperations",
  "maxFindings",
] as const satisfies readonly (keyof SnapshotBounds)[];

/**
 * @internal A test of a context's name against {@link TrackOptions.longLived}'s patterns.
 *
 * @example
 * ```ts
 * longLivedMatcher(["server*"])("server-main"); // true
 * ```
 */
export function longLivedMatcher(
  patterns: readonly string[],
): (name: string | undefined) => boolean {
  if (patterns.length === 0) return () => false;
  const escape = (p: string): string =>
    p
      .split("*")
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*");
  const re = new RegExp(`^(?:${patterns.map(escape).join("|")})$`);
  return (name) => name !== undefined && re.test(name);
}

/** How option `key` is named in messages: `options.x`, or the environment variable that set it. */
type Label = (key: string) => string;

function pick<T>(given: T | undefined, fallback: T): T {
  return given === undefined ? fallback : given;
}

/**
 * @internal Fills in the defaults of {@link SnapshotBounds} and validates what was given; errors
 * name `fn` and `what` ("snapshot: bounds.maxContexts must be ...").
 */
export function resolveBounds(
  bounds: SnapshotBounds | undefined,
  fn: string,
  what = "bounds",
  base: ResolvedBounds = DEFAULT_BOUNDS,
  label: Label = (key) => `${what}.${key}`,
): ResolvedBounds {
  if (bounds === undefined) return base;
  const given = optionsObject(bounds, fn, BOUNDS, what);
  const limit = (key: keyof SnapshotBounds): number =>
    checkNumber(pick(given[key], base[key]), fn, label(key), { min: 0, max: 1e7, integer: true });
  return {
    maxContexts: limit("maxContexts"),
    maxOperations: limit("maxOperations"),
    maxFindings: limit("maxFindings"),
  };
}

/**
 * @internal Fills in the defaults of {@link TrackOptions} and validates what was given. `fn` names
 * the function in error messages and `label` an option (the environment variable, when the options
 * came from there).
 */
export function resolveTrackOptions(
  options: TrackOptions | undefined,
  fn = "track",
  label: Label = (key) => `options.${key}`,
): ResolvedTrackOptions {
  const o = optionsObject(options, fn, TRACK_OPTIONS);
  const number = (key: keyof typeof DEFAULTS, range: Range): number =>
    checkNumber(pick(o[key], DEFAULTS[key]), fn, label(key), range);
  const ms = (
    key: "neverCanceledMs" | "ignoredCancellationMs" | "lateDeadlineMs" | "growthMinRunMs",
  ): number => number(key, { min: 0, max: 1e9 });
  const int = (
    key: "timerSampleEvery" | "waitSampleEvery" | "maxSamples" | "maxEvents" | "maxTimers",
    min: number,
    max: number,
  ): number => number(key, { min, max, integer: true });
  const flag = (
    key: "timers" | "followAsyncTimers" | "fetch" | "blockingStacks" | "dumpOnExit",
  ): boolean => checkBoolean(pick(o[key], DEFAULTS[key]), fn, label(key));
  const reportDir =
    o.reportDir === undefined ? undefined : checkString(o.reportDir, fn, label("reportDir"));
  const dumpSignal = pick(o.dumpSignal, DEFAULTS.dumpSignal);
  if (dumpSignal !== false && !DUMP_SIGNALS.includes(dumpSignal)) {
    throw invalidType(
      `${fn}: ${label("dumpSignal")} must be one of ${DUMP_SIGNALS.join(", ")}, or false for none` +
        ` ("off" in TIMEBOUND_DUMP_SIGNAL), got ${describeValue(dumpSignal)}`,
    );
  }
  if (o.neverCancelledMs !== undefined) {
    if (o.neverCanceledMs !== undefined) {
      throw invalidType(
        `${fn}: ${label("neverCancelledMs")} is the old spelling of neverCanceledMs: give one of them`,
      );
    }
    return resolveTrackOptions(
      { ...o, neverCanceledMs: o.neverCancelledMs, neverCancelledMs: undefined },
      fn,
      label,
    );
  }
  const longLived: unknown = o.longLived ?? [];
  if (!Array.isArray(longLived) || longLived.some((p) => typeof p !== "string" || p === "")) {
    throw invalidType(
      `${fn}: ${label("longLived")} must be an array of context names (\`*\` matches any run of characters), got ${describeValue(longLived)}`,
    );
  }
  return {
    longLived: longLived as string[],
    neverCanceledMs: ms("neverCanceledMs"),
    ignoredCancellationMs: ms("ignoredCancellationMs"),
    lateDeadlineMs: ms("lateDeadlineMs"),
    timers: flag("timers"),
    timerSampleEvery: int("timerSampleEvery", 1, 1e6),
    followAsyncTimers: flag("followAsyncTimers"),
    waitSampleEvery: int("waitSampleEvery", 1, 1e6),
    fetch: flag("fetch"),
    sampleIntervalMs: number("sampleIntervalMs", { min: 10, max: 1e9 }),
    growthMinRunMs: ms("growthMinRunMs"),
    maxSamples: int("maxSamples", 2, 1e6),
    blockingStacks: flag("blockingStacks"),
    maxEvents: int("maxEvents", 1, 1e6),
    maxTimers: int("maxTimers", 1, 1e7),
    reportDir,
    dumpOnExit: flag("dumpOnExit"),
    dumpSignal,
    bounds: resolveBounds(o.bounds, fn, label("bounds"), DEFAULT_BOUNDS, (key) =>
      label(`bounds.${key}`),
    ),
  };
}
