// A timeout is a child context: the callee gets a context that ends at min(now + ms, the caller's
// deadline), so everything below obeys it. One context per call, and the core arms its timer
// only when this timeout ends before the caller's deadline: no AbortController, no extra timer.
import { type CancelableContext, type Context, channels, now, withTimeout } from "../core/index.js";
import {
  type Announced,
  type CancelContext,
  Watcher,
  announceOpEnd,
  announceOpStart,
  checkContext,
  checkFunction,
  checkMs,
  endedError,
  invalidType,
  describeValue,
  readOptions,
  unwatch,
  watch,
} from "../core/internal.js";
import { resilienceChannels } from "./events.js";
import type { Policy, PolicyOptions, Work } from "./policy.js";
import { STAGE, type Stage, stageFor } from "./stage.js";

/** Options of {@link timeout}. */
export interface TimeoutOptions extends PolicyOptions {
  /**
   * Stop waiting for work that ignores its context: when the timeout (or the caller's context)
   * ends, the call rejects at once with the context's error while the work runs on, reported
   * to diagnostics as ignoring cancellation until it settles. Default false (cooperative: the
   * call settles when the work does, and well-behaved work stops when its context ends).
   */
  readonly abandon?: boolean;
}

/** The timeout of one call: a number of ms, or a function of the caller's context. */
export type TimeoutMs = number | ((ctx: Context) => number);

const KNOWN: readonly (keyof TimeoutOptions)[] = ["abandon", "name"];
const MS_RANGE = { min: 0, max: Infinity, infinity: true } as const;
/** What diagnostics calls the work a timeout runs. */
const OP_KIND = "resilience.timeout";

/**
 * A timeout policy: see {@link timeout}.
 *
 * @example
 * ```ts
 * const perAttempt: TimeoutPolicy = timeout(800, { name: "payments-timeout" });
 * console.log(perAttempt.name, perAttempt.abandon); // "payments-timeout" false
 * ```
 */
export class TimeoutPolicy implements Policy {
  readonly name: string;
  /** Its `abandon` option. */
  readonly abandon: boolean;
  readonly #fixedMs: number;
  readonly #msOf: ((ctx: Context) => number) | undefined;
  /** The child's options, made once: the child carries the policy's name in its errors. */
  readonly #childOptions: { readonly name: string };

  /** Prefer {@link timeout}; the arguments are checked the same way. */
  constructor(ms: TimeoutMs, options?: TimeoutOptions) {
    const o = readOptions(options, "timeout", KNOWN);
    this.name = o.string("name", "timeout");
    this.abandon = o.boolean("abandon", false);
    if (typeof ms === "function") {
      this.#msOf = ms;
      this.#fixedMs = NaN;
    } else {
      this.#fixedMs = checkMs(ms, "timeout", "ms", MS_RANGE);
      this.#msOf = undefined;
    }
    this.#childOptions = Object.freeze({ name: this.name });
  }

  /**
   * @internal Its steps in a fused pipeline: those of {@link TimeoutPolicy.execute} when
   * cooperative. Abandoning, or with diagnostics listening for operations, it runs nested.
   */
  readonly [STAGE]: Stage = stageFor(TimeoutPolicy, {
    enter: (ctx, frame, i) => {
      if (this.abandon || channels.opStart.hasSubscribers) return undefined;
      const child = withTimeout(ctx, this.#msFor(ctx), this.#childOptions);
      frame.keep(i, child);
      return child;
    },
    fulfilled: (_ctx, value, frame, i) => {
      (frame.x(i) as CancelableContext).cancel();
      return value;
    },
    rejected: (ctx, error, frame, i) => {
      this.#failed(ctx, frame.x(i) as CancelableContext);
      throw error;
    },
  });

  /** Runs `work` under a child of `ctx` that ends after this policy's timeout at the latest. */
  execute<T>(ctx: Context, work: Work<T>): Promise<T> {
    let child: CancelableContext;
    try {
      checkContext(ctx, `${this.name}.execute`);
      checkFunction(work, `${this.name}.execute`, "work");
      child = withTimeout(ctx, this.#msFor(ctx), this.#childOptions);
    } catch (bad) {
      return Promise.reject(bad); // a promise API rejects on bad arguments
    }
    return this.abandon ? this.#race(ctx, child, work) : this.#cooperate(ctx, child, work);
  }

  #msFor(ctx: Context): number {
    if (this.#msOf === undefined) return this.#fixedMs;
    const ms = this.#msOf(ctx);
    return checkMs(ms, this.name, "the timeout function's result", MS_RANGE);
  }

  #cooperate<T>(ctx: Context, child: CancelableContext, work: Work<T>): Promise<T> {
    let pending: T | PromiseLike<T>;
    try {
      pending = work(child);
    } catch (error) {
      this.#failed(ctx, child);
      return Promise.reject(error);
    }
    const op = channels.opStart.hasSubscribers ? announce(child) : undefined;
    return Promise.resolve(pending).then(
      (value) => {
        if (op !== undefined) settleOp(op, child);
        child.cancel();
        return value;
      },
      (error: unknown) => {
        if (op !== undefined) settleOp(op, child);
        this.#failed(ctx, child);
        throw error;
      },
    );
  }

  /** The work failed: says so if this timeout ended it, and ends the child. */
  #failed(ctx: Context, child: CancelableContext): void {
    if (child.err !== undefined && ctx.err === undefined) this.#timedOut(ctx, child);
    child.cancel();
  }

