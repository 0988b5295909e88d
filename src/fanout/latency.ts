// Latency per dependency over a sliding window: a ring of DDSketches, one per slice of the
// window, rotated by the clock when read or written (no timer), merged when asked.
import { DDSketch } from "@datadog/sketches-js";
import { now } from "../core/index.js";
import { checkMs, checkString, readOptions } from "../core/internal.js";

/** Options of {@link LatencyTracker}. */
export interface LatencyTrackerOptions {
  /** How far back the quantiles look, in ms. Default 60,000. */
  readonly windowMs?: number;
  /** Slices of the window: the window slides by `windowMs / slices`. Default 6. */
  readonly slices?: number;
  /** The sketches' relative accuracy: a quantile is within this fraction of the true value. Default 0.01. */
  readonly relativeAccuracy?: number;
  /** Below this many samples in the window a dependency has no history (quantiles undefined). Default 20. */
  readonly minSamples?: number;
  /**
   * How many calls a dependency takes at once before it counts as loaded: the load factor's
   * concurrency term is inFlight / capacity. Default Infinity (no such term).
   */
  readonly capacity?: number;
  /** The load factor never exceeds this. Default 4. */
  readonly maxLoadFactor?: number;
  /** The clock, monotonic ms. Default timebound's `now()`. For tests and replays. */
  readonly clock?: () => number;
}

/** What a {@link LatencyTracker} knows of one dependency. */
export interface DependencyStats {
  /** The dependency's name. */
  readonly dependency: string;
  /** Samples in the window. */
  readonly count: number;
  /** Quantiles over the window, in ms; undefined with fewer than `minSamples` samples. */
  readonly p50Ms: number | undefined;
  /** P95 over the window, in ms. */
  readonly p95Ms: number | undefined;
  /** P99 over the window, in ms. */
  readonly p99Ms: number | undefined;
  /** P95 of the newest two slices, in ms (undefined with fewer than `minSamples` there). */
  readonly recentP95Ms: number | undefined;
  /** Calls started and not yet stopped. */
  readonly inFlight: number;
  /**
   * max(recentP95 / p95, inFlight / capacity), within [1, maxLoadFactor]: how much slower than
   * usual it is right now, or how far past its capacity. 1 without enough samples.
   */
  readonly loadFactor: number;
}

const KNOWN: readonly (keyof LatencyTrackerOptions)[] = [
  "windowMs",
  "slices",
  "relativeAccuracy",
  "minSamples",
  "capacity",
  "maxLoadFactor",
  "clock",
];

/**
 * Latency per dependency over a sliding window, with quantiles from DDSketch (relative-error
 * guarantee, mergeable, no dependencies of its own), the calls in flight and a load factor that
 * {@link allocateBudget} and {@link batch} use. Slices rotate as time passes, on the next read or
 * write: an idle tracker runs nothing.
 *
 * @example
 * ```ts
 * const latency = new LatencyTracker({ windowMs: 30_000 });
 * const stop = latency.start("users");
 * try {
 *   await work(ctx);
 * } finally {
 *   stop(); // records the duration, one call fewer in flight
 * }
 * latency.stats("users"); // { p50Ms, p95Ms, p99Ms, inFlight, loadFactor, ... }
 * ```
 */
export class LatencyTracker {
  readonly #sliceMs: number;
  readonly #slices: number;
  readonly #accuracy: number;
  readonly #minSamples: number;
  readonly #capacity: number;
  readonly #maxLoad: number;
  readonly #clock: () => number;
  readonly #deps = new Map<string, Window>();

  constructor(options?: LatencyTrackerOptions) {
    const o = readOptions(options, "new LatencyTracker", KNOWN);
    const windowMs = o.ms("windowMs", 60_000, { min: 1, max: 2 ** 31 - 1 });
    this.#slices = o.number("slices", 6, { min: 1, max: 1_000, integer: true });
    this.#sliceMs = windowMs / this.#slices;
    this.#accuracy = o.number("relativeAccuracy", 0.01, { min: 0.0001, max: 0.5 });
    this.#minSamples = o.number("minSamples", 20, { min: 1, max: 1e9, integer: true });
    this.#capacity = o.number("capacity", Infinity, { min: 1, max: Infinity, infinity: true });
    this.#maxLoad = o.number("maxLoadFactor", 4, { min: 1, max: 1_000 });
    this.#clock = o.function("clock", now);
  }

