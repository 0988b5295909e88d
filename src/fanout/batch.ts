// One deadline over many calls (the seed's 3.1), split among them by the seed's budget rule and
// moved to the calls still running when one finishes early (3.2). Not built on sync's Group:
// Group cancels on any failure and waits for every task, while a batch lets optional calls
// fail, settles as soon as its mode is decided (any, quorum) and gives every call a deadline of
// its own that it can move.
import {
  type CancelableContext,
  type Context,
  type ContextError,
  now,
  withCancel,
  withTimeout,
} from "../core/index.js";
import {
  checkContext,
  checkFunction,
  checkNumber,
  checkString,
  checkBoolean,
  describeValue,
  formatMs,
  invalidType,
  moveDeadline,
  outOfRange,
  readOptions,
  withBudget,
} from "../core/internal.js";
import {
  type AllocationMode,
  type DependencyInput,
  allocateBudget,
  shareUnused,
} from "./allocate.js";
import {
  BatchFailedError,
  type CallStatus,
  type CallNotNeededError,
  type MissingPart,
  notNeeded,
} from "./errors.js";
import { type CallBudget, fanoutChannels } from "./events.js";
import type { LatencyTracker } from "./latency.js";

/** The work of one call: it gets its own context (its budget) and returns a value or a promise. */
export type CallFn<T> = (ctx: Context) => T | PromiseLike<T>;

/** A call with options. */
export interface CallSpec<T> {
  /** The work of the call, run under its budget's context. */
  readonly run: CallFn<T>;
  /** The batch can do without it: its failure or timeout leaves a missing part (mode `all`). */
  readonly optional?: boolean;
  /** The dependency it calls: the key of its latency history. Default: the call's key. */
  readonly dependency?: string;
  /** Its importance in the budget split, > 0. Default 1. */
  readonly weight?: number;
  /** Its P95 in ms, instead of the tracker's. */
  readonly p95Ms?: number;
  /** Its budget is never below this (see allocateBudget). */
  readonly floorMs?: number;
  /** Its budget is never above this. */
  readonly capMs?: number;
}

/** A call of a batch: a function, or a {@link CallSpec}. */
export type Call<T = unknown> = CallFn<T> | CallSpec<T>;

/** The calls of a batch: a tuple or an array (results by index), or a record (results by key). */
export type Calls = readonly Call[] | { readonly [key: string]: Call };

/** What a call gives. */
export type CallValue<C> = C extends {
  /** The call's work, whose (awaited) result is the value. */
  readonly run: (ctx: Context) => infer R;
}
  ? Awaited<R>
  : C extends (ctx: Context) => infer R
    ? Awaited<R>
    : never;

type IsOptional<C> = C extends { readonly optional: true } ? true : false;

/** Require `n` successes, cancel the rest (see {@link quorum}). */
export interface Quorum {
  /** Always "quorum": tells this mode from the string ones. */
  readonly kind: "quorum";
  /** The number of successes required, an integer >= 1. */
  readonly n: number;
}

/**
 * What a batch waits for: `all` (every required call; the first required failure cancels the
 * rest, as errgroup.WithContext), `allSettled` (every call, whatever happens), `any` (the first
 * success cancels the rest), `quorum(n)` (n successes cancel the rest).
 */
export type BatchMode = "all" | "allSettled" | "any" | Quorum;

/**
 * The mode that waits for `n` successes: reached, the calls still running are canceled; out of
 * reach (too many failed), the batch rejects at once.
 *
 * @example
 * ```ts
 * const replica = (ms: number) => async (ctx: Context) => {
 *   await sleep(ctx, ms); // a read from one replica
 *   return ms;
 * };
 * const { values } = await batch(ctx, [replica(5), replica(10), replica(500)], { mode: quorum(2) });
 * ```
 */
export function quorum(n: number): Quorum {
  return Object.freeze({
    kind: "quorum",
    n: checkNumber(n, "quorum", "n", { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true }),
  });
}

