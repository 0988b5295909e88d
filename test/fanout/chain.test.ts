// chain(): each step gets its share of the time left, recomputed after each step.
import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { describe, it } from "node:test";
import { DeadlineExceeded, background, sleep, withTimeout } from "../../src/index.js";
import { type ChainStepMessage, chain } from "../../src/fanout/index.js";

describe("chain", () => {
  it("runs the steps in order and resolves with their values, typed", async () => {
    const order: string[] = [];
    const [a, b] = await chain(background(), [
      async () => {
        order.push("a");
        return await Promise.resolve(1);
      },
      { name: "b", run: () => (order.push("b"), "two") },
    ]);
    const n: number = a;
    const s: string = b;
    assert.deepEqual([n, s, order], [1, "two", ["a", "b"]]);
  });

  it("splits the time left by share, and gives what a quick step left to the next ones", async () => {
    const seen: ChainStepMessage[] = [];
    const listener = (m: unknown) => seen.push(m as ChainStepMessage);
    subscribe("timebound:fanout:chain", listener);
    const remaining: number[] = [];
    try {
      using ctx = withTimeout(background(), 1_005);
      await chain(
        ctx,
        [
          { name: "first", p95Ms: 100, run: (ctx) => void remaining.push(ctx.remaining()) },
          { name: "second", p95Ms: 100, run: (ctx) => void remaining.push(ctx.remaining()) },
        ],
        { name: "checkout" },
      );
    } finally {
      unsubscribe("timebound:fanout:chain", listener);
    }
    assert.equal(seen.length, 2);
    assert.equal(seen[0]!.chain, "checkout");
    // Equal shares: the first gets half of what is available; the second, all that is left.
    assert.ok(Math.abs(seen[0]!.budgetMs - (seen[0]!.remainingMs - 5) / 2) < 1e-6, "half");
    assert.ok(seen[1]!.budgetMs > seen[0]!.budgetMs * 1.5, `second got ${seen[1]!.budgetMs}`);
    assert.ok(remaining[0]! <= seen[0]!.budgetMs + 1e-6, "the step ran under its budget");
  });

  it("a step that overruns its budget fails the chain with DeadlineExceeded", async () => {
    using ctx = withTimeout(background(), 400);
    await assert.rejects(
      chain(ctx, [
        { name: "slow", p95Ms: 1, run: (ctx) => sleep(ctx, 2_000) },
        { name: "next", p95Ms: 100, run: () => 1 },
      ]),
      DeadlineExceeded,
    );
    assert.equal(ctx.err, undefined, "only the step's budget ended, not the caller's context");
  });

  it("rejects bad input", async () => {
    await assert.rejects(chain(background(), []), /chain: steps must be a non-empty array/);
    await assert.rejects(
      chain(background(), [{ run: () => 1, weight: 0 }]),
      /chain: steps\[0\]\.weight must be a number above 0, got 0/,
    );
    await assert.rejects(
      chain(background(), [{ run: () => 1, p95Ms: Number.NaN }]),
      /steps\[0\]\.p95Ms must be .* got NaN/,
    );
  });
});
