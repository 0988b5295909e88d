// Bulkhead: at most N calls at once through this policy, a bounded line behind them, and a
// prompt "no" beyond that, so one slow dependency cannot take every connection, socket and
// request slot of the service with it.
import type { Context } from "../core/index.js";
import {
  checkContext,
  checkFunction,
  checkNumber,
  defineErrorClass,
  readOptions,
} from "../core/internal.js";
import { resilienceChannels } from "./events.js";
import { PermitQueue, waitInLine } from "./permit-queue.js";
import type { Policy, PolicyOptions, Work } from "./policy.js";
import { STAGE, type Stage, stageFor } from "./stage.js";

/** Options of {@link bulkhead}. */
export interface BulkheadOptions extends PolicyOptions {
  /** Calls that may run at once: an integer from 1 to 1,000,000. Required. */
  readonly maxConcurrent: number;
  /**
   * Calls that may wait for a free slot: an integer from 0 to 1,000,000. Default 0: a call that
   * finds every slot taken is rejected at once.
   */
  readonly maxQueue?: number;
}

/**
 * A call reached a {@link bulkhead} whose slots and queue were all taken; nothing was started.
 * Shed the call (answer 503 with a short `Retry-After`) or fall back; raise `maxConcurrent` or
 * `maxQueue` only if the dependency can take more.
 *
 * @example
 * ```ts
 * import { bulkhead, BulkheadRejectedError } from "timebound/resilience";
 * const reports = bulkhead({ maxConcurrent: 4, name: "reports" });
 * try {
 *   await reports.execute(ctx, (ctx) => fetch("http://127.0.0.1:8080/report", { signal: ctx.signal }));
 * } catch (err) {
 *   if (!(err instanceof BulkheadRejectedError)) throw err;
 *   console.warn(`${err.policy} full (${err.maxConcurrent} running): answering 503`);
 * }
 * ```
 */
export class BulkheadRejectedError extends Error {
  /** `"TIMEBOUND_ERR_BULKHEAD_REJECTED"`. */
  declare readonly code: "TIMEBOUND_ERR_BULKHEAD_REJECTED";

  constructor(
    /** The bulkhead's name. */
    readonly policy: string,
    /** Its `maxConcurrent`. */
    readonly maxConcurrent: number,
    /** Its `maxQueue`. */
    readonly maxQueue: number,
  ) {
    super(
      `bulkhead "${policy}" is full: ${maxConcurrent} calls running (maxConcurrent ${maxConcurrent}) ` +
        `and ${maxQueue} waiting (maxQueue ${maxQueue}); the call was rejected without starting`,
    );
  }
}
defineErrorClass(BulkheadRejectedError, "BulkheadRejectedError", {
  kind: "timebound.BulkheadRejectedError",
  code: "TIMEBOUND_ERR_BULKHEAD_REJECTED",
});

const KNOWN = ["maxConcurrent", "maxQueue", "name"] as const;
const COUNT = { min: 0, max: 1_000_000, integer: true } as const;

/**
 * A {@link bulkhead} policy; read `executing` and `queued` for its state right now.
 */
export interface Bulkhead extends Policy {
  /** Calls running now. */
  readonly executing: number;
  /** Calls waiting for a slot now. */
  readonly queued: number;
  /** Its `maxConcurrent` option. */
  readonly maxConcurrent: number;
  /** Its `maxQueue` option. */
  readonly maxQueue: number;
}

class BulkheadPolicy implements Bulkhead {
  readonly #permits: PermitQueue;

  constructor(
    readonly name: string,
    readonly maxConcurrent: number,
    readonly maxQueue: number,
  ) {
    this.#permits = new PermitQueue(maxConcurrent, "bulkhead");
  }

  get executing(): number {
    return this.#permits.inflight;
  }

  get queued(): number {
    return this.#permits.queued;
  }

  /**
   * @internal Its steps in a fused pipeline: those of {@link BulkheadPolicy.execute} when a slot
   * is free. With none, it declines: the call waits in line through execute.
   */
  readonly [STAGE]: Stage = stageFor(BulkheadPolicy, {
    enter: (ctx) => {
      ctx.throwIfDone();
      return this.#permits.tryTake() ? ctx : undefined;
    },
    fulfilled: (_ctx, value) => {
      this.#permits.release();
      return value;
    },
    rejected: (_ctx, error) => {
      this.#permits.release();
      throw error;
    },
  });

