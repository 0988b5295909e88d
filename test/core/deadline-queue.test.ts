import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { cancelQueued, keepQueued, queueTimer } from "../../src/core/deadline-queue.js";
import type { QueuedTimer } from "../../src/core/deadline-queue.js";
import { now } from "../../src/core/clock.js";
import { TIMER_SLACK_MS } from "../../src/core/timer.js";

type Op =
  | { readonly kind: "arm"; readonly delay: number; readonly skew: number }
  | { readonly kind: "cancel"; readonly pick: number }
  | { readonly kind: "keep"; readonly pick: number }
  | { readonly kind: "wait"; readonly ms: number };

interface Armed {
  readonly id: number;
  readonly due: number;
  readonly delay: number;
  readonly timer: QueuedTimer;
  canceled: boolean;
  fired: number[];
}

/** Resolves once every live entry has fired (or after `ms`), polling with a real timer. */
function settle(armed: readonly Armed[], ms: number): Promise<void> {
  const until = now() + ms;
  return new Promise((resolve) => {
    const poll = (): void => {
      if (now() > until || armed.every((a) => a.canceled || a.fired.length > 0)) resolve();
      else setTimeout(poll, 2);
    };
    poll();
  });
}

describe("deadline queue (one Node timer per delay)", () => {
  it("fires every armed deadline once, never before it is due, never a disarmed one, in due order per delay (fast-check)", async () => {
    const op: fc.Arbitrary<Op> = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({
          kind: fc.constant("arm" as const),
          delay: fc.integer({ min: 0, max: 12 }),
          skew: fc.double({ min: 0, max: 0.9, noNaN: true }),
        }),
      },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant("cancel" as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("keep" as const), pick: fc.nat() }) },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant("wait" as const),
          ms: fc.integer({ min: 1, max: 4 }),
        }),
      },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
        const armed: Armed[] = [];
        for (const o of ops) {
          if (o.kind === "arm") {
            // A caller's `from` may lag the clock a little (read before other work).
            const from = now() - o.skew;
            const entry: Armed = {
              id: armed.length,
              due: from + o.delay,
              delay: o.delay,
              timer: undefined as unknown as QueuedTimer,
              canceled: false,
              fired: [],
            };
            (entry as { timer: QueuedTimer }).timer = queueTimer(
              (e: Armed) => e.fired.push(now()),
              o.delay,
              entry,
              from,
            );
            armed.push(entry);
          } else if (o.kind === "wait") {
            // Time passes between arms: same-delay deadlines then fall due milliseconds apart.
            await new Promise((r) => setTimeout(r, o.ms));
          } else if (armed.length > 0) {
            const target = armed[o.pick % armed.length]!;
            if (o.kind === "cancel") {
              cancelQueued(target.timer);
              if (target.fired.length === 0) target.canceled = true;
            } else keepQueued(target.timer);
          }
        }
        await settle(armed, 2_000);
        for (const a of armed) {
          if (a.canceled) {
            assert.deepEqual(a.fired, [], `deadline ${a.id} fired after it was disarmed`);
            continue;
          }
          assert.equal(a.fired.length, 1, `deadline ${a.id} fired ${a.fired.length} times`);
          assert.ok(
            a.fired[0]! + TIMER_SLACK_MS >= a.due,
            `deadline ${a.id} fired ${(a.due - a.fired[0]!).toFixed(2)} ms early`,
          );
        }
        // Within one delay, what falls due first fires first.
        const fired = armed.filter((a) => !a.canceled);
        for (const a of fired) {
          for (const b of fired) {
            if (a.delay === b.delay && Math.ceil(a.due) < Math.floor(b.due)) {
              assert.ok(a.fired[0]! <= b.fired[0]!, `deadline ${a.id} fired after ${b.id}`);
            }
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it("arms a deadline from inside another's callback, and disarms one of the same delay due in the same turn", async () => {
    const order: string[] = [];
    queueTimer(
      () => {
        order.push("first");
        cancelQueued(second);
        queueTimer(() => order.push("re-armed"), 5, undefined);
      },
      5,
      undefined,
    );
    const second = queueTimer(() => order.push("second"), 5, undefined);
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(order, ["first", "re-armed"]);
  });

  it("a deadline armed from a callback does not delay the ones already waiting behind the one that fired", async () => {
    const fired: [string, number][] = [];
    const start = now();
    queueTimer(
      () => {
        fired.push(["first", now() - start]);
        queueTimer(() => fired.push(["armed by first", now() - start]), 30, undefined);
      },
      30,
      undefined,
    );
    await new Promise((r) => setTimeout(r, 8));
    queueTimer(() => fired.push(["second", now() - start]), 30, undefined);
    await new Promise((r) => setTimeout(r, 120));
    assert.deepEqual(
      fired.map(([name]) => name),
      ["first", "second", "armed by first"],
    );
    const second = fired[1]![1];
    assert.ok(second < 55, `the second fired at ${second.toFixed(1)} ms, due at about 38`);
  });
});
