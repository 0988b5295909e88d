// Resilience4j's circuit breaker: closed while the failure and slow-call rates over a sliding
// window stay under their thresholds; open (refusing at once) for a while when one reaches its
// threshold; then half-open, letting exactly N trial calls through and deciding on their rates.
// No timer: the open state ends at the first call after its duration.
import { type Context, now } from "../core/index.js";
import {
  checkContext,
  checkFunction,
  checkNumber,
  checkOneOf,
  describeValue,
  invalidType,
  optionsObject,
  outOfRange,
  readOptions,
} from "../core/internal.js";
import { BrokenCircuitError, type RefusingState } from "./broken-circuit-error.js";
import { resilienceChannels } from "./events.js";
import type { Policy, PolicyOptions, Work } from "./policy.js";
import { STAGE, type Stage, stageFor } from "./stage.js";
import { CountWindow, type OutcomeWindow, TimeWindow } from "./sliding-window.js";

/** The states of a circuit breaker; "isolated" is open by hand, until `reset()`. */
export type CircuitState = "closed" | "open" | "half-open" | "isolated";

/**
 * The sliding window the rates are measured over: the last `size` calls (`"count"`, size 1 to
 * 1,000,000, default 100), or the calls of the last `size` seconds (`"time"`, 1 to 3,600).
 */
export type CircuitWindow =
  | {
      /** The last `size` calls. */
      readonly type: "count";
      /** How many calls (1 to 1,000,000; default 100). */
      readonly size?: number;
    }
  | {
      /** The calls of the last `size` seconds. */
      readonly type: "time";
      /** How many seconds (1 to 3,600; default 60). */
      readonly size?: number;
    };

/** Options of {@link circuitBreaker}; the defaults are Resilience4j's. */
export interface CircuitBreakerOptions extends PolicyOptions {
  /** Opens when the failure rate (%) over the window reaches this. Default 50; above 0 to 100. */
  readonly failureRateThreshold?: number;
  /** Opens when the slow-call rate (%) reaches this. Default 100; above 0 to 100. */
  readonly slowCallRateThreshold?: number;
  /** A call that takes longer than this is slow. Default 60,000 ms; 0 to 86,400,000. */
  readonly slowCallDurationMs?: number;
  /** Calls the window must hold before rates are judged. Default 100; 1 to 1,000,000. */
  readonly minimumCalls?: number;
  /** Default `{ type: "count", size: 100 }`. */
  readonly window?: CircuitWindow;
  /** How long it stays open before half-open. Default 60,000 ms; 1 to 86,400,000. */
  readonly openDurationMs?: number;
  /**
   * Repeated trips (half-open failing again) double the open duration, up to this. Default
   * `openDurationMs` (no growth); `openDurationMs` to 86,400,000.
   */
  readonly maxOpenDurationMs?: number;
  /** Trial calls let through when half-open. Default 10; 1 to 100,000. */
  readonly halfOpenPermits?: number;
  /** Whether an error counts as a failure (else as a success). Default: every error. */
  readonly isFailure?: (error: unknown) => boolean;
  /** Whether a result counts as a failure (a Response with status 503, say). Default: none. */
  readonly isFailureResult?: (value: unknown) => boolean;
  /** The clock, in ms (default: timebound's monotonic `now()`); for simulations and tests. */
  readonly clock?: () => number;
}

const KNOWN: readonly (keyof CircuitBreakerOptions)[] = [
  "failureRateThreshold",
  "slowCallRateThreshold",
  "slowCallDurationMs",
  "minimumCalls",
  "window",
  "openDurationMs",
  "maxOpenDurationMs",
  "halfOpenPermits",
  "isFailure",
  "isFailureResult",
  "clock",
  "name",
];

const CLOSED = 0;
const OPEN = 1;
const HALF_OPEN = 2;
const ISOLATED = 3;
type State = typeof CLOSED | typeof OPEN | typeof HALF_OPEN | typeof ISOLATED;
const STATE_NAMES: readonly CircuitState[] = ["closed", "open", "half-open", "isolated"];
const MAX_DURATION_MS = 86_400_000;

/** What a finished call counts as. */
const SUCCESS = 0;
const FAILURE = 1;
const IGNORED = 2;
type Outcome = typeof SUCCESS | typeof FAILURE | typeof IGNORED;
const OUTCOME_NAMES = ["success", "failure", "ignored"] as const;