  // Promise chains, not an async function: a free slot (the usual case) costs no extra await.
  execute<T>(ctx: Context, work: Work<T>): Promise<T> {
    try {
      checkContext(ctx, "bulkhead.execute");
      checkFunction(work, "bulkhead.execute", "work");
      ctx.throwIfDone();
    } catch (bad) {
      return Promise.reject(bad);
    }
    if (this.#permits.tryTake()) return this.#run(ctx, work, false);
    return this.#wait(ctx).then(() => this.#run(ctx, work, true));
  }

  /**
   * Runs `work` holding a slot, and returns the slot however the work ends. `waited`: the slot
   * came after a wait, during which the context may have ended (a free slot was taken right
   * after `execute` checked it).
   */
  #run<T>(ctx: Context, work: Work<T>, waited: boolean): Promise<T> {
    const permits = this.#permits;
    let pending: T | PromiseLike<T>;
    try {
      if (waited) ctx.throwIfDone(); // granted as the context ended: start nothing doomed
      pending = work(ctx);
    } catch (error) {
      permits.release();
      return Promise.reject(error);
    }
    return Promise.resolve(pending).then(
      (value) => {
        permits.release();
        return value;
      },
      (error: unknown) => {
        permits.release();
        throw error;
      },
    );
  }

  #wait(ctx: Context): Promise<void> {
    const permits = this.#permits;
    return waitInLine(permits, ctx, this.maxQueue, resilienceChannels.bulkhead, this.name, () => {
      const channel = resilienceChannels.bulkhead;
      if (channel.hasSubscribers) {
        channel.publish({
          policy: this.name,
          event: "rejected",
          context: ctx,
          executing: permits.inflight,
          queued: permits.queued,
        });
      }
      return new BulkheadRejectedError(this.name, this.maxConcurrent, this.maxQueue);
    });
  }
}

/**
 * A bulkhead: at most `maxConcurrent` calls run at once, up to `maxQueue` more wait in line
 * (first in, first out), and any call beyond that is rejected at once with
 * {@link BulkheadRejectedError}. A waiting caller leaves the line the moment its context ends,
 * rejected with that context's error, and a slot granted to a caller whose context has just
 * ended is handed on, not used. A slot is held while `work` runs and returned however it
 * settles (value, rejection, synchronous throw); work that ignores its context keeps its slot
 * until it settles, which is what a bulkhead is for.
 *
 * Events on `timebound:resilience:bulkhead` ({@link resilienceChannels}.bulkhead), each with
 * `policy`, `event` and the caller's `context`:
 * - `"rejected"`: the call was refused; `executing`, `queued`.
 * - `"queued"`: the call waits; `queued` (its place in line, from 1).
 * - `"dequeued"`: a waiting call got its slot; `waitedMs`.
 * - `"left-queue"`: a waiting call's context ended; `waitedMs`, `error` (the context's error).
 *
 * Options: `maxConcurrent` (required, 1 to 1,000,000), `maxQueue` (default 0, up to
 * 1,000,000), `name` (default `"bulkhead"`); a bad or unknown option throws a TypeError or
 * RangeError naming it.
 *
 * @example
 * ```ts
 * import { bulkhead, BulkheadRejectedError } from "timebound/resilience";
 * const payments = bulkhead({ maxConcurrent: 10, maxQueue: 20, name: "payments" });
 * try {
 *   await payments.execute(ctx, (ctx) => fetch("http://127.0.0.1:8080/pay", { signal: ctx.signal }));
 * } catch (err) {
 *   if (err instanceof BulkheadRejectedError) console.warn(err.message); // shed: answer 503
 *   else throw err;
 * }
 * ```
 */
export function bulkhead(options: BulkheadOptions): Bulkhead {
  const o = readOptions(options, "bulkhead", [...KNOWN]);
  const maxConcurrent = checkNumber(o.raw("maxConcurrent"), "bulkhead", "options.maxConcurrent", {
    ...COUNT,
    min: 1,
  });
  const maxQueue = o.number("maxQueue", 0, COUNT);
  const name = o.string("name", "bulkhead");
  return new BulkheadPolicy(name, maxConcurrent, maxQueue);
}
