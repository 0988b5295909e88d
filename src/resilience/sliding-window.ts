// The circuit breaker's memory of recent calls, as Resilience4j keeps it: the last N calls
// (count-based), or the calls of the last N seconds in one bucket per second (time-based). Both
// keep running totals, so recording a call and reading the rates cost O(1) (amortised).

/** @internal What a window holds: how many calls, how many failed, how many were slow. */
export interface OutcomeWindow {
  /** Records one call that ended at `t` (ms). */
  record(failed: boolean, slow: boolean, t: number): void;
  /** Calls in the window at `t`. Read the counts below right after. */
  callsAt(t: number): number;
  readonly failures: number;
  readonly slow: number;
  /** Forgets everything (the breaker changed state). */
  clear(): void;
}

const FAILED = 1;
const SLOW = 2;

/** @internal The last `size` calls. */
export class CountWindow implements OutcomeWindow {
  readonly #outcomes: Uint8Array;
  #next = 0;
  #calls = 0;
  failures = 0;
  slow = 0;

  constructor(readonly size: number) {
    this.#outcomes = new Uint8Array(size);
  }

  record(failed: boolean, slow: boolean, _t: number): void {
    const i = this.#next;
    if (this.#calls === this.size) {
      const old = this.#outcomes[i]!;
      if ((old & FAILED) !== 0) this.failures--;
      if ((old & SLOW) !== 0) this.slow--;
    } else {
      this.#calls++;
    }
    this.#outcomes[i] = (failed ? FAILED : 0) | (slow ? SLOW : 0);
    if (failed) this.failures++;
    if (slow) this.slow++;
    this.#next = i + 1 === this.size ? 0 : i + 1;
  }

  callsAt(_t: number): number {
    return this.#calls;
  }

  clear(): void {
    this.#next = this.#calls = this.failures = this.slow = 0;
  }
}

/** @internal The calls of the last `seconds` seconds, one bucket per second of the clock. */
export class TimeWindow implements OutcomeWindow {
  readonly #calls: Float64Array;
  readonly #failures: Float64Array;
  readonly #slow: Float64Array;
  /** The newest second recorded or read; buckets of older seconds are emptied when passed. */
  #second = -Infinity;
  #totalCalls = 0;
  failures = 0;
  slow = 0;

  constructor(readonly seconds: number) {
    this.#calls = new Float64Array(seconds);
    this.#failures = new Float64Array(seconds);
    this.#slow = new Float64Array(seconds);
  }

  record(failed: boolean, slow: boolean, t: number): void {
    const i = this.#advance(t);
    this.#calls[i]!++;
    this.#totalCalls++;
    if (failed) {
      this.#failures[i]!++;
      this.failures++;
    }
    if (slow) {
      this.#slow[i]!++;
      this.slow++;
    }
  }

  callsAt(t: number): number {
    this.#advance(t);
    return this.#totalCalls;
  }

  clear(): void {
    this.#calls.fill(0);
    this.#failures.fill(0);
    this.#slow.fill(0);
    this.#totalCalls = this.failures = this.slow = 0;
  }

  /** Moves the window to the second of `t`, emptying the buckets it leaves; returns its bucket. */
  #advance(t: number): number {
    const second = Math.floor(t / 1000);
    if (second > this.#second) {
      if (second - this.#second >= this.seconds) this.clear();
      else {
        for (let s = this.#second + 1; s <= second; s++) this.#empty(this.#bucket(s));
      }
      this.#second = second;
    }
    // A clock that stepped back (it should not) records into the newest bucket.
    return this.#bucket(this.#second);
  }

  #bucket(second: number): number {
    const i = second % this.seconds;
    return i < 0 ? i + this.seconds : i;
  }

  #empty(i: number): void {
    this.#totalCalls -= this.#calls[i]!;
    this.failures -= this.#failures[i]!;
    this.slow -= this.#slow[i]!;
    this.#calls[i] = this.#failures[i] = this.#slow[i] = 0;
  }
}
