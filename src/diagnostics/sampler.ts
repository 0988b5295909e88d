import { now } from "../core/index.js";
import {
  type EventLoopUtilization,
  type IntervalHistogram,
  monitorEventLoopDelay,
  performance,
} from "node:perf_hooks";
import type { GrowthSample } from "./model.js";
import { EventLog } from "./records.js";
import { originalTimers } from "./timers.js";

/** @internal What the sampler reads from the tracker at each tick. */
export interface LiveCounts {
  readonly liveContexts: number;
  readonly liveOperations: number;
}

/** @internal Counts `process.getActiveResourcesInfo()` by type ("Timeout", "TCPWRAP", "FSReqCallback"...). */
export function handleCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** The delay monitor's sampling resolution: coarse enough to cost nothing, fine enough for a block. */
const LOOP_RESOLUTION_MS = 10;

function ms(ns: number): number {
  return Math.round(ns / 1e5) / 10;
}

/** @internal The shortest wait between growth samples of a short run. */
export const MIN_INTERVAL_MS = 250;

/**
 * @internal Takes growth samples at intervals scaled to the run ({@link Sampler.nextIntervalMs}): heap used, RSS, active handles by type, live
 * contexts and operations, and the event loop's delay and utilization since the previous sample. Its timer is unref'd (it never keeps the process alive) and made with
 * the original `setInterval`, so neither the timer watch nor the handle counts see it.
 */
export class Sampler {
  readonly samples: EventLog<GrowthSample>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #startedAt = 0;
  #loopDelay: IntervalHistogram | undefined;
  #lastElu: EventLoopUtilization | undefined;

  readonly #counts: () => LiveCounts;
  readonly #intervalMs: number;

  constructor(counts: () => LiveCounts, intervalMs: number, maxSamples: number) {
    this.samples = new EventLog(maxSamples);
    this.#counts = counts;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    this.#startedAt = now();
    this.#loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    this.#loopDelay.enable();
    this.sample();
    this.#schedule();
  }

  stop(): void {
    if (this.#timer !== undefined) originalTimers.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#loopDelay?.disable();
    this.#loopDelay = undefined;
  }

  /**
   * The wait before the next sample, scaled to the run: a twentieth of the time run so far,
   * at least {@link MIN_INTERVAL_MS} and at most the configured interval. A 10 s run gets
   * about 35 points; from 200 s on, samples come at the configured interval.
   */
  nextIntervalMs(): number {
    const elapsed = now() - this.#startedAt;
    const floor = Math.min(MIN_INTERVAL_MS, this.#intervalMs);
    return Math.max(floor, Math.min(this.#intervalMs, elapsed / 20));
  }

  #schedule(): void {
    this.#timer = originalTimers.setTimeout(() => {
      this.sample();
      this.#schedule();
    }, this.nextIntervalMs());
    this.#timer.unref();
  }

  /** Takes one sample now and keeps it. */
  sample(): GrowthSample {
    const memory = process.memoryUsage();
    const sample: GrowthSample = {
      at: now(),
      heapUsed: memory.heapUsed,
      rss: memory.rss,
      handles: handleCounts(),
      ...this.#counts(),
      ...this.#loop(),
    };
    this.samples.push(sample);
    return sample;
  }

  /** The loop's delay and utilization since the previous sample; nothing for the first. */
  #loop(): Pick<GrowthSample, "loopDelayMaxMs" | "loopDelayP99Ms" | "loopUtilization"> {
    const elu = performance.eventLoopUtilization();
    const previous = this.#lastElu;
    this.#lastElu = elu;
    const h = this.#loopDelay;
    if (previous === undefined || h === undefined) return {};
    const since = performance.eventLoopUtilization(elu, previous);
    // An empty histogram (no tick of the monitor yet) has max 0: say nothing rather than "0 ms".
    const out =
      h.count === 0
        ? { loopUtilization: Math.round(since.utilization * 1000) / 1000 }
        : {
            loopDelayMaxMs: ms(h.max),
            loopDelayP99Ms: ms(h.percentile(99)),
            loopUtilization: Math.round(since.utilization * 1000) / 1000,
          };
    h.reset();
    return out;
  }
}
