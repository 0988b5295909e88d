// Hedged requests (Dean and Barroso, "The Tail at Scale", CACM 2013): when a call has taken
// longer than most do, send the same request again and take whichever answer comes first. A
// few percent more load buys a much shorter tail, provided the losers are really stopped and
// the extra requests are bounded (a budget), which is what this policy adds.
import { type CancelableContext, type Context, now, withCancel } from "../core/index.js";
import {
  type CancelContext,
  checkContext,
  checkFunction,
  checkMs,
  describeValue,
  endedError,
  invalidType,
  readOptions,
  startTimer,
  unwatch,
  watch,
  Watcher,
} from "../core/internal.js";
import { resilienceChannels } from "./events.js";
import { discard } from "./discard.js";
import { LatencyWindow } from "./latency-window.js";
import type { Policy, PolicyOptions, Work } from "./policy.js";

/**
 * What a hedge draws its extra attempts from: any object whose `tryWithdraw()` takes one
 * token and says whether there was one. A retry budget (`RetryBudget`) fits, so that retries
 * and hedges share one bound on extra load.
 */
export interface HedgeBudget {
  /**
   * Called once per hedged call, if present: a budget used by hedging alone gets its deposits
   * from the calls it bounds (a `RetryBudget` otherwise only sees the requests a retry records).
   */
  recordRequest?(): void;
  /** Takes one token for an extra attempt; false when the budget is spent (no hedge then). */
  tryWithdraw(): boolean;
}

/** Options of {@link hedge}. */
export interface HedgeOptions extends PolicyOptions {
  /**
   * How long an attempt may go unanswered before the next one starts: milliseconds (0 to
   * 3,600,000; 0 sends every attempt at once) or `"p95"`, the 95th percentile of this policy's
   * own recent latencies (the last 512 successful attempts; no hedge before 20 of them).
   * Default `"p95"`.
   */
  readonly delayMs?: number | "p95";
  /** Extra attempts per call at most: an integer from 1 to 10. Default 1. */
  readonly maxHedges?: number;
  /** Where hedges draw from; no hedge without a token. Default: none (bounded by `maxHedges` only). */
  readonly budget?: HedgeBudget;
  /**
   * The time an extra attempt must have before the caller's deadline for it to start, in ms (0
   * to 3,600,000). Default: the delay in use, so that with `"p95"` a hedge starts only if 95% of
   * calls would finish in the time left.
   */
  readonly minAttemptMs?: number;
}

/** A {@link hedge} policy. */
export interface Hedge extends Policy {
  /** The delay a call would wait now before hedging, in ms; undefined while `"p95"` lacks samples. */
  readonly delayMs: number | undefined;
  /** Its `maxHedges` option. */
  readonly maxHedges: number;
}

const KNOWN = ["delayMs", "maxHedges", "budget", "minAttemptMs", "name"] as const;
const MAX_MS = { min: 0, max: 3_600_000 } as const;

/** One call through the hedge: its attempts, its timer, and the caller's context it watches. */
class HedgedCall<T> extends Watcher {
  readonly attempts: CancelableContext[] = [];
  readonly starts: number[] = [];
  running = 0;
  settled = false;
  failed = false;
  firstError: unknown = undefined;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(
    readonly policy: HedgePolicy,
    readonly ctx: Context,
    readonly work: Work<T>,
    readonly delayMs: number,
    readonly resolve: (value: T) => void,
    readonly reject: (err: unknown) => void,
  ) {
    super();
  }

  start(): void {
    const i = this.attempts.length;
    const attempt = withCancel(this.ctx);
    this.attempts.push(attempt);
    this.starts.push(now());
    this.running++;
    let result: T | PromiseLike<T>;
    try {
      result = this.work(attempt);
    } catch (err) {
      this.fail(err);
      return;
    }
    Promise.resolve(result).then(
      (value) => this.succeed(i, value),
      (err: unknown) => this.fail(err),
    );
  }

  /**
   * Arms the timer of the next hedge if one may still start: fewer than `maxHedges` so far, a
   * known delay, and time left for an attempt when it fires.
   */
  arm(): void {
    if (this.settled || this.attempts.length > this.policy.maxHedges) return;
    const delayMs = this.delayMs;
    if (delayMs === Infinity) return; // "p95" without enough samples yet
    if (delayMs + (this.policy.minAttemptMs ?? delayMs) > this.ctx.remaining()) return;
    this.timer = startTimer(fire, delayMs, this);
  }