/** The values of a batch, in the shape of its calls: required ones are set in mode `all`. */
export type BatchValues<C extends Calls, M extends BatchMode> = {
  -readonly [K in keyof C]: M extends "all"
    ? IsOptional<C[K]> extends true
      ? CallValue<C[K]> | undefined
      : CallValue<C[K]>
    : CallValue<C[K]> | undefined;
};

/** How one call ended. */
export type CallOutcome<T> =
  | {
      /** It succeeded. */
      readonly status: "fulfilled";
      /** Its value. */
      readonly value: T;
      /** How long it ran, in ms. */
      readonly durationMs: number;
      /** Its budget when it ended, in ms (its first one plus what it was given). */
      readonly budgetMs: number;
    }
  | {
      /** How it failed: "rejected", "timed-out" or "canceled" (see CallStatus). */
      readonly status: Exclude<CallStatus, "fulfilled">;
      /** Its error, or its context's error when it timed out or was canceled. */
      readonly reason: unknown;
      /** What happened, in words. */
      readonly message: string;
      /** How long it ran, in ms. */
      readonly durationMs: number;
      /** Its budget when it ended, in ms (its first one plus what it was given). */
      readonly budgetMs: number;
    };

/** The outcome of every call, in the shape of the calls. */
export type BatchOutcomes<C extends Calls> = {
  -readonly [K in keyof C]: CallOutcome<CallValue<C[K]>>;
};

/** What a batch resolves with. */
export interface BatchResult<C extends Calls, M extends BatchMode> {
  /** Each call's value, undefined where it has none. */
  readonly values: BatchValues<C, M>;
  /** How each call ended. */
  readonly outcomes: BatchOutcomes<C>;
  /** The parts without a value and why, in input order. */
  readonly missing: readonly MissingPart[];
  /** Mode `any`: the key of the call that succeeded first; otherwise undefined. */
  readonly winner: string | number | undefined;
}

/** Options of {@link batch}. */
export interface BatchOptions<M extends BatchMode = BatchMode> {
  /** Default "all". */
  readonly mode?: M;
  /** How many calls run at once; the others wait in order. Default Infinity. */
  readonly limit?: number;
  /** A deadline for the batch, under the caller's. Default: the caller's deadline only. */
  readonly timeoutMs?: number;
  /** In errors, events and the calls' context names. Default "batch". */
  readonly name?: string;
  /** Latency history: P95 and load factor per dependency; every call's duration is recorded. */
  readonly tracker?: LatencyTracker;
  /** How the time is split (see allocateBudget). Default "parallel": the calls overlap. */
  readonly allocation?: AllocationMode;
  /** Kept back for the work after the calls (see allocateBudget). Default 5. */
  readonly reserveMs?: number;
  /** P95 assumed for a dependency without history (see allocateBudget). */
  readonly priorP95Ms?: number;
  /** Floor of every budget (see allocateBudget). Default 0. */
  readonly floorMs?: number;
  /** Cap of every budget (see allocateBudget). Default Infinity. */
  readonly capMs?: number;
  /** Give what a finished call did not use to the calls still running. Default true. */
  readonly compensate?: boolean;
}

const FN = "batch";
const KNOWN: readonly (keyof BatchOptions)[] = [
  "mode",
  "limit",
  "timeoutMs",
  "name",
  "tracker",
  "allocation",
  "reserveMs",
  "priorP95Ms",
  "floorMs",
  "capMs",
  "compensate",
];
const CALL_KEYS = ["run", "optional", "dependency", "weight", "p95Ms", "floorMs", "capMs"];

