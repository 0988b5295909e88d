import { now } from "../core/index.js";
import { AmbientFetchWatch } from "./ambient-fetch.js";
import { type AnalysisInput, analyze } from "./findings.js";
import { keptAliveNow } from "./kept-alive.js";
import { LatenessMonitor } from "./lateness.js";
import { liveTimers } from "./live-timers.js";
import type { Finding, GrowthSample, Snapshot } from "./model.js";
import {
  type ResolvedTrackOptions,
  type SnapshotBounds,
  type TrackOptions,
  longLivedMatcher,
  resolveBounds,
  resolveTrackOptions,
} from "./options.js";
import { Sampler } from "./sampler.js";
import { installDumpTriggers } from "./signals.js";
import { buildSnapshot, emptySnapshot } from "./snapshot.js";
import { buildTimeline } from "./timeline.js";
import { TimerWatch } from "./timers.js";
import { Tracker } from "./tracker.js";
import { growthVerdict } from "./verdict.js";

/** Something to undo when tracking stops (the exit and signal dumps install one). */
type Teardown = () => void;

/**
 * Tracking in progress: the registry of live contexts and operations, the timer watch, the
 * late-deadline monitor and the growth sampler. Get one from {@link track}.
 *
 * @example
 * ```ts
 * const tracking = track();
 * for (const f of tracking.findings()) console.warn(`[${f.kind}] ${f.message}`);
 * ```
 */
export class Tracking {
  /** The options it runs with, defaults filled in. */
  readonly options: ResolvedTrackOptions;
  /** @internal the registry of live contexts and operations */
  readonly tracker: Tracker;
  /** @internal the timer watch, unless `timers: false` */
  readonly timers: TimerWatch | undefined;
  /** @internal the late-deadline monitor */
  readonly lateness: LatenessMonitor;
  /** @internal the growth sampler */
  readonly sampler: Sampler;
  readonly #fetchWatch: AmbientFetchWatch | undefined;
  readonly #teardowns: Teardown[] = [];
  #stopped = false;
  #exiting = false;

  /** @internal use {@link track} */
  constructor(options: ResolvedTrackOptions) {
    this.options = options;
    this.tracker = new Tracker(
      options.maxEvents,
      options.waitSampleEvery,
      options.ignoredCancellationMs,
      longLivedMatcher(options.longLived),
    );
    this.timers = options.timers
      ? new TimerWatch(
          this.tracker,
          options.timerSampleEvery,
          options.maxTimers,
          options.maxEvents,
          options.followAsyncTimers,
        )
      : undefined;
    this.#fetchWatch = options.fetch ? new AmbientFetchWatch(this.tracker) : undefined;
    this.lateness = new LatenessMonitor(
      this.tracker,
      options.lateDeadlineMs,
      options.sampleIntervalMs,
      options.maxEvents,
    );
    this.sampler = new Sampler(
      () => ({
        liveContexts: this.tracker.contexts.size,
        liveOperations: this.tracker.operations.size,
      }),
      options.sampleIntervalMs,
      options.maxSamples,
    );
  }

  /** @internal */
  start(): void {
    this.tracker.subscribe();
    this.timers?.install();
    this.#fetchWatch?.install();
    this.lateness.start(this.options.blockingStacks);
    this.sampler.start();
  }

  /** True until {@link stop} is called. */
  get active(): boolean {
    return !this.#stopped;
  }

  /** Monotonic time tracking started. */
  get since(): number {
    return this.tracker.startedAt;
  }

  /**
   * Records the stack of every timer and wait until the returned function is called, whatever
   * the sampling options say (leak checks need them all). Calls nest.
   */
  recordEverything(): () => void {
    const releaseTimers = this.timers?.sampleAll();
    const releaseWaits = this.tracker.sampleAllWaits();
    return () => {
      releaseTimers?.();
      releaseWaits();
    };
  }

  /**
   * @internal The process is exiting: nothing can cancel a context any more, so the analysis
   * judges every pending context now and counts the live ones as lost cancels.
   */
  markExiting(): void {
    this.#exiting = true;
  }

  /** Registers something to undo on {@link stop}. @internal */
  onStop(teardown: Teardown): void {
    this.#teardowns.push(teardown);
  }

  /** The growth samples kept so far, oldest first. */
  samples(): GrowthSample[] {
    return this.sampler.samples.toArray();
  }

