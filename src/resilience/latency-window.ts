// The latest latencies a policy observed, and their 95th percentile: what "p95" means for a
// hedge's delay. A bounded ring (memory fixed, old behaviour forgotten as traffic flows) whose
// percentile is recomputed every few samples, not on every call.

/** @internal The last `size` latencies, in ms, and their p95. */
export class LatencyWindow {
  readonly #ring: Float64Array;
  #count = 0;
  #next = 0;
  #sinceSort = 0;
  #p95: number | undefined = undefined;

  constructor(
    /** Latencies kept. */
    readonly size = 512,
    /** Samples needed before a p95 is given at all. */
    readonly minSamples = 20,
    /** New samples between two computations of the p95. */
    readonly every = 16,
  ) {
    this.#ring = new Float64Array(size);
  }

  /** Samples held (at most `size`). */
  get count(): number {
    return this.#count;
  }

  add(ms: number): void {
    this.#ring[this.#next] = ms;
    this.#next = (this.#next + 1) % this.size;
    if (this.#count < this.size) this.#count++;
    this.#sinceSort++;
  }

  /** The 95th percentile of the samples held, or undefined before `minSamples` of them. */
  p95(): number | undefined {
    if (this.#count < this.minSamples) return undefined;
    if (this.#p95 === undefined || this.#sinceSort >= this.every) {
      const sorted = this.#ring.slice(0, this.#count).sort();
      this.#p95 = sorted[Math.ceil(0.95 * this.#count) - 1]!;
      this.#sinceSort = 0;
    }
    return this.#p95;
  }
}
