import { type DeadlineFiredMessage, now } from "../core/index.js";
import {
  type EventLoopUtilization,
  type IntervalHistogram,
  monitorEventLoopDelay,
  performance,
} from "node:perf_hooks";
import { BlockingProfiler } from "./blocking.js";
import { listenedChannels as channels } from "./channels.js";
import { containExceptions } from "./contain.js";
import type { Frame } from "./model.js";
import { type ContextRecord, EventLog, nodeOf } from "./records.js";
import { originalTimers } from "./timers.js";
import type { Tracker } from "./tracker.js";

/** @internal Event-loop delay over the current window, ms (from `monitorEventLoopDelay`). */
export interface LoopDelay {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

/** @internal A deadline timer that fired late, with what the event loop was doing. */
export interface LateDeadlineEvent {
  readonly context: ContextRecord | undefined;
  readonly contextName: string | undefined;
  readonly at: number;
  readonly lateByMs: number;
  /** Share of the window the loop spent running callbacks, 0..1 (`eventLoopUtilization`). */
  readonly utilization: number;
  /** Filled in on the next turn of the loop, once the delay monitor has seen the block. */
  loopDelay: LoopDelay | undefined;
  /** The stack that blocked the loop, when `blockingStacks` is on and a sample caught it. */
  readonly blockedBy: readonly Frame[] | undefined;
}

const HISTOGRAM_RESOLUTION_MS = 10;
const NS_PER_MS = 1e6;

function delayOf(h: IntervalHistogram): LoopDelay {
  const ms = (ns: number): number => Math.round((ns / NS_PER_MS) * 10) / 10;
  return {
    p50Ms: ms(h.percentile(50)),
    p99Ms: ms(h.percentile(99)),
    maxMs: ms(h.max),
    meanMs: ms(Number.isNaN(h.mean) ? 0 : h.mean),
  };
}

/**
 * @internal Records deadline timers that fired late (`timebound:deadline:fired` with `lateByMs` at
 * or above the threshold) together with the event-loop delay and utilization of the current window
 * (windows roll every `windowMs`), and, with `blockingStacks`, the stack that blocked the loop.
 */
export class LatenessMonitor {
  readonly events: EventLog<LateDeadlineEvent>;
  #histogram: IntervalHistogram | undefined;
  #eluAtWindowStart: EventLoopUtilization | undefined;
  #windowTimer: ReturnType<typeof setInterval> | undefined;
  #profiler: BlockingProfiler | undefined;
  #lastProfiled = -Infinity;
  #lastBlockedBy: readonly Frame[] | undefined;
  /** Whether the profiler is running (false when asked for but the inspector was unavailable). */
  profiling = false;

  readonly #tracker: Tracker;
  readonly #thresholdMs: number;
  readonly #windowMs: number;

  constructor(tracker: Tracker, thresholdMs: number, windowMs: number, maxEvents: number) {
    this.events = new EventLog(maxEvents);
    this.#tracker = tracker;
    this.#thresholdMs = thresholdMs;
    this.#windowMs = windowMs;
  }

  start(blockingStacks: boolean): void {
    this.#histogram = monitorEventLoopDelay({ resolution: HISTOGRAM_RESOLUTION_MS });
    this.#histogram.enable();
    this.#eluAtWindowStart = performance.eventLoopUtilization();
    this.#windowTimer = originalTimers.setInterval(() => this.#rollWindow(), this.#windowMs);
    this.#windowTimer.unref();
    if (blockingStacks) {
      this.#profiler = new BlockingProfiler();
      this.profiling = this.#profiler.start();
    }
    channels.deadlineFired.subscribe(this.#onFired);
  }

  stop(): void {
    channels.deadlineFired.unsubscribe(this.#onFired);
    this.#histogram?.disable();
    if (this.#windowTimer !== undefined) originalTimers.clearInterval(this.#windowTimer);
    this.#profiler?.stop();
    this.profiling = false;
  }

  /** The loop delay of the current window, for reports. */
  loopDelay(): LoopDelay | undefined {
    return this.#histogram === undefined ? undefined : delayOf(this.#histogram);
  }

  #rollWindow(): void {
    this.#histogram?.reset();
    this.#eluAtWindowStart = performance.eventLoopUtilization();
  }

  readonly #onFired = containExceptions("deadline:fired subscriber", (message: unknown): void => {
    const { context, lateByMs } = message as DeadlineFiredMessage;
    this.#tracker.deadlineFired(context, lateByMs);
    if (lateByMs < this.#thresholdMs) return;
    const node = nodeOf(context);
    const t = now();
    const elu = performance.eventLoopUtilization(this.#eluAtWindowStart);
    const event: LateDeadlineEvent = {
      context: node === null ? undefined : this.#tracker.recordFor(node),
      contextName: context.name,
      at: t,
      lateByMs,
      utilization: Math.round(elu.utilization * 1000) / 1000,
      loopDelay: undefined,
      blockedBy: this.#blockedBy(t, lateByMs),
    };
    this.events.push(event);
    // The delay monitor's own timer may be due after this one: read it once the loop moved on.
    const histogram = this.#histogram;
    if (histogram !== undefined) {
      originalTimers.setImmediate(() => (event.loopDelay = delayOf(histogram)));
    }
  });

  // Reading the profile restarts it: at most once a second. One block delays every timer due
  // during it, so the deadlines of that storm share the first look.
  #blockedBy(t: number, lateByMs: number): readonly Frame[] | undefined {
    if (this.#profiler === undefined || !this.profiling) return undefined;
    if (t - this.#lastProfiled < 1_000) return this.#lastBlockedBy;
    this.#lastProfiled = t;
    return (this.#lastBlockedBy = this.#profiler.blockingStack(lateByMs));
  }
}
