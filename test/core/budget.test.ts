// A budget context's deadline moves later (core/budget.ts): what waits on it and what was made
// under it before the move end at the new time; nothing passes the parent's deadline.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  type Context,
  Canceled,
  DeadlineExceeded,
  background,
  now,
  sleep,
  withCancel,
  withTimeout,
  withValue,
  createKey,
} from "../../src/index.js";
import { isBudget, moveDeadline, withBudget } from "../../src/core/internal.js";
import { coreStats, inspect } from "../../src/core/introspect.js";

function isLive(ctx: Context): boolean {
  return ctx.err === undefined;
}

describe("withBudget / moveDeadline", () => {
  it("a sleep waiting on a budget honours the deadline it was moved to", async () => {
    const start = now();
    const budget = withBudget(background(), 60, { name: "call" });
    const slept = sleep(budget, 5_000); // waiting on the budget from here
    const moved = moveDeadline(budget, now() + 200);
    assert.equal(budget.deadline, moved, "the deadline read back is the one set");
    await assert.rejects(slept, DeadlineExceeded);
    const took = now() - start;
    assert.ok(took >= 150, `the sleep ended after ${took} ms: at the old 60 ms deadline`);
    assert.ok(took < 3_000, `the sleep ended after ${took} ms: long after the new deadline`);
    assert.ok(budget.err instanceof DeadlineExceeded, "the budget ends by its (new) deadline");
  });

  it("a grandchild made before the move (no timer of its own) ends at the new time", async () => {
    const start = now();
    const budget = withBudget(background(), 50);
    const child = withCancel(withValue(budget, createKey<number>("k"), 1));
    const grandchild = withTimeout(child, 10_000, { name: "grandchild" });
    assert.equal(grandchild.deadline, budget.deadline, "it follows the budget's deadline");
    const moved = moveDeadline(budget, now() + 180);
    assert.equal(grandchild.deadline, moved, "it follows the move");
    assert.equal(child.deadline, moved, "so does the child");
    await grandchild.done;
    const took = now() - start;
    assert.ok(took >= 140, `the grandchild ended after ${took} ms, at the old deadline`);
    assert.ok(grandchild.err instanceof DeadlineExceeded, "it ended by the deadline");
    assert.equal(inspect(grandchild).origin, budget, "the budget's deadline ended it");
  });

  it("a descendant whose own deadline lies between the old and the new one ends at its own", async () => {
    const budget = withBudget(background(), 30);
    const child = withTimeout(budget, 120, { name: "own" });
    const own = inspect(child).ownDeadline!;
    assert.equal(child.deadline, budget.deadline, "before the move it follows the budget");
    const armed = coreStats().armedTimers;
    moveDeadline(budget, now() + 2_000);
    assert.equal(child.deadline, own, "its own deadline is now the earlier one");
    assert.equal(coreStats().armedTimers, armed + 1, "it got a timer of its own");
    await child.done;
    assert.ok(child.err instanceof DeadlineExceeded, "it ended by its own deadline");
    assert.equal(inspect(child).origin, child, "its own deadline, not the budget's");
    assert.ok(isLive(budget), "the budget itself still has time");
    budget.cancel();
    assert.equal(coreStats().armedTimers, armed - 1, "no timer is left behind");
  });

  it("never moves past the parent's deadline", () => {
    using parent = withTimeout(background(), 500);
    using budget = withBudget(parent, 50);
    const moved = moveDeadline(budget, now() + 60_000);
    assert.equal(moved, parent.deadline);
    assert.equal(budget.deadline, parent.deadline);
    assert.equal(moveDeadline(budget, Infinity), parent.deadline, "Infinity clamps too");
  });

  it("ignores an earlier deadline and leaves an ended budget ended", () => {
    using budget = withBudget(background(), 1_000);
    const d = budget.deadline!;
    assert.equal(moveDeadline(budget, d - 500), d, "a budget only grows");
    budget.cancel();
    moveDeadline(budget, d + 1_000);
    assert.ok(budget.err instanceof Canceled, "still canceled");
    assert.equal(budget.remaining(), 0);
  });

  it("refuses a context that is not a budget, and a bad deadline", () => {
    using ctx = withTimeout(background(), 100);
    assert.throws(
      () => moveDeadline(ctx, now() + 500),
      (err: unknown) =>
        err instanceof TypeError &&
        /moveDeadline: ctx must be a budget context made by withBudget\(\)/.test(err.message) &&
        (err as { code?: string }).code === "TIMEBOUND_ERR_INVALID_ARGUMENT",
    );
    using budget = withBudget(background(), 100);
    assert.throws(() => moveDeadline(budget, Number.NaN), /deadline must be a number/);
    assert.throws(() => withBudget(background(), Number.NaN), /withBudget: timeoutMs/);
    assert.ok(isBudget(budget) && !isBudget(ctx), "isBudget tells them apart");
    assert.equal(inspect(budget).kind, "withBudget");
  });

  it("a budget whose deadline never moves ends at its first deadline", async () => {
    const start = now();
    const budget = withBudget(background(), 30);
    await budget.done;
    const took = now() - start;
    assert.ok(took >= 25, `ended after ${took} ms`);
    assert.ok(budget.err instanceof DeadlineExceeded, "by its deadline");
  });
});

describe("moveDeadline keeps every effective deadline equal to min(own, parent's)", () => {
  it("over random trees and random moves (fast-check)", () => {
    type Op =
      | { readonly kind: "budget" | "timeout"; readonly parent: number; readonly ms: number }
      | { readonly kind: "cancel" | "value"; readonly parent: number }
      | { readonly kind: "move"; readonly node: number; readonly byMs: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        kind: fc.constantFrom("budget" as const, "timeout" as const),
        parent: fc.nat(),
        ms: fc.integer({ min: 1_000, max: 100_000 }),
      }),
      fc.record({ kind: fc.constantFrom("cancel" as const, "value" as const), parent: fc.nat() }),
      fc.record({
        kind: fc.constant("move" as const),
        node: fc.nat(),
        byMs: fc.integer({ min: 0, max: 200_000 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const root = withTimeout(background(), 150_000);
        const nodes: { ctx: Context; parent: number }[] = [{ ctx: root, parent: -1 }];
        const key = createKey<number>("k");
        for (const o of ops) {
          if (o.kind === "move") {
            const target = nodes[o.node % nodes.length]!.ctx;
            if (isBudget(target)) moveDeadline(target, (target.deadline ?? now()) + o.byMs);
            continue;
          }
          const p = o.parent % nodes.length;
          const parent = nodes[p]!.ctx;
          const ctx =
            o.kind === "budget"
              ? withBudget(parent, o.ms)
              : o.kind === "timeout"
                ? withTimeout(parent, o.ms)
                : o.kind === "cancel"
                  ? withCancel(parent)
                  : withValue(parent, key, 1);
          nodes.push({ ctx, parent: p });
        }
        const expected: number[] = [];
        for (let i = 0; i < nodes.length; i++) {
          const { ctx, parent } = nodes[i]!;
          const own = inspect(ctx).ownDeadline ?? Infinity;
          const inherited = parent < 0 ? Infinity : expected[parent]!;
          expected.push(Math.min(own, inherited));
          assert.equal(ctx.deadline ?? Infinity, expected[i], `node ${i}'s effective deadline`);
        }
        root.cancel();
        return true;
      }),
      { numRuns: 200 },
    );
    assert.equal(coreStats().armedTimers, 0, "every timer armed by the moves was cleared");
  });
});
