// The two limit algorithms of Netflix's concurrency-limits (github.com/Netflix/concurrency-limits,
// concurrency-limits-core, package com.netflix.concurrency.limits.limit) that adaptive
// concurrency offers, transcribed with their default constants. Each takes one sample per call
// (its round-trip time, the calls in flight when it started, whether it was dropped) and gives
// the new estimated limit; the caller rounds it down.

/** @internal One limit algorithm: a sample in, the estimated limit (a real number) out. */
export interface LimitAlgorithm {
  /** The estimate now; the limit in force is `Math.floor` of it. */
  readonly estimate: number;
  /** Takes the sample of one call; returns the new estimate. */
  update(rttMs: number, inflight: number, didDrop: boolean): number;
}

/**
 * Netflix's `Log10RootFunction`: max(1, floor(log10(limit))) below 1000, floor(sqrt(limit))
 * from there.
 */
function log10Root(limit: number): number {
  const n = Math.floor(limit);
  return n < 1000 ? Math.max(1, Math.floor(Math.log10(Math.max(n, 1)))) : Math.floor(Math.sqrt(n));
}

/** Netflix's `ExpAvgMeasurement`: a plain mean over the first `warmup` samples, then an EMA. */
class ExpAvg {
  value = 0;
  #sum = 0;
  #count = 0;
  readonly #factor: number;
  constructor(
    window: number,
    readonly warmup: number,
  ) {
    this.#factor = 2 / (window + 1);
  }

  add(sample: number): number {
    if (this.#count < this.warmup) {
      this.#count++;
      this.#sum += sample;
      this.value = this.#sum / this.#count;
    } else {
      this.value = this.value * (1 - this.#factor) + sample * this.#factor;
    }
    return this.value;
  }
}

/**
 * @internal Gradient2 (`Gradient2Limit`): compares each call's RTT (short) with an exponential
 * average over 600 samples (long) and, when the service is not app-limited (in flight ≥ half
 * the limit):
 *
 *     gradient = max(0.5, min(1.0, longRtt / shortRtt))
 *     newLimit = limit × gradient + queueSize           (queueSize = 4)
 *     limit    = limit × (1 − smoothing) + newLimit × smoothing   (smoothing = 0.2)
 *
 * clamped to [min, max]; a drop counts only through its RTT. When latency falls back after a
 * long overload (long > 2 × short), the long average is cut by 10% per sample so the limit
 * recovers without waiting for the EMA.
 */
export class Gradient2 implements LimitAlgorithm {
  estimate: number;
  readonly #long = new ExpAvg(600, 10);

  constructor(
    initial: number,
    readonly min: number,
    readonly max: number,
    readonly queueSize = 4,
    readonly smoothing = 0.2,
  ) {
    this.estimate = initial;
  }

  update(rttMs: number, inflight: number, _didDrop?: boolean): number {
    const shortRtt = rttMs;
    const longRtt = this.#long.add(rttMs);
    if (longRtt / shortRtt > 2) this.#long.value *= 0.9;
    if (inflight < this.estimate / 2) return this.estimate; // app-limited: no evidence to grow on
    const gradient = Math.max(0.5, Math.min(1, longRtt / shortRtt));
    const next = this.estimate * gradient + this.queueSize;
    const smoothed = this.estimate * (1 - this.smoothing) + next * this.smoothing;
    this.estimate = Math.max(this.min, Math.min(this.max, smoothed));
    return this.estimate;
  }
}

/**
 * @internal Vegas (`VegasLimit`, after TCP Vegas): keeps the lowest RTT seen as the no-load RTT
 * (re-probed every 30 × limit × jitter(0.5..1) samples), estimates the queue as
 *
 *     queue = ceil(limit × (1 − rttNoLoad / rtt))
 *
 * and with alpha = 3·log10(limit), beta = 6·log10(limit), threshold = log10(limit) (Netflix's
 * Log10RootFunction): a dropped call decreases the limit by log10(limit); otherwise, unless
 * app-limited (in flight × 2 < limit), queue ≤ threshold grows it by beta, queue < alpha by
 * log10(limit), queue > beta shrinks it by log10(limit), and between alpha and beta it stays.
 * Clamped to [min, max]; smoothing 1 (the new value is taken as is).
 */
export class Vegas implements LimitAlgorithm {
  estimate: number;
  #rttNoLoad = 0;
  #probeCount = 0;
  #probeJitter: number;

  constructor(
    initial: number,
    readonly min: number,
    readonly max: number,
    readonly random: () => number = Math.random,
    readonly probeMultiplier = 30,
  ) {
    this.estimate = initial;
    this.#probeJitter = this.#jitter();
  }

  /** The RTT it takes for "no load" now, in ms (0 before the first sample). */
  get rttNoLoad(): number {
    return this.#rttNoLoad;
  }

  update(rttMs: number, inflight: number, didDrop: boolean): number {
    this.#probeCount++;
    if (this.#probeJitter * this.probeMultiplier * this.estimate <= this.#probeCount) {
      // Probe: the no-load RTT may have risen for good (a slower dependency); take the sample.
      this.#probeJitter = this.#jitter();
      this.#probeCount = 0;
      this.#rttNoLoad = rttMs;
      return this.estimate;
    }
    if (this.#rttNoLoad === 0 || rttMs < this.#rttNoLoad) {
      this.#rttNoLoad = rttMs;
      return this.estimate;
    }
    const limit = this.estimate;
    const queue = Math.ceil(limit * (1 - this.#rttNoLoad / rttMs));
    const step = log10Root(limit);
    let next: number;
    if (didDrop) {
      next = limit - step;
    } else if (inflight * 2 < limit) {
      return limit; // app-limited
    } else if (queue <= step) {
      next = limit + 6 * step; // threshold = log10: no queueing, grow fast (by beta)
    } else if (queue < 3 * step) {
      next = limit + step; // below alpha: grow
    } else if (queue > 6 * step) {
      next = limit - step; // above beta: latency is queueing, shrink
    } else {
      return limit; // between alpha and beta: the sweet spot
    }
    this.estimate = Math.max(this.min, Math.min(this.max, next));
    return this.estimate;
  }

  #jitter(): number {
    return 0.5 + this.random() * 0.5;
  }
}