/** Rates over some calls, as the breaker judged them. */
export interface CircuitRates {
  /** Calls in the window the rates were measured over. */
  readonly calls: number;
  /** Percent of the calls that failed. */
  readonly failureRate: number;
  /** Percent of the calls that were slow. */
  readonly slowCallRate: number;
}

/**
 * A circuit breaker: see {@link circuitBreaker}.
 *
 * @example
 * ```ts
 * const breaker: CircuitBreakerPolicy = circuitBreaker({ name: "inventory" });
 * if (breaker.state !== "closed") console.warn(`inventory breaker is ${breaker.state}`);
 * ```
 */
export class CircuitBreakerPolicy implements Policy {
  readonly name: string;
  /** Its `failureRateThreshold` option (%). */
  readonly failureRateThreshold: number;
  /** Its `slowCallRateThreshold` option (%). */
  readonly slowCallRateThreshold: number;
  /** Its `slowCallDurationMs` option. */
  readonly slowCallDurationMs: number;
  /** Its `minimumCalls` option. */
  readonly minimumCalls: number;
  /** Its `openDurationMs` option: the first open period. */
  readonly openDurationMs: number;
  /** Its `maxOpenDurationMs` option: the longest open period repeated trips grow to. */
  readonly maxOpenDurationMs: number;
  /** Its `halfOpenPermits` option. */
  readonly halfOpenPermits: number;
  readonly #isFailure: ((error: unknown) => boolean) | undefined;
  readonly #isFailureResult: ((value: unknown) => boolean) | undefined;
  readonly #clock: () => number;
  readonly #window: OutcomeWindow;
  /** minimumCalls, capped at a count window's size (a window of 20 never holds 100 calls). */
  readonly #minCalls: number;

  #state: State = CLOSED;
  /** Changes with every state change: outcomes of calls let in under another one are dropped. */
  #generation = 0;
  #since: number;
  #openUntil = Infinity;
  /** Consecutive trips without closing in between (for the growing open duration). */
  #trips = 0;
  #tripRates: CircuitRates | undefined = undefined;
  /** Half-open: trial calls let in, and the outcomes of those that finished. */
  #trialsIssued = 0;
  #trialCalls = 0;
  #trialFailures = 0;
  #trialSlow = 0;