/**
 * Runs `calls` concurrently under one deadline, the caller's (or `timeoutMs`, if earlier), and
 * settles as `mode` says. Each call runs under a context of its own, a budget: its share of the
 * time left by the seed's rule (P95 × weight × load factor, see {@link allocateBudget}), from
 * the `tracker`'s history or the call's `p95Ms`. When a call finishes before its budget ran out,
 * what it left is given to the calls still running, in proportion to their shares, never past
 * the batch's deadline less the reserve (drift compensation; `timebound:fanout:*` events say who got what).
 *
 * Results come in the shape of `calls` (a tuple, an array or a record), typed. In mode `all`,
 * a call marked `optional` may fail or time out: its value is undefined and `missing` says why.
 * The batch settles as soon as its mode is decided: calls it no longer needs are canceled (their
 * context ends with `Canceled`, its cause the failure that decided or a
 * {@link CallNotNeededError}), and a call whose context has ended is not waited for.
 *
 * Rejects with the context's error when the caller's context (or `timeoutMs`) ends before the
 * mode is satisfied; with {@link BatchFailedError} when calls failed on their own; with a
 * TypeError or RangeError on bad arguments (an empty list of calls, a weight <= 0...).
 *
 * @example
 * ```ts
 * declare function getUser(ctx: Context, id: string): Promise<User>;
 * declare function getCart(ctx: Context, id: string): Promise<string[]>;
 * declare function getAds(ctx: Context): Promise<string[]>;
 * const id = "42";
 * const { values, missing } = await batch(ctx, {
 *   user: (ctx) => getUser(ctx, id),
 *   cart: { run: (ctx) => getCart(ctx, id), weight: 2 },
 *   ads: { run: (ctx) => getAds(ctx), optional: true, weight: 0.2 },
 * });
 * values.user; // User: required, so present when the batch resolves
 * values.ads; // string[] | undefined
 * for (const m of missing) log.info(`${m.key}: ${m.message}`);
 * ```
 */
export function batch<const C extends Calls, const M extends BatchMode = "all">(
  ctx: Context,
  calls: C,
  options?: BatchOptions<M>,
): Promise<BatchResult<C, M>> {
  try {
    return new BatchRun(ctx, calls, options).promise as Promise<BatchResult<C, M>>;
  } catch (err) {
    return Promise.reject(err); // a promise API rejects on bad arguments
  }
}

interface Slot {
  readonly key: string | number;
  readonly dependency: string;
  readonly optional: boolean;
  readonly run: CallFn<unknown>;
  input: DependencyInput;
  raw: number;
  budgetMs: number;
  ctx: CancelableContext | undefined;
  startedAt: number;
  stop: ((record?: boolean) => void) | undefined;
  outcome: CallOutcome<unknown> | undefined;
}

type Settled = {
  readonly promise: Promise<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
};

class BatchRun {
  readonly promise: Promise<unknown>;
  readonly #settle: Settled;
  readonly #name: string;
  readonly #mode: BatchMode;
  readonly #modeName: string;
  readonly #limit: number;
  readonly #tracker: LatencyTracker | undefined;
  readonly #compensate: boolean;
  readonly #isArray: boolean;
  readonly #slots: Slot[];
  readonly #ctx: CancelableContext;
  readonly #startedAt: number;
  #next = 0;
  #running = 0;
  #successes = 0;
  #failures = 0;
  #decided = false;
  #winner: Slot | undefined = undefined;
  /** What the allocation kept back: compensation never hands it out. */
  #reserveMs = 0;