  /** @internal what the analysis looks at, right now */
  analysisInput(): AnalysisInput {
    const samples = this.samples();
    const t = now();
    this.tracker.lostCancels.settle(t, this.#exiting);
    return {
      now: t,
      final: this.#exiting,
      lostCancels: this.tracker.lostCancels,
      overruns: this.tracker.overruns,
      neverCanceledMs: this.options.neverCanceledMs,
      ignoredCancellationMs: this.options.ignoredCancellationMs,
      // Lists iterate afresh each time: the analysis walks them more than once.
      contexts: this.tracker.contexts,
      operations: this.tracker.operations,
      timers: this.timers?.armed() ?? [],
      timerLoops: this.timers?.loops() ?? [],
      timerSampleEvery: this.timers?.sampling ?? this.options.timerSampleEvery,
      lateTimers: logged(this.timers?.late),
      collected: logged(this.tracker.collected),
      lateDeadlines: logged(this.lateness.events),
      verdicts: growthVerdict(samples, { minDurationMs: this.options.growthMinRunMs }),
    };
  }

  /** Every finding right now, most serious first (unbounded; {@link snapshot} bounds them). */
  findings(): Finding[] {
    return analyze(this.analysisInput());
  }

  /**
   * A bounded snapshot of live contexts, operations, findings and growth samples; what did not
   * fit is counted in `omitted`. `bounds` default to the tracking options' bounds.
   */
  snapshot(bounds?: SnapshotBounds): Snapshot {
    // Every dump is a point on the curves: a short run gets one at start, each dump and exit.
    if (!this.#stopped) this.sampler.sample();
    const input = this.analysisInput();
    const history = this.tracker.timeline;
    const { contexts, operations } = this.tracker;
    const timeline = buildTimeline(
      history,
      (function* () {
        yield* contexts.values();
        yield* operations.values();
      })(),
      history.capacity,
    );
    return buildSnapshot(
      {
        timeline,
        trackingSince: this.since,
        contexts: this.tracker.contexts.values(),
        contextCount: this.tracker.contexts.size,
        operations: this.tracker.operations.values(),
        operationCount: this.tracker.operations.size,
        timers: input.timers,
        findings: analyze(input),
        samples: this.samples(),
        liveTimers:
          this.timers === undefined
            ? undefined
            : liveTimers(
                input.timers,
                input.timerLoops ?? [],
                this.timers.sampling,
                this.options.bounds.maxOperations,
              ),
        keptAlive: keptAliveNow(this.#exiting),
      },
      resolveBounds(bounds, "snapshot", "bounds", this.options.bounds),
    );
  }

  /** Stops tracking: unsubscribes, restores the global timer functions and `fetch`. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const teardown of this.#teardowns.splice(0).reverse()) teardown();
    this.sampler.stop();
    this.lateness.stop();
    this.#fetchWatch?.uninstall();
    this.timers?.uninstall();
    this.tracker.unsubscribe();
    if (active === this) active = undefined;
  }
}

function logged<T>(log: { toArray(): T[]; total: number } | undefined): {
  events: T[];
  total: number;
} {
  return log === undefined ? { events: [], total: 0 } : { events: log.toArray(), total: log.total };
}

let active: Tracking | undefined;

/**
 * Turns tracking on and returns its handle; if tracking is already on, returns the running one
 * (whose options stay as they were). Tracking subscribes to timebound's diagnostics channels,
 * records creation stacks of contexts created from now on, wraps the global timer functions and
 * `fetch` (see {@link TrackOptions}), samples growth, and with `reportDir` dumps at exit.
 *
 * @example
 * ```ts
 * const tracking = track({ neverCanceledMs: 30_000 });
 * // …
 * console.log(toTextReport(tracking.snapshot(), { debug: 1 }));
 * tracking.stop();
 * ```
 */
export function track(options?: TrackOptions): Tracking {
  if (active !== undefined) return active;
  const tracking = new Tracking(resolveTrackOptions(options));
  tracking.start();
  active = tracking;
  installDumpTriggers(tracking);
  return tracking;
}

/**
 * Declares `ctx` meant to live as long as the process (a server's root context): tracking never
 * reports it as a lost cancel or as never canceled. Its children are still judged. Returns `ctx`.
 * A no-op while tracking is off; the `longLived` option (`TIMEBOUND_LONG_LIVED`) says the same by
 * name, without code.
 *
 * @example
 * ```ts
 * import { background, withCancel } from "timebound";
 * const server = longLived(withCancel(background(), { name: "server" }));
 * ```
 */
export function longLived<C extends object>(ctx: C): C {
  active?.tracker.markLongLived(ctx);
  return ctx;
}

/**
 * Whether tracking is on.
 *
 * @example
 * ```ts
 * if (!isTracking()) console.warn("start with node --import timebound/register");
 * ```
 */
export function isTracking(): boolean {
  return active !== undefined;
}

/**
 * The running tracking, or undefined.
 *
 * @example
 * ```ts
 * const findings = activeTracking()?.findings() ?? [];
 * ```
 */
export function activeTracking(): Tracking | undefined {
  return active;
}

/**
 * A snapshot of the running tracking, or an empty one (`trackingSince` undefined) when nothing
 * is tracked, which the reports turn into a message saying how to turn tracking on.
 *
 * @example
 * ```ts
 * const s = snapshot();
 * if (s.trackingSince === undefined) console.log("not tracking");
 * ```
 */
export function snapshot(bounds?: SnapshotBounds): Snapshot {
  return active === undefined ? emptySnapshot() : active.snapshot(bounds);
}