  /** Prefer {@link circuitBreaker}; the options are checked the same way. */
  constructor(options?: CircuitBreakerOptions) {
    const fn = "circuitBreaker";
    const o = readOptions(options, fn, KNOWN);
    this.name = o.string("name", "circuit-breaker");
    this.failureRateThreshold = percent(o.raw("failureRateThreshold"), 50, "failureRateThreshold");
    this.slowCallRateThreshold = percent(
      o.raw("slowCallRateThreshold"),
      100,
      "slowCallRateThreshold",
    );
    this.slowCallDurationMs = o.ms("slowCallDurationMs", 60_000, { min: 0, max: MAX_DURATION_MS });
    this.minimumCalls = o.number("minimumCalls", 100, { min: 1, max: 1_000_000, integer: true });
    this.openDurationMs = o.ms("openDurationMs", 60_000, { min: 1, max: MAX_DURATION_MS });
    this.maxOpenDurationMs = o.ms("maxOpenDurationMs", this.openDurationMs, {
      min: this.openDurationMs,
      max: MAX_DURATION_MS,
    });
    this.halfOpenPermits = o.number("halfOpenPermits", 10, {
      min: 1,
      max: 100_000,
      integer: true,
    });
    this.#isFailure = o.function("isFailure", undefined);
    this.#isFailureResult = o.function("isFailureResult", undefined);
    this.#clock = o.function("clock", now);
    this.#window = makeWindow(o.raw("window"));
    this.#minCalls =
      this.#window instanceof CountWindow
        ? Math.min(this.minimumCalls, this.#window.size)
        : this.minimumCalls;
    this.#since = this.#clock();
    if (resilienceChannels.circuitBreaker.hasSubscribers) {
      resilienceChannels.circuitBreaker.publish({
        policy: this.name,
        event: "created",
        state: "closed",
      });
    }
  }

  /** The state now. An open breaker turns half-open at the first call after its open duration. */
  get state(): CircuitState {
    return STATE_NAMES[this.#state]!;
  }

  /** The rates over the current window (closed), or over the trial calls so far (half-open). */
  rates(): CircuitRates {
    if (this.#state === HALF_OPEN) {
      return rates(this.#trialCalls, this.#trialFailures, this.#trialSlow);
    }
    const calls = this.#window.callsAt(this.#clock());
    return rates(calls, this.#window.failures, this.#window.slow);
  }

  /**
   * Runs `work` if the breaker lets it through, recording its outcome; rejects at once with
   * {@link BrokenCircuitError} otherwise.
   */
  execute<T>(ctx: Context, work: Work<T>): Promise<T> {
    let generation: number;
    try {
      checkContext(ctx, `${this.name}.execute`);
      checkFunction(work, `${this.name}.execute`, "work");
      generation = this.#acquire(ctx);
    } catch (refused) {
      return Promise.reject(refused);
    }
    const started = this.#clock();
    let pending: T | PromiseLike<T>;
    try {
      pending = work(ctx);
    } catch (error) {
      this.#settle(ctx, generation, started, this.#judgeError(ctx, error));
      return Promise.reject(error);
    }
    // then() rather than an async function: on the success path of every call, this allocates
    // a third of what an async function's suspended frame does.
    return Promise.resolve(pending).then(
      (value) => {
        this.#settleValue(ctx, generation, started, value);
        return value;
      },
      (error: unknown) => {
        this.#settle(ctx, generation, started, this.#judgeError(ctx, error));
        throw error;
      },
    );
  }

  /** @internal Its steps in a fused pipeline: those of {@link CircuitBreakerPolicy.execute}. */
  readonly [STAGE]: Stage = stageFor(CircuitBreakerPolicy, {
    enter: (ctx, frame, i) => {
      frame.keep(i, this.#acquire(ctx), this.#clock());
      return ctx;
    },
    fulfilled: (ctx, value, frame, i) => {
      this.#settleValue(ctx, frame.x(i) as number, frame.y(i) as number, value);
      return value;
    },
    rejected: (ctx, error, frame, i) => {
      this.#settle(ctx, frame.x(i) as number, frame.y(i) as number, this.#judgeError(ctx, error));
      throw error;
    },
  });

  /** Records the outcome of a call that fulfilled with `value`. */
  #settleValue(ctx: Context, generation: number, started: number, value: unknown): void {
    const failed = this.#isFailureResult !== undefined && this.#isFailureResult(value);
    this.#settle(ctx, generation, started, failed ? FAILURE : SUCCESS);
  }

  /** Opens the breaker by hand, until {@link reset}: every call is refused. */
  isolate(): void {
    this.#transition(ISOLATED, this.#clock(), "isolate", undefined);
  }

  /** Closes the breaker by hand, forgetting the window and past trips. */
  reset(): void {
    this.#trips = 0;
    this.#transition(CLOSED, this.#clock(), "reset", undefined);
  }

  /** Lets a call in (returns the generation it belongs to) or throws BrokenCircuitError. */
  #acquire(ctx: Context): number {
    const state = this.#state;
    if (state === CLOSED) return this.#generation;
    if (state === OPEN) {
      const t = this.#clock();
      if (t < this.#openUntil) throw this.#refuse(ctx, t);
      this.#transition(HALF_OPEN, t, "open-duration-elapsed", undefined);
    }
    if (this.#state === HALF_OPEN && this.#trialsIssued < this.halfOpenPermits) {
      this.#trialsIssued++;
      return this.#generation;
    }
    throw this.#refuse(ctx, this.#clock());
  }

  #judgeError(ctx: Context, error: unknown): Outcome {
    // The caller left (its cancel, or its deadline): that says nothing about the upstream.
    if (ctx.err !== undefined) return IGNORED;
    return this.#isFailure === undefined || this.#isFailure(error) ? FAILURE : SUCCESS;
  }

  #settle(ctx: Context, generation: number, started: number, outcome: Outcome): void {
    const t = this.#clock();
    const durationMs = t - started;
    const slow = durationMs > this.slowCallDurationMs;
    // An abandoned call that had already been slow was slow whatever the caller did.
    if (outcome === IGNORED && slow) outcome = SUCCESS;
    if (resilienceChannels.circuitBreakerCall.hasSubscribers) {
      resilienceChannels.circuitBreakerCall.publish({
        policy: this.name,
        event: "call",
        context: ctx,
        outcome: OUTCOME_NAMES[outcome],
        slow,
        durationMs,
        state: STATE_NAMES[this.#state],
      });
    }
    if (generation !== this.#generation) return; // let in under an earlier state
    if (this.#state === CLOSED) {
      if (outcome === IGNORED) return;
      const window = this.#window;
      window.record(outcome === FAILURE, slow, t);
      const calls = window.callsAt(t);
      if (calls < this.#minCalls || !this.#exceeds(calls, window.failures, window.slow)) return;
      const r = rates(calls, window.failures, window.slow);
      this.#transition(OPEN, t, this.#tripReason(r), r);
    } else if (this.#state === HALF_OPEN) {
      if (outcome === IGNORED) {
        this.#trialsIssued--; // give the permit back: another call can try
        return;
      }
      this.#trialCalls++;
      if (outcome === FAILURE) this.#trialFailures++;
      if (slow) this.#trialSlow++;
      if (this.#trialCalls < this.halfOpenPermits) return;
      const r = rates(this.#trialCalls, this.#trialFailures, this.#trialSlow);
      if (this.#exceeds(r.calls, this.#trialFailures, this.#trialSlow)) {
        this.#transition(OPEN, t, this.#tripReason(r), r);
      } else {
        this.#trips = 0;
        this.#transition(CLOSED, t, "trial-calls-passed", r);
      }
    }
  }

  /** Whether a rate reached its threshold: compared as counts, so nothing is allocated. */
  #exceeds(calls: number, failures: number, slow: number): boolean {
    return (
      failures * 100 >= this.failureRateThreshold * calls ||
      slow * 100 >= this.slowCallRateThreshold * calls
    );
  }

  #tripReason(r: CircuitRates): string {
    return r.failureRate >= this.failureRateThreshold ? "failure-rate" : "slow-call-rate";
  }

  #transition(to: State, t: number, reason: string, r: CircuitRates | undefined): void {
    const from = this.#state;
    this.#state = to;
    this.#generation++;
    this.#since = t;
    this.#window.clear();
    this.#trialsIssued = this.#trialCalls = this.#trialFailures = this.#trialSlow = 0;
    if (to === OPEN) {
      this.#trips++;
      const grown = this.openDurationMs * 2 ** (this.#trips - 1);
      this.#openUntil = t + Math.min(this.maxOpenDurationMs, grown);
      this.#tripRates = r;
    } else if (to === ISOLATED) {
      this.#openUntil = Infinity;
      this.#tripRates = undefined;
    }
    if (!resilienceChannels.circuitBreaker.hasSubscribers) return;
    resilienceChannels.circuitBreaker.publish({
      policy: this.name,
      event: "state-change",
      from: STATE_NAMES[from],
      to: STATE_NAMES[to],
      reason,
      calls: r?.calls,
      failureRate: r?.failureRate,
      slowCallRate: r?.slowCallRate,
      openDurationMs: to === OPEN ? this.#openUntil - t : undefined,
    });
  }

  #refuse(ctx: Context, t: number): BrokenCircuitError {
    const state = STATE_NAMES[this.#state] as RefusingState;
    if (resilienceChannels.circuitBreaker.hasSubscribers) {
      resilienceChannels.circuitBreaker.publish({
        policy: this.name,
        event: "rejected",
        context: ctx,
        state,
      });
    }
    const wall = Date.now();
    const r = this.#state === OPEN ? this.#tripRates : undefined;
    return new BrokenCircuitError({
      policy: this.name,
      state,
      since: new Date(wall - (t - this.#since)),
      until: this.#state === OPEN ? new Date(wall + (this.#openUntil - t)) : undefined,
      calls: r?.calls,
      failureRate: r?.failureRate,
      slowCallRate: r?.slowCallRate,
    });
  }
}

function rates(calls: number, failures: number, slow: number): CircuitRates {
  return {
    calls,
    failureRate: calls === 0 ? 0 : (failures * 100) / calls,
    slowCallRate: calls === 0 ? 0 : (slow * 100) / calls,
  };
}

function percent(value: unknown, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  const v = checkNumber(value, "circuitBreaker", `options.${option}`, { min: 0, max: 100 });
  if (v === 0) {
    throw outOfRange(
      `circuitBreaker: options.${option} must be a percentage above 0 and at most 100, got 0`,
    );
  }
  return v;
}

function makeWindow(value: CircuitWindow | undefined): OutcomeWindow {
  if (value === undefined) return new CountWindow(100);
  const w = optionsObject(value, "circuitBreaker", ["type", "size"], "options.window");
  if (w.type === undefined) {
    throw invalidType(
      `circuitBreaker: options.window.type must be "count" or "time", got ${describeValue(w.type)}`,
    );
  }
  const type = checkOneOf(w.type, "circuitBreaker", "options.window.type", ["count", "time"]);
  if (type === "count") {
    const size = w.size ?? 100;
    return new CountWindow(
      checkNumber(size, "circuitBreaker", "options.window.size", {
        min: 1,
        max: 1_000_000,
        integer: true,
      }),
    );
  }
  const seconds = w.size ?? 60;
  return new TimeWindow(
    checkNumber(
      seconds,
      "circuitBreaker",
      "options.window.size",
      { min: 1, max: 3_600, integer: true },
      "seconds",
    ),
  );
}

/**
 * A circuit breaker with Resilience4j's model. Closed, it records each call's outcome (failure,
 * and slow when it took longer than `slowCallDurationMs`) in a sliding window (the last N calls,
 * or the last N seconds); once the window holds `minimumCalls`, a failure rate ≥
 * `failureRateThreshold` or a slow-call rate ≥ `slowCallRateThreshold` opens it. Open, it
 * rejects every call at once with {@link BrokenCircuitError} (code
 * `TIMEBOUND_ERR_BROKEN_CIRCUIT`, saying since when and until when) for `openDurationMs`
 * (doubling on each repeated trip up to `maxOpenDurationMs`). The first call after that turns it
 * half-open: exactly `halfOpenPermits` trial calls go through, also under concurrency (others are
 * refused), and when all have finished their rates decide: closed again, or open again.
 * `isolate()` opens it by hand until `reset()`.
 *
 * Counting choices: an error counts as a failure unless `isFailure` says otherwise (then as a
 * success); a result counts as a success unless `isFailureResult` says otherwise. A call that
 * ends because the caller's context ended (the caller's cancel or deadline, not the upstream's
 * answer) is not counted, unless it had already been slow, then it counts as a slow success:
 * the caller leaving says nothing about the upstream, but its slowness does. A call let in before
 * a state change does not count in the new state. Half-open, an uncounted trial call gives its
 * permit back.
 *
 * Events on `timebound:resilience:circuit-breaker`:
 * - `"created"`: a breaker was made (so that its state is known before it first changes); `state`;
 * - `"state-change"`: `from`, `to` (a {@link CircuitState}), `reason` ("failure-rate",
 *   "slow-call-rate", "open-duration-elapsed", "trial-calls-passed", "isolate", "reset"),
 *   `calls`, `failureRate`, `slowCallRate` (the rates judged, when rates decided), and
 *   `openDurationMs` when it opens;
 * - `"rejected"`: a call was refused; `state`.
 *
 * On `timebound:resilience:circuit-breaker:call`, a channel of its own so that listening for the
 * events above costs the calls nothing: `"call"`, a call let through finished; `outcome`
 * ("success", "failure", "ignored"), `slow`, `durationMs`, `state`.
 *
 * @example
 * ```ts
 * import { circuitBreaker } from "timebound/resilience";
 * // The seed's configuration: 50% errors, 600 ms slow calls, 10 half-open calls.
 * const breaker = circuitBreaker({
 *   failureRateThreshold: 50,
 *   slowCallDurationMs: 600,
 *   halfOpenPermits: 10,
 *   name: "payments",
 * });
 * const res = await breaker.execute(ctx, (ctx) => fetch("http://127.0.0.1:8080/pay", { signal: ctx.signal }));
 * ```
 */
export function circuitBreaker(options?: CircuitBreakerOptions): CircuitBreakerPolicy {
  return new CircuitBreakerPolicy(options);
}