  constructor(parent: Context, calls: Calls, options: BatchOptions | undefined) {
    checkContext(parent, FN);
    const o = readOptions(options, FN, KNOWN);
    this.#mode = checkMode(o.raw("mode") ?? "all");
    this.#modeName = typeof this.#mode === "string" ? this.#mode : `quorum(${this.#mode.n})`;
    this.#limit = o.number("limit", Infinity, {
      min: 1,
      max: Number.MAX_SAFE_INTEGER,
      integer: true,
      infinity: true,
    });
    const timeoutMs = o.ms("timeoutMs", Infinity, { min: 0, max: Infinity, infinity: true });
    this.#name = o.string("name", "batch");
    const tracker = o.raw("tracker");
    if (tracker !== undefined && (typeof tracker !== "object" || !("stats" in tracker))) {
      throw invalidType(
        `${FN}: options.tracker must be a LatencyTracker, got ${describeValue(tracker)}`,
      );
    }
    this.#tracker = tracker;
    this.#compensate = o.boolean("compensate", true);
    this.#isArray = Array.isArray(calls);
    this.#slots = checkCalls(calls);
    if (typeof this.#mode !== "string" && this.#mode.n > this.#slots.length) {
      throw outOfRange(
        `${FN}: quorum(${this.#mode.n}) needs more successes than there are calls (${this.#slots.length})`,
      );
    }
    const allocation = o.oneOf<AllocationMode>("allocation", "parallel", [
      "parallel",
      "proportional",
    ]);
    // Checked here, used by allocateBudget once the time left is known.
    const budgetOptions = {
      mode: allocation,
      reserveMs: o.ms("reserveMs", 5, { min: 0, max: Infinity }),
      floorMs: o.ms("floorMs", 0, { min: 0, max: Infinity }),
      capMs: o.ms("capMs", Infinity, { min: 0, max: Infinity, infinity: true }),
      ...(o.raw("priorP95Ms") === undefined
        ? {}
        : { priorP95Ms: o.ms("priorP95Ms", 0, { min: 0, max: Infinity }) }),
    };

    let resolve!: (value: unknown) => void;
    let reject!: (err: unknown) => void;
    this.promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.#settle = { promise: this.promise, resolve, reject };
    this.#startedAt = now();
    const named = { name: this.#name };
    this.#ctx =
      timeoutMs === Infinity ? withCancel(parent, named) : withTimeout(parent, timeoutMs, named);
    const err = this.#ctx.err;
    if (err !== undefined) {
      this.#ctx.cancel();
      reject(err); // a done context never starts new work
      return;
    }
    this.#allocate(budgetOptions);
    void this.#ctx.done.then(() => this.#check());
    this.#startMore();
  }

  /** Gives every call its budget, from the time left now. */
  #allocate(options: Parameters<typeof allocateBudget>[2]): void {
    for (const s of this.#slots) {
      const stats = this.#tracker?.stats(s.dependency);
      const input: DependencyInput = {
        ...s.input,
        p95Ms: s.input.p95Ms ?? stats?.p95Ms,
        loadFactor: stats?.loadFactor ?? 1,
      };
      s.input = input;
    }
    const total = this.#ctx.remaining();
    if (total !== Infinity && total > 0) {
      const allocation = allocateBudget(
        total,
        this.#slots.map((s) => s.input),
        options,
      );
      this.#reserveMs = allocation.reserveMs;
      allocation.budgets.forEach((b, i) => {
        this.#slots[i]!.raw = b.raw;
        this.#slots[i]!.budgetMs = b.budgetMs;
      });
      if (fanoutChannels.budget.hasSubscribers) {
        fanoutChannels.budget.publish({
          batch: this.#name,
          context: this.#ctx,
          mode: this.#modeName,
          allocation: allocation.mode,
          totalMs: total,
          reserveMs: allocation.reserveMs,
          calls: allocation.budgets.map((b, i): CallBudget => ({
            key: this.#slots[i]!.key,
            dependency: this.#slots[i]!.dependency,
            budgetMs: b.budgetMs,
            raw: b.raw,
            p95Ms: b.p95Ms,
            prior: b.prior,
            weight: b.weight,
            loadFactor: b.loadFactor,
            optional: this.#slots[i]!.optional,
          })),
        });
      }
    }
  }

  #startMore(): void {
    while (!this.#decided && this.#running < this.#limit && this.#next < this.#slots.length) {
      if (this.#ctx.err !== undefined) return; // ended: the rest will not start
      this.#start(this.#slots[this.#next++]!);
    }
  }

  #start(slot: Slot): void {
    this.#running++;
    const ctx = withBudget(this.#ctx, slot.budgetMs, { name: `${this.#name}/${slot.key}` });
    slot.ctx = ctx;
    slot.startedAt = now();
    slot.stop = this.#tracker?.start(slot.dependency);
    // A call whose context ended is not waited for: its late result is dropped.
    void ctx.done.then(() => this.#finish(slot, false, undefined));
    let result: unknown;
    try {
      result = slot.run(ctx);
    } catch (err) {
      this.#finish(slot, false, err);
      return;
    }
    Promise.resolve(result).then(
      (value) => this.#finish(slot, true, value),
      (err: unknown) => this.#finish(slot, false, err),
    );
  }

  #finish(slot: Slot, ok: boolean, valueOrError: unknown): void {
    if (slot.outcome !== undefined) return;
    const ctx = slot.ctx!;
    const t = now();
    this.#running--;
    const deadline = ctx.deadline;
    slot.outcome = ok
      ? {
          status: "fulfilled",
          value: valueOrError,
          durationMs: t - slot.startedAt,
          budgetMs: budgetOf(slot),
        }
      : failedOutcome(slot, valueOrError, t);
    if (ok) this.#successes++;
    else this.#failures++;
    slot.stop?.(slot.outcome.status !== "canceled");
    this.#announceCall(slot);
    if (
      this.#compensate &&
      !this.#decided &&
      deadline !== undefined &&
      this.#ctx.err === undefined
    ) {
      this.#shareWhatIsLeft(slot, deadline - t);
    }
    ctx.cancel(); // its timer and its link go now
    if (ok && this.#winner === undefined) this.#winner = slot;
    this.#check(slot);
    this.#startMore();
  }

  /** Drift compensation: the time `from` did not use goes to the calls still running. */
  #shareWhatIsLeft(from: Slot, unusedMs: number): void {
    const running = this.#slots.filter(
      (s) => s !== from && s.ctx !== undefined && s.outcome === undefined,
    );
    const batchDeadline = this.#ctx.deadline;
    if (!(unusedMs > 0) || running.length === 0 || batchDeadline === undefined) return;
    const limit = batchDeadline - this.#reserveMs; // the reserve stays kept back
    const before = running.map((s) => s.ctx!.deadline ?? limit);
    const { addMs } = shareUnused(
      unusedMs,
      running.map((s, i) => ({ raw: s.raw, deadline: before[i]! })),
      limit,
    );
    const grants = running.map((s, i) => {
      const deadline = addMs[i]! > 0 ? moveDeadline(s.ctx!, before[i]! + addMs[i]!) : before[i]!;
      return { key: s.key, addMs: deadline - before[i]!, deadline };
    });
    if (fanoutChannels.compensate.hasSubscribers) {
      const given = grants.reduce((sum, g) => sum + g.addMs, 0);
      fanoutChannels.compensate.publish({
        batch: this.#name,
        context: this.#ctx,
        from: from.key,
        status: from.outcome!.status,
        unusedMs,
        grants,
        unallocatedMs: Math.max(0, unusedMs - given),
      });
    }
  }

  /** Settles the batch when its mode is decided, or when its context ended. */
  #check(last?: Slot): void {
    if (this.#decided) return;
    const total = this.#slots.length;
    const allSettled = this.#successes + this.#failures === total;
    const ctxErr = this.#ctx.err;
    const mode = this.#mode;
    if (ctxErr !== undefined) {
      // The caller's context (or timeoutMs) ended the batch.
      const requiredMet = this.#slots.every((s) => s.optional || s.outcome?.status === "fulfilled");
      if (mode === "allSettled" || (mode === "all" && requiredMet)) this.#resolve(undefined);
      else this.#reject(() => ctxErr, undefined);
      return;
    }
    if (mode === "all") {
      if (last !== undefined && last.outcome!.status !== "fulfilled" && !last.optional) {
        this.#reject(() => this.#failure(last), reasonOf(last));
      } else if (allSettled) {
        this.#resolve(undefined);
      }
    } else if (mode === "allSettled") {
      if (allSettled) this.#resolve(undefined);
    } else if (mode === "any") {
      if (this.#winner !== undefined) {
        this.#resolve(
          notNeeded(
            `batch "${this.#name}": call ${quote(this.#winner.key)} succeeded first (mode any)`,
          ),
        );
      } else if (allSettled) {
        this.#reject(() => this.#allFailed("every call failed"), undefined);
      }
    } else if (this.#successes >= mode.n) {
      this.#resolve(notNeeded(`batch "${this.#name}": quorum of ${mode.n} reached`));
    } else if (this.#failures > total - mode.n) {
      const why = `${this.#failures} of ${total} calls failed, quorum of ${mode.n} is out of reach`;
      this.#reject(() => this.#allFailed(why), notNeeded(`batch "${this.#name}": ${why}`));
    }
  }

  #resolve(cancelCause: CallNotNeededError | undefined): void {
    this.#end(cancelCause);
    const values = (this.#isArray ? [] : {}) as Record<string | number, unknown>;
    const outcomes = (this.#isArray ? [] : {}) as Record<string | number, unknown>;
    for (const s of this.#slots) {
      const o = s.outcome!;
      values[s.key] = o.status === "fulfilled" ? o.value : undefined;
      outcomes[s.key] = o;
    }
    this.#announceBatch("fulfilled");
    this.#settle.resolve({
      values,
      outcomes,
      missing: this.#missing(),
      winner: this.#mode === "any" ? this.#winner?.key : undefined,
    });
  }

  /** `error` is made after every call is marked, so that it lists them all. */
  #reject(error: () => unknown, cancelCause: unknown): void {
    this.#end(cancelCause);
    this.#announceBatch("rejected");
    this.#settle.reject(error());
  }

  /** Cancels what still runs (with `cause`), marks what never started, and ends the batch's context. */
  #end(cause: unknown): void {
    this.#decided = true;
    this.#ctx.cancel(cause);
    const t = now();
    for (const s of this.#slots) {
      if (s.outcome !== undefined) continue;
      if (s.ctx === undefined) {
        s.outcome = {
          status: "not-started",
          reason: undefined,
          message: "not started: the batch was decided or ended first",
          durationMs: 0,
          budgetMs: s.budgetMs,
        };
        continue;
      }
      s.outcome = failedOutcome(s, undefined, t);
      s.stop?.(s.outcome.status !== "canceled");
      this.#announceCall(s);
    }
  }

  #failure(slot: Slot): BatchFailedError {
    const o = slot.outcome as Extract<CallOutcome<unknown>, { message: string }>;
    const what = slot.optional ? "call" : "required call";
    return new BatchFailedError(
      `batch "${this.#name}" (mode ${this.#modeName}): ${what} ${quote(slot.key)} ${o.message}`,
      this.#name,
      this.#modeName,
      this.#missing(),
      o.reason,
    );
  }

  #allFailed(why: string): BatchFailedError {
    const missing = this.#missing();
    return new BatchFailedError(
      `batch "${this.#name}" (mode ${this.#modeName}): ${why}`,
      this.#name,
      this.#modeName,
      missing,
      missing.find((m) => m.status !== "not-started")?.reason,
    );
  }

  #missing(): MissingPart[] {
    const out: MissingPart[] = [];
    for (const s of this.#slots) {
      const o = s.outcome;
      if (o === undefined || o.status === "fulfilled") continue;
      out.push({
        key: s.key,
        dependency: s.dependency,
        optional: s.optional,
        status: o.status,
        reason: o.reason,
        message: o.message,
      });
    }
    return out;
  }

  #announceCall(slot: Slot): void {
    if (!fanoutChannels.call.hasSubscribers) return;
    const o = slot.outcome!;
    fanoutChannels.call.publish({
      batch: this.#name,
      key: slot.key,
      dependency: slot.dependency,
      status: o.status,
      durationMs: o.durationMs,
      budgetMs: o.budgetMs,
      reason: o.status === "fulfilled" ? undefined : o.reason,
    });
  }

  #announceBatch(outcome: "fulfilled" | "rejected"): void {
    if (!fanoutChannels.batch.hasSubscribers) return;
    fanoutChannels.batch.publish({
      batch: this.#name,
      context: this.#ctx,
      mode: this.#modeName,
      outcome,
      durationMs: now() - this.#startedAt,
      missing: this.#slots.filter((s) => s.outcome?.status !== "fulfilled").map((s) => s.key),
    });
  }
}

