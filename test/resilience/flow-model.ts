// A reference model of a concurrency limit with a bounded FIFO queue (what bulkhead and
// adaptive concurrency with a fixed limit must do), and a driver that plays random
// interleavings of arrivals, completions, failures, synchronous throws and cancels against a
// real policy, comparing it with the model after every step.
import assert from "node:assert/strict";
import fc from "fast-check";
import { dependents } from "../../src/core/introspect.js";
import { type CancelableContext, type Context, background, withCancel } from "../../src/index.js";
import type { Policy } from "../../src/resilience/policy.js";
import { flush } from "../helpers.js";

export type Action =
  | { kind: "arrive"; cooperative: boolean; throwsSync: boolean }
  | { kind: "complete" | "fail" | "cancel"; pick: number };

export const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("arrive" as const),
      cooperative: fc.boolean(),
      throwsSync: fc.nat(6).map((n) => n === 0),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("complete" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("fail" as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("cancel" as const), pick: fc.nat() }) },
);

type Outcome = "pending" | "ok" | "failed" | "rejected-full" | "canceled";

interface Caller {
  readonly id: number;
  readonly ctx: CancelableContext;
  readonly cooperative: boolean;
  readonly throwsSync: boolean;
  outcome: Outcome;
  /** Settles the running work (set once it started). */
  settle?: (ok: boolean) => void;
}

/** What a limit of `max` with a FIFO of `maxQueue` does, written plainly. */
class Model {
  running: number[] = [];
  queue: number[] = [];
  started = new Set<number>();
  outcomes = new Map<number, Outcome>();
  constructor(
    readonly max: number,
    readonly maxQueue: number,
    readonly throwsSync: Set<number>,
  ) {}

  arrive(id: number): void {
    this.outcomes.set(id, "pending");
    if (this.running.length < this.max && this.queue.length === 0) this.start(id);
    else if (this.queue.length < this.maxQueue) this.queue.push(id);
    else this.outcomes.set(id, "rejected-full");
  }

  start(id: number): void {
    this.started.add(id);
    if (this.throwsSync.has(id)) {
      this.outcomes.set(id, "failed"); // its slot is returned at once
      this.promote();
      return;
    }
    this.running.push(id);
  }

  finish(id: number, outcome: Outcome): void {
    this.running = this.running.filter((r) => r !== id);
    this.outcomes.set(id, outcome);
    this.promote();
  }

  promote(): void {
    while (this.running.length < this.max && this.queue.length > 0) this.start(this.queue.shift()!);
  }

  cancel(id: number, cooperative: boolean): void {
    if (this.queue.includes(id)) {
      this.queue = this.queue.filter((q) => q !== id);
      this.outcomes.set(id, "canceled");
    } else if (this.running.includes(id) && cooperative) {
      this.finish(id, "canceled");
    }
  }
}

/** The counts a limiter shows. */
export interface Counts {
  readonly running: number;
  readonly queued: number;
}

/**
 * Plays `actions` against `policy` (a limit of `max`, a queue of `maxQueue`) and the model;
 * after each step the counts, the started works and every settled outcome must agree, and at
 * the end nothing may be held or linked to a context. With `exact` false (a limit that moves),
 * only what holds whatever the limit is checked: the slots held are the works running, the
 * queue stays within `maxQueue`, and nothing leaks.
 */
export async function playAgainstModel(
  policy: Policy,
  counts: () => Counts,
  max: number,
  maxQueue: number,
  actions: readonly Action[],
  exact = true,
): Promise<void> {
  const callers: Caller[] = [];
  const throwsSync = new Set<number>();
  const model = new Model(max, maxQueue, throwsSync);
  const started = new Set<number>();
  let running = 0;

  function run(c: Caller): Promise<unknown> {
    return policy.execute(c.ctx, (ctx: Context) => {
      started.add(c.id);
      if (c.throwsSync) throw new Error(`sync throw ${c.id}`);
      running++;
      const settle = () => void running--;
      return new Promise<string>((resolve, reject) => {
        c.settle = (ok) => (ok ? resolve("ok") : reject(new Error(`failed ${c.id}`)));
        if (c.cooperative) void ctx.done.then(() => reject(ctx.err as Error));
      }).finally(settle);
    });
  }

  for (const a of actions) {
    if (a.kind === "arrive") {
      const c: Caller = {
        id: callers.length,
        ctx: withCancel(background()),
        cooperative: a.cooperative,
        throwsSync: a.throwsSync,
        outcome: "pending",
      };
      callers.push(c);
      if (c.throwsSync) throwsSync.add(c.id);
      run(c).then(
        () => (c.outcome = "ok"),
        (err: unknown) => {
          const e = err as { code?: string; name?: string };
          c.outcome =
            e.name === "AbortError"
              ? "canceled"
              : typeof e.code === "string" && e.code !== "TIMEBOUND_ERR_INVALID_ARGUMENT"
                ? "rejected-full"
                : "failed";
        },
      );
      model.arrive(c.id);
    } else {
      const live = callers.filter((c) => c.outcome === "pending");
      if (live.length === 0) continue;
      const c = live[a.pick % live.length]!;
      if (a.kind === "cancel") {
        model.cancel(c.id, c.cooperative);
        c.ctx.cancel();
      } else if (c.settle !== undefined && (!exact || model.running.includes(c.id))) {
        model.finish(c.id, a.kind === "complete" ? "ok" : "failed");
        c.settle(a.kind === "complete");
      } else continue;
    }
    await flush();
    const now = counts();
    if (!exact) {
      assert.equal(now.running, running, "slots held are the works running");
      assert.ok(now.queued <= maxQueue, `queue within maxQueue (${now.queued})`);
      continue;
    }
    assert.equal(now.running, model.running.length, "calls running");
    assert.equal(now.queued, model.queue.length, "calls queued");
    assert.deepEqual([...started].sort(), [...model.started].sort(), "works started");
    for (const c of callers) {
      assert.equal(c.outcome, model.outcomes.get(c.id), `outcome of caller ${c.id}`);
    }
  }

  // Drain: finish whatever runs (queued calls then start, and are finished in turn); nothing
  // may stay held, or linked to a context that is still live.
  for (let round = 0; round <= callers.length; round++) {
    for (const c of callers) c.settle?.(true);
    await flush();
  }
  const end = counts();
  assert.equal(end.running, 0, "no slot held after every call settled");
  assert.equal(end.queued, 0, "nobody queued after every call settled");
  for (const c of callers) {
    assert.notEqual(c.outcome, "pending", `caller ${c.id} settled`);
    assert.equal(dependents(c.ctx), 0, `nothing linked to caller ${c.id}'s context`);
    c.ctx.cancel();
  }
}