  fire(): void {
    this.timer = undefined;
    if (this.settled) return;
    const { policy, ctx } = this;
    const remainingMs = ctx.remaining();
    const minMs = policy.minAttemptMs ?? this.delayMs;
    const channel = resilienceChannels.hedge;
    if (remainingMs < minMs) {
      if (channel.hasSubscribers) {
        channel.publish({
          policy: policy.name,
          event: "skipped",
          context: ctx,
          reason: "deadline",
          remainingMs,
        });
      }
      return; // the time left only shrinks: no later hedge either
    }
    if (policy.budget !== undefined && !policy.budget.tryWithdraw()) {
      if (channel.hasSubscribers) {
        channel.publish({
          policy: policy.name,
          event: "skipped",
          context: ctx,
          reason: "budget",
          remainingMs,
        });
      }
      return;
    }
    if (channel.hasSubscribers) {
      const afterMs = now() - this.starts[0]!;
      const attempt = this.attempts.length + 1;
      channel.publish({ policy: policy.name, event: "hedge", context: ctx, attempt, afterMs });
    }
    this.start();
    this.arm();
  }

  succeed(i: number, value: T): void {
    this.running--;
    if (this.settled) {
      discard(value); // a loser answered after the winner: free what it holds
      return;
    }
    this.finish(i);
    const durationMs = now() - this.starts[i]!;
    this.policy.latencies.add(durationMs);
    const channel = resilienceChannels.hedge;
    if (this.attempts.length > 1 && channel.hasSubscribers) {
      channel.publish({
        policy: this.policy.name,
        event: "won",
        context: this.ctx,
        attempt: i + 1,
        attempts: this.attempts.length,
        durationMs,
      });
    }
    this.resolve(value);
  }

  fail(err: unknown): void {
    this.running--;
    if (this.settled) return;
    if (!this.failed) {
      this.failed = true;
      this.firstError = err;
    }
    if (this.running > 0) return; // another attempt may still answer
    this.finish(-1);
    const channel = resilienceChannels.hedge;
    if (this.attempts.length > 1 && channel.hasSubscribers) {
      channel.publish({
        policy: this.policy.name,
        event: "failed",
        context: this.ctx,
        attempts: this.attempts.length,
        error: this.firstError,
      });
    }
    this.reject(this.firstError);
  }

  /** Ends the call: no more hedges, and every attempt's context ends (the losers' work sees it). */
  finish(winner: number): void {
    this.settled = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    unwatch(this);
    const attempts = this.attempts;
    let lost: Error | undefined;
    for (let j = 0; j < attempts.length; j++) {
      if (winner === -1 || j === winner) {
        attempts[j]!.cancel(); // answered or failed: its context has no more use
        continue;
      }
      lost ??= new Error(
        `hedge "${this.policy.name}": attempt ${winner + 1} answered first; this attempt is no longer needed`,
      );
      attempts[j]!.cancel(lost);
    }
  }

  _ended(owner: CancelContext): void {
    // The caller's context ended: its attempts, its children, ended with it.
    this.settled = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.reject(endedError(owner));
  }
}

function fire<T>(call: HedgedCall<T>): void {
  call.fire();
}

class HedgePolicy implements Hedge {
  readonly latencies = new LatencyWindow();

  constructor(
    readonly name: string,
    readonly fixedDelayMs: number | undefined,
    readonly maxHedges: number,
    readonly budget: HedgeBudget | undefined,
    readonly minAttemptMs: number | undefined,
  ) {}

  get delayMs(): number | undefined {
    return this.fixedDelayMs ?? this.latencies.p95();
  }

  execute<T>(ctx: Context, work: Work<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      checkContext(ctx, "hedge.execute");
      checkFunction(work, "hedge.execute", "work");
      const delayMs = this.delayMs ?? Infinity;
      const call = new HedgedCall<T>(this, ctx, work, delayMs, resolve, reject);
      if (!watch(ctx, call)) {
        reject(endedError(ctx));
        return;
      }
      this.budget?.recordRequest?.();
      call.start();
      call.arm();
    });
  }
}