/** A call's budget now: its first one plus what it was given. */
function budgetOf(slot: Slot): number {
  const d = slot.ctx?.deadline;
  return d === undefined ? slot.budgetMs : d - slot.startedAt;
}

function reasonOf(slot: Slot): unknown {
  const o = slot.outcome;
  return o === undefined || o.status === "fulfilled" ? undefined : o.reason;
}

/**
 * How a call that did not succeed ended: from its context when that has ended (its budget passed:
 * "timed-out"; canceled: "canceled"), else "rejected" with its error.
 */
function failedOutcome(slot: Slot, err: unknown, t: number): CallOutcome<unknown> {
  const ctx = slot.ctx!;
  const ctxErr: ContextError | undefined = ctx.err;
  const durationMs = t - slot.startedAt;
  const budgetMs = budgetOf(slot);
  if (ctxErr === undefined) {
    return {
      status: "rejected",
      reason: err,
      message: `failed: ${errorText(err)}`,
      durationMs,
      budgetMs,
    };
  }
  const reason = err ?? ctxErr;
  if (ctxErr.name === "TimeoutError") {
    const message = `timed out after ${formatMs(durationMs)} (budget ${formatMs(budgetMs)})`;
    return { status: "timed-out", reason, message, durationMs, budgetMs };
  }
  const why = ctx.cause === ctxErr ? "canceled" : `canceled: ${errorText(ctx.cause)}`;
  return { status: "canceled", reason, message: why, durationMs, budgetMs };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : describeValue(err);
}

