import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { describe, it } from "node:test";
import fc from "fast-check";
import { dependents } from "../../src/core/introspect.js";
import { Canceled, background, withCancel } from "../../src/index.js";
import {
  ConcurrencyLimitError,
  adaptiveConcurrency,
} from "../../src/resilience/adaptive-concurrency.js";
import type { ResilienceEvent } from "../../src/resilience/events.js";
import { Gradient2, Vegas } from "../../src/resilience/limit-algorithms.js";
import { flush, state } from "../helpers.js";
import { action, playAgainstModel } from "./flow-model.js";

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: expected ${expected}, got ${actual}`);
}

describe("limit algorithms (Netflix concurrency-limits)", () => {
  it("gradient2 grows by queueSize x smoothing while latency holds, only when not app-limited", () => {
    const g = new Gradient2(20, 1, 200);
    close(g.update(10, 20, false), 20 * 0.8 + (20 * 1 + 4) * 0.2, "steady RTT at the limit");
    const before = g.estimate;
    assert.equal(
      g.update(10, 5, false),
      before,
      "fewer than half in flight: app-limited, no change",
    );
  });

  it("gradient2 shrinks when latency rises above its long average, by at most half per step", () => {
    const g = new Gradient2(100, 1, 200);
    for (let i = 0; i < 10; i++) g.update(10, 100, false);
    const before = g.estimate;
    const after = g.update(1000, 200, false); // gradient clamps at 0.5
    close(after, before * 0.8 + (before * 0.5 + 4) * 0.2, "gradient 0.5");
    assert.ok(after < before, "shrank");
    for (let i = 0; i < 200; i++) g.update(1000, 200, false);
    assert.ok(g.estimate >= 1, "never below min");
    const floor = new Gradient2(50, 30, 200);
    for (let i = 0; i < 10; i++) floor.update(10, 50, false);
    for (let i = 0; i < 100; i++) floor.update(10_000, 50, false);
    assert.equal(floor.estimate, 30, "held at minLimit");
  });

  it("vegas: grows by beta without queueing, shrinks past beta and on drops", () => {
    const v = new Vegas(20, 1, 1000, () => 0.999);
    assert.equal(v.update(10, 20, false), 20, "the first sample only sets the no-load RTT");
    assert.equal(v.rttNoLoad, 10);
    assert.equal(v.update(10, 20, false), 26, "queue 0 <= threshold 1: +beta (6 x log10)");
    assert.equal(v.update(20, 26, false), 25, "queue ceil(26 x 0.5) = 13 > beta 6: -log10");
    assert.equal(
      v.update(11, 25, false),
      25,
      "queue ceil(25 x 1/11) = 3: between alpha and beta, held",
    );
    assert.equal(v.update(10.6, 25, false), 26, "queue ceil(25 x 0.6/10.6) = 2 < alpha 3: +log10");
  });

  it("vegas: a drop decreases, app-limited holds, limits clamp", () => {
    const v = new Vegas(10, 8, 12, () => 0.999);
    v.update(10, 10, false);
    assert.equal(v.update(10, 1, true), 9, "drop: -1 even when app-limited");
    assert.equal(v.update(10, 1, false), 9, "app-limited: no change");
    assert.equal(v.update(10, 9, false), 12, "+6 clamped to maxLimit");
    for (let i = 0; i < 10; i++) v.update(10, 1, true);
    assert.equal(v.estimate, 8, "clamped to minLimit");
  });

  it("vegas re-probes the no-load RTT every 30 x limit x jitter samples", () => {
    const v = new Vegas(2, 1, 2, () => 0); // jitter 0.5: every 0.5 x 30 x 2 = 30 samples
    v.update(5, 2, false);
    for (let i = 2; i < 30; i++) v.update(50, 2, false);
    assert.equal(v.rttNoLoad, 5);
    v.update(50, 2, false);
    assert.equal(v.rttNoLoad, 50, "the 30th sample is taken as the new no-load RTT");
  });
});

describe("adaptiveConcurrency", () => {
  it("rejects over the limit with ConcurrencyLimitError, starting nothing", async () => {
    const ac = adaptiveConcurrency({ initialLimit: 1, minLimit: 1, maxLimit: 1, name: "inv" });
    let release!: () => void;
    const first = ac.execute(background(), () => new Promise<void>((r) => (release = r)));
    let started = false;
    const err = await ac
      .execute(background(), () => {
        started = true;
      })
      .catch((e: unknown) => e);
    assert.ok(err instanceof ConcurrencyLimitError, "rejected");
    assert.equal(err.code, "TIMEBOUND_ERR_CONCURRENCY_LIMIT");
    assert.equal(err.name, "ConcurrencyLimitError");
    assert.equal(
      err.message,
      'adaptive concurrency "inv" is at its limit of 1 calls (1 in flight, no queue); the call was rejected without starting',
    );
    assert.equal(started, false);
    assert.equal(ac.inflight, 1);
    release();
    await first;
    assert.equal(ac.inflight, 0);
  });

  it("the limit follows the samples: it grows while calls fill it at steady latency", async () => {
    const events: ResilienceEvent[] = [];
    const listener = (m: unknown): void => void events.push(m as ResilienceEvent);
    subscribe("timebound:resilience:adaptive-concurrency", listener);
    try {
      const ac = adaptiveConcurrency({ initialLimit: 2, minLimit: 1, maxLimit: 6, name: "grow" });
      for (let round = 0; round < 40 && ac.limit < 6; round++) {
        const n = ac.limit;
        await Promise.all(
          Array.from({ length: n }, () =>
            ac.execute(background(), () => new Promise((r) => setImmediate(r))),
          ),
        );
      }
      assert.equal(ac.limit, 6, "grew to maxLimit");
      const changes = events.filter((e) => e.policy === "grow" && e.event === "limit-changed");
      assert.ok(changes.length > 0, "limit-changed announced");
      assert.equal(changes.at(-1)!.to, 6);
      assert.equal(typeof changes[0]!.rttMs, "number");
    } finally {
      unsubscribe("timebound:resilience:adaptive-concurrency", listener);
    }
  });

  it("gradient2's limit stays at Netflix's floor of 20 by default through an outage; vegas' may fall to 1", async () => {
    let t = 0;
    /** The lowest the limit went. */
    const outage = async (ac: ReturnType<typeof adaptiveConcurrency>): Promise<number> => {
      let lowest = ac.limit;
      // Fast answers, then calls that take 100x as long and fail as drops, always filling the limit.
      for (let round = 0; round < 60; round++) {
        const slow = round >= 10;
        const n = ac.limit;
        await Promise.all(
          Array.from({ length: n }, () =>
            ac
              .execute(background(), async () => {
                t += slow ? 100 : 1;
                await new Promise((r) => setImmediate(r));
                if (slow) throw Object.assign(new Error("busy"), { status: 503 });
              })
              .catch(() => undefined),
          ),
        );
        lowest = Math.min(lowest, ac.limit);
      }
      return lowest;
    };
    const gradient = adaptiveConcurrency({ clock: () => t });
    assert.equal(await outage(gradient), 20, "gradient2 held at its default floor");
    const vegas = adaptiveConcurrency({ algorithm: "vegas", clock: () => t });
    const vegasLowest = await outage(vegas);
    assert.ok(vegasLowest < 20, `vegas went below 20 (${vegasLowest}): its floor is 1`);
    // A smaller given maximum or start lowers the default floor instead of contradicting it.
    assert.equal(adaptiveConcurrency({ maxLimit: 5 }).limit, 5);
    assert.equal(adaptiveConcurrency({ initialLimit: 3 }).limit, 3);
  });

  it("drops lower the limit (vegas); failures that say nothing about load are ignored", async () => {
    let t = 0;
    const ac = adaptiveConcurrency({
      algorithm: "vegas",
      initialLimit: 10,
      minLimit: 2,
      maxLimit: 20,
      clock: () => t,
    });
    const taking = (ms: number, outcome: () => unknown) => () => {
      t += ms;
      return outcome();
    };
    await ac.execute(
      background(),
      taking(1, () => 1),
    ); // sets the no-load RTT: 1 ms
    const overloaded = taking(10, () =>
      Promise.reject(Object.assign(new Error("busy"), { status: 503 })),
    );
    for (let i = 0; i < 3; i++) await ac.execute(background(), overloaded).catch(() => undefined);
    assert.equal(ac.limit, 7, "three drops: 10 - 3");
    const notFound = taking(10, () => Promise.reject(new Error("404")));
    for (let i = 0; i < 3; i++) await ac.execute(background(), notFound).catch(() => undefined);
    assert.equal(ac.limit, 7, "a 404 is not a drop, and its RTT is ignored");
    assert.equal(ac.inflight, 0, "every permit returned");
  });

  it("a queued caller whose context ends leaves the queue at once, with its context's error", async () => {
    const ac = adaptiveConcurrency({ initialLimit: 1, minLimit: 1, maxLimit: 1, maxQueue: 3 });
    let release!: () => void;
    const first = ac.execute(background(), () => new Promise<void>((r) => (release = r)));
    const ctx = withCancel(background());
    let started = false;
    const queued = ac.execute(ctx, () => {
      started = true;
    });
    const behind = ac.execute(background(), () => "behind");
    await flush();
    assert.equal(ac.queued, 2);
    ctx.cancel();
    assert.equal(ac.queued, 1, "left synchronously");
    await assert.rejects(queued, Canceled);
    assert.equal(await state(behind), "pending");
    release();
    await first;
    assert.equal(await behind, "behind");
    assert.equal(started, false);
    assert.equal(dependents(ctx), 0);
    assert.equal(ac.inflight, 0);
  });

  it("returns the permit on a synchronous throw and on an ended context", async () => {
    const ac = adaptiveConcurrency({ initialLimit: 1, minLimit: 1, maxLimit: 1 });
    await assert.rejects(
      ac.execute(background(), () => {
        throw new Error("sync");
      }),
      /sync/,
    );
    const ctx = withCancel(background());
    ctx.cancel();
    await assert.rejects(
      ac.execute(ctx, () => 1),
      Canceled,
    );
    assert.equal(ac.inflight, 0);
    assert.equal(await ac.execute(background(), () => 2), 2);
  });

  it("refuses bad options, naming them and the allowed range", async () => {
    assert.throws(
      () => adaptiveConcurrency({ algorithm: "aimd" as never }),
      /adaptiveConcurrency: options.algorithm must be one of "gradient2", "vegas", got "aimd"/,
    );
    assert.throws(
      () => adaptiveConcurrency({ initialLimit: 0 }),
      /options.initialLimit must be an integer from 1 to 100,000, got 0/,
    );
    assert.throws(
      () => adaptiveConcurrency({ minLimit: 10, maxLimit: 5 }),
      /options.maxLimit \(5\) must not be below options.minLimit \(10\)/,
    );
    assert.throws(
      () => adaptiveConcurrency({ initialLimit: 300 }),
      /options.initialLimit must be within options.minLimit and options.maxLimit \(20 to 200\), got 300/,
    );
    assert.throws(
      () => adaptiveConcurrency({ maxQueue: -1 }),
      /options.maxQueue must be an integer from 0 to 1,000,000/,
    );
    assert.throws(
      () => adaptiveConcurrency({ clock: 1 as never }),
      /options.clock must be a function/,
    );
    assert.throws(
      () => adaptiveConcurrency({ isDropped: 1 as never }),
      /options.isDropped must be a function/,
    );
    assert.throws(() => adaptiveConcurrency({ limit: 3 } as never), /unknown option options.limit/);
    await assert.rejects(
      adaptiveConcurrency().execute(background(), "x" as never),
      /adaptiveConcurrency.execute: work must be a function/,
    );
  });

  it("with a fixed limit, matches the model over random arrivals, completions, failures and cancels", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.array(action, { maxLength: 40 }),
        async (max, maxQueue, actions) => {
          const ac = adaptiveConcurrency({
            initialLimit: max,
            minLimit: max,
            maxLimit: max,
            maxQueue,
          });
          await playAgainstModel(
            ac,
            () => ({ running: ac.inflight, queued: ac.queued }),
            max,
            maxQueue,
            actions,
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  it("with a moving limit, holds exactly the running works' permits and leaks nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("gradient2" as const, "vegas" as const),
        fc.integer({ min: 0, max: 3 }),
        fc.array(action, { maxLength: 50 }),
        async (algorithm, maxQueue, actions) => {
          const ac = adaptiveConcurrency({
            algorithm,
            initialLimit: 2,
            minLimit: 1,
            maxLimit: 4,
            maxQueue,
          });
          await playAgainstModel(
            ac,
            () => ({ running: ac.inflight, queued: ac.queued }),
            4,
            maxQueue,
            actions,
            false,
          );
        },
      ),
      { numRuns: 100 },
    );
  });
});