function checkBudget(value: unknown): HedgeBudget | undefined {
  if (value === undefined) return undefined;
  const withdraw: unknown =
    typeof value === "object" && value !== null
      ? (value as Record<string, unknown>).tryWithdraw
      : undefined;
  if (typeof withdraw !== "function") {
    throw invalidType(
      `hedge: options.budget must be an object with a tryWithdraw() method (a RetryBudget), got ${describeValue(value)}`,
    );
  }
  return value as HedgeBudget;
}

/**
 * Hedged requests, after "The Tail at Scale": the call's work starts once; if it has not
 * answered after `delayMs` (a fixed delay, or `"p95"`: the 95th percentile of this policy's
 * own recent latencies), the same work starts again under a new context, up to `maxHedges`
 * extra attempts, each `delayMs` after the previous one. The first attempt to succeed answers
 * the call, and every other attempt's context is canceled at once (their work sees a
 * `Canceled` whose cause says another attempt answered). A failed attempt does not end the
 * call while another is still running; when all have failed, the call rejects with the first
 * error. The caller's context ending rejects the call at once with its error.
 *
 * Each attempt runs under a child of the caller's context, which ends when the call answers:
 * read what you need (the response body) inside `work`. Work must be idempotent: it may run
 * more than once. Hedges are bounded three ways: `maxHedges`; `budget`, from which each hedge
 * withdraws a token (share a `RetryBudget` with retries so both draw from one bound; each
 * hedged call records one request in it, so a budget used by hedging alone fills too); and the
 * caller's deadline: a hedge starts only if the time left is at least `minAttemptMs` (by
 * default the delay itself), so no extra load is sent that cannot be answered in time.
 *
 * Events on `timebound:resilience:hedge` ({@link resilienceChannels}.hedge), each with
 * `policy`, `event` and the caller's `context`:
 * - `"hedge"`: an extra attempt started; `attempt` (its number, from 2), `afterMs` (since the call began).
 * - `"skipped"`: a hedge was due but did not start; `reason` (`"deadline"` or `"budget"`),
 *   `remainingMs`. No later hedge is tried for that call.
 * - `"won"`: a hedged call answered; `attempt` (the winner), `attempts` (started),
 *   `durationMs` (the winner's own).
 * - `"failed"`: every attempt of a hedged call failed; `attempts`, `error` (the first).
 *
 * Options: `delayMs` (default `"p95"`), `maxHedges` (default 1, up to 10), `budget`,
 * `minAttemptMs`, `name` (default `"hedge"`); a bad or unknown option throws a TypeError or
 * RangeError naming it.
 *
 * @example
 * ```ts
 * import { hedge } from "timebound/resilience";
 * const search = hedge({ delayMs: "p95", maxHedges: 1, name: "search" });
 * const hits = await search.execute(ctx, async (ctx) => {
 *   const res = await fetch("http://127.0.0.1:8080/search?q=tail", { signal: ctx.signal });
 *   return res.json(); // read the body here: the attempt's context ends when the call answers
 * });
 * ```
 */
export function hedge(options?: HedgeOptions): Hedge {
  const o = readOptions(options, "hedge", [...KNOWN]);
  const rawDelay: unknown = o.raw("delayMs");
  let fixedDelayMs: number | undefined;
  if (typeof rawDelay === "number")
    fixedDelayMs = checkMs(rawDelay, "hedge", "options.delayMs", MAX_MS);
  else if (rawDelay !== undefined && rawDelay !== "p95") {
    throw invalidType(
      `hedge: options.delayMs must be a number of milliseconds from 0 to 3,600,000 or "p95", got ${describeValue(rawDelay)}`,
    );
  }
  const maxHedges = o.number("maxHedges", 1, { min: 1, max: 10, integer: true });
  const budget = checkBudget(o.raw("budget"));
  const rawMin = o.raw("minAttemptMs");
  const minAttemptMs =
    rawMin === undefined ? undefined : checkMs(rawMin, "hedge", "options.minAttemptMs", MAX_MS);
  const name = o.string("name", "hedge");
  return new HedgePolicy(name, fixedDelayMs, maxHedges, budget, minAttemptMs);
}
