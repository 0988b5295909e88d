import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { describe, it } from "node:test";
import fc from "fast-check";
import { dependents } from "../../src/core/introspect.js";
import { Canceled, background, withCancel } from "../../src/index.js";
import { BulkheadRejectedError, bulkhead } from "../../src/resilience/bulkhead.js";
import type { ResilienceEvent } from "../../src/resilience/events.js";
import { flush, state } from "../helpers.js";
import { action, playAgainstModel } from "./flow-model.js";

/** A work the test finishes by hand. */
function gate<T = string>(): {
  promise: Promise<T>;
  open: (v: T) => void;
  fail: (e: Error) => void;
} {
  let open!: (v: T) => void;
  let fail!: (e: Error) => void;
  const promise = new Promise<T>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

describe("bulkhead", () => {
  it("runs up to maxConcurrent at once, queues up to maxQueue, rejects beyond, saying the limits", async () => {
    const b = bulkhead({ maxConcurrent: 2, maxQueue: 1, name: "payments" });
    const g = gate();
    const running = [
      b.execute(background(), () => g.promise),
      b.execute(background(), () => g.promise),
    ];
    let thirdStarted = false;
    const third = b.execute(background(), () => {
      thirdStarted = true;
      return "third";
    });
    const err = await b.execute(background(), () => "fourth").catch((e: unknown) => e);
    assert.ok(err instanceof BulkheadRejectedError, "the fourth call is rejected");
    assert.equal(err.code, "TIMEBOUND_ERR_BULKHEAD_REJECTED");
    assert.equal(err.name, "BulkheadRejectedError");
    assert.match(err.message, /bulkhead "payments" is full: .*maxConcurrent 2.*maxQueue 1/);
    assert.equal(b.executing, 2);
    assert.equal(b.queued, 1);
    assert.equal(thirdStarted, false);
    g.open("done");
    assert.deepEqual(await Promise.all(running), ["done", "done"]);
    assert.equal(await third, "third");
    assert.equal(b.executing, 0);
    assert.equal(b.queued, 0);
  });

  it("a queued caller whose context ends leaves the queue at once, with its context's error", async () => {
    const b = bulkhead({ maxConcurrent: 1, maxQueue: 5 });
    const g = gate();
    const first = b.execute(background(), () => g.promise);
    const ctx = withCancel(background());
    let started = false;
    const queued = b.execute(ctx, () => {
      started = true;
    });
    const behind = b.execute(background(), () => "behind");
    await flush();
    assert.equal(b.queued, 2);
    assert.equal(dependents(ctx), 1, "the waiter listens to its context");
    ctx.cancel();
    assert.equal(b.queued, 1, "left synchronously, as the context ended");
    await assert.rejects(queued, Canceled);
    assert.equal(await state(behind), "pending", "the one behind still waits for the slot");
    g.open("ok");
    await first;
    assert.equal(await behind, "behind");
    assert.equal(started, false, "the canceled caller's work never ran");
    assert.equal(dependents(ctx), 0);
    assert.equal(b.executing, 0);
  });

  it("a slot granted as the caller's context ends is handed on, not used", async () => {
    const b = bulkhead({ maxConcurrent: 1, maxQueue: 5 });
    const g = gate();
    const first = b.execute(background(), () => g.promise);
    const ctx = withCancel(background());
    let started = false;
    const queued = b.execute(ctx, () => {
      started = true;
    });
    await flush();
    g.open("ok");
    await first; // the slot went to the queued caller...
    ctx.cancel(); // ...whose context ends before its work could start
    await assert.rejects(queued, Canceled);
    assert.equal(started, false);
    assert.equal(b.executing, 0, "the slot came back");
  });

  it("returns the slot however the work settles: value, rejection, synchronous throw", async () => {
    const b = bulkhead({ maxConcurrent: 1 });
    await assert.rejects(
      b.execute(background(), () => {
        throw new Error("sync");
      }),
      /sync/,
    );
    await assert.rejects(
      b.execute(background(), () => Promise.reject(new Error("async"))),
      /async/,
    );
    assert.equal(await b.execute(background(), () => 42), 42);
    assert.equal(b.executing, 0);
  });

  it("rejects at once on an ended context, starting nothing", async () => {
    const b = bulkhead({ maxConcurrent: 1 });
    const ctx = withCancel(background());
    ctx.cancel();
    let started = false;
    await assert.rejects(
      b.execute(ctx, () => {
        started = true;
      }),
      Canceled,
    );
    assert.equal(started, false);
    assert.equal(b.executing, 0);
  });

  it("announces rejected, queued, dequeued and left-queue", async () => {
    const events: ResilienceEvent[] = [];
    const listener = (m: unknown): void => void events.push(m as ResilienceEvent);
    subscribe("timebound:resilience:bulkhead", listener);
    try {
      const b = bulkhead({ maxConcurrent: 1, maxQueue: 2, name: "b1" });
      const g = gate();
      const first = b.execute(background(), () => g.promise);
      const ctx = withCancel(background());
      const leaving = b.execute(ctx, () => 0);
      const waiting = b.execute(background(), () => 1);
      await b.execute(background(), () => 2).catch(() => undefined);
      ctx.cancel();
      await leaving.catch(() => undefined);
      g.open("x");
      await Promise.all([first, waiting]);
      const mine = events.filter((e) => e.policy === "b1").map((e) => e.event);
      assert.deepEqual(mine, ["queued", "queued", "rejected", "left-queue", "dequeued"]);
      const left = events.find((e) => e.event === "left-queue")!;
      assert.ok(left.error instanceof Canceled, "left-queue carries the context's error");
      assert.equal(typeof left.waitedMs, "number");
    } finally {
      unsubscribe("timebound:resilience:bulkhead", listener);
    }
  });

  it("refuses bad options, naming them and the allowed range", () => {
    assert.throws(
      () => bulkhead(undefined as never),
      /bulkhead: options.maxConcurrent must be an integer from 1 to 1,000,000, got undefined/,
    );
    assert.throws(
      () => bulkhead({ maxConcurrent: 0 }),
      /options.maxConcurrent must be an integer from 1 to 1,000,000, got 0/,
    );
    assert.throws(() => bulkhead({ maxConcurrent: 1.5 }), RangeError);
    assert.throws(
      () => bulkhead({ maxConcurrent: 1, maxQueue: -1 }),
      /options.maxQueue must be an integer from 0 to 1,000,000, got -1/,
    );
    assert.throws(
      () => bulkhead({ maxConcurrent: 1, name: "" }),
      /options.name must be a non-empty string/,
    );
    assert.throws(
      () => bulkhead({ maxConcurrent: 1, maxQueu: 3 } as never),
      /unknown option options.maxQueu/,
    );
  });

  it("rejects (never throws) on bad arguments to execute", async () => {
    const b = bulkhead({ maxConcurrent: 1 });
    const p = b.execute(null as never, () => 1);
    await assert.rejects(p, /bulkhead.execute: ctx/);
    await assert.rejects(
      b.execute(background(), 5 as never),
      /bulkhead.execute: work must be a function/,
    );
    assert.equal(b.executing, 0);
  });

  it("holds no slot and no link after random interleavings of arrivals, completions, failures and cancels", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.array(action, { maxLength: 40 }),
        async (max, maxQueue, actions) => {
          const b = bulkhead({ maxConcurrent: max, maxQueue });
          await playAgainstModel(
            b,
            () => ({ running: b.executing, queued: b.queued }),
            max,
            maxQueue,
            actions,
          );
        },
      ),
      { numRuns: 150 },
    );
  });
});
