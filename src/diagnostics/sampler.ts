import { now } from "../core/index.js";
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

/** @internal The shortest wait between growth samples of a short run. */
export const MIN_INTERVAL_MS = 250;

/**
 * @internal Takes growth samples at intervals scaled to the run ({@link Sampler.nextIntervalMs}): heap used, RSS, active handles by type, live
 * contexts and operations. Its timer is unref'd (it never keeps the process alive) and made with
 * the original `setInterval`, so neither the timer watch nor the handle counts see it.
 */
export class Sampler {
  readonly samples: EventLog<GrowthSample>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #startedAt = 0;

  readonly #counts: () => LiveCounts;
  readonly #intervalMs: number;

  constructor(counts: () => LiveCounts, intervalMs: number, maxSamples: number) {
    this.samples = new EventLog(maxSamples);
    this.#counts = counts;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    this.#startedAt = now();
    this.sample();
    this.#schedule();
  }

  stop(): void {
    if (this.#timer !== undefined) originalTimers.clearTimeout(this.#timer);
    this.#timer = undefined;
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
    };
    this.samples.push(sample);
    return sample;
  }
}