function quote(key: string | number): string {
  return typeof key === "number" ? `#${key}` : JSON.stringify(key);
}

function checkMode(mode: unknown): BatchMode {
  if (mode === "all" || mode === "allSettled" || mode === "any") return mode;
  if (typeof mode === "object" && mode !== null && (mode as Quorum).kind === "quorum") {
    return quorum((mode as Quorum).n);
  }
  throw invalidType(
    `${FN}: options.mode must be "all", "allSettled", "any" or quorum(n), got ${describeValue(mode)}`,
  );
}

function checkCalls(calls: unknown): Slot[] {
  const isArray = Array.isArray(calls);
  if (!isArray && (typeof calls !== "object" || calls === null)) {
    throw invalidType(
      `${FN}: calls must be an array or a record of calls, got ${describeValue(calls)}`,
    );
  }
  const entries: [string | number, unknown][] = isArray
    ? (calls as unknown[]).map((c, i) => [i, c])
    : Object.entries(calls as Record<string, unknown>);
  if (entries.length === 0) {
    throw invalidType(`${FN}: calls must hold at least one call, got ${describeValue(calls)}`);
  }
  return entries.map(([key, call]) => {
    const where = `calls[${typeof key === "number" ? key : JSON.stringify(key)}]`;
    if (typeof call === "function") return slot(key, { run: call as CallFn<unknown> }, where);
    if (typeof call !== "object" || call === null) {
      throw invalidType(
        `${FN}: ${where} must be a function (ctx) => value or { run, optional?, weight?, ... }, got ${describeValue(call)}`,
      );
    }
    return slot(key, call as CallSpec<unknown>, where);
  });
}

