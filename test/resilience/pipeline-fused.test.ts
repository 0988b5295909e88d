// A pipeline runs the policies that offer a stage fused, around one promise (src/resilience/
// fused.ts). These tests hold it to the promise it makes: every call ends exactly as the same
// policies nested by hand end it, with the same work run under the same contexts and the same
// events published, whatever the policies, their order and what the work does.
import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import {
  type Context,
  background,
  isDeadlineExceeded,
  withCancel,
  withTimeout,
} from "../../src/index.js";
import {
  BulkheadRejectedError,
  type Policy,
  bulkhead,
  circuitBreaker,
  constantBackoff,
  fallback,
  pipeline,
  rateLimit,
  resilienceChannels,
  retry,
  retryBudget,
  timeout,
  TimeoutPolicy,
} from "../../src/resilience/index.js";

/** What a policy is made from: each side of a comparison makes its own, alike. */
type Spec =
  | { kind: "timeout"; ms: number }
  | { kind: "retry"; maxAttempts: number; budget: boolean }
  | { kind: "breaker"; minimumCalls: number }
  | { kind: "bulkhead"; maxConcurrent: number }
  | { kind: "fallback"; only: boolean }
  | { kind: "rateLimit"; burst: number }
  | { kind: "opaque" };

/** A policy of a user's: no stage, so the pipeline runs it nested, the layers inside it fused. */
function opaque(): Policy {
  return {
    name: "opaque",
    execute: async (ctx, work) => {
      events.push("opaque>");
      try {
        return await work(ctx);
      } finally {
        events.push("<opaque");
      }
    },
  };
}

function make(spec: Spec): Policy {
  switch (spec.kind) {
    case "timeout":
      return timeout(spec.ms);
    case "retry":
      return retry({
        maxAttempts: spec.maxAttempts,
        backoff: constantBackoff(0),
        // Half a retry per call, none a second for free: the budget runs out within a run.
        ...(spec.budget ? { budget: retryBudget({ percent: 50, minPerSecond: 0 }) } : {}),
      });
    case "breaker":
      return circuitBreaker({
        minimumCalls: spec.minimumCalls,
        window: { type: "count", size: 4 },
        failureRateThreshold: 50,
        openDurationMs: 60_000,
      });
    case "bulkhead":
      return bulkhead({ maxConcurrent: spec.maxConcurrent });
    case "fallback":
      // `only`: answers for the work's own errors, not for the policies' (timeouts, refusals).
      return fallback("fallback", spec.only ? { on: (e) => String(e).includes("boom") } : {});
    case "rateLimit":
      return rateLimit({ ratePerSecond: 0.001, burst: spec.burst });
    case "opaque":
      return opaque();
  }
}

const specArb: fc.Arbitrary<Spec> = fc.oneof(
  fc.record({ kind: fc.constant("timeout" as const), ms: fc.constantFrom(0, 60_000) }),
  fc.record({
    kind: fc.constant("retry" as const),
    maxAttempts: fc.integer({ min: 1, max: 3 }),
    budget: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("breaker" as const),
    minimumCalls: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({
    kind: fc.constant("bulkhead" as const),
    maxConcurrent: fc.integer({ min: 1, max: 2 }),
  }),
  fc.record({ kind: fc.constant("fallback" as const), only: fc.boolean() }),
  fc.record({ kind: fc.constant("rateLimit" as const), burst: fc.integer({ min: 1, max: 4 }) }),
  fc.constant({ kind: "opaque" as const }),
);

/** What one run of the work does. */
type Step = "value" | "reject" | "throw" | "result-503" | "obey";
const stepArb = fc.constantFrom<Step>("value", "reject", "throw", "result-503", "obey");

/** Events of the resilience channels, and the work's own entries, in the order they came. */
let events: string[] = [];
/** The policies' channels; the pipeline's own, which has nothing to compare with, is left out. */
const channels = Object.values(resilienceChannels).filter((c) => c !== resilienceChannels.pipeline);
const listen = (message: unknown): void => {
  const m = message as { policy?: string; event?: string; outcome?: string; reason?: string };
  events.push(`${m.policy}:${m.event}${m.outcome ? `:${m.outcome}` : ""}`);
};

/** The work: the steps in turn, one per run, recording the context it was given. */
function scripted(steps: readonly Step[]): (ctx: Context) => unknown {
  let run = 0;
  return (ctx) => {
    const step = steps[run % steps.length]!;
    run++;
    events.push(`work ${run} ${step} ended=${ctx.err !== undefined} name=${ctx.name}`);
    switch (step) {
      case "value":
        return Promise.resolve(`value ${run}`);
      case "reject":
        return Promise.reject(new Error(`boom ${run}`));
      case "throw":
        throw new Error(`boom sync ${run}`);
      case "result-503":
        return Promise.resolve({ status: 503, headers: {} });
      case "obey":
        return ctx.err === undefined ? `obeyed ${run}` : Promise.reject(ctx.err);
    }
  };
}

/** How a call ended, as a caller reads it; the clock's readings in messages left out. */
async function outcome(call: () => Promise<unknown>): Promise<string> {
  try {
    return `value ${JSON.stringify(await call())}`;
  } catch (error) {
    const e = error as Error;
    const message = e.message
      .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "<time>")
      .replace(/\(in [^)]*\)/g, "(in <ms>)")
      .replace(/in \d+ ms/g, "in <ms>");
    return `error ${e.name}: ${message}`;
  }
}

