// Sequential budgets: each step gets its share of the time left, recomputed after every step,
// so a step that finishes early leaves its time to the steps after it.
import { type Context, withTimeout } from "../core/index.js";
import {
  checkContext,
  checkFunction,
  checkNumber,
  checkString,
  describeValue,
  invalidType,
  outOfRange,
  readOptions,
} from "../core/internal.js";
import { type DependencyInput, allocateBudget } from "./allocate.js";
import type { CallFn, CallValue } from "./batch.js";
import { fanoutChannels } from "./events.js";
import type { LatencyTracker } from "./latency.js";

/** A step of a {@link chain}: a function, or one with options. */
export type ChainStep<T = unknown> =
  | CallFn<T>
  | {
      /** The step's work, run under its budget's context. */
      readonly run: CallFn<T>;
      /** In events and the step's context name; the key of its latency history. Default "step-<i>". */
      readonly name?: string;
      /** Its importance in the split, > 0. Default 1. */
      readonly weight?: number;
      /** Its P95 in ms, instead of the tracker's. */
      readonly p95Ms?: number;
    };

/** The values of a chain's steps, in order. */
export type ChainValues<S extends readonly ChainStep[]> = {
  -readonly [K in keyof S]: CallValue<S[K]>;
};

/** Options of {@link chain}. */
export interface ChainOptions {
  /** In events and the steps' context names. Default "chain". */
  readonly name?: string;
  /** Latency history per step name: its P95 and load factor; each step's duration is recorded. */
  readonly tracker?: LatencyTracker;
  /** Kept back at each split for the work after the chain (see allocateBudget). Default 5. */
  readonly reserveMs?: number;
  /** P95 assumed for a step without history (see allocateBudget). */
  readonly priorP95Ms?: number;
}

const FN = "chain";
const KNOWN: readonly (keyof ChainOptions)[] = ["name", "tracker", "reserveMs", "priorP95Ms"];
const STEP_KEYS = ["run", "name", "weight", "p95Ms"];

interface Step {
  readonly run: CallFn<unknown>;
  readonly name: string;
  readonly weight: number;
  readonly p95Ms: number | undefined;
}

/**
 * Runs `steps` one after the other under `ctx`'s deadline. Before each step the time left is
 * split by the seed's rule among the steps still to run (proportional mode of
 * {@link allocateBudget}, the reserve kept back), and the step runs under a timeout of its
 * share: a step that finishes early leaves its time to the next ones, a slow one cannot eat
 * theirs. Without a deadline the steps run under `ctx` alone. Resolves with every step's value
 * in order; rejects with the first step's error (its timeout is a `DeadlineExceeded`), or at
 * once on bad arguments.
 *
 * @example
 * ```ts
 * declare function authenticate(ctx: Context): Promise<User>;
 * declare function price(ctx: Context): Promise<number>;
 * const [user, quote] = await chain(ctx, [
 *   { name: "auth", run: (ctx) => authenticate(ctx), p95Ms: 20 },
 *   { name: "pricing", run: (ctx) => price(ctx), p95Ms: 80, weight: 2 },
 * ]);
 * ```
 */
export async function chain<const S extends readonly ChainStep[]>(
  ctx: Context,
  steps: S,
  options?: ChainOptions,
): Promise<ChainValues<S>> {
  checkContext(ctx, FN);
  const o = readOptions(options, FN, KNOWN);
  const name = o.string("name", "chain");
  const tracker = o.raw("tracker");
  if (tracker !== undefined && (typeof tracker !== "object" || !("stats" in tracker))) {
    throw invalidType(
      `${FN}: options.tracker must be a LatencyTracker, got ${describeValue(tracker)}`,
    );
  }
  const reserveMs = o.ms("reserveMs", 5, { min: 0, max: Infinity });
  const prior = o.raw("priorP95Ms");
  const budgetOptions = {
    mode: "proportional" as const,
    reserveMs,
    ...(prior === undefined
      ? {}
      : { priorP95Ms: o.ms("priorP95Ms", 0, { min: 0, max: Infinity }) }),
  };
  const list = checkSteps(steps);
  const values: unknown[] = [];
  for (let i = 0; i < list.length; i++) {
    const err = ctx.err;
    if (err !== undefined) throw err; // a done context never starts the next step
    const step = list[i]!;
    const remainingMs = ctx.remaining();
    let budgetMs = Infinity;
    if (remainingMs !== Infinity) {
      const rest: DependencyInput[] = list.slice(i).map((s, k) => {
        const stats = tracker?.stats(s.name);
        return {
          name: `${i + k}`,
          p95Ms: s.p95Ms ?? stats?.p95Ms,
          weight: s.weight,
          loadFactor: stats?.loadFactor ?? 1,
        };
      });
      budgetMs = allocateBudget(Math.max(remainingMs, Number.MIN_VALUE), rest, budgetOptions)
        .budgets[0]!.budgetMs;
    }
    if (fanoutChannels.chain.hasSubscribers) {
      fanoutChannels.chain.publish({
        chain: name,
        context: ctx,
        step: i,
        name: step.name,
        remainingMs,
        budgetMs,
      });
    }
    using stepCtx = withTimeout(ctx, budgetMs, { name: `${name}/${step.name}` });
    const stop = tracker?.start(step.name);
    try {
      values.push(await step.run(stepCtx));
      stop?.();
    } catch (e) {
      // A step canceled from above says nothing about its latency.
      stop?.(stepCtx.err === undefined || stepCtx.err.name === "TimeoutError");
      throw e;
    }
  }
  return values as ChainValues<S>;
}

function checkSteps(steps: unknown): Step[] {
  if (!Array.isArray(steps) || steps.length === 0) {
    throw invalidType(
      `${FN}: steps must be a non-empty array of steps, got ${describeValue(steps)}`,
    );
  }
  return (steps as unknown[]).map((s, i): Step => {
    const where = `steps[${i}]`;
    if (typeof s === "function")
      return { run: s as CallFn<unknown>, name: `step-${i}`, weight: 1, p95Ms: undefined };
    const o = readOptions(s as Record<string, unknown>, FN, STEP_KEYS);
    const run = checkFunction<CallFn<unknown>>(o.raw("run"), FN, `${where}.run`);
    const nameRaw = o.raw("name");
    const name = nameRaw === undefined ? `step-${i}` : checkString(nameRaw, FN, `${where}.name`);
    const weightRaw = o.raw("weight");
    const weight =
      weightRaw === undefined
        ? 1
        : checkNumber(weightRaw, FN, `${where}.weight`, { min: 0, max: Number.MAX_VALUE });
    if (weight === 0) throw outOfRange(`${FN}: ${where}.weight must be a number above 0, got 0`);
    const p95Raw = o.raw("p95Ms");
    const p95Ms =
      p95Raw === undefined
        ? undefined
        : checkNumber(
            p95Raw,
            FN,
            `${where}.p95Ms`,
            { min: 0, max: Number.MAX_VALUE },
            "milliseconds",
          );
    return { run, name, weight, p95Ms };
  });
}