  #race<T>(ctx: Context, child: CancelableContext, work: Work<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const race = new Abandon(this, ctx, child, reject);
      if (!watch(child, race)) {
        reject(endedError(child));
        return;
      }
      let pending: PromiseLike<T> | T;
      try {
        pending = work(child);
      } catch (error) {
        race.finish();
        child.cancel();
        reject(error);
        return;
      }
      const op = channels.opStart.hasSubscribers ? announce(child) : undefined;
      Promise.resolve(pending).then(
        (value) => {
          if (op !== undefined) settleOp(op, child);
          if (race.finish()) resolve(value);
          else race.settledLate("fulfilled");
          child.cancel();
        },
        (error: unknown) => {
          if (op !== undefined) settleOp(op, child);
          if (race.finish()) reject(error);
          else race.settledLate("rejected");
          child.cancel();
        },
      );
    });
  }

  /** Publishes "timeout": the child's own deadline ended the call (not the caller's end). */
  #timedOut(ctx: Context, child: CancelableContext): void {
    if (!resilienceChannels.timeout.hasSubscribers) return;
    resilienceChannels.timeout.publish({
      policy: this.name,
      event: "timeout",
      context: ctx,
      timeoutMs: this.#msOf === undefined ? this.#fixedMs : undefined,
      durationMs: now() - startedAt(child),
      error: child.err,
    });
  }

  /** @internal Called by {@link Abandon} when the child ends before the work settles. */
  abandoned(ctx: Context, child: CancelableContext): void {
    if (!resilienceChannels.timeout.hasSubscribers) return;
    const own = ctx.err === undefined;
    if (own) this.#timedOut(ctx, child);
    resilienceChannels.timeout.publish({
      policy: this.name,
      event: "abandoned",
      context: ctx,
      reason: own ? "timeout" : "caller-ended",
      error: child.err,
    });
  }

  /** @internal Called by {@link Abandon} when abandoned work settles at last. */
  settledLate(ctx: Context, child: CancelableContext, outcome: "fulfilled" | "rejected"): void {
    if (!resilienceChannels.timeout.hasSubscribers) return;
    resilienceChannels.timeout.publish({
      policy: this.name,
      event: "abandoned-settled",
      context: ctx,
      outcome,
      durationMs: now() - startedAt(child),
    });
  }
}

/** Waits on the child for an abandoning timeout: rejects the call the moment the child ends. */
class Abandon extends Watcher {
  #done = false;
  constructor(
    readonly policy: TimeoutPolicy,
    readonly ctx: Context,
    readonly child: CancelableContext,
    readonly reject: (error: unknown) => void,
  ) {
    super();
  }

  _ended(owner: CancelContext): void {
    if (this.#done) return;
    this.#done = true;
    this.reject(endedError(owner));
    // Subscribers are user code: never run them inside the cancel() that ended the child.
    queueMicrotask(() => this.policy.abandoned(this.ctx, this.child));
  }

  /** The work settled: true if the call is still waiting for it (it was not abandoned). */
  finish(): boolean {
    if (this.#done) return false;
    this.#done = true;
    unwatch(this);
    return true;
  }

  settledLate(outcome: "fulfilled" | "rejected"): void {
    this.policy.settledLate(this.ctx, this.child, outcome);
  }
}

/** When the call began: its child context was made then (a clock read saved per call). */
function startedAt(child: CancelableContext): number {
  return (child as unknown as CancelContext)._createdAt;
}

/** Announces the work as an operation under `child`, until it settles (not until we stop waiting). */
function announce(child: Context): Partial<Announced> {
  const op: Partial<Announced> = {};
  announceOpStart(op, OP_KIND, child);
  return op;
}

function settleOp(op: Partial<Announced>, child: Context): void {
  announceOpEnd(op, child.err === undefined ? "done" : "context-ended");
}

/**
 * A timeout per call: the work gets a child of the caller's context that ends `ms` from now,
 * or at the caller's deadline if that comes first (a timeout never extends a deadline), so it
 * can pass the child to whatever it calls. `ms` may be a function of the caller's context
 * (`(ctx) => ctx.remaining() / 2`). When the timeout ends the work, the call rejects with the
 * child's `DeadlineExceeded` (name "TimeoutError", code `TIMEBOUND_ERR_DEADLINE_EXCEEDED`),
 * whose message names this policy; {@link retry} sees it as the attempt's own timeout, never the
 * caller's.
 *
 * Cooperative by default: the call settles when the work does (a result the work returns after
 * its context ended is kept). With `abandon: true` the call rejects as soon as the child ends,
 * and work that ignored its context runs on. In both modes, while diagnostics listens, the work
 * is announced as an operation (kind "resilience.timeout") until it settles, so the tracker
 * reports work still running after its context ended as ignored cancellation.
 *
 * Events on `timebound:resilience:timeout`:
 * - `"timeout"`: this policy's timeout ended the call; `timeoutMs` (undefined for a function),
 *   `durationMs`, `error` (the child's `DeadlineExceeded`);
 * - `"abandoned"`: with `abandon`, the call stopped waiting for work that had not settled;
 *   `reason` ("timeout" or "caller-ended"), `error`;
 * - `"abandoned-settled"`: abandoned work settled at last; `outcome` ("fulfilled" or
 *   "rejected"), `durationMs` since it started.
 *
 * @example
 * ```ts
 * import { background, withTimeout } from "timebound";
 * import { timeout } from "timebound/resilience";
 * const perCall = timeout(800, { name: "payments-timeout" });
 * using ctx = withTimeout(background(), 2_000);
 * const res = await perCall.execute(ctx, (ctx) => fetch("http://127.0.0.1:8080/", { signal: ctx.signal }));
 * ```
 */
export function timeout(ms: TimeoutMs, options?: TimeoutOptions): TimeoutPolicy {
  if (typeof ms !== "number" && typeof ms !== "function") {
    throw invalidType(
      `timeout: ms must be a number of milliseconds or a function (ctx) => ms, got ${describeValue(ms)}`,
    );
  }
  return new TimeoutPolicy(ms, options);
}