  /**
   * Counts one call to `dependency` in flight from now; the function returned ends it (once):
   * `stop()` records its duration, `stop(false)` records nothing (a call canceled because the
   * batch no longer needed it says nothing about the dependency's latency).
   */
  start(dependency: string): (record?: boolean) => void {
    const w = this.#window(checkString(dependency, "LatencyTracker.start", "dependency"));
    const started = this.#clock();
    w.inFlight++;
    let stopped = false;
    return (record = true) => {
      if (stopped) return;
      stopped = true;
      w.inFlight--;
      if (record) this.#add(w, this.#clock() - started);
    };
  }

  /** Adds one sample of `ms` for `dependency`; a negative, NaN or infinite `ms` is refused. */
  record(dependency: string, ms: number): void {
    const fn = "LatencyTracker.record";
    const w = this.#window(checkString(dependency, fn, "dependency"));
    this.#add(w, checkMs(ms, fn, "ms", { min: 0, max: Number.MAX_SAFE_INTEGER }));
  }

  /** What is known of `dependency` now (quantiles undefined until it has enough samples). */
  stats(dependency: string): DependencyStats {
    const w = this.#window(checkString(dependency, "LatencyTracker.stats", "dependency"));
    this.#rotate(w);
    const merged = this.#merged(w);
    const enough = merged.count >= this.#minSamples;
    const q = (p: number) => (enough ? merged.getValueAtQuantile(p) : undefined);
    const p95 = q(0.95);
    const recent = this.#recent(w);
    const recentP95 =
      recent.count >= this.#minSamples ? recent.getValueAtQuantile(0.95) : undefined;
    const slower = p95 !== undefined && recentP95 !== undefined && p95 > 0 ? recentP95 / p95 : 1;
    const busier = w.inFlight / this.#capacity;
    const loadFactor = Math.min(this.#maxLoad, Math.max(1, slower, busier));
    return {
      dependency,
      count: merged.count,
      p50Ms: q(0.5),
      p95Ms: p95,
      p99Ms: q(0.99),
      recentP95Ms: recentP95,
      inFlight: w.inFlight,
      loadFactor,
    };
  }

  /** The dependencies seen so far. */
  dependencies(): string[] {
    return [...this.#deps.keys()];
  }

  #window(dependency: string): Window {
    let w = this.#deps.get(dependency);
    if (w === undefined) {
      w = {
        sketches: Array.from(
          { length: this.#slices },
          () => new DDSketch({ relativeAccuracy: this.#accuracy }),
        ),
        epoch: Math.floor(this.#clock() / this.#sliceMs),
        inFlight: 0,
        merged: undefined,
      };
      this.#deps.set(dependency, w);
    }
    return w;
  }

  #add(w: Window, ms: number): void {
    this.#rotate(w);
    w.sketches[w.epoch % this.#slices]!.accept(ms);
    w.merged = undefined;
  }

  /** Empties the slices that time has left behind since the last read or write. */
  #rotate(w: Window): void {
    const epoch = Math.floor(this.#clock() / this.#sliceMs);
    if (epoch <= w.epoch) return;
    const stale = Math.min(epoch - w.epoch, this.#slices);
    for (let k = 1; k <= stale; k++) {
      w.sketches[(w.epoch + k) % this.#slices] = new DDSketch({ relativeAccuracy: this.#accuracy });
    }
    w.epoch = epoch;
    w.merged = undefined;
  }

  #merged(w: Window): DDSketch {
    if (w.merged === undefined) {
      const merged = new DDSketch({ relativeAccuracy: this.#accuracy });
      for (const s of w.sketches) if (s.count > 0) merged.merge(s);
      w.merged = merged;
    }
    return w.merged;
  }

  /** The newest slice and the one before it: "now", never empty just after a rotation. */
  #recent(w: Window): DDSketch {
    const recent = new DDSketch({ relativeAccuracy: this.#accuracy });
    const newest = w.sketches[w.epoch % this.#slices]!;
    if (newest.count > 0) recent.merge(newest);
    if (this.#slices > 2) {
      const previous = w.sketches[(w.epoch + this.#slices - 1) % this.#slices]!;
      if (previous.count > 0) recent.merge(previous);
    }
    return recent;
  }
}

interface Window {
  /** One sketch per slice; slice `epoch % slices` is the newest. */
  sketches: DDSketch[];
  /** Index of the newest slice since the clock's origin. */
  epoch: number;
  inFlight: number;
  /** The window merged, until the next sample or rotation. */
  merged: DDSketch | undefined;
}