function slot(key: string | number, spec: CallSpec<unknown>, where: string): Slot {
  const o = readOptions(spec, FN, CALL_KEYS as (keyof CallSpec<unknown>)[]);
  const run = checkFunction<CallFn<unknown>>(spec.run, FN, `${where}.run`);
  const optional =
    spec.optional === undefined ? false : checkBoolean(spec.optional, FN, `${where}.optional`);
  const dependency =
    spec.dependency === undefined
      ? String(key)
      : checkString(spec.dependency, FN, `${where}.dependency`);
  const weight = o.raw("weight");
  if (weight !== undefined) {
    checkNumber(weight, FN, `${where}.weight`, { min: 0, max: Number.MAX_VALUE });
    if (weight === 0) throw outOfRange(`${FN}: ${where}.weight must be a number above 0, got 0`);
  }
  const p95 = o.raw("p95Ms");
  if (p95 !== undefined)
    checkNumber(p95, FN, `${where}.p95Ms`, { min: 0, max: Number.MAX_VALUE }, "milliseconds");
  const input: DependencyInput = {
    name: String(key),
    p95Ms: p95,
    weight: weight ?? 1,
    ...(spec.floorMs === undefined ? {} : { floorMs: spec.floorMs }),
    ...(spec.capMs === undefined ? {} : { capMs: spec.capMs }),
  };
  return {
    key,
    dependency,
    optional,
    run,
    input,
    raw: 1,
    budgetMs: Infinity,
    ctx: undefined,
    startedAt: 0,
    stop: undefined,
    outcome: undefined,
  };
}