/** The policies nested by hand, the first outermost. */
function nest(
  policies: readonly Policy[],
  ctx: Context,
  work: (ctx: Context) => unknown,
): Promise<unknown> {
  const [first, ...rest] = policies;
  if (rest.length === 0) return first!.execute(ctx, work);
  return first!.execute(ctx, (inner) => nest(rest, inner, work));
}

/** Runs `calls` calls one after another; returns each call's outcome and the events it made. */
async function runAll(
  run: (ctx: Context, work: (ctx: Context) => unknown) => Promise<unknown>,
  steps: readonly Step[],
  calls: number,
  parentMs: number | undefined,
): Promise<string[]> {
  const work = scripted(steps);
  const log: string[] = [];
  for (let c = 0; c < calls; c++) {
    events = [];
    using parent =
      parentMs === undefined ? withCancel(background()) : withTimeout(background(), parentMs);
    log.push(await outcome(() => run(parent, work)), ...events);
  }
  return log;
}

describe("pipeline, fused", () => {
  before(() => channels.forEach((c) => subscribe(c.name, listen)));
  after(() => channels.forEach((c) => unsubscribe(c.name, listen)));

  it("ends every call as the same policies nested by hand do (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(specArb, { minLength: 1, maxLength: 6 }),
        fc.array(stepArb, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom(undefined, 0, 60_000),
        async (specs, steps, calls, parentMs) => {
          const fused = pipeline(...specs.map(make));
          const byHand = specs.map(make);
          const a = await runAll((ctx, w) => fused.execute(ctx, w), steps, calls, parentMs);
          const b = await runAll((ctx, w) => nest(byHand, ctx, w), steps, calls, parentMs);
          assert.deepEqual(a, b, JSON.stringify({ fused: a, byHand: b }, null, 1));
        },
      ),
      { numRuns: 400 },
    );
  });

  it("runs the policies inside a full bulkhead once a slot is free, fused again", async () => {
    const order: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const p = pipeline(bulkhead({ maxConcurrent: 1, maxQueue: 1 }), timeout(60_000));
    const first = p.execute(background(), async (ctx) => {
      order.push(`first under ${ctx.name}`);
      await gate;
      return 1;
    });
    const second = p.execute(background(), (ctx) => {
      order.push(`second, deadline set: ${ctx.deadline !== undefined}`);
      return 2;
    });
    const third = p.execute(background(), () => 3);
    await assert.rejects(third, BulkheadRejectedError);
    assert.deepEqual(order, ["first under timeout"]);
    open();
    assert.deepEqual(await Promise.all([first, second]), [1, 2]);
    assert.deepEqual(order, ["first under timeout", "second, deadline set: true"]);
  });

  it("gives a retry's later attempts the policies inside it, each attempt its own timeout", async () => {
    const seen: Context[] = [];
    const p = pipeline(retry({ maxAttempts: 3, backoff: constantBackoff(0) }), timeout(0));
    const err = await p
      .execute(background(), (ctx) => {
        seen.push(ctx);
        return Promise.reject(ctx.err ?? new Error("the attempt's timeout did not end it"));
      })
      .catch((e: unknown) => e);
    assert.equal(seen.length, 3);
    assert.equal(new Set(seen).size, 3, "each attempt has a child of its own");
    assert.ok(seen.every((ctx) => isDeadlineExceeded(ctx.err)));
    assert.match(String((err as Error).message), /3 attempts/);
  });

  it("runs a subclass that overrides execute through its override, not the steps it inherits", async () => {
    const seen: string[] = [];
    class CountingTimeout extends TimeoutPolicy {
      override execute<T>(ctx: Context, work: (ctx: Context) => T | PromiseLike<T>): Promise<T> {
        seen.push(`counted under ${ctx.name}`);
        return super.execute(ctx, work);
      }
    }
    const p = pipeline(retry({ maxAttempts: 1 }), new CountingTimeout(1_000, { name: "t" }));
    using ctx = withCancel(background(), { name: "caller" });
    assert.equal(await p.execute(ctx, (inner) => inner.name), "t");
    assert.deepEqual(seen, ["counted under caller"]);
  });

  it("refuses a context a policy of the user's passes inward, naming the policy inside", async () => {
    const liar: Policy = {
      name: "liar",
      execute: (_ctx, work) => Promise.resolve(work({} as Context)),
    };
    const p = pipeline(liar, timeout(100, { name: "inner-timeout" }));
    await assert.rejects(
      p.execute(background(), () => 1),
      /inner-timeout\.execute/,
    );
  });
});
