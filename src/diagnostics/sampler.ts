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

/**
 * @internal Takes a growth sample every interval: heap used, RSS, active handles by type, live
 * contexts and operations. Its timer is unref'd (it never keeps the process alive) and made with
 * the original `setInterval`, so neither the timer watch nor the handle counts see it.
 */
export class Sampler {
  readonly samples: EventLog<GrowthSample>;
  #timer: ReturnType<typeof setInterval> | undefined;

  readonly #counts: () => LiveCounts;
  readonly #intervalMs: number;

  constructor(counts: () => LiveCounts, intervalMs: number, maxSamples: number) {
    this.samples = new EventLog(maxSamples);
    this.#counts = counts;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    this.sample();
    this.#timer = originalTimers.setInterval(() => this.sample(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) originalTimers.clearInterval(this.#timer);
    this.#timer = undefined;
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
